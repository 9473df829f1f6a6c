"""The bookkeeping export: one row per issued invoice or credit note in a period."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Invoice, InvoiceKind
from core.money import plain_kroner
from invoices.spreadsheet import Sheet

COLUMNS = [
    "nummer",
    "type",
    "fakturadato",
    "kunde",
    "cvr",
    "ean",
    "netto",
    "moms",
    "total",
    "forfaldsdato",
    "status",
    "krediterer",
]


kroner = plain_kroner


def issued_in(session: Session, date_from: date, date_to: date) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.number.is_not(None),
                Invoice.issue_date >= date_from,
                Invoice.issue_date <= date_to,
            )
            .order_by(Invoice.issue_date, Invoice.series, Invoice.number)
        )
    )


def bookkeeping_csv(session: Session, date_from: date, date_to: date) -> str:
    """Semicolon-separated rows; credit notes count negative, so the totals are the net sales."""
    invoices = issued_in(session, date_from, date_to)
    sheet = Sheet()
    sheet.row(COLUMNS)
    sums = [0, 0, 0]
    for invoice in invoices:
        buyer = invoice.buyer_party
        sign = -1 if invoice.kind == InvoiceKind.CREDIT_NOTE else 1
        figures = [sign * invoice.subtotal_ore, sign * invoice.vat_ore, sign * invoice.total_ore]
        sums = [a + b for a, b in zip(sums, figures, strict=True)]
        sheet.row(
            [
                invoice.display_number,
                "kreditnota" if sign < 0 else "faktura",
                invoice.issue_date.strftime("%d-%m-%Y"),
                buyer.name,
                buyer.cvr,
                buyer.ean,
                *(kroner(v) for v in figures),
                invoice.due_date.strftime("%d-%m-%Y") if invoice.due_date else "",
                invoice.status.value,
                invoice.credited_invoice.display_number if invoice.credited_invoice else "",
            ]
        )
    sheet.row(["I alt", "", "", f"{len(invoices)} bilag", "", "", *map(kroner, sums), "", "", ""])
    return sheet.text()
