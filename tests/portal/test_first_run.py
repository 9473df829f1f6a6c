"""Issue 15, "Demo and first run": card payment in the demo without keys (a local Stripe
emulator on 127.0.0.1), never in production, a clear page where card payment is off, the
status on the settings page, e-mailed links that follow `make run PORT=…`, and a cron-able
invoice run that has nothing to bill."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import flask_babel
import pytest
from sqlalchemy import func, select

from core import links
from core.models import Invoice, InvoiceRun, InvoiceStatus, Role
from invoices.stripe_gateway import StripeGateway
from portal import demo_stripe
from portal.config import card_payment_status, configure_stripe
from tests import factories
from tests.helpers import ROOT, free_port, post_form, travelled_env
from tests.invoicing import employer_with_hours, organisation
from tests.stripe_server import WebhookCatcher

DEMO_NOTE = "Demo: card payment against a local Stripe emulator — no real money."
CARD_OFF_NOTE = "Card payment is not available here. Please pay by bank transfer"


def english(client) -> None:
    """Switch the client to English (the new texts get their Danish afterwards)."""
    response = post_form(client, "/language/en", {"next": "/"}, page="/")
    assert response.status_code == 302
    # The test's app context outlives each request, and Flask-Babel keeps the language it
    # chose in that context's `g`: forget it, as a new request would.
    flask_babel.refresh()


def refused(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect((host, port))
        except OSError:
            return True
    return False


@pytest.fixture
def demo_emulator(tmp_path):
    """`python -m portal.demo_stripe` as make run starts it, its webhook pointed at a catcher."""
    catcher = WebhookCatcher()
    port = free_port()
    state = tmp_path / "state"
    log = (tmp_path / "emulator.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.demo_stripe", "--port", str(port)]
        + ["--state-dir", str(state), "--webhook", catcher.url],
        cwd=ROOT,
        env=travelled_env(),  # it signs its webhooks with its own clock: the test's moment
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while refused("127.0.0.1", port):
            assert process.poll() is None, (tmp_path / "emulator.log").read_text()
            assert time.monotonic() < deadline, "the demo emulator did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", port, state, catcher
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        catcher.close()


def test_the_demo_emulator_listens_on_loopback_only_and_a_card_payment_marks_the_invoice_paid(
    app, client, db, as_role, monkeypatch, demo_emulator
):
    base, port, state, catcher = demo_emulator
    # Bound to 127.0.0.1 alone: another loopback address and IPv6 are refused (localstripe's
    # own CLI would listen on every interface).
    assert refused("127.0.0.2", port)
    assert refused("::1", port)

    # The configuration make run gives the app: no keys, PORTAL_STRIPE_DEMO_URL.
    config = {"ENV": "development", "STRIPE_DEMO_URL": base}
    configure_stripe(config, production=False)
    assert config["STRIPE_DEMO"] is True
    assert config["STRIPE_SECRET_KEY"] == "sk_test_demo"
    assert config["STRIPE_JS_URL"] == f"{base}/js.stripe.com/v3/"
    for key, value in config.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "stripe", StripeGateway.from_config(app.config))

    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=50000)
    db.commit()
    english(client)
    detail = client.get(f"/invoices/{invoice.id}").text
    assert 'lang="en"' in detail
    assert f'href="/invoices/{invoice.id}/pay"' in detail and DEMO_NOTE in detail
    page = client.get(f"/invoices/{invoice.id}/pay")
    assert page.status_code == 200 and DEMO_NOTE in page.text
    assert "4242 4242 4242 4242" in page.text
    secret = page.text.split('data-client-secret="')[1].split('"')[0]
    intent_id = secret.split("_secret_")[0]

    # What the emulator's Stripe.js does when the card form is sent.
    stripe_client = app.extensions["stripe"].client
    method = stripe_client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    stripe_client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    assert stripe_client.v1.payment_intents.confirm(intent_id).status == "succeeded"

    # The emulator signs its event with the demo's webhook secret and posts it where make run
    # registered it; here the catcher hands exactly those bytes to the app.
    body, signature = catcher.wait_for("payment_intent.succeeded", intent_id)
    response = client.post(
        "/stripe/webhook",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": signature},
    )
    assert response.status_code == 200, response.text
    db.expire_all()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.PAID
    # Its state is kept in the given folder (so intents survive a restart), not in /tmp.
    assert (state / demo_stripe.STATE_FILE).is_file()


def test_production_never_uses_the_demo_emulator():
    config = {"ENV": "production", "STRIPE_DEMO_URL": "http://127.0.0.1:8420"}
    configure_stripe(config, production=True)
    assert config["STRIPE_DEMO"] is False
    assert not config.get("STRIPE_SECRET_KEY") and not config.get("STRIPE_API_BASE")
    assert StripeGateway.from_config(config) is None
    status = card_payment_status(config)
    assert status.mode == "off" and status.demo_ignored
    assert status.missing == ("PORTAL_STRIPE_SECRET_KEY", "PORTAL_STRIPE_PUBLISHABLE_KEY")


def test_real_keys_win_over_the_demo_emulator():
    config = {
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
        "STRIPE_DEMO_URL": "http://127.0.0.1:8420",
    }
    configure_stripe(config, production=False)
    assert config["STRIPE_DEMO"] is False and config["STRIPE_SECRET_KEY"] == "sk_live_x"
    assert config["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"
    assert card_payment_status(config).missing == ("PORTAL_STRIPE_WEBHOOK_SECRET",)


@pytest.fixture
def cards_off(app, db, monkeypatch):
    """Production as it starts without Stripe keys (make run's demo URL ignored), with the
    staff's second factor turned off (production turns it on by default; not tested here)."""
    from core import settings as settings_service

    settings_service.get(db).staff_two_factor = False
    db.commit()
    monkeypatch.setitem(app.config, "ENV", "production")
    monkeypatch.setitem(app.config, "STRIPE_DEMO_URL", "http://127.0.0.1:8420")
    for key in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.setitem(app.config, key, None)
    monkeypatch.setitem(app.config, "STRIPE_DEMO", False)
    monkeypatch.setitem(app.extensions, "stripe", None)


def test_the_settings_page_says_why_card_payment_is_off(client, db, as_role, cards_off):
    as_role(Role.ADMIN)
    english(client)
    page = client.get("/admin/settings").text
    assert "Card payment" in page
    assert "Card payment is off because these variables are not set:" in page
    assert "PORTAL_STRIPE_SECRET_KEY, PORTAL_STRIPE_PUBLISHABLE_KEY" in page
    assert "never used in production" in page


def test_finance_sees_the_card_status_on_the_payments_page(client, db, as_role, cards_off):
    as_role(Role.FINANCE)
    english(client)
    page = client.get("/finance/payments").text
    assert "Card payment is off because these variables are not set:" in page


def test_the_pay_page_without_card_payment_explains_and_shows_the_bank_transfer(
    app, client, db, as_role, cards_off
):
    """200, not 404: the invoice exists and can be paid; only the card way is missing."""
    organisation(db)
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=50000)
    db.commit()
    english(client)
    assert f'href="/invoices/{invoice.id}/pay"' not in client.get(f"/invoices/{invoice.id}").text
    page = client.get(f"/invoices/{invoice.id}/pay")
    assert page.status_code == 200
    assert CARD_OFF_NOTE in page.text and "Pay by bank transfer" in page.text
    assert invoice.payment_id in page.text
    assert "data-client-secret" not in page.text and "pay.js" not in page.text
    # The same for an old pay link from an e-mail, without logging in.
    with app.test_request_context("/"):
        link = links.pay_link(invoice.id).removeprefix(app.config["BASE_URL"])
    with app.test_client() as anonymous:
        english(anonymous)
        public = anonymous.get(link)
    assert public.status_code == 200 and CARD_OFF_NOTE in public.text
    # Someone else's invoice is still not found.
    other = factories.issued_invoice(total_ore=10000)
    db.commit()
    assert client.get(f"/invoices/{other.id}/pay").status_code == 404


def make_dry_run(*args: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_port_moves_the_e_mailed_links_too():
    commands = make_dry_run("PORT=5101")
    assert "PORTAL_BASE_URL=http://127.0.0.1:5101 " in commands
    assert "--port 5101" in commands
    # Without keys the demo emulator starts on loopback, its webhook at this server.
    assert "portal.demo_stripe --port 8420" in commands
    assert "--webhook http://127.0.0.1:5101/stripe/webhook" in commands
    assert "PORTAL_STRIPE_DEMO_URL=http://127.0.0.1:8420 " in commands
    assert "trap 'kill $stripe" in commands  # stopped with the server


def test_make_run_keeps_a_given_base_url_and_real_keys():
    commands = make_dry_run(
        "PORT=5101", PORTAL_BASE_URL="https://smajob.example", PORTAL_STRIPE_SECRET_KEY="sk_x"
    )
    assert "PORTAL_BASE_URL=https://smajob.example " in commands
    assert "PORTAL_STRIPE_DEMO_URL" not in commands


def test_an_invoice_run_with_nothing_to_bill_is_a_normal_outcome(app, db):
    organisation(db)
    db.commit()
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["invoice-run", "--until", "2026-11-30", "--issue"])
    assert result.exit_code == 0, result.output
    assert "0 invoices" in result.output
    assert "Nothing to bill up to 2026-11-30." in result.output
    assert db.scalar(select(func.count()).select_from(InvoiceRun)) == 0


def test_the_invoice_run_preview_counts_in_english(app, db):
    organisation(db)
    employer_with_hours(db, weeks=1, name="Ental Kunde")
    db.commit()
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["invoice-run", "--until", "2026-11-30"])
    assert result.exit_code == 0, result.output
    assert "1 invoice," in result.output and "0 shifts left out" in result.output
