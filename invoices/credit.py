"""Credit notes: the only way to correct an issued invoice."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, dates
from core import money as amounts
from core import settings as settings_service
from core.db import lock
from core.errors import Conflict, Invalid
from core.i18n import gettext as _
from core.models import (
    EinvoiceState,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    TimeEntry,
    User,
    invoice_line_entries,
)
from core.snapshots import SellerSnapshot
from invoices import issuer


def credited_line_ids(session: Session, invoice: Invoice) -> set[int]:
    """Lines of the invoice that an earlier credit note already credited."""
    return set(
        session.scalars(
            select(InvoiceLine.credited_line_id)
            .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
            .where(
                Invoice.credited_invoice_id == invoice.id,
                InvoiceLine.credited_line_id.is_not(None),
            )
        )
    )


def credited_vat(session: Session, invoice: Invoice, subtotal_ore: int) -> int:
    """The VAT of a new credit note crediting `subtotal_ore` of the invoice: VAT on all that
    is credited so far, rounded once, less what earlier credit notes credited. Crediting
    lines one at a time so never credits more VAT than the invoice charged (two lines of
    85.050 øre each carry 42.525 øre VAT together; rounded line by line they would credit
    21.263 + 21.263)."""
    earlier_subtotal, earlier_vat = session.execute(
        select(
            func.coalesce(func.sum(Invoice.subtotal_ore), 0),
            func.coalesce(func.sum(Invoice.vat_ore), 0),
        ).where(Invoice.credited_invoice_id == invoice.id, Invoice.number.is_not(None))
    ).one()
    so_far = amounts.vat_ore(int(earlier_subtotal) + subtotal_ore, invoice.vat_rate_bp)
    return min(so_far - int(earlier_vat), invoice.vat_ore - int(earlier_vat))


def issue_credit_note(
    session: Session,
    by: User,
    invoice: Invoice,
    line_ids: list[int] | None,
    release_entries: bool,
    reason: str,
) -> Invoice:
    """Credit whole lines of an issued invoice (all of them when line_ids is None).

    With release_entries the credited shifts become billable again, so corrected hours can
    go on a later invoice; without it they stay settled by this invoice and its credit."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.number is None:
        raise Conflict(_("Only issued invoices can be credited."))
    # Lock the invoice before reading what is credited already: a second credit note for the
    # same lines (a double click, two people) waits here and then finds them credited.
    lock(session, invoice)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason for the credit note."))
    already = credited_line_ids(session, invoice)
    available = [line for line in invoice.lines if line.id not in already]
    if line_ids is None:
        chosen = available
    else:
        wanted = set(line_ids)
        if not wanted <= {line.id for line in invoice.lines}:
            raise Invalid(_("Choose lines of this invoice."))
        if wanted & already:
            raise Conflict(_("A chosen line has already been credited."))
        chosen = [line for line in available if line.id in wanted]
    if not chosen:
        raise Conflict(_("Every line of this invoice has already been credited."))

    org = settings_service.get(session)
    subtotal = sum(line.amount_ore for line in chosen)
    vat = credited_vat(session, invoice, subtotal)
    total = subtotal + vat
    note = Invoice(
        kind=InvoiceKind.CREDIT_NOTE,
        series=org.credit_note_series,
        employer_id=invoice.employer_id,
        credited_invoice_id=invoice.id,
        period_start=min(line.period_start or invoice.period_start for line in chosen),
        period_end=max(line.period_end or invoice.period_end for line in chosen),
        subtotal_ore=subtotal,
        vat_rate_bp=invoice.vat_rate_bp,
        vat_ore=vat,
        total_ore=total,
        # The buyer exactly as the invoice froze it (copied as stored, not rebuilt, so an
        # older snapshot keeps its keys); the seller as the organisation is now.
        buyer=invoice.buyer,
        seller=SellerSnapshot.of(org).to_json(),
        status=InvoiceStatus.DRAFT,
        reason=reason,  # printed on the note, frozen with it
        einvoice_state=EinvoiceState.QUEUED if invoice.buyer_party.ean else None,
    )
    session.add(note)
    for position, line in enumerate(chosen, start=1):
        session.add(
            InvoiceLine(
                invoice=note,
                placement_id=line.placement_id,
                credited_line_id=line.id,
                position=position,
                description=line.description,
                period_start=line.period_start,
                period_end=line.period_end,
                minutes=line.minutes,
                quantity_hundredths=line.quantity_hundredths,
                unit_code=line.unit_code,
                rate_ore=line.rate_ore,
                amount_ore=line.amount_ore,
                released_entries=release_entries,
            )
        )
        if release_entries:
            entry_ids = select(invoice_line_entries.c.time_entry_id).where(
                invoice_line_entries.c.invoice_line_id == line.id
            )
            session.execute(
                update(TimeEntry)
                .where(TimeEntry.id.in_(entry_ids), TimeEntry.invoice_line_id == line.id)
                # Released to be put right: back with the employer, who may correct the
                # hours (the worker confirms a change) or approve them as they are, before a
                # run bills them again — never the same hours billed again unseen.
                .values(
                    invoice_line_id=None,
                    employer_approved_at=None,
                    employer_approved_by_id=None,
                    auto_approved=False,
                )
                .execution_options(synchronize_session="fetch")
            )
    invoice.credited_ore += note.total_ore
    if invoice.credited_ore + invoice.paid_ore >= invoice.total_ore:
        invoice.status = (
            InvoiceStatus.CREDITED
            if invoice.credited_ore >= invoice.total_ore
            else InvoiceStatus.PAID
        )
    # Number last, just before the commit (the counter row is locked from here); the note's
    # PDF is rendered after the commit from what is stored (issuer.render_missing).
    issuer.take_number(session, note, dates.today())
    audit.record(
        session,
        by,
        "invoice.credited",
        note,
        number=note.display_number,
        credits=invoice.display_number,
        total_ore=note.total_ore,
        lines=[line.id for line in chosen],
        released=release_entries,
        reason=reason,
    )
    return note
