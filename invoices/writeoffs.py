"""Write-offs: an invoice the customer will not pay (bankruptcy, a debt given up) has its open
amount booked as a loss, once. Its VAT share is taken back off the output VAT (momsloven
§ 27, stk. 6: VAT on an established bad debt is deducted), so the journal books the net as
a bad debt and the VAT back on the output VAT account. The invoice stops being chased: no
reminders, not in the receivables; money that still comes in is shown as beyond the invoice
(a recovery, booked by hand)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, dates
from core.db import lock
from core.errors import Conflict, Invalid
from core.i18n import gettext as _
from core.models import Invoice, InvoiceKind, InvoiceStatus, User, WriteOff
from core.money import round_half_up_div


def of(session: Session, invoice: Invoice) -> WriteOff | None:
    return session.scalar(select(WriteOff).where(WriteOff.invoice_id == invoice.id))


def vat_share(invoice: Invoice, amount_ore: int) -> int:
    """The VAT in part of an invoice's total, in proportion (rounded half up once)."""
    if invoice.total_ore <= 0:
        return 0
    return round_half_up_div(amount_ore * invoice.vat_ore, invoice.total_ore)


def write_off(session: Session, by: User, invoice: Invoice, reason: str) -> WriteOff:
    """Book what is open on the invoice as a loss. The invoice row is locked first: a second
    write-off (a double click, two people) then finds it written off, and the unique
    invoice id in write_offs refuses one that slipped past."""
    if invoice.kind != InvoiceKind.INVOICE or invoice.number is None:
        raise Conflict(_("Only issued invoices can be written off."))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give a reason for the write-off."))
    lock(session, invoice)
    if invoice.written_off_ore:
        raise Conflict(_("The invoice is written off already."))
    amount = invoice.open_ore
    if amount <= 0:
        raise Conflict(_("Nothing is open on the invoice to write off."))
    written = WriteOff(
        invoice_id=invoice.id,
        written_on=dates.today(),
        amount_ore=amount,
        vat_ore=vat_share(invoice, amount),
        reason=reason,
        created_by_id=by.id,
    )
    session.add(written)
    invoice.written_off_ore = amount
    invoice.status = InvoiceStatus.WRITTEN_OFF
    session.flush()
    audit.record(
        session,
        by,
        "invoice.written_off",
        invoice,
        number=invoice.display_number,
        amount_ore=amount,
        vat_ore=written.vat_ore,
        reason=reason,
    )
    return written
