"""Documents are looked at, not only read back: every kind of PDF, with one line and with 120,
with ordinary data and with the longest names, tasks and amounts the forms accept, must show
no text over other text, nothing off the page, its totals once after its last line, and on
every page "Side N af M" (and "Fortsættes på næste side" on all but the last).

The pages are kept as PNG pictures under test-artifacts/layout/ for a person to look at."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from core.snapshots import BuyerSnapshot, SellerSnapshot
from invoices import pdf
from invoices.documents import InvoiceDocument
from invoices.reminders import ReminderPlan, reminder_pdf
from invoices.timesheets import (
    EmployerTotal,
    Organisation,
    Signature,
    StatementData,
    StatementRow,
    TimesheetData,
    TimesheetRow,
)
from tests.helpers import ROOT
from tests.layout import once_after, page_numbers_problems, read, save_pictures

PICTURES = ROOT / "test-artifacts" / "layout"
SIZES = [(1, "ordinary"), (120, "ordinary"), (1, "extreme"), (120, "extreme")]
# The longest the forms accept: names 200 characters (and typed without a space), notes 1,000,
# 5-digit hours, amounts of 8 digits before the decimal comma.
LONG_NAME = "Ø" * 60 + " " + "Hvidovre Kommunale Ejendomsservice og Grønne Områder " * 2
UNBROKEN = "Æ" * 200
LONG_TASK = ("Varemodtagelse, oprydning på lageret og sortering af returvarer " * 16)[:1000]
SIGNED = datetime(2026, 11, 30, 12, tzinfo=UTC)


def seller() -> SellerSnapshot:
    return SellerSnapshot.from_json(
        {
            "legal_name": "Småjob Fyn",
            "cvr": "13585628",
            "address_line": "Kongensgade 40",
            "postcode": "5000",
            "city": "Odense C",
            "email": "kontakt@smajob.dk",
            "phone": "66 00 00 00",
            "bank_reg": "1234",
            "bank_account": "0012345678",
            "iban": "DK5912340012345678",
            "bic": "DABADKKK",
            "fi_creditor_number": "81234567",
            "late_interest_rate_bp": 1025,
        }
    )


def buyer(extreme: bool) -> BuyerSnapshot:
    return BuyerSnapshot.from_json(
        {
            "name": UNBROKEN if extreme else "Frugtlageret Fyn ApS",
            "cvr": "29000050",
            "ean": "5798000554504" if extreme else "",
            "order_reference": ("PO-" + "9" * 40) if extreme else "",
            "person_reference": LONG_NAME if extreme else "",
            "address_line": LONG_NAME if extreme else "Havnegade 1",
            "postcode": "5000",
            "city": "Odense C",
            "email": "faktura@kunde.dk",
        }
    )


def invoice_document(lines: int, extreme: bool, credit_note: bool = False) -> InvoiceDocument:
    rate = 99_999_99 if extreme else 18_900
    hundredths = 99_999_00 if extreme else 1_200
    amount = rate * hundredths // 100
    subtotal = amount * lines
    invoice = Invoice(
        kind=InvoiceKind.CREDIT_NOTE if credit_note else InvoiceKind.INVOICE,
        series="K" if credit_note else "F",
        year=2026,
        number=9999 if extreme else 1,
        issue_date=date(2026, 11, 30),
        due_date=None if credit_note else date(2026, 12, 14),
        period_start=date(2026, 11, 2),
        period_end=date(2026, 11, 29),
        subtotal_ore=subtotal,
        vat_rate_bp=2500,
        vat_ore=subtotal // 4,
        total_ore=subtotal + subtotal // 4,
        payment_id=None if credit_note else "262026000000018",
        status=InvoiceStatus.ISSUED,
    )
    if credit_note:
        invoice.credited_invoice = Invoice(
            series="F", year=2026, number=1, issue_date=date(2026, 11, 23)
        )
    rows = [
        InvoiceLine(
            position=n + 1,
            description=(LONG_TASK[:300] if extreme else f"Lagerhjælp, Jørgen Hansen ({n + 1})"),
            period_start=date(2026, 11, 2),
            period_end=date(2026, 11, 29),
            minutes=hundredths * 60 // 100,
            quantity_hundredths=hundredths,
            unit_code="HUR",
            rate_ore=rate,
            amount_ore=amount,
        )
        for n in range(lines)
    ]
    return InvoiceDocument(
        invoice=invoice,
        lines=rows,
        seller=seller(),
        buyer=buyer(extreme),
        fi_line=None if credit_note else "+71<262026000000018+81234567<",
        pay_url=None if credit_note else "http://127.0.0.1:5000/pay/" + "x" * 80,
        reason=(LONG_TASK if extreme else "Forkerte timer") if credit_note else "",
    )


def organisation() -> Organisation:
    return Organisation("Småjob Fyn", "13585628", "Kongensgade 40, 5000 Odense C", "k@s.dk", "")


def timesheet(rows: int, extreme: bool) -> TimesheetData:
    start = date(2026, 8, 3)
    name = UNBROKEN if extreme else "Jørgen Hansen"
    return TimesheetData(
        organisation=organisation(),
        placement_id=1,
        worker_name=name,
        payroll_number="1001",
        employer_name=LONG_NAME if extreme else "Frugtlageret Fyn ApS",
        employer_cvr="29000050",
        employer_address=LONG_NAME if extreme else "Havnegade 1, 5000 Odense C",
        job_title=LONG_NAME if extreme else "Lagerhjælp",
        work_area="Lager",
        period_start=start,
        period_end=start + timedelta(days=rows),
        rows=[
            TimesheetRow(
                work_date=start + timedelta(days=n),
                start_time=time(8, 0),
                end_time=time(7, 59) if extreme else time(12, 0),
                break_minutes=999 if extreme else 30,
                minutes=99_999 if extreme else 210,
                note=LONG_TASK if extreme else ("Varemodtagelse" if n % 3 == 0 else ""),
                status="approved",
                auto_approved=n % 7 == 0,
                worker_signature=Signature(name, SIGNED),
                employer_signature=Signature(LONG_NAME if extreme else "Erik", SIGNED, n % 7 == 0),
            )
            for n in range(rows)
        ],
        generated_at=SIGNED,
    )


def statement(rows: int, extreme: bool) -> StatementData:
    start = date(2026, 8, 3)
    employer = LONG_NAME if extreme else "Frugtlageret Fyn ApS"
    minutes = 99_999 if extreme else 210
    return StatementData(
        organisation=organisation(),
        worker_name=UNBROKEN if extreme else "Jørgen Hansen",
        payroll_number="1001",
        period_start=start,
        period_end=start + timedelta(days=rows),
        rows=[
            StatementRow(
                start + timedelta(days=n), employer, "Lagerhjælp", time(8), time(12), 30, minutes
            )
            for n in range(rows)
        ],
        employers=[
            EmployerTotal(employer, start, start + timedelta(days=rows), rows, minutes * rows)
        ],
        generated_at=SIGNED,
    )


def reminder(lines: int, extreme: bool) -> bytes:
    document = invoice_document(lines, extreme)
    invoice = document.invoice
    invoice.paid_ore, invoice.credited_ore = 1_000, 2_000
    invoice.buyer, invoice.seller = document.buyer.to_json(), document.seller.to_json()
    principal = invoice.total_ore - 3_000
    plan = ReminderPlan(
        invoice=invoice,
        level=3,
        allowed_on=date(2026, 12, 15),
        principal_ore=principal,
        fee_ore=10_000,
        compensation_ore=31_000,
        interest_from=date(2026, 12, 14),
        interest_to=date(2027, 1, 13),
        interest_days=30,
        interest_rate_bp=1_025,
        interest_ore=principal * 1_025 * 30 // 3_650_000,
        earlier_fees_ore=20_000,
        earlier_interest_ore=12_345,
        earlier_compensation_ore=31_000,
    )
    return reminder_pdf(plan, date(2027, 1, 13), document.pay_url)


def render(kind: str, lines: int, extreme: bool) -> tuple[bytes, str, str]:
    """The PDF, its grand total's label and a word of its last line."""
    engine = pdf.engine()
    if kind in ("invoice", "credit note"):
        document = invoice_document(lines, extreme, credit_note=kind == "credit note")
        html = engine.render_html("pdf/invoice.html", locale="da", doc=document)
        label = "Krediteret i alt inkl. moms" if kind == "credit note" else "I alt at betale"
        last = document.lines[-1].description[:12]
        return engine.html_to_pdf(html)[0], label, last
    if kind == "reminder":
        return reminder(lines, extreme), "Skyldigt beløb i alt", "Rykkergebyr, rykker 3"
    if kind == "timesheet":
        sheet = timesheet(lines, extreme)
        last = pdf.danish_date(sheet.rows[-1].work_date)
        return pdf.render_timesheet_pdf(sheet), "Godkendt af begge parter", last
    sheet = statement(lines, extreme)
    return pdf.render_hours_statement_pdf(sheet), "I alt", sheet.rows[-1].employer_name[:12]


KINDS = ["invoice", "credit note", "reminder", "timesheet", "hours statement"]


@pytest.mark.parametrize(("lines", "data"), SIZES, ids=[f"{n}-{d}" for n, d in SIZES])
@pytest.mark.parametrize("kind", KINDS)
def test_every_document_reads_right_at_any_length(app, kind, lines, data):
    if kind == "reminder" and lines > 1:
        pytest.skip("a reminder has no lines of its own: one size")
    with app.app_context():
        content, total, last_line = render(kind, lines, data == "extreme")
    save_pictures(content, PICTURES, f"{kind}-{lines}-{data}")
    layout = read(content)
    problems = layout.problems + page_numbers_problems(layout)
    problems += once_after(layout, total, last_line)
    for page in layout.pages[:-1]:
        if "Fortsættes på næste side" not in page.text:
            problems.append(f"page {page.number} does not say that it continues")
    if "Fortsættes på næste side" in layout.pages[-1].text:
        problems.append("the last page says that it continues")
    assert not problems, "\n".join(problems[:20])
