"""Partial credits (issue 14, item 2): some hours or an amount off one line, never more than
is left of it, in hours, money or VAT; the rest of the line can still be credited whole."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from core import models as m
from core.errors import DomainError
from core.models import InvoiceStatus, Role
from core.money import amount_for
from invoices import credit, issuer, runs
from invoices.einvoice import rules
from tests import factories
from tests.invoicing import approved_entry, employer_with_hours, issue_run, organisation, pdf_text
from tests.portal.test_nothing_twice import count, issued_invoice_with_lines, user
from tests.racing import Browser, post_many, race

PERIOD_END = date(2026, 11, 30)


def one_line_invoice(db, minutes=480, rate=18900, ean=None):
    """An invoice with one line: `minutes` at `rate` in week 48."""
    organisation(db)
    kwargs = {"ean": ean} if ean else {}
    employer, [placement] = employer_with_hours(db, weeks=0, **kwargs)
    placement.bill_rate_ore = rate
    approved_entry(placement, date(2026, 11, 24), minutes=minutes)
    [invoice] = issue_run(db)
    return invoice


def test_two_hours_less_then_two_hundred_kroner_off_then_the_rest(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = one_line_invoice(db)  # 8,00 timer × 189,00 kr. = 1.512,00 kr.
    [line] = invoice.lines

    hours = credit.issue_partial_credit(
        db, finance, invoice, line.id, hours_hundredths=200, reason="To timer for meget"
    )
    db.commit()
    [taken] = hours.lines
    assert (taken.quantity_hundredths, taken.unit_code, taken.rate_ore) == (200, "HUR", 18900)
    assert (hours.subtotal_ore, hours.vat_ore, hours.total_ore) == (37800, 9450, 47250)
    assert taken.credited_line_id == line.id and not taken.released_entries

    price = credit.issue_partial_credit(
        db, finance, invoice, line.id, amount_ore=20000, reason="Rabat aftalt"
    )
    db.commit()
    [reduction] = price.lines
    assert (reduction.quantity_hundredths, reduction.unit_code) == (100, "C62")
    assert reduction.rate_ore == reduction.amount_ore == 20000
    assert reduction.description.startswith("Prisnedslag: ")
    db.refresh(invoice)
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.open_ore == invoice.total_ore - 47250 - 25000

    # The shifts stayed billed: a partial credit never makes hours billable again.
    assert runs.billable_employer_ids(db, PERIOD_END) == []
    assert credit.credited_line_ids(db, invoice) == set()

    # The rest of the line (after a price reduction it is an amount, not hours × rate).
    rest = credit.issue_credit_note(db, finance, invoice, [line.id], False, "Resten")
    db.commit()
    [remainder] = rest.lines
    assert remainder.amount_ore == 151200 - 37800 - 20000
    assert remainder.unit_code == "C62"
    db.refresh(invoice)
    assert invoice.status == InvoiceStatus.CREDITED and invoice.open_ore == 0
    notes = [hours, price, rest]
    assert sum(n.subtotal_ore for n in notes) == invoice.subtotal_ore
    assert sum(n.vat_ore for n in notes) == invoice.vat_ore  # never more VAT than charged
    assert credit.credited_line_ids(db, invoice) == {line.id}

    # The documents print what was taken off, and each note is a valid e-invoice.
    for note in notes:
        issuer.complete(db, note)
        assert rules().check(note.ubl_xml).ok
    assert "2,00 timer 189,00 kr. 378,00 kr." in pdf_text(hours.pdf)
    assert "1,00 stk. 200,00 kr. 200,00 kr." in pdf_text(price.pdf)
    assert "Prisnedslag" in pdf_text(price.pdf)


def test_after_hours_only_the_rest_is_hours_and_can_be_released(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = one_line_invoice(db, minutes=425, rate=18700)  # 7,08 timer
    [line] = invoice.lines
    credit.issue_partial_credit(db, finance, invoice, line.id, hours_hundredths=108, reason="x")
    db.commit()
    rest = credit.issue_credit_note(db, finance, invoice, None, True, "Forkerte timer")
    db.commit()
    [remainder] = rest.lines
    assert (remainder.quantity_hundredths, remainder.unit_code) == (600, "HUR")
    assert remainder.amount_ore == 6 * 18700 and remainder.released_entries
    # The whole line is credited now, so its shifts went back to the employer.
    entry = db.scalar(select(m.TimeEntry))
    assert entry.invoice_line_id is None and entry.employer_approved_at is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hours_hundredths": 801}, "Højst 8,00 timer"),
        ({"amount_ore": 151201}, "Højst 1.512,00"),
        ({"hours_hundredths": 100, "amount_ore": 100}, "enten timerne eller beløbet"),
        ({}, "enten timerne eller beløbet"),
        ({"amount_ore": 0}, "Højst"),
    ],
)
def test_more_than_is_left_is_refused_and_nothing_is_written(app, db, ctx, kwargs, message):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = one_line_invoice(db)
    db.commit()
    with pytest.raises(DomainError, match=message):
        credit.issue_partial_credit(db, finance, invoice, invoice.lines[0].id, reason="x", **kwargs)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(m.Invoice)) == 1


def test_what_is_left_shrinks_with_each_credit(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = one_line_invoice(db)
    line_id = invoice.lines[0].id
    credit.issue_partial_credit(db, finance, invoice, line_id, hours_hundredths=700, reason="x")
    db.commit()
    with pytest.raises(DomainError, match="Højst 1,00 timer"):
        credit.issue_partial_credit(db, finance, invoice, line_id, hours_hundredths=101, reason="y")
    db.rollback()
    with pytest.raises(DomainError, match="Højst 189,00"):
        credit.issue_partial_credit(db, finance, invoice, line_id, amount_ore=18901, reason="y")
    db.rollback()
    last = credit.issue_partial_credit(db, finance, invoice, line_id, amount_ore=18900, reason="y")
    db.commit()
    db.refresh(invoice)
    assert invoice.open_ore == 0 and invoice.status == InvoiceStatus.CREDITED
    assert last.total_ore == 18900 + 4725
    with pytest.raises(DomainError, match="allerede krediteret"):
        credit.issue_partial_credit(db, finance, invoice, line_id, amount_ore=1, reason="z")


def test_finance_takes_hours_off_on_the_invoice_page(client, db, as_role, app):
    with app.test_request_context("/"):
        invoice = one_line_invoice(db)
    db.commit()
    as_role(Role.FINANCE)
    detail = f"/finance/invoices/{invoice.id}"
    page = client.get(detail).text
    assert "Træk en del af en linje fra" in page
    assert 'name="part-hours"' in page and 'name="part-amount"' in page
    line_id = invoice.lines[0].id

    def send(**fields):
        html = client.get(detail).text
        hidden = dict(re.findall(r'name="(part-[a-z_]+)" type="hidden" value="([^"]+)"', html))
        data = {**hidden, "part-line_id": line_id, "part-reason": "Aftalt", **fields}
        return client.post(f"{detail}/reduce", data=data)

    refused = send(**{"part-hours": "1,5", "part-amount": "100"})
    assert "enten timerne eller beløbet" in client.get(refused.headers["Location"]).text
    refused = send(**{"part-hours": "to"})
    assert "Angiv timer med højst to decimaler" in client.get(refused.headers["Location"]).text
    refused = send(**{"part-hours": "9"})
    assert "Højst 8,00 timer" in client.get(refused.headers["Location"]).text
    assert db.scalar(select(func.count()).select_from(m.Invoice)) == 1

    done = send(**{"part-hours": "1,5"})
    note_page = client.get(done.headers["Location"]).text.replace("\xa0", " ")
    assert "Kreditnota K-" in note_page
    assert "1,50 timer" in note_page and "283,50 kr." in note_page
    again = client.get(detail).text.replace("\xa0", " ")
    assert "283,50 kr. krediteret" in again  # the line says what came off it (excl. VAT)


def test_a_partial_credit_sent_four_times_at_once_issues_one(app, committed):
    invoice_id, finance_id = issued_invoice_with_lines(committed)
    browser = Browser(app, user(committed, finance_id))
    html = browser.client.get(f"/finance/invoices/{invoice_id}").text
    hidden = dict(re.findall(r'name="(part-[a-z_]+)" type="hidden" value="([^"]+)"', html))
    with committed() as session:
        line_id = session.get(m.Invoice, invoice_id).lines[0].id
    data = {**hidden, "part-line_id": line_id, "part-hours": "1", "part-reason": "Fejl"}

    responses = post_many(browser.tabs(4), f"/finance/invoices/{invoice_id}/reduce", data)

    assert [r.status_code for r in responses] == [302] * 4
    assert len({r.headers["Location"] for r in responses}) == 1, "all see the first result"
    assert count(committed, m.Invoice, m.Invoice.kind == m.InvoiceKind.CREDIT_NOTE) == 1


def test_two_people_taking_all_that_is_left_at_once_one_is_refused(app, committed):
    """Two forms, each for every hour left on the line: the invoice row lock makes the second
    see the first, so the line is never credited beyond what it billed."""
    invoice_id, finance_id = issued_invoice_with_lines(committed)
    with committed() as session:
        line = session.get(m.Invoice, invoice_id).lines[0]
        line_id, hours = line.id, line.quantity_hundredths
    people = [Browser(app, user(committed, finance_id)) for _ in range(2)]
    path = f"/finance/invoices/{invoice_id}/reduce"
    forms = []
    for person in people:
        html = person.client.get(f"/finance/invoices/{invoice_id}").text
        hidden = dict(re.findall(r'name="(part-[a-z_]+)" type="hidden" value="([^"]+)"', html))
        forms.append(
            {
                **hidden,
                "part-line_id": line_id,
                "part-hours": f"{hours // 100},{hours % 100:02d}",
                "part-reason": "Fejl",
            }
        )
    race([lambda p=p, f=f: p.client.post(path, data=f) for p, f in zip(people, forms, strict=True)])
    assert count(committed, m.Invoice, m.Invoice.kind == m.InvoiceKind.CREDIT_NOTE) == 1
    with committed() as session:
        credited = sum(
            session.scalars(
                select(m.InvoiceLine.amount_ore).where(m.InvoiceLine.credited_line_id == line_id)
            )
        )
        assert credited == session.get(m.InvoiceLine, line_id).amount_ore


def test_all_the_hours_left_can_be_taken_off_whatever_the_rounding(app, db, ctx):
    """12,00 timer × 18,75 kr. = 225,00 kr.; 1,50 timer off is 28,13 kr. (28,125 rounded up),
    which leaves 196,87 kr. for the 10,50 timer that 196,88 kr. would price: asking for the
    10,50 hours left takes the rest of the line, not one øre more (issue 23)."""
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = one_line_invoice(db, minutes=720, rate=1875)
    line_id = invoice.lines[0].id
    first = credit.issue_partial_credit(
        db, finance, invoice, line_id, hours_hundredths=150, reason="x"
    )
    db.commit()
    assert first.subtotal_ore == 2813
    rest = credit.issue_partial_credit(
        db, finance, invoice, line_id, hours_hundredths=1050, reason="Resten"
    )
    db.commit()
    assert first.subtotal_ore + rest.subtotal_ore == 22500  # the line, to the øre
    for line in rest.lines:  # every printed line still recomputes
        assert line.amount_ore == amount_for(line.quantity_hundredths, line.rate_ore)
    db.refresh(invoice)
    assert invoice.open_ore == 0 and invoice.status == InvoiceStatus.CREDITED


def test_after_a_price_reduction_the_message_names_the_hours_really_left(app, db, ctx):
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = one_line_invoice(db)  # 8,00 timer × 189,00 kr. = 1.512,00 kr.
    line_id = invoice.lines[0].id
    credit.issue_partial_credit(db, finance, invoice, line_id, amount_ore=18900, reason="Rabat")
    db.commit()
    # 1.323,00 kr. is left: 7,00 hours at the rate, not the 8,00 hours on the line.
    with pytest.raises(DomainError, match="Højst 7,00 timer"):
        credit.issue_partial_credit(db, finance, invoice, line_id, hours_hundredths=701, reason="y")
    db.rollback()
    taken = credit.issue_partial_credit(
        db, finance, invoice, line_id, hours_hundredths=700, reason="y"
    )
    db.commit()
    assert taken.subtotal_ore == 132300
