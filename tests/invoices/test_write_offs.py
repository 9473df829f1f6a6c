"""Write-offs (issue 14, item 7: "... and write-off becomes a voucher"): finance books what a
customer will not pay as a loss, once; the VAT in it is taken back; the journal books it and
still reconciles; reminders stop."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core import models as m
from core.errors import DomainError
from core.models import InvoiceStatus, PaymentMethod, Role
from invoices import credit, journal, payments, reconciliation, reminders, writeoffs
from tests import factories
from tests.invoicing import organisation
from tests.portal.test_nothing_twice import count, seeding, user
from tests.racing import Browser, post_many, race

NOV = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture(autouse=True)
def in_november(clock):
    """Write-offs here are booked on Monday 16 November 2026 (the journal's period), after the
    part payment of the 10th and before the late one of the 20th."""
    clock.move_to(datetime(2026, 11, 16, 10, tzinfo=UTC), tick=False)


def partly_paid(db):
    """1.250,00 kr. (VAT 250,00) issued 2 November, 500,00 kr. paid by bank on the 10th."""
    organisation(db)
    employer = factories.EmployerFactory(name="Konkursboet ApS")
    invoice = factories.issued_invoice(employer, total_ore=125000, issue_date=date(2026, 11, 2))
    received = datetime(2026, 11, 10, 12, tzinfo=UTC)
    payments.record_payment(db, invoice, 50000, PaymentMethod.BANK, "bank:1", received)
    db.flush()
    return invoice


def test_the_open_amount_is_booked_as_a_loss_with_its_vat_taken_back(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = partly_paid(db)
    written = writeoffs.write_off(db, finance, invoice, "Konkurs, anmeldt til boet")
    db.flush()
    assert (written.amount_ore, written.vat_ore) == (75000, 15000)  # 750,00 of which 1/5 VAT
    assert invoice.status == InvoiceStatus.WRITTEN_OFF and invoice.open_ore == 0
    # Not chased any more: not overdue for reminders, not payable, no credit note on top.
    assert invoice not in db.scalars(reminders.overdue(date(2027, 1, 31))).all()
    assert not payments.payable(invoice)

    voucher = next(v for v in journal.journal(db, *NOV) if v.kind == journal.Kind.WRITE_OFF)
    assert voucher.number == f"A-{written.id}" and voucher.balanced
    assert [(p.account, p.amount_ore) for p in voucher.lines] == [
        ("1745", 60000),  # tab på debitorer, net
        ("7680", 15000),  # the VAT back off the output VAT
        ("6190", -75000),  # debtors
    ]
    result = reconciliation.reconcile(db, *NOV)
    assert result.reconciles, [c.difference_ore for c in result.checks]
    assert result.write_offs.records_ore == 75000 and result.receivables.records_ore == 0
    assert result.sales.write_off_vat_ore == 15000
    with pytest.raises(DomainError, match="afskrevet"):
        credit.issue_credit_note(db, finance, invoice, None, False, "x")


def test_an_invoice_is_written_off_once(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = partly_paid(db)
    writeoffs.write_off(db, finance, invoice, "Konkurs")
    with pytest.raises(DomainError, match="afskrevet allerede"):
        writeoffs.write_off(db, finance, invoice, "igen")
    with pytest.raises(DomainError, match="årsag"):
        writeoffs.write_off(db, finance, factories.issued_invoice(), " ")


def test_money_after_a_write_off_shows_as_beyond_the_invoice(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = partly_paid(db)
    writeoffs.write_off(db, finance, invoice, "Konkurs")
    late = datetime(2026, 11, 20, 12, tzinfo=UTC)
    payments.record_payment(db, invoice, 20000, PaymentMethod.BANK, "bank:dividend", late)
    db.flush()
    assert invoice.status == InvoiceStatus.WRITTEN_OFF
    assert payments.overpaid_ore(invoice) == 20000  # a recovery, booked by hand
    result = reconciliation.reconcile(db, *NOV)
    assert result.reconciles
    assert result.receivables.overpaid.total_ore == -20000


def test_finance_writes_off_on_the_invoice_page(client, db, as_role, app):
    invoice = partly_paid(db)
    db.commit()
    as_role(Role.FINANCE)
    detail = f"/finance/invoices/{invoice.id}"
    page = client.get(detail).text.replace("\xa0", " ")
    assert "Afskriv det åbne beløb" in page and "Afskriv 750,00 kr." in page

    def send(reason):
        html = client.get(detail).text
        hidden = dict(re.findall(r'name="(off-[a-z_]+)" type="hidden" value="([^"]+)"', html))
        return client.post(f"{detail}/write-off", data={**hidden, "off-reason": reason})

    refused = send("")
    assert "Angiv en årsag til afskrivningen" in client.get(refused.headers["Location"]).text
    assert db.scalar(select(func.count()).select_from(m.WriteOff)) == 0
    done = send("Konkurs")
    shown = client.get(done.headers["Location"]).text.replace("\xa0", " ")
    assert "er afskrevet" in shown and "Afskrevet" in shown
    assert "750,00 kr. (moms 150,00 kr.) blev bogført som tab" in shown
    assert "Afskriv det åbne beløb" not in shown and "Udsted kreditnota" not in shown
    assert client.get("/finance/reconciliation?date_from=2026-11-01&date_to=2026-11-30").text.count(
        f"A-{db.scalar(select(m.WriteOff.id))}"
    )


def written_off_world(committed):
    with seeding(committed) as session:
        invoice = partly_paid(session)
        finance = factories.UserFactory(role=Role.FINANCE)
        session.commit()
        return invoice.id, finance.id


def hidden_fields(client, path):
    html = client.get(path).text
    return dict(re.findall(r'name="(off-[a-z_]+)" type="hidden" value="([^"]+)"', html))


def test_a_write_off_sent_four_times_at_once_books_one(app, committed):
    invoice_id, finance_id = written_off_world(committed)
    browser = Browser(app, user(committed, finance_id))
    data = {**hidden_fields(browser.client, f"/finance/invoices/{invoice_id}"), "off-reason": "K"}
    responses = post_many(browser.tabs(4), f"/finance/invoices/{invoice_id}/write-off", data)
    assert [r.status_code for r in responses] == [302] * 4
    assert count(committed, m.WriteOff) == 1


def test_two_people_writing_off_at_once_book_one(app, committed):
    invoice_id, finance_id = written_off_world(committed)
    people = [Browser(app, user(committed, finance_id)) for _ in range(2)]
    path = f"/finance/invoices/{invoice_id}"
    forms = [{**hidden_fields(p.client, path), "off-reason": "Konkurs"} for p in people]
    race(
        [
            lambda p=p, f=f: p.client.post(f"{path}/write-off", data=f)
            for p, f in zip(people, forms, strict=True)
        ]
    )
    assert count(committed, m.WriteOff) == 1
    with committed() as session:
        assert session.get(m.Invoice, invoice_id).written_off_ore == 75000


def test_the_database_refuses_to_change_or_delete_a_write_off(app, db, ctx):
    from tests.invoices.test_immutable_in_the_database import allowed, refused

    finance = factories.UserFactory(role=Role.FINANCE)
    written = writeoffs.write_off(db, finance, partly_paid(db), "Konkurs")
    db.flush()
    refused(db, "UPDATE write_offs SET amount_ore = 1 WHERE id = :id", id=written.id)
    refused(db, "DELETE FROM write_offs WHERE id = :id", id=written.id)
    allowed(db, "SELECT amount_ore FROM write_offs WHERE id = :id", id=written.id)
