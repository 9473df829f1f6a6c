"""Card payments against localstripe: intents, the webhook, signatures, replays, ordering."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from core import dates
from core.models import (
    AuditEvent,
    CardIntent,
    CardIntentStatus,
    Invoice,
    InvoiceFlags,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    ProcessedStripeEvent,
    Role,
)
from invoices.stripe_gateway import StripeGateway
from tests import factories
from tests.stripe_server import WEBHOOK_SECRET, event, localstripe_server, sign, stripe_on

__all__ = ["localstripe_server", "stripe_on"]  # fixtures used by the tests below


def gateway(app) -> StripeGateway:
    return StripeGateway.from_config(app.config)


def deliver(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post("/stripe/webhook", data=body, headers=headers)


def pay_with_card(app, intent_id: str, number: str = "4242424242424242"):
    """What Stripe.js does in the browser: attach a test card and confirm the intent."""
    client = gateway(app).client
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    return client.v1.payment_intents.confirm(intent_id)


def client_secret_on(page: str) -> str:
    match = re.search(r'data-client-secret="([^"]+)"', page)
    assert match, page
    return match.group(1)


def payments_of(db, invoice) -> list[Payment]:
    return db.scalars(select(Payment).where(Payment.invoice_id == invoice.id)).all()


def test_full_card_payment_through_localstripe(app, client, db, as_role, stripe_on):
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=378000)
    db.commit()

    detail = client.get(f"/invoices/{invoice.id}")
    assert f'href="/invoices/{invoice.id}/pay"' in detail.text
    page = client.get(f"/invoices/{invoice.id}/pay")
    assert page.status_code == 200
    assert "3.780,00" in page.text
    assert stripe_on.js_url in page.text and "/static/js/pay.js" in page.text
    secret = client_secret_on(page.text)
    intent_id = secret.split("_secret_")[0]
    intent = gateway(app).client.v1.payment_intents.retrieve(intent_id)
    assert (intent.amount, intent.currency) == (378000, "dkk")
    assert intent.metadata["invoice_id"] == str(invoice.id)

    assert pay_with_card(app, intent_id).status == "succeeded"
    # localstripe signs and delivers the event itself; we hand its exact bytes to the app.
    body, signature = stripe_on.catcher.wait_for("payment_intent.succeeded", intent_id)
    response = deliver(client, body, signature)
    assert response.status_code == 200, response.text
    assert response.json["outcome"] == "recorded"

    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert (invoice.paid_ore, invoice.status) == (378000, InvoiceStatus.PAID)
    [payment] = payments_of(db, invoice)
    assert (payment.method, payment.external_id) == (PaymentMethod.CARD, intent_id)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "payment.recorded"))
    assert "Fakturaen er betalt" in client.get(f"/invoices/{invoice.id}/pay").text
    assert f'href="/invoices/{invoice.id}/pay"' not in client.get(f"/invoices/{invoice.id}").text


def test_a_double_click_makes_one_intent(app, client, db, as_role, stripe_on):
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=50000)
    db.commit()
    first = client_secret_on(client.get(f"/invoices/{invoice.id}/pay").text)
    second = client_secret_on(client.get(f"/invoices/{invoice.id}/pay").text)
    assert first == second
    assert db.scalar(select(func.count()).select_from(CardIntent)) == 1
    [row] = db.scalars(select(CardIntent)).all()
    assert row.idempotency_key == f"invoice-{invoice.id}-open-50000"


def test_a_part_payment_then_a_card_payment_of_the_rest(app, client, db, as_role, stripe_on):
    from invoices import payments

    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=100000)
    payments.record_payment(db, invoice, 40000, PaymentMethod.BANK, "bank:part")
    db.commit()
    assert invoice.status == InvoiceStatus.PARTLY_PAID
    secret = client_secret_on(client.get(f"/invoices/{invoice.id}/pay").text)
    intent_id = secret.split("_secret_")[0]
    assert gateway(app).client.v1.payment_intents.retrieve(intent_id).amount == 60000
    pay_with_card(app, intent_id)
    body, signature = stripe_on.catcher.wait_for("payment_intent.succeeded", intent_id)
    assert deliver(client, body, signature).status_code == 200
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert (invoice.paid_ore, invoice.status) == (100000, InvoiceStatus.PAID)


def test_a_declined_card_is_shown_to_the_employer(app, client, db, as_role, stripe_on):
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=20000)
    db.commit()
    intent_id = client_secret_on(client.get(f"/invoices/{invoice.id}/pay").text).split("_secret_")[
        0
    ]
    with pytest.raises(Exception, match="declined"):
        pay_with_card(app, intent_id, number="4000000000000341")
    body, signature = stripe_on.catcher.wait_for("payment_intent.payment_failed", intent_id)
    assert deliver(client, body, signature).status_code == 200
    detail = client.get(f"/invoices/{invoice.id}")
    assert "did not go through" in detail.text or "gik ikke igennem" in detail.text
    assert "declined" in detail.text
    db.expire_all()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.ISSUED
    assert payments_of(db, invoice) == []


def succeeded(invoice, intent_id="pi_test_ordering", amount=None, event_id=None):
    obj = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount or invoice.total_ore,
        "amount_received": amount or invoice.total_ore,
        "currency": "dkk",
        "status": "succeeded",
        "metadata": {"invoice_id": str(invoice.id)},
    }
    return event("payment_intent.succeeded", obj, event_id=event_id)


@pytest.mark.parametrize(
    "signature",
    [
        None,  # unsigned
        "garbage",
        "t=1,v1=" + "0" * 64,
    ],
    ids=["unsigned", "garbage", "wrong-digest"],
)
def test_unsigned_or_forged_webhooks_are_refused(client, db, stripe_on, signature):
    invoice = factories.issued_invoice()
    db.commit()
    response = deliver(client, succeeded(invoice), signature)
    assert response.status_code == 400
    db.expire_all()
    assert db.get(Invoice, invoice.id).paid_ore == 0
    assert db.scalar(select(func.count()).select_from(ProcessedStripeEvent)) == 0


def test_tampered_stale_and_wrongly_keyed_webhooks_are_refused(client, db, stripe_on):
    invoice = factories.issued_invoice()
    db.commit()
    body = succeeded(invoice)
    tampered = body.replace(str(invoice.total_ore).encode(), b"1", 1)
    assert deliver(client, tampered, sign(body)).status_code == 400
    stale = sign(body, timestamp=int(dates.now().timestamp()) - 3600)
    assert deliver(client, body, stale).status_code == 400
    assert deliver(client, body, sign(body, secret="whsec_someone_else")).status_code == 400
    db.expire_all()
    assert db.get(Invoice, invoice.id).paid_ore == 0
    assert db.scalar(select(func.count()).select_from(Payment)) == 0
    # The genuine one is accepted.
    assert deliver(client, body, sign(body)).status_code == 200


def test_the_same_event_delivered_a_hundred_times_records_one_payment(client, db, stripe_on):
    invoice = factories.issued_invoice(total_ore=99900)
    db.commit()
    body = succeeded(invoice, event_id="evt_replayed")
    outcomes = [deliver(client, body, sign(body)).json["outcome"] for _ in range(100)]
    assert outcomes[0] == "recorded" and set(outcomes[1:]) == {"duplicate"}
    db.expire_all()
    assert db.get(Invoice, invoice.id).paid_ore == 99900
    assert len(payments_of(db, invoice)) == 1
    assert db.scalar(select(func.count()).select_from(ProcessedStripeEvent)) == 1


def test_a_second_success_event_for_the_same_intent_changes_nothing(client, db, stripe_on):
    invoice = factories.issued_invoice(total_ore=50000)
    db.commit()
    for event_id in ("evt_one", "evt_two"):
        body = succeeded(invoice, event_id=event_id)
        assert deliver(client, body, sign(body)).status_code == 200
    db.expire_all()
    assert db.get(Invoice, invoice.id).paid_ore == 50000
    assert len(payments_of(db, invoice)) == 1


def test_success_for_an_intent_we_never_created_is_adopted(client, db, stripe_on):
    invoice = factories.issued_invoice(total_ore=30000)
    db.commit()
    body = succeeded(invoice, intent_id="pi_from_another_tab", amount=10000)
    assert deliver(client, body, sign(body)).status_code == 200
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert (invoice.paid_ore, invoice.status) == (10000, InvoiceStatus.PARTLY_PAID)
    row = db.scalar(select(CardIntent).where(CardIntent.intent_id == "pi_from_another_tab"))
    assert row.invoice_id == invoice.id and row.status == CardIntentStatus.SUCCEEDED


def test_success_without_an_invoice_is_kept_for_finance(client, db, as_role, stripe_on):
    body = event(
        "payment_intent.succeeded",
        {"id": "pi_orphan", "amount": 12300, "amount_received": 12300, "metadata": {}},
    )
    assert deliver(client, body, sign(body)).json["outcome"] == "recorded unassigned"
    invoice = factories.issued_invoice(total_ore=12300)
    db.commit()
    as_role(Role.FINANCE)
    page = client.get("/finance/payments")
    assert "pi_orphan" in page.text
    payment = db.scalar(select(Payment).where(Payment.external_id == "pi_orphan"))
    from tests.helpers import post_form

    response = post_form(
        client,
        f"/finance/payments/{payment.id}/assign",
        {"invoice_number": invoice.display_number},
        page="/finance/payments",
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.PAID


def test_a_failure_arriving_after_the_success_changes_nothing(client, db, as_role, stripe_on):
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=40000)
    db.commit()
    body = succeeded(invoice, intent_id="pi_late_failure")
    deliver(client, body, sign(body))
    failed = event(
        "payment_intent.payment_failed",
        {
            "id": "pi_late_failure",
            "amount": 40000,
            "last_payment_error": {"message": "Your card was declined."},
            "metadata": {"invoice_id": str(invoice.id)},
        },
    )
    assert deliver(client, failed, sign(failed)).json["outcome"] == "already succeeded"
    db.expire_all()
    assert db.get(Invoice, invoice.id).status == InvoiceStatus.PAID


def refunded(invoice, intent_id, amount, refunded_total, event_id):
    charge = {
        "id": f"ch_{intent_id}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": refunded_total,
        "payment_intent": intent_id,
        "metadata": {"invoice_id": str(invoice.id)},
    }
    return event("charge.refunded", charge, event_id=event_id)


def test_refund_records_a_negative_payment_and_prompts_a_credit_note(
    client, db, as_role, stripe_on
):
    invoice = factories.issued_invoice(total_ore=80000)
    db.commit()
    paid = succeeded(invoice, intent_id="pi_refunded")
    deliver(client, paid, sign(paid))
    refund = refunded(invoice, "pi_refunded", 80000, 30000, "evt_refund_1")
    assert deliver(client, refund, sign(refund)).json["outcome"] == "refund recorded"
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert (invoice.paid_ore, invoice.status) == (50000, InvoiceStatus.PARTLY_PAID)
    assert sorted(p.amount_ore for p in payments_of(db, invoice)) == [-30000, 80000]
    assert db.get(InvoiceFlags, invoice.id).credit_note_prompt_at is not None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "payment.refunded"))
    as_role(Role.FINANCE)
    page = client.get("/finance/payments")
    assert invoice.display_number in page.text
    assert f"/finance/invoices/{invoice.id}" in page.text


def test_refund_events_out_of_order_and_before_the_success(client, db, stripe_on):
    invoice = factories.issued_invoice(total_ore=60000)
    db.commit()
    # The refund of 20.000 (then 50.000 in all) arrives before the payment's success event,
    # and the later (larger) refund total arrives before the earlier one.
    for body in (
        refunded(invoice, "pi_ooo", 60000, 50000, "evt_refund_b"),
        refunded(invoice, "pi_ooo", 60000, 20000, "evt_refund_a"),
        succeeded(invoice, intent_id="pi_ooo", event_id="evt_success_late"),
    ):
        assert deliver(client, body, sign(body)).status_code == 200
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert sorted(p.amount_ore for p in payments_of(db, invoice)) == [-50000, 60000]
    assert (invoice.paid_ore, invoice.status) == (10000, InvoiceStatus.PARTLY_PAID)


def test_the_webhook_is_off_without_stripe(client, db):
    body = json.dumps({"id": "evt_x", "type": "payment_intent.succeeded"}).encode()
    assert deliver(client, body, sign(body)).status_code == 404


def test_webhook_secret_is_not_accepted_as_anything_else(client, db, stripe_on):
    # An event id alone (no body) or a non-JSON body with a valid signature is refused.
    body = b"not json"
    assert deliver(client, body, sign(body)).status_code == 400
    assert WEBHOOK_SECRET not in deliver(client, body, sign(body)).text


def test_mobilepay_is_offered_where_the_account_has_it(
    app, client, db, as_role, stripe_on, monkeypatch
):
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer, total_ore=20000)
    db.commit()
    page = client.get(f"/invoices/{invoice.id}/pay").text
    assert 'id="mobilepay-button"' not in page  # the default: cards only
    # The account offers MobilePay: configured at start-up, as the app reads it then.
    monkeypatch.setitem(app.config, "STRIPE_PAYMENT_METHOD_TYPES", "card,mobilepay")
    monkeypatch.setitem(app.extensions, "stripe", gateway(app))
    assert gateway(app).payment_method_types == ("card", "mobilepay")
    other = factories.issued_invoice(user.employer, total_ore=30000)
    db.commit()
    page = client.get(f"/invoices/{other.id}/pay").text
    assert 'id="mobilepay-button"' in page and "MobilePay" in page
    assert f'data-return-url="http://localhost/invoices/{other.id}/pay?status=processing"' in page
    # localstripe took the intent with both types (it does not echo the list back).
    intent_id = client_secret_on(page).split("_secret_")[0]
    assert gateway(app).client.v1.payment_intents.retrieve(intent_id).amount == 30000


class SlowStripe:
    """A Stripe API that never answers in time: each request hangs until the test ends."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests = 0
        self.release = threading.Event()
        slow = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                slow.requests += 1
                slow.release.wait(60)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_a_stripe_that_does_not_answer_is_given_up_quickly_and_the_bank_is_shown(
    app, client, db, as_role, monkeypatch
):
    """Stripe slow: two tries of 2 s to connect and 5 s to answer at most, well inside
    gunicorn's 30 s, then the page says card payment is unavailable and shows the bank."""
    slow = SlowStripe()
    try:
        config = {
            **app.config,
            "STRIPE_SECRET_KEY": "sk_test_slow",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_slow",
            "STRIPE_API_BASE": slow.url,
        }
        gateway = StripeGateway.from_config(config)
        monkeypatch.setitem(app.extensions, "stripe", gateway)
        http = gateway.client._requestor._client
        connect, read = http._timeout
        assert 2 * (connect + read) + 1 < 30
        user = as_role(Role.EMPLOYER)
        invoice = factories.issued_invoice(user.employer, total_ore=378000)
        db.commit()
        page = client.get(f"/invoices/{invoice.id}/pay")
        assert page.status_code == 200
        text = page.text
        assert "Kortbetaling er ikke mulig lige nu. Prøv igen senere." in text
        assert "Betal med bankoverførsel" in text and "3.780,00" in text
        assert slow.requests == 2  # one try and one retry, no more
        assert db.scalar(select(func.count()).select_from(CardIntent)) == 0
    finally:
        slow.close()
