"""The home pages as inboxes: the employer answers proposals where they are announced and sees
every week and invoice that waits for it; the worker answers offers on the home page; every
figure links to its list; the invoice page says how to pay; a worker with two jobs chooses."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import flask_babel
import pytest
from sqlalchemy import select

from core import dates
from core import models as m
from tests import factories
from tests.helpers import login, post_form
from tests.invoicing import organisation
from tests.stripe_server import localstripe_server, stripe_on

NEXT = "/"
__all__ = ["localstripe_server", "stripe_on"]  # fixtures used below


def english(client) -> None:
    """Switch the logged-in user to English (new texts are translated afterwards)."""
    response = post_form(client, "/language/en", {"next": "/"}, page="/")
    assert response.status_code == 302
    # The test's app context outlives each request, and Flask-Babel keeps the language it
    # chose in that context's `g`: forget it, as a new request in the app would.
    flask_babel.refresh()


def proposal_for(employer: m.Employer, **kwargs) -> m.Placement:
    """A worker proposed to the employer, not yet answered."""
    order = factories.JobOrderFactory(employer=employer, title="Pakning af frugt")
    worker = factories.WorkerFactory(first_name="Jonas", last_name="Jensen")
    return factories.PlacementFactory(
        job_order=order, worker=worker, status=m.PlacementStatus.PROPOSED, **kwargs
    )


def reloaded(db, placement: m.Placement) -> m.Placement:
    db.expire_all()
    return db.get(m.Placement, placement.id)


def forms_for(html: str, placement_id: int, prefix: str = "/orders/proposals") -> set[str]:
    return set(re.findall(rf'action="({prefix}/{placement_id}/(?:accept|decline))"', html))


# --- The employer answers a proposal on the home page and on the order page -------------------


def test_the_employer_accepts_a_proposal_on_the_home_page(client, db, mailbox):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    worker_user = factories.UserFactory(role=m.Role.WORKER)
    placement = proposal_for(employer_user.employer)
    placement.worker.user = worker_user
    db.commit()
    login(client, employer_user)
    home = client.get("/")
    assert forms_for(home.text, placement.id) == {
        f"/orders/proposals/{placement.id}/accept",
        f"/orders/proposals/{placement.id}/decline",
    }
    assert "Jonas J." in home.text and "Pakning af frugt" in home.text
    response = post_form(client, f"/orders/proposals/{placement.id}/accept", {"next": NEXT}, "/")
    assert response.status_code == 302 and response.headers["Location"] == NEXT
    placement = reloaded(db, placement)
    assert placement.employer_accepted_by_id == employer_user.id
    assert placement.status == m.PlacementStatus.PROPOSED  # now the worker answers
    assert mailbox.to(worker_user.email)  # the offer went to the worker
    assert forms_for(client.get("/").text, placement.id) == set()


def test_the_employer_declines_on_the_home_page_with_a_reason(client, db):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    placement = proposal_for(employer_user.employer)
    db.commit()
    login(client, employer_user)
    assert 'name="reason"' in client.get("/").text
    path = f"/orders/proposals/{placement.id}/decline"
    no_reason = post_form(client, path, {"next": NEXT, "reason": ""}, "/")
    assert no_reason.status_code == 400
    assert "Angiv venligst en begrundelse." in no_reason.text  # the proposal page says why
    assert reloaded(db, placement).status == m.PlacementStatus.PROPOSED
    response = post_form(client, path, {"next": NEXT, "reason": "Vi mangler en med kørekort"}, "/")
    assert response.status_code == 302 and response.headers["Location"] == NEXT
    placement = reloaded(db, placement)
    assert placement.status == m.PlacementStatus.DECLINED
    assert placement.declined_reason == "Vi mangler en med kørekort"


def test_the_order_page_has_the_answer_and_brings_the_employer_back(client, db):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    placement = proposal_for(employer_user.employer)
    db.commit()
    login(client, employer_user)
    order_page = f"/orders/{placement.job_order_id}"
    page = client.get(order_page)
    assert forms_for(page.text, placement.id) == {
        f"/orders/proposals/{placement.id}/accept",
        f"/orders/proposals/{placement.id}/decline",
    }
    assert f'name="next" value="{order_page}"' in page.text
    response = post_form(
        client, f"/orders/proposals/{placement.id}/accept", {"next": order_page}, order_page
    )
    assert response.status_code == 302 and response.headers["Location"] == order_page
    assert reloaded(db, placement).employer_accepted_at is not None
    # Accepted: no more buttons; the worker's answer is awaited.
    page = client.get(order_page)
    assert forms_for(page.text, placement.id) == set()
    assert "Venter på medarbejderen" in page.text


def test_an_outside_next_goes_to_the_proposal_page_instead(client, db):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    placement = proposal_for(employer_user.employer)
    db.commit()
    login(client, employer_user)
    path = f"/orders/proposals/{placement.id}/accept"
    response = post_form(client, path, {"next": "https://evil.example/"}, "/")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/orders/proposals/{placement.id}"


def test_a_foreign_proposal_is_not_listed_and_answers_404(client, db):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    foreign = proposal_for(factories.EmployerFactory())
    db.commit()
    login(client, employer_user)
    assert forms_for(client.get("/").text, foreign.id) == set()
    for action, data in (("accept", {}), ("decline", {"reason": "Nej"})):
        path = f"/orders/proposals/{foreign.id}/{action}"
        assert post_form(client, path, {"next": NEXT, **data}, "/").status_code == 404
    assert reloaded(db, foreign).status == m.PlacementStatus.PROPOSED


# --- What else waits for the employer, and the figures as links --------------------------------


def waiting_shift(placement: m.Placement, day: date, minutes: int) -> m.TimeEntry:
    """A shift the worker confirmed and the employer has yet to approve."""
    return factories.TimeEntryFactory(
        placement=placement,
        work_date=day,
        minutes=minutes,
        worker_confirmed_at=datetime.combine(day, time(18), tzinfo=UTC),
    )


def test_weeks_to_approve_and_open_invoices_are_links(client, db):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    employer = employer_user.employer
    placement = factories.placement_between(factories.user_for(m.Role.WORKER), employer_user)
    waiting_shift(placement, date(2026, 11, 10), 185)  # week 46
    waiting_shift(placement, date(2026, 11, 17), 240)  # week 47: 7,08 hours in all
    approved = waiting_shift(placement, date(2026, 11, 18), 60)
    approved.employer_approved_at = datetime(2026, 11, 18, 19, tzinfo=UTC)
    overdue = factories.issued_invoice(
        employer, total_ore=125000, due_date=dates.today() - timedelta(days=3)
    )
    coming = factories.issued_invoice(
        employer, total_ore=50000, due_date=dates.today() + timedelta(days=10)
    )
    paid = factories.issued_invoice(employer, total_ore=20000, paid_ore=20000)
    paid.status = m.InvoiceStatus.PAID
    factories.issued_invoice(factories.EmployerFactory())  # another company's
    db.commit()
    login(client, employer_user)
    english(client)
    home = client.get("/").text
    assert 'href="/hours/week?week=2026-W46"' in home
    assert 'href="/hours/week?week=2026-W47"' in home
    assert f'href="/invoices/{overdue.id}"' in home and f'href="/invoices/{coming.id}"' in home
    assert f'href="/invoices/{paid.id}"' not in home
    assert home.count('href="/invoices/') == 2
    inbox = re.search(r'<section class="inbox".*?</section>', home, re.S).group(0)
    assert "Approve the hours of week 46" in inbox and "Approve the hours of week 47" in inbox
    assert "1.250,00" in inbox and "500,00" in inbox
    assert inbox.count("Overdue") == 1  # only the invoice past its due date
    assert (dates.today() - timedelta(days=3)).strftime("%d-%m-%Y") in inbox
    # The tiles: hours (not shifts), each a link to its list.
    cards = re.search(r'<ul class="cards">.*?</ul>', home, re.S).group(0)
    assert "7,08" in cards and "2 shifts" in cards  # numbers stay Danish in English
    assert 'href="/hours/week?week=2026-W46"' in cards  # the oldest week first
    assert 'href="/orders"' in cards and 'href="/invoices"' in cards
    assert "1.750,00" in cards  # what is still to pay on the two open invoices


def test_the_hours_tile_in_danish_shows_hours(client, db):
    employer_user = factories.user_for(m.Role.EMPLOYER)
    placement = factories.placement_between(factories.user_for(m.Role.WORKER), employer_user)
    waiting_shift(placement, date(2026, 11, 10), 185)
    waiting_shift(placement, date(2026, 11, 17), 240)
    db.commit()
    login(client, employer_user)
    cards = re.search(r'<ul class="cards">.*?</ul>', client.get("/").text, re.S).group(0)
    assert '<p class="figure">7,08</p>' in cards


def test_an_employer_with_nothing_waiting_is_told_so(client, db):
    login(client, factories.user_for(m.Role.EMPLOYER))
    english(client)
    home = client.get("/").text
    assert "Nothing is waiting for you right now." in home
    assert 'href="/hours/week"' in home  # the hours tile links to the week page


def test_the_consultant_tiles_are_links(client, db):
    consultant = factories.UserFactory(role=m.Role.CONSULTANT)
    db.commit()
    login(client, consultant)
    cards = re.search(r'<ul class="cards">.*?</ul>', client.get("/").text, re.S).group(0)
    for target in ("/consultant/orders", "/placements?mine=1", "/hours/disputes"):
        assert f'href="{target}"' in cards, target
    assert cards.count("<a ") == 4


# --- How to pay an invoice ---------------------------------------------------------------------


def invoice_page(client, db, **invoice_options) -> tuple[m.Invoice, str]:
    employer_user = factories.user_for(m.Role.EMPLOYER)
    invoice = factories.issued_invoice(employer_user.employer, **invoice_options)
    # Today's settings differ from what the invoice froze: the page shows the frozen ones.
    org = organisation(db)
    org.bank_reg, org.bank_account, org.iban = "9999", "0000000001", "DK0000000000000000"
    db.commit()
    login(client, employer_user)
    english(client)
    return invoice, client.get(f"/invoices/{invoice.id}").text


def test_the_invoice_page_says_how_to_pay(client, db):
    due = dates.today() + timedelta(days=14)
    invoice, page = invoice_page(client, db, total_ore=125000, due_date=due)
    block = re.search(r'<section class="how-to-pay".*?</section>', page, re.S).group(0)
    assert "How to pay" in block
    assert "1234" in block and "0012345678" in block  # reg. no. and account
    assert "DK5912340012345678" in block and "DABADKKK" in block
    assert f"+71&lt;{invoice.payment_id}+81234567&lt;" in block  # the FI line, as printed
    assert "1.250,00" in block and due.strftime("%d-%m-%Y") in block
    assert "9999" not in block and "DK0000000000000000" not in block
    assert f'href="/invoices/{invoice.id}/pay"' not in page  # card payment is not configured


def test_the_card_button_where_card_payment_is_configured(client, db, stripe_on):
    invoice, page = invoice_page(client, db)
    block = re.search(r'<section class="how-to-pay".*?</section>', page, re.S).group(0)
    assert f'href="/invoices/{invoice.id}/pay"' in block
    assert page.count(f'href="/invoices/{invoice.id}/pay"') == 1
    assert client.get(f"/invoices/{invoice.id}/pay").status_code == 200


def test_a_paid_invoice_asks_for_nothing(client, db, stripe_on):
    invoice, page = invoice_page(client, db, total_ore=20000, paid_ore=20000)
    assert invoice.status == m.InvoiceStatus.ISSUED  # paid in full even so
    assert "how-to-pay" not in page and f'href="/invoices/{invoice.id}/pay"' not in page


# --- The worker answers an offer on the home page ----------------------------------------------


def offer_to(worker_user: m.User) -> m.Placement:
    """A job the employer has accepted and the worker has yet to answer."""
    employer = factories.EmployerFactory(name="Frugtlageret ApS")
    order = factories.JobOrderFactory(employer=employer, title="Pakning af frugt")
    return factories.PlacementFactory(
        job_order=order,
        worker=factories.worker_profile(worker_user),
        status=m.PlacementStatus.PROPOSED,
        employer_accepted_at=dates.now(),
    )


def test_the_worker_accepts_an_offer_on_the_home_page(client, db):
    worker_user = factories.user_for(m.Role.WORKER)
    placement = offer_to(worker_user)
    unanswered = offer_to(worker_user)
    unanswered.employer_accepted_at = None  # the employer has not said yes yet: not offered
    db.commit()
    login(client, worker_user)
    english(client)
    home = client.get("/").text
    assert forms_for(home, placement.id, "/placements") == {
        f"/placements/{placement.id}/accept",
        f"/placements/{placement.id}/decline",
    }
    assert forms_for(home, unanswered.id, "/placements") == set()
    assert "Frugtlageret ApS" in home and "Pakning af frugt" in home
    assert "You have no active job right now" not in home
    response = post_form(client, f"/placements/{placement.id}/accept", {}, "/")
    assert response.status_code == 302
    assert reloaded(db, placement).status == m.PlacementStatus.ACTIVE
    home = client.get("/").text
    assert forms_for(home, placement.id, "/placements") == set()
    assert "You have no active job right now" not in home


def test_the_worker_declines_an_offer_on_the_home_page(client, db):
    worker_user = factories.user_for(m.Role.WORKER)
    placement = offer_to(worker_user)
    db.commit()
    login(client, worker_user)
    path = f"/placements/{placement.id}/decline"
    assert post_form(client, path, {"reason": ""}, "/").status_code == 400
    assert reloaded(db, placement).status == m.PlacementStatus.PROPOSED
    assert post_form(client, path, {"reason": "For langt at cykle"}, "/").status_code == 302
    assert reloaded(db, placement).status == m.PlacementStatus.DECLINED
    english(client)
    assert "You have no active job right now" in client.get("/").text


def test_another_workers_offer_answers_404(client, db):
    worker_user = factories.user_for(m.Role.WORKER)
    foreign = offer_to(factories.user_for(m.Role.WORKER))
    db.commit()
    login(client, worker_user)
    assert forms_for(client.get("/").text, foreign.id, "/placements") == set()
    for action, data in (("accept", {}), ("decline", {"reason": "Nej"})):
        path = f"/placements/{foreign.id}/{action}"
        assert post_form(client, path, data, "/").status_code == 404
    assert reloaded(db, foreign).status == m.PlacementStatus.PROPOSED


# --- A worker with two jobs chooses the job of a shift -----------------------------------------


def shift_data(**changes) -> dict:
    day = dates.today() - timedelta(days=1)
    return {
        "work_date": day.isoformat(),
        "start_time": "08:00",
        "end_time": "10:00",
        "break_minutes": "0",
        "note": "",
        **changes,
    }


def selected_job(html: str) -> str | None:
    """The value of the job option the form starts on."""
    select_html = re.search(r'<select[^>]*name="placement_id".*?</select>', html, re.S).group(0)
    match = re.search(r'<option selected value="([^"]*)"', select_html)
    return match.group(1) if match else None


def test_a_worker_with_two_jobs_must_choose(client, db):
    worker_user = factories.user_for(m.Role.WORKER)
    first = factories.placement_between(worker_user, factories.user_for(m.Role.EMPLOYER))
    second = factories.placement_between(worker_user, factories.user_for(m.Role.EMPLOYER))
    db.commit()
    login(client, worker_user)
    english(client)
    page = client.get("/hours/record").text
    assert '<option selected value="">Choose a job</option>' in page
    assert selected_job(page) == ""  # the prompt: no job is chosen for the worker
    assert f'value="{first.id}"' in page and f'value="{second.id}"' in page
    missing = post_form(client, "/hours/record", shift_data(placement_id=""))
    assert missing.status_code == 400
    assert "Choose the job the shift belongs to." in missing.text
    absent = post_form(client, "/hours/record", shift_data())
    assert absent.status_code == 400
    assert db.scalars(select(m.TimeEntry)).all() == []
    chosen = post_form(client, "/hours/record", shift_data(placement_id=str(second.id)))
    assert chosen.status_code == 302
    [entry] = db.scalars(select(m.TimeEntry)).all()
    assert entry.placement_id == second.id


def test_a_worker_with_one_job_has_it_chosen(client, db):
    worker_user = factories.user_for(m.Role.WORKER)
    placement = factories.placement_between(worker_user, factories.user_for(m.Role.EMPLOYER))
    db.commit()
    login(client, worker_user)
    page = client.get("/hours/record").text
    assert f'name="placement_id" value="{placement.id}"' in page
    assert "<select" not in page and "Choose a job" not in page
    # The browser sends the hidden job with the form.
    response = post_form(client, "/hours/record", shift_data(placement_id=str(placement.id)))
    assert response.status_code == 302


@pytest.mark.parametrize("wanted", ["first", "second"])
def test_a_job_chosen_by_link_is_kept(client, db, wanted):
    worker_user = factories.user_for(m.Role.WORKER)
    jobs = {
        "first": factories.placement_between(worker_user, factories.user_for(m.Role.EMPLOYER)),
        "second": factories.placement_between(worker_user, factories.user_for(m.Role.EMPLOYER)),
    }
    db.commit()
    login(client, worker_user)
    page = client.get(f"/hours/record?placement_id={jobs[wanted].id}").text
    assert selected_job(page) == str(jobs[wanted].id)
