"""Credit notes: the only way to correct an issued invoice."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import audit, dates
from core import money as amounts
from core import settings as settings_service
from core.db import lock
from core.errors import Conflict, Invalid
from core.i18n import format_money, format_quantity, language
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


@dataclass
class LineCredit:
    """What credit notes have taken off one invoice line so far."""

    minutes: int = 0
    quantity_hundredths: int = 0  # of the line's own unit only (hours off an hour line)
    amount_ore: int = 0
    reduced_ore: int = 0  # of that, by price reductions (an amount, not hours)


@dataclass
class Piece:
    """One line of a new credit note: what it takes off which invoice line."""

    line: InvoiceLine
    description: str
    minutes: int
    quantity_hundredths: int
    unit_code: str
    rate_ore: int
    amount_ore: int


def line_credits(session: Session, invoice: Invoice) -> dict[int, LineCredit]:
    """Per line of the invoice, what its credit notes took off (amount, and hours off an hour
    line by an hour credit; a price reduction takes amount only)."""
    credited: dict[int, LineCredit] = defaultdict(LineCredit)
    units = {line.id: line.unit_code for line in invoice.lines}
    rows = session.execute(
        select(
            InvoiceLine.credited_line_id,
            InvoiceLine.unit_code,
            InvoiceLine.minutes,
            InvoiceLine.quantity_hundredths,
            InvoiceLine.amount_ore,
        )
        .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
        .where(Invoice.credited_invoice_id == invoice.id, InvoiceLine.credited_line_id.is_not(None))
    )
    for line_id, unit, minutes, quantity, amount in rows:
        entry = credited[line_id]
        entry.amount_ore += amount
        entry.minutes += minutes
        if unit == units.get(line_id):
            entry.quantity_hundredths += quantity
        else:
            entry.reduced_ore += amount
    return dict(credited)


def credited_line_ids(session: Session, invoice: Invoice) -> set[int]:
    """Lines of the invoice that credit notes have credited in full."""
    credited = line_credits(session, invoice)
    return {
        line.id
        for line in invoice.lines
        if line.id in credited and credited[line.id].amount_ore >= line.amount_ore
    }


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
    """Credit whole lines of an issued invoice (all of them when line_ids is None); a line a
    partial credit already reduced is credited for what is left of it.

    With release_entries the credited shifts become billable again, so corrected hours can
    go on a later invoice; without it they stay settled by this invoice and its credit."""
    reason = _checked(session, invoice, reason)
    credited = line_credits(session, invoice)
    done = credited_line_ids(session, invoice)
    available = [line for line in invoice.lines if line.id not in done]
    if line_ids is None:
        chosen = available
    else:
        wanted = set(line_ids)
        if not wanted <= {line.id for line in invoice.lines}:
            raise Invalid(_("Choose lines of this invoice."))
        if wanted & done:
            raise Conflict(_("A chosen line has already been credited."))
        chosen = [line for line in available if line.id in wanted]
    if not chosen:
        raise Conflict(_("Every line of this invoice has already been credited."))
    pieces = [_rest_of(line, credited.get(line.id, LineCredit())) for line in chosen]
    return _issue(session, by, invoice, pieces, release_entries, reason)


def issue_partial_credit(
    session: Session,
    by: User,
    invoice: Invoice,
    line_id: int,
    *,
    hours_hundredths: int | None = None,
    amount_ore: int | None = None,
    reason: str,
) -> Invoice:
    """Take part of one line off: some of its hours ("2 hours less", at the line's rate) or an
    amount ("200 kr off this line", a price reduction). The shifts stay billed by the invoice
    (only crediting a whole line can release them). What is left of the line is never less
    than nothing, in hours or in money."""
    reason = _checked(session, invoice, reason)
    if (hours_hundredths is None) == (amount_ore is None):
        raise Invalid(_("Give either the hours or the amount to take off the line."))
    line = next((line for line in invoice.lines if line.id == line_id), None)
    if line is None:
        raise Invalid(_("Choose lines of this invoice."))
    so_far = line_credits(session, invoice).get(line.id, LineCredit())
    amount_left = line.amount_ore - so_far.amount_ore
    if amount_left <= 0:
        raise Conflict(_("A chosen line has already been credited."))
    if hours_hundredths is not None:
        if line.unit_code != "HUR":
            raise Invalid(_("This line is not billed in hours; take an amount off instead."))
        hours_left = line.quantity_hundredths - so_far.quantity_hundredths
        if hours_hundredths == hours_left and not so_far.reduced_ore:
            # All the hours left: the rest of the line, to the øre, whatever the rounding of
            # the earlier pieces (10,50 timer may price one øre above what is left).
            piece = _rest_of(line, so_far)
        else:
            most = _most_hours(hours_left, amount_left, line.rate_ore)
            if hours_hundredths <= 0 or hours_hundredths > most:
                raise Invalid(
                    _(
                        "At most %(hours)s hours are left on the line to credit.",
                        hours=format_quantity(most, language()),
                    )
                )
            piece = Piece(
                line=line,
                description=line.description,
                minutes=min(amounts.round_half_up_div(hours_hundredths * 60, 100), line.minutes),
                quantity_hundredths=hours_hundredths,
                unit_code="HUR",
                rate_ore=line.rate_ore,
                amount_ore=amounts.amount_for(hours_hundredths, line.rate_ore),
            )
    else:
        if amount_ore is None or amount_ore <= 0 or amount_ore > amount_left:
            raise Invalid(
                _(
                    "At most %(amount)s is left on the line to credit.",
                    amount=format_money(amount_left, language()),
                )
            )
        piece = _reduction(line, amount_ore)
    return _issue(session, by, invoice, [piece], False, reason)


def _checked(session: Session, invoice: Invoice, reason: str) -> str:
    if invoice.kind != InvoiceKind.INVOICE or invoice.number is None:
        raise Conflict(_("Only issued invoices can be credited."))
    # Lock the invoice before reading what is credited already: a second credit note for the
    # same lines (a double click, two people) waits here and then finds them credited.
    lock(session, invoice)
    if invoice.written_off_ore:
        raise Conflict(_("The invoice is written off: what was open is booked as a loss."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason for the credit note."))
    return reason


def _most_hours(hours_left: int, amount_left: int, rate_ore: int) -> int:
    """The most hours (hundredths) that may still come off a line: no more than its hours
    left, and none whose price at the line's rate is more than the money left (after a price
    reduction that is fewer than the hours on the line)."""
    most = min(hours_left, amount_left * 100 // rate_ore) if rate_ore > 0 else hours_left
    while most < hours_left and amounts.amount_for(most + 1, rate_ore) <= amount_left:
        most += 1
    while most > 0 and amounts.amount_for(most, rate_ore) > amount_left:
        most -= 1
    return most


def _reduction(line: InvoiceLine, amount_ore: int) -> Piece:
    """A price reduction on a line: one piece at the amount (quantity × price = amount)."""
    return Piece(
        line=line,
        description=f"Prisnedslag: {line.description}",
        minutes=0,
        quantity_hundredths=100,
        unit_code="C62",
        rate_ore=amount_ore,
        amount_ore=amount_ore,
    )


def _rest_of(line: InvoiceLine, so_far: LineCredit) -> Piece:
    """What is left of a line: the line itself when nothing was credited; its remaining hours
    when only hours came off (they still recompute at the rate); otherwise the remaining
    amount as a reduction."""
    hours_left = line.quantity_hundredths - so_far.quantity_hundredths
    amount_left = line.amount_ore - so_far.amount_ore
    if amounts.amount_for(hours_left, line.rate_ore) == amount_left:
        return Piece(
            line=line,
            description=line.description,
            minutes=max(line.minutes - so_far.minutes, 0),
            quantity_hundredths=hours_left,
            unit_code=line.unit_code,
            rate_ore=line.rate_ore,
            amount_ore=amount_left,
        )
    return _reduction(line, amount_left)


def _issue(
    session: Session,
    by: User,
    invoice: Invoice,
    pieces: list[Piece],
    release_entries: bool,
    reason: str,
) -> Invoice:
    chosen = [piece.line for piece in pieces]
    org = settings_service.get(session)
    subtotal = sum(piece.amount_ore for piece in pieces)
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
    for position, piece in enumerate(pieces, start=1):
        line = piece.line
        session.add(
            InvoiceLine(
                invoice=note,
                placement_id=line.placement_id,
                credited_line_id=line.id,
                position=position,
                description=piece.description,
                period_start=line.period_start,
                period_end=line.period_end,
                minutes=piece.minutes,
                quantity_hundredths=piece.quantity_hundredths,
                unit_code=piece.unit_code,
                rate_ore=piece.rate_ore,
                amount_ore=piece.amount_ore,
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
