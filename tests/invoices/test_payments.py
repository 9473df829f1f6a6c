"""Recording payments, manual registration, the pay pages, pay links and tenancy."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core import dates, links
from core.db import database
from core.errors import Conflict, Invalid
from core.models import (
    AuditEvent,
    Invoice,
    InvoiceFlags,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Role,
)
from invoices import delivery, payments, runs
from tests import factories
from tests.helpers import body, post_form
from tests.invoicing import employer_with_hours, organisation, pdf_text
from tests.stripe_server import localstripe_server, stripe_on

__all__ = ["localstripe_server", "stripe_on"]


def test_status_follows_the_payments_and_over_payment_is_kept(app, db):
    invoice = factories.issued_invoice(total_ore=100000)
    first = payments.record_payment(db, invoice, 30000, PaymentMethod.BANK, "bank:1")
    assert (invoice.paid_ore, invoice.status, invoice.open_ore) == (
        30000,
        InvoiceStatus.PARTLY_PAID,
        70000,
    )
    assert payments.record_payment(db, invoice, 30000, PaymentMethod.BANK, "bank:1") is None
    assert invoice.paid_ore == 30000  # the same external id is recorded once
    payments.record_payment(db, invoice, 90000, PaymentMethod.MANUAL, "manual:2")
    assert (invoice.paid_ore, invoice.status, invoice.open_ore) == (120000, InvoiceStatus.PAID, 0)
    assert payments.overpaid_ore(invoice) == 20000
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "payment.recorded")).all()
    assert [e.object_id for e in events][0] == first.id
    assert events[-1].details["overpaid_ore"] == 20000


def test_refund_reopens_the_invoice_and_prompts_a_credit_note(app, db):
    invoice = factories.issued_invoice(total_ore=50000)
    payments.record_payment(db, invoice, 50000, PaymentMethod.BANK, "bank:r")
    with pytest.raises(Invalid):
        payments.record_refund(db, invoice, 60000, PaymentMethod.MANUAL, "manual:r0")
    payments.record_refund(db, invoice, 20000, PaymentMethod.MANUAL, "manual:r1")
    assert (invoice.paid_ore, invoice.status) == (30000, InvoiceStatus.PARTLY_PAID)
    assert db.get(InvoiceFlags, invoice.id).credit_note_prompt_at is not None


def test_credit_notes_and_drafts_take_no_payments(app, db):
    note = factories.issued_invoice(kind=InvoiceKind.CREDIT_NOTE)
    draft = factories.InvoiceFactory(total_ore=1000)
    for invoice in (note, draft):
        with pytest.raises(Conflict):
            payments.record_payment(db, invoice, 100, PaymentMethod.MANUAL, None)
    with pytest.raises(Invalid):
        payments.record_payment(db, factories.issued_invoice(), 0, PaymentMethod.MANUAL, None)


def test_finance_registers_a_payment_by_hand_once(client, db, as_role):
    invoice = factories.issued_invoice(total_ore=40000)
    db.commit()
    as_role(Role.FINANCE)
    page = client.get(f"/finance/payments/new?invoice={invoice.display_number}")
    key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page.text).group(1)
    data = {
        "invoice_number": invoice.display_number,
        "kind": "payment",
        "amount": "150,50",
        "received_on": "2026-11-20",
        "note": "Kontant",
        "idempotency_key": key,
    }
    assert post_form(client, "/finance/payments/new", data).status_code == 302
    again = post_form(client, "/finance/payments/new", data)  # the form sent twice
    assert again.status_code == 302
    db.expire_all()
    invoice = db.get(Invoice, invoice.id)
    assert (invoice.paid_ore, invoice.status) == (15050, InvoiceStatus.PARTLY_PAID)
    [payment] = db.scalars(select(Payment)).all()
    assert payment.method == PaymentMethod.MANUAL and payment.note == "Kontant"
    overview = client.get("/finance/payments")
    assert "150,50" in overview.text and invoice.display_number in overview.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("invoice_number", "F-1999-9999"), ("amount", "abc"), ("amount", "0"), ("received_on", "")],
)
def test_manual_payment_with_bad_input_changes_nothing(client, db, as_role, field, value):
    invoice = factories.issued_invoice(total_ore=40000)
    db.commit()
    as_role(Role.FINANCE)
    data = {
        "invoice_number": invoice.display_number,
        "kind": "payment",
        "amount": "100,00",
        "received_on": "2026-11-20",
        field: value,
    }
    response = post_form(client, "/finance/payments/new", data)
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.text
    assert db.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_refund_larger_than_paid_is_refused_on_the_form(client, db, as_role):
    invoice = factories.issued_invoice(total_ore=40000)
    db.commit()
    as_role(Role.FINANCE)
    response = post_form(
        client,
        "/finance/payments/new",
        {
            "invoice_number": invoice.display_number,
            "kind": "refund",
            "amount": "10,00",
            "received_on": "2026-11-20",
        },
    )
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Payment)) == 0


def test_without_stripe_the_card_option_is_hidden(client, db, as_role):
    user = as_role(Role.EMPLOYER)
    invoice = factories.issued_invoice(user.employer)
    db.commit()
    page = client.get(f"/invoices/{invoice.id}")
    assert page.status_code == 200 and "/pay" not in page.text
    # Without card payment the pay page says so and how to pay by bank instead (issue 15).
    pay = client.get(f"/invoices/{invoice.id}/pay")
    assert pay.status_code == 200 and "Kortbetaling er ikke mulig her" in pay.text
    assert "0012345678" in pay.text or "DK5912340012345678" in pay.text
    with app_context_mail(client):
        assert "/pay/" not in delivery.message_for(invoice).body


def app_context_mail(client):
    return client.application.test_request_context("/")


def test_pay_page_of_another_employers_invoice_is_404(client, db, as_role, stripe_on):
    foreign = factories.issued_invoice()
    as_role(Role.EMPLOYER)
    db.commit()
    assert client.get(f"/invoices/{foreign.id}/pay").status_code == 404
    assert client.get("/invoices/999999/pay").status_code == 404


def test_only_employers_use_the_logged_in_pay_page(client, db, as_role, stripe_on):
    invoice = factories.issued_invoice()
    db.commit()
    as_role(Role.WORKER)
    assert client.get(f"/invoices/{invoice.id}/pay").status_code == 403


def pay_link_of(invoice) -> str:
    message = delivery.message_for(invoice)
    match = re.search(r"http://localhost(/pay/\S+)", message.body)
    assert match, message.body
    return match.group(1)


def test_the_pay_link_shows_only_that_invoice_without_login(app, client, db, stripe_on):
    invoice = factories.issued_invoice(total_ore=250000, pdf=b"%PDF-1.7 archived")
    other = factories.issued_invoice(invoice.employer, total_ore=990000)
    db.commit()
    with app.test_request_context("/"):
        link = pay_link_of(invoice)
    page = client.get(link)
    assert page.status_code == 200
    assert invoice.display_number in page.text and "2.500,00" in page.text
    assert other.display_number not in page.text and "9.900,00" not in page.text
    assert 'data-client-secret="pi_' in page.text
    pdf = client.get(f"{link}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data == b"%PDF-1.7 archived"


def test_a_tampered_or_expired_pay_link_shows_nothing(app, client, db, stripe_on):
    invoice = factories.issued_invoice(total_ore=250000)
    db.commit()
    with app.test_request_context("/"):
        link = pay_link_of(invoice)
    token = link.rsplit("/", 1)[1]
    forged = links.pay_token(invoice.id)[:-3] + "abc"
    for path in (f"/pay/{token[:-2]}xx", f"/pay/{forged}", "/pay/not-a-token"):
        response = client.get(path)
        assert response.status_code == 404 and invoice.display_number not in response.text
    later = dates.now() + timedelta(days=61)
    with time_machine.travel(later, tick=False):
        response = client.get(link)
        assert response.status_code == 404 and invoice.display_number not in response.text
        assert client.get(f"{link}/invoice.pdf").status_code == 404


def test_the_invoice_pdf_and_email_carry_the_pay_link_when_stripe_is_on(
    app, client, db, mailbox, stripe_on
):
    organisation(db)
    employer, _ = employer_with_hours(db, weeks=1, name="Kortbetaleren ApS")
    run_id = runs.start_run(db, None, date(2026, 11, 30)).id
    db.commit()
    [invoice_id] = runs.process_run(database().sessionmaker, run_id)
    db.expire_all()
    invoice = db.get(Invoice, invoice_id)
    text = pdf_text(invoice.pdf)
    assert "Betal med kort: http://localhost/pay/" in text
    [message] = mailbox.to(employer.invoice_email)  # e-mailed through the outbox
    link = re.search(r"http://localhost(/pay/\S+)", body(message)).group(1)
    assert client.get(link).status_code == 200
