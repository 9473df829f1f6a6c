"""Issued invoices never change: an ORM flush guard refuses edits and deletes.

The service layer refuses first with a clear message; this guard is the safety net for any
code path that forgets (a script, a future feature). Payment status and delivery bookkeeping
may change; the document itself (parties, lines, amounts, number, archived PDFs) may not."""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.models import Invoice, InvoiceLine, TimeEntry

# What may still change on an issued invoice: it is not part of the document.
MUTABLE_AFTER_ISSUE = {
    "status",
    "paid_ore",
    "credited_ore",
    "written_off_ore",
    "delivery_state",
    "delivery_attempts",
    "delivery_error",
    "delivered_at",
    "einvoice_state",
    "einvoice_reference",
    "einvoice_error",
    "einvoice_attempts",
    "einvoice_sent_at",
}
# Archived bytes are written once, in the issuing transaction.
# Each archived document with the column that holds its checksum.
CHECKSUM_OF = {
    "pdf": "pdf_sha256",
    "pdf_sha256": "pdf_sha256",
    "timesheet_pdf": "timesheet_sha256",
    "timesheet_sha256": "timesheet_sha256",
    "ubl_xml": "ubl_sha256",
    "ubl_sha256": "ubl_sha256",
}
WRITE_ONCE = set(CHECKSUM_OF)
# A billed shift keeps its hours; only a credit note may release it (invoice_line_id -> None).
FROZEN_ENTRY_FIELDS = {
    "placement_id",
    "work_date",
    "start_time",
    "end_time",
    "break_minutes",
    "minutes",
}


class ImmutableInvoice(Conflict):
    pass


def _before(history, current):
    """The value before this unit of work's change."""
    if history.deleted:
        return history.deleted[0]
    if history.added:
        return None  # set on a row where it had no loaded value: it was never set
    return current


def _was_issued(invoice: Invoice) -> bool:
    state = inspect(invoice)
    return not state.pending and _before(state.attrs.number.history, invoice.number) is not None


def _check_invoice(invoice: Invoice) -> None:
    if not _was_issued(invoice):
        return
    state = inspect(invoice)
    for attr in state.mapper.column_attrs:
        name = attr.key
        if name in MUTABLE_AFTER_ISSUE:
            continue
        history = state.attrs[name].history
        if not history.has_changes():
            continue
        if name in WRITE_ONCE:
            # Archived bytes may be written while their checksum was still empty (the PDF
            # column itself is deferred, so its old value is not at hand; the checksum is).
            checksum = CHECKSUM_OF[name]
            if _before(state.attrs[checksum].history, getattr(invoice, checksum)) is None:
                continue
        raise ImmutableInvoice(f"issued invoice {invoice.display_number}: {name} cannot change")


def _check_line(line: InvoiceLine, deleting: bool) -> None:
    invoice = line.invoice
    if invoice is None or invoice.number is None:
        return
    state = inspect(line)
    if deleting:
        raise ImmutableInvoice(f"a line of issued invoice {invoice.display_number} was deleted")
    changed = [a.key for a in state.mapper.column_attrs if state.attrs[a.key].history.has_changes()]
    if changed and not state.pending:
        raise ImmutableInvoice(f"a line of issued invoice {invoice.display_number} changed")


def _check_entry(entry: TimeEntry) -> None:
    state = inspect(entry)
    was_billed = _before(state.attrs.invoice_line_id.history, entry.invoice_line_id) is not None
    if not was_billed:
        return
    for name in FROZEN_ENTRY_FIELDS:
        if state.attrs[name].history.has_changes():
            raise ImmutableInvoice("an invoiced shift cannot change")


def _before_flush(session: Session, _context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, Invoice):
            _check_invoice(obj)
        elif isinstance(obj, InvoiceLine):
            _check_line(obj, deleting=False)
        elif isinstance(obj, TimeEntry):
            _check_entry(obj)
    for obj in session.deleted:
        if isinstance(obj, Invoice) and inspect(obj).attrs.number.value is not None:
            raise ImmutableInvoice(f"issued invoice {obj.display_number} cannot be deleted")
        if isinstance(obj, InvoiceLine):
            _check_line(obj, deleting=True)
        if isinstance(obj, TimeEntry) and obj.invoice_line_id is not None:
            raise ImmutableInvoice("an invoiced shift cannot be deleted")


def install() -> None:
    """Guard every session (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
