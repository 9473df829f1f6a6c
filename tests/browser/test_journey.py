"""The whole journey in Chromium, once in Danish and once in English: a company orders help on
the public page, a consultant takes the order and proposes a worker, the employer (invited by
e-mail) accepts, the worker accepts and records three shifts on a phone-sized screen, the
employer approves the week in one click, finance runs invoicing, the employer downloads the
invoice PDF and pays it by card (localstripe), finance sees it paid and exports payroll."""

from __future__ import annotations

import re
import time

import pytest

from core import dates
from tests.browser.conftest import ARTIFACTS
from tests.helpers import body
from tests.invoicing import pdf_text

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
NEW_CVR = "27355021"
CONTACT = "kim@nyvirksomhed.dk"

TEXT = {
    "da": {
        "received": "Tak for jeres bestilling",
        "approved": "3 vagter godkendt",
        "payroll": "med 3 vagter",
        "invoice": "Faktura",
        "paid": "Betalt",
    },
    "en": {
        "received": "Thank you for your order",
        "approved": "3 shifts approved",
        "payroll": "with 3 shifts",
        "invoice": "Faktura",  # the invoice itself is always Danish
        "paid": "Paid",
    },
}


class Journey:
    """The browser contexts of the people in the story, and their screenshots on failure."""

    def __init__(self, browser, base: str, language: str, name: str) -> None:
        self.browser, self.base, self.language, self.name = browser, base, language, name
        self.pages: dict[str, object] = {}

    def person(self, who: str, **context_options):
        # Danish browsers: the English run switches language in the header.
        context = self.browser.new_context(base_url=self.base, locale="da-DK", **context_options)
        context.set_default_timeout(15_000)
        page = context.new_page()
        self.pages[who] = page
        page.goto("/")
        self.choose_language(page)
        return page

    def choose_language(self, page) -> None:
        """Use the language switch in the header when the page is not in the journey's language."""
        # Let the page's own requests (the favicon ...) finish first: one that started before
        # the switch could otherwise answer with the session cookie it began with.
        page.wait_for_load_state("networkidle")
        if page.locator("html").get_attribute("lang") != self.language:
            with page.expect_navigation():
                page.click(f'header form[action="/language/{self.language}"] button')
            page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == self.language

    def log_in(self, page, email: str, password: str) -> None:
        page.goto("/auth/login")
        page.fill('main [name="email"]', email)
        page.fill('main [name="password"]', password)
        page.click("main form button[type=submit]")
        page.wait_for_url(self.base + "/")
        # A user's saved language (Danish for new users) wins after log-in; switch again.
        self.choose_language(page)
        self.check(page)

    def check(self, page) -> None:
        """Every page: the chosen language, one h1, no error page."""
        assert page.locator("html").get_attribute("lang") == self.language, page.url
        assert page.locator("h1").count() == 1, page.url

    def screenshots(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        for who, page in self.pages.items():
            try:
                page.screenshot(path=str(ARTIFACTS / f"{self.name}-{who}.png"), full_page=True)
            except Exception as error:  # a closed page must not hide the real failure
                print(f"no screenshot of {who}: {error}")

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def mail_to(mailbox, address: str, containing: str, timeout: float = 10) -> str:
    """The path of the first link to this site in the newest e-mail holding `containing`.
    E-mail leaves after the page has been answered, so it may take a moment to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        for message in reversed(mailbox.to(address)):
            text = body(message)
            for path in re.findall(r"http://127\.0\.0\.1:\d+(/\S*)", text):
                if containing in path:
                    return path
        if time.monotonic() > deadline:
            subjects = [m["Subject"] for m in mailbox.messages]
            raise AssertionError(
                f"no e-mail to {address} with a link containing {containing!r}; got {subjects}"
            )
        time.sleep(0.1)


def pay_by_card_and_see_it_paid(journey: Journey, employer, finance, invoice_path, cast, text):
    """The employer pays by card on the invoice's pay page (localstripe's fake Stripe.js,
    3-D Secure confirmed in its dialog); localstripe posts the signed webhook to the portal
    over HTTP; finance sees the invoice paid."""
    from invoices.stripe_gateway import StripeGateway

    invoice_id = invoice_path.split("/")[2]
    employer.goto(f"/invoices/{invoice_id}")
    employer.click(f"main a[href='/invoices/{invoice_id}/pay']")
    journey.check(employer)
    form = employer.locator("#card-form")
    form.wait_for(state="visible")  # shown by our script once Stripe.js has loaded
    intent_id = form.get_attribute("data-client-secret").split("_secret_")[0]
    # The card the customer typed needs 3-D Secure: localstripe's fake Stripe.js only does
    # that last step, so the card is attached through the API first, as Stripe.js would.
    client = StripeGateway.from_config(cast.stripe_config).client
    card = {"number": "4000002500003155", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = client.v1.payment_methods.create(params={"type": "card", "card": card})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    assert client.v1.payment_intents.confirm(intent_id).status == "requires_action"
    form.locator("button[type=submit]").click()
    employer.get_by_role("button", name="Complete authentication").click()
    employer.wait_for_url(re.compile(rf".*/invoices/{invoice_id}(/pay)?([?#].*)?$"))
    # The webhook arrives over HTTP from localstripe; finance sees the invoice paid.
    for _ in range(40):
        finance.goto(f"/finance/invoices/{invoice_id}")
        if text["paid"] in finance.inner_text("main dl"):
            break
        finance.wait_for_timeout(250)
    journey.check(finance)
    assert text["paid"] in finance.inner_text("main dl")


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_whole_journey(browser, live_server, mailbox, request, language):
    base, cast = live_server
    journey = Journey(browser, base, language, request.node.name.replace("/", "_"))
    try:
        run_journey(journey, cast, mailbox, TEXT[language])
    except BaseException:
        journey.screenshots()
        raise
    finally:
        journey.close()


def run_journey(journey: Journey, cast, mailbox, text: dict) -> None:
    today = dates.today().isoformat()

    # 1. A company orders help on the public page: nine fields now, the rest folded away
    #    (it opens the fold to name its preferred weekdays).
    company = journey.person("company")
    company.click('nav a[href="/order"]')
    journey.check(company)
    company.select_option('main [name="work_area_id"]', str(cast.area_id))
    for name, value in {
        "title": "Tomme kasser på lageret",
        "hours_per_week": "10",
        "start_date": today,
        "cvr": NEW_CVR,
        "company_name": "Ny Virksomhed ApS",
        "company_address": "Lagervej 4",
        "company_postcode": "5000",
        "company_city": "Odense C",
        "contact_name": "Kim Kontakt",
        "email": CONTACT,
        "phone": "+45 12 34 56 78",
    }.items():
        company.fill(f'main [name="{name}"]', value)
    assert not company.locator('main [name="description"]').is_visible()
    company.click("main details.later summary")
    company.fill('main [name="description"]', "Pap og kasser skal væk")
    company.check('main [name="preferred_days"][value="0"]')
    company.check('main [name="preferred_days"][value="2"]')
    company.click("main form button[type=submit]")
    company.wait_for_url(re.compile(r".*/order/received/.*"))
    journey.check(company)
    assert text["received"] in company.inner_text("h1")

    # 2. The consultant takes the order, checks the company and proposes the worker.
    consultant = journey.person("consultant")
    journey.log_in(consultant, cast.consultant, cast.password)
    consultant.goto("/consultant/orders")
    consultant.click('main a:text("Tomme kasser på lageret")')
    journey.check(consultant)
    assert NEW_CVR in consultant.inner_text("main")  # the new customer's company, to confirm
    consultant.click('main form[action$="/take"] button')
    journey.check(consultant)
    consultant.click('main a[href$="/match"]')
    journey.check(consultant)
    consultant.click('main a[href*="/propose/"]')
    journey.check(consultant)
    consultant.click("main form button[type=submit]")
    consultant.wait_for_url(re.compile(r".*/match$"))
    assert "Jonas J." in consultant.inner_text(".flashes")

    # 3. The employer logs in through the invitation e-mail and accepts the proposal where it
    #    is announced: on the order page (the Danish run) or in the home page's inbox (the
    #    English run); no e-mail link needed.
    employer = journey.person("employer")
    employer.goto(mail_to(mailbox, CONTACT, "/auth/set-password/"))
    journey.check(employer)
    employer.fill('main [name="password"]', "en-god-adgangskode")
    employer.fill('main [name="confirm"]', "en-god-adgangskode")
    employer.click("main form button[type=submit]")
    employer.wait_for_url(journey.base + "/")
    journey.choose_language(employer)
    journey.check(employer)
    if journey.language == "da":
        # On the order page, where the proposal is announced ("Venter på jeres svar").
        employer.click('header nav a[href="/orders"]')
        employer.click('main a:text("Tomme kasser på lageret")')
        journey.check(employer)
        order_url = employer.url
        assert "Jonas J." in employer.inner_text("main")
        with employer.expect_navigation():
            employer.locator('main form[action$="/accept"] button').click()
        assert employer.url == order_url  # back on the order page, the proposal answered
    else:
        # On the home page, where it waits in the inbox (one click).
        inbox = employer.locator("main section.inbox")
        assert "Jonas J." in inbox.inner_text()
        with employer.expect_navigation():
            inbox.locator('form[action$="/accept"] button').click()
        assert employer.url == journey.base + "/"  # back in the inbox, the proposal answered
    journey.check(employer)
    assert employer.locator(".flash-success").count() == 1
    assert employer.locator('main form[action$="/accept"]').count() == 0

    # 4. The worker accepts the offer on the home page of a phone, then records three shifts.
    worker = journey.person("worker", viewport=PHONE, is_mobile=True, has_touch=True)
    journey.log_in(worker, cast.worker, cast.password)
    offers = worker.locator("main section.inbox")
    assert "Tomme kasser på lageret" in offers.inner_text()
    with worker.expect_navigation():
        offers.locator('form[action$="/accept"] button').click()
    worker.wait_for_url(re.compile(r".*/placements/\d+$"))
    journey.check(worker)
    assert worker.locator(".flash-success").count() == 1
    for start, end in (("06:00", "08:30"), ("09:00", "11:00"), ("12:00", "14:15")):
        worker.goto("/hours/record")
        journey.check(worker)
        worker.fill('main [name="work_date"]', today)
        worker.fill('main [name="start_time"]', start)
        worker.fill('main [name="end_time"]', end)
        worker.fill('main [name="break_minutes"]', "0")
        if start == "06:00":  # an impatient double tap stores the shift once ("3 approved")
            worker.dblclick("main form button[type=submit]")
        else:
            worker.click("main form button[type=submit]")
        worker.wait_for_url(re.compile(r".*/hours/week.*"))
        assert worker.locator(".flash-success").count() == 1, worker.inner_text("main")
        # Usable at 375 px: nothing makes the page scroll sideways.
        assert worker.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 5. The employer approves the week in one click.
    employer.goto("/hours/week")
    journey.check(employer)
    employer.click('main form[action="/hours/week"] button[type=submit]')
    journey.check(employer)
    assert text["approved"] in employer.inner_text(".flashes")

    # 6. Finance runs invoicing for everything approved up to today.
    finance = journey.person("finance")
    journey.log_in(finance, cast.finance, cast.password)
    finance.goto("/finance/invoicing")
    finance.fill('main [name="period_end"]', today)
    finance.click("main form.inline-form button[type=submit]")
    journey.check(finance)
    assert finance.locator('main [name="employer_ids"]').count() == 1
    finance.click('main form[action="/finance/invoicing/issue"] button[name=everyone]')
    finance.wait_for_url(re.compile(r".*/finance/runs/\d+$"))
    journey.check(finance)
    assert finance.locator("main a[href^='/finance/invoices/']").count() == 1

    # 7. The employer's invoice page says how to pay (bank details as printed, the FI line
    #    and the card button), and the employer downloads the invoice PDF.
    employer.goto("/invoices")
    journey.check(employer)
    employer.click("main a[href^='/invoices/']")
    journey.check(employer)
    how_to_pay = employer.locator("main section.how-to-pay")
    details = how_to_pay.inner_text()
    assert "1234" in details and "0012345678" in details  # reg. no. and account
    assert "DK5912340012345678" in details
    assert re.search(r"\+71<\d{15}\+81234567<", details), details
    assert how_to_pay.locator("a[href$='/pay']").count() == 1
    invoice_path = employer.get_attribute('main a[href$="/invoice.pdf"]', "href")
    response = employer.context.request.get(invoice_path)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    content = response.body()
    assert content.startswith(b"%PDF")
    printed = pdf_text(content)
    assert text["invoice"] in printed and "Ny Virksomhed ApS" in printed
    assert NEW_CVR in printed and "6,75" in printed  # 2,50 + 2,00 + 2,25 hours
    assert invoice_path.startswith("/invoices/")

    # 8. The employer pays by card; finance sees it paid.
    pay_by_card_and_see_it_paid(journey, employer, finance, invoice_path, cast, text)

    # 9. Finance exports payroll for the period.
    finance.goto("/payroll/")
    journey.check(finance)
    finance.fill('main [name="start"]', today)
    finance.fill('main [name="end"]', today)
    finance.click("main form button[type=submit]")
    journey.check(finance)
    assert text["payroll"] in finance.inner_text(".flashes")
    download = finance.get_attribute('main a[href$="/download"]', "href")
    export = finance.context.request.get(download)
    assert export.ok
    assert cast.worker_payroll_number in export.text()
