"""Reminders under renteloven with a frozen clock: levels, spacing, fee cap, exact interest."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from core.db import database
from core.models import (
    AuditEvent,
    Invoice,
    InvoiceStatus,
    PaymentMethod,
    Reminder,
    Role,
)
from invoices import payments, reminders
from tests import factories
from tests.helpers import post_form
from tests.invoicing import organisation, pdf_text

DUE = date(2026, 12, 1)


def at(day: date):
    """Freeze the clock at noon (Copenhagen) on that business day."""
    return time_machine.travel(datetime(day.year, day.month, day.day, 11, tzinfo=UTC), tick=False)


def run(db, day: date) -> list[Reminder]:
    db.commit()
    with at(day):
        ids = reminders.send_due_reminders(database().sessionmaker)
    db.expire_all()
    return [db.get(Reminder, i) for i in ids]


@pytest.mark.parametrize(
    ("principal", "rate_bp", "days", "expected"),
    [
        (100000, 1000, 10, 274),  # 273,97… øre
        (378000, 1025, 31, 3291),  # 3.290,67… øre
        (1825, 1000, 1, 1),  # exactly 0,5 øre rounds up
        (1824, 1000, 1, 0),  # 0,4997… rounds down
        (100000, 1000, 0, 0),
        (0, 1000, 30, 0),
    ],
)
def test_late_interest_is_exact_in_ore(principal, rate_bp, days, expected):
    assert reminders.late_interest_ore(principal, rate_bp, days) == expected


def test_day_count_is_actual_days():
    assert reminders.day_count(date(2026, 12, 1), date(2027, 1, 1)) == 31
    assert reminders.day_count(date(2028, 2, 1), date(2028, 3, 1)) == 29
    assert reminders.day_count(date(2026, 12, 5), date(2026, 12, 1)) == 0


def test_three_reminders_ten_days_apart_with_fee_and_interest(app, db, mailbox):
    org = organisation(db)
    org.reminder_fee_ore, org.late_interest_rate_bp = 10000, 1000
    invoice = factories.issued_invoice(total_ore=100000, due_date=DUE)

    assert run(db, DUE) == []  # not before the due date has passed
    [first] = run(db, date(2026, 12, 11))
    assert (first.level, first.fee_ore, first.interest_days, first.interest_ore) == (
        1,
        10000,
        10,
        274,
    )
    assert (first.interest_from, first.interest_to) == (DUE, date(2026, 12, 11))
    assert first.total_due_ore == 100000 + 10000 + 274
    assert run(db, date(2026, 12, 11)) == []  # idempotent per day
    assert run(db, date(2026, 12, 20)) == []  # only 9 days later

    [second] = run(db, date(2026, 12, 21))
    assert (second.level, second.interest_from, second.interest_ore) == (2, date(2026, 12, 11), 274)
    assert second.total_due_ore == 100000 + 2 * 10000 + 2 * 274
    [third] = run(db, date(2026, 12, 31))
    assert third.level == 3 and third.total_due_ore == 100000 + 3 * 10000 + 3 * 274
    assert run(db, date(2027, 2, 1)) == []  # never a fourth

    messages = mailbox.to(invoice.employer.invoice_email)
    assert len(messages) == 3
    assert "F-2026-" in messages[0]["Subject"]
    [attachment] = [part for part in messages[0].walk() if part.get_filename()]
    assert attachment.get_filename().startswith("rykker-1-")
    text = pdf_text(attachment.get_payload(decode=True))
    assert "Rykker 1" in text and "1.102,74 kr." in text and "(10 dage)" in text
    assert "2,74 kr." in text and "100,00 kr." in text
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == invoice.id)).all()
    assert actions.count("invoice.reminded") == 3


def test_fee_is_capped_at_the_legal_maximum_and_compensation_comes_once(app, db, mailbox):
    org = organisation(db)
    org.reminder_fee_ore = 25000  # above the law's 100 kr.: the reminder still charges 100 kr.
    org.compensation_enabled, org.compensation_ore = True, 31000
    factories.issued_invoice(total_ore=50000, due_date=DUE)
    [first] = run(db, date(2026, 12, 2))
    assert (first.fee_ore, first.compensation_ore) == (10000, 31000)
    [second] = run(db, date(2026, 12, 12))
    assert (second.fee_ore, second.compensation_ore) == (10000, 0)
    assert (
        second.total_due_ore == 50000 + 2 * 10000 + 31000 + first.interest_ore + second.interest_ore
    )


def test_paid_credited_and_disputed_invoices_are_never_reminded(app, db, mailbox):
    organisation(db)
    paid = factories.issued_invoice(total_ore=10000, due_date=DUE)
    payments.record_payment(db, paid, 10000, PaymentMethod.BANK, "bank:paid")
    credited = factories.issued_invoice(total_ore=10000, due_date=DUE, credited_ore=10000)
    credited.status = InvoiceStatus.CREDITED
    disputed = factories.issued_invoice(total_ore=10000, due_date=DUE)
    payments.set_disputed(db, disputed, factories.user_for(Role.FINANCE), True, "wrong hours")
    part = factories.issued_invoice(total_ore=10000, due_date=DUE)
    payments.record_payment(db, part, 4000, PaymentMethod.BANK, "bank:part")
    sent = run(db, date(2026, 12, 15))
    assert [r.invoice_id for r in sent] == [part.id]
    assert sent[0].principal_ore == 6000
    # Paid in full after the first reminder: no second one.
    payments.record_payment(db, db.get(Invoice, part.id), 6000, PaymentMethod.BANK, "bank:rest")
    assert run(db, date(2026, 12, 30)) == []


def test_the_cli_sends_due_reminders_once_a_day(app, db, mailbox):
    organisation(db)
    invoice = factories.issued_invoice(total_ore=10000, due_date=DUE)
    db.commit()
    runner = app.test_cli_runner()
    with at(date(2026, 12, 5)):
        first = runner.invoke(args=["reminders", "send"])
        again = runner.invoke(args=["reminders", "send"])
    assert first.exit_code == 0 and "1 reminder sent for 2026-12-05" in first.output
    assert "0 reminders sent" in again.output
    assert len(mailbox.to(invoice.employer.invoice_email)) == 1


def test_finance_sees_due_reminders_and_sends_them(client, db, as_role, mailbox):
    organisation(db)
    invoice = factories.issued_invoice(total_ore=100000, due_date=DUE)
    with at(date(2026, 12, 11)):
        as_role(Role.FINANCE)
        page = client.get("/finance/reminders")
        assert page.status_code == 200
        assert invoice.display_number in page.text and "2,74" in page.text
        response = post_form(client, "/finance/reminders/send", {}, page="/finance/reminders")
        assert response.status_code == 302
        page = client.get("/finance/reminders")
        [reminder] = db.scalars(select(Reminder)).all()
        assert f"/finance/reminders/{reminder.id}.pdf" in page.text
        pdf = client.get(f"/finance/reminders/{reminder.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert len(mailbox.to(invoice.employer.invoice_email)) == 1


def test_finance_marks_a_claim_disputed(client, db, as_role):
    organisation(db)
    invoice = factories.issued_invoice(total_ore=100000, due_date=DUE)
    with at(date(2026, 12, 11)):
        as_role(Role.FINANCE)
        response = post_form(
            client,
            f"/finance/invoices/{invoice.id}/dispute",
            {"disputed": "1"},
            page="/finance/reminders",
        )
        assert response.status_code == 302
        page = client.get("/finance/reminders")
        assert reminders.due_plans(db, date(2026, 12, 11)) == []
    assert invoice.display_number in page.text


def test_employers_cannot_send_reminders(client, db, as_role):
    as_role(Role.EMPLOYER)
    assert client.get("/finance/reminders").status_code == 403


def test_a_reminder_names_a_deadline_the_fi_line_and_what_has_been_paid(app, db, mailbox):
    """Issue 14, item 8: a date to pay by, the FI line, the invoice with its payments and
    credits so far, and Danish singular for one day of interest."""
    organisation(db)
    invoice = factories.issued_invoice(total_ore=100000, due_date=DUE, paid_ore=25000)
    invoice.status = InvoiceStatus.PARTLY_PAID
    invoice.credited_ore = 5000
    db.flush()
    [first] = run(db, DUE + timedelta(days=1))
    text = pdf_text(first.pdf)
    assert "senest 12-12-2026" in text  # sent 02-12-2026, ten days to pay
    assert "Betalt hidtil −250,00 kr." in text and "Krediteret hidtil −50,00 kr." in text
    assert "Restbeløb på fakturaen 700,00 kr." in text
    assert "(1 dag)" in text and "(1 dage)" not in text
    assert f"+71<{invoice.payment_id}+81234567<" in text.replace(" ", "")
