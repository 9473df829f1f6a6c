"""Receivables: aging buckets per employer, open/overdue totals, invoiced vs paid per month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from core.models import InvoiceKind, InvoiceStatus, PaymentMethod, Role
from invoices import payments, receivables
from tests import factories

TODAY = date(2026, 12, 31)


@pytest.mark.parametrize(
    ("days_overdue", "bucket"),
    [
        (-5, "not_due"),
        (0, "not_due"),
        (1, "d1_30"),
        (30, "d1_30"),
        (31, "d31_60"),
        (60, "d31_60"),
        (61, "d61_90"),
        (90, "d61_90"),
        (91, "d90_plus"),
        (400, "d90_plus"),
    ],
)
def test_bucket_edges(days_overdue, bucket):
    assert receivables.bucket_for(days_overdue) == bucket


def test_aging_per_employer_counts_open_amounts_only(app, db):
    a = factories.EmployerFactory(name="Alfa ApS")
    b = factories.EmployerFactory(name="Beta A/S")
    factories.issued_invoice(a, total_ore=10000, due_date=TODAY + timedelta(days=3))
    factories.issued_invoice(a, total_ore=20000, due_date=TODAY - timedelta(days=30))
    part = factories.issued_invoice(a, total_ore=30000, due_date=TODAY - timedelta(days=45))
    payments.record_payment(db, part, 5000, PaymentMethod.BANK, "bank:p")
    factories.issued_invoice(b, total_ore=40000, due_date=TODAY - timedelta(days=90))
    factories.issued_invoice(b, total_ore=50000, due_date=TODAY - timedelta(days=91))
    paid = factories.issued_invoice(b, total_ore=70000, due_date=TODAY - timedelta(days=10))
    payments.record_payment(db, paid, 70000, PaymentMethod.BANK, "bank:q")
    note = factories.issued_invoice(b, total_ore=9900, kind=InvoiceKind.CREDIT_NOTE)
    assert note.status == InvoiceStatus.ISSUED
    db.flush()

    summary = receivables.aging(db, TODAY)
    rows = {row.name: row.buckets for row in summary.employers}
    assert rows["Alfa ApS"] == {
        "not_due": 10000,
        "d1_30": 20000,
        "d31_60": 25000,
        "d61_90": 0,
        "d90_plus": 0,
    }
    assert rows["Beta A/S"] == {
        "not_due": 0,
        "d1_30": 0,
        "d31_60": 0,
        "d61_90": 40000,
        "d90_plus": 50000,
    }
    assert [row.name for row in summary.employers] == ["Beta A/S", "Alfa ApS"]  # most overdue
    assert summary.open_ore == 145000 and summary.overdue_ore == 135000
    assert summary.open_count == 5


def test_monthly_invoiced_against_paid(app, db):
    invoice = factories.issued_invoice(total_ore=100000, issue_date=date(2026, 11, 2))
    factories.issued_invoice(total_ore=50000, issue_date=date(2026, 12, 1))
    factories.issued_invoice(
        total_ore=20000, issue_date=date(2026, 12, 3), kind=InvoiceKind.CREDIT_NOTE
    )
    payments.record_payment(
        db,
        invoice,
        60000,
        PaymentMethod.BANK,
        "bank:m",
        received_at=datetime(2026, 12, 10, 12, tzinfo=UTC),
    )
    months = receivables.monthly(db, TODAY, count=3)
    assert [(m.label, m.invoiced_ore, m.paid_ore) for m in months] == [
        ("10-2026", 0, 0),
        ("11-2026", 100000, 0),
        ("12-2026", 30000, 60000),
    ]
    chart = receivables.chart(months)
    assert len(chart.bars) == 6
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.value_ore == 100000 and tallest.kind == "invoiced"
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in chart.bars)


def test_finance_dashboard_page(client, db, as_role):
    factories.issued_invoice(
        factories.EmployerFactory(name="Gammel Gæld ApS"),
        total_ore=123456,
        issue_date=date(2026, 8, 1),
        due_date=date(2026, 8, 15),
    )
    with time_machine.travel(datetime(2026, 12, 31, 11, tzinfo=UTC), tick=False):
        as_role(Role.FINANCE)
        page = client.get("/finance/receivables")
    assert page.status_code == 200
    assert "Gammel Gæld ApS" in page.text and "1.234,56" in page.text
    assert "<svg" in page.text and 'class="bar-invoiced"' in page.text
    assert page.text.count("<h1>") == 1


def test_employers_do_not_see_receivables(client, db, as_role):
    as_role(Role.EMPLOYER)
    assert client.get("/finance/receivables").status_code == 403
