"""Invoice and credit-note PDFs, and the timesheets attached to an invoice.

Rendering is a pure function of stored data (the invoice row, its lines and its snapshots of
buyer and seller), through the one PDF engine in invoices.pdf."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Invoice, InvoiceLine, Placement, TimeEntry, invoice_line_entries
from core.snapshots import BuyerSnapshot, SellerSnapshot
from invoices import numbering, timesheets
from invoices.pdf import engine


@dataclass(frozen=True)
class InvoiceDocument:
    invoice: Invoice
    lines: list[InvoiceLine]
    seller: SellerSnapshot
    buyer: BuyerSnapshot
    fi_line: str | None
    pay_url: str | None
    reason: str


def invoice_pdf(session: Session, invoice: Invoice, pay_url: str | None = None) -> bytes:
    """The invoice (or credit note) as PDF bytes: every field of a full Danish invoice."""
    pdf, _fetcher = engine().html_to_pdf(invoice_html(session, invoice, pay_url))
    return pdf


def invoice_html(session: Session, invoice: Invoice, pay_url: str | None = None) -> str:
    """The invoice document's HTML (what invoice_pdf renders), from the frozen invoice only."""
    seller = invoice.seller_party
    fi = None
    if not invoice.is_credit_note and invoice.payment_id:
        fi = numbering.fi_line(invoice.payment_id, seller.fi_creditor_number)
    document = InvoiceDocument(
        invoice=invoice,
        lines=list(invoice.lines),
        seller=seller,
        buyer=invoice.buyer_party,
        fi_line=fi,
        pay_url=pay_url,
        reason=invoice.reason,
    )
    return engine().render_html("pdf/invoice.html", locale="da", doc=document)


def card_pay_url(invoice: Invoice) -> str | None:
    """The signed card-payment link to print on an invoice, or None when Stripe is off."""
    if invoice.is_credit_note:
        return None
    from invoices import payments

    return payments.pay_url(invoice, as_issued=True)


def invoice_timesheet_pdf(session: Session, invoice: Invoice) -> bytes:
    """One timesheet per placement with exactly the shifts this invoice bills."""
    pdf, _fetcher = engine().html_to_pdf(invoice_timesheet_html(session, invoice))
    return pdf


def invoice_timesheet_html(session: Session, invoice: Invoice) -> str:
    """The timesheets attached to an issued invoice: they name it, carry the seller it froze
    and its moment of issue (not the moment of rendering), so a re-render is identical."""
    entries = session.scalars(
        select(TimeEntry)
        .join(invoice_line_entries, invoice_line_entries.c.time_entry_id == TimeEntry.id)
        .join(InvoiceLine, InvoiceLine.id == invoice_line_entries.c.invoice_line_id)
        .where(InvoiceLine.invoice_id == invoice.id)
        .order_by(TimeEntry.placement_id, TimeEntry.work_date, TimeEntry.start_time, TimeEntry.id)
        .options(*timesheets.ROW_LOADS)
    ).all()
    by_placement: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        by_placement[entry.placement_id].append(entry)
    organisation = timesheets.organisation_of(invoice.seller_party)
    sheets = [
        timesheets.timesheet_for_entries(
            session,
            session.get(Placement, placement_id),
            group,
            organisation=organisation,
            generated_at=invoice.issued_at,
        )
        for placement_id, group in sorted(by_placement.items())
    ]
    return engine().render_html(
        "pdf/invoice_timesheets.html", locale="da", sheets=sheets, invoice=invoice
    )
