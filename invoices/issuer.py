"""The one issuer of documents: a gapless number, then every rendition archived with its SHA-256.

A document is numbered (an invoice or a credit note) or not (a reminder), and has one or more
renditions: the invoice PDF, the timesheet PDF, and next the e-invoice XML. Each rendition is
archived in a bytes column beside a column holding the bytes' SHA-256; both are written once
(invoices.guard). A new rendition is a new Slot here (its two columns in a migration and in
guard.WRITE_ONCE) and one more Rendition where the document is issued."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute, Session

from core.models import Invoice, InvoiceStatus, Reminder, utcnow
from invoices import numbering

Document = Invoice | Reminder  # what has archived renditions


@dataclass(frozen=True)
class Slot:
    """Where one rendition is archived: its bytes column and the column of their SHA-256."""

    content: InstrumentedAttribute[Any]
    checksum: InstrumentedAttribute[Any]

    def store(self, document: Document, content: bytes) -> None:
        """Put the bytes and their checksum on the document (the caller flushes)."""
        if not isinstance(document, self.content.class_):
            # Setting an unmapped name would only make a plain attribute, silently unsaved.
            raise TypeError(f"{type(document).__name__} has no {self.content.key} column")
        setattr(document, self.content.key, content)
        setattr(document, self.checksum.key, hashlib.sha256(content).hexdigest())


INVOICE_PDF = Slot(Invoice.pdf, Invoice.pdf_sha256)
TIMESHEET_PDF = Slot(Invoice.timesheet_pdf, Invoice.timesheet_sha256)
REMINDER_PDF = Slot(Reminder.pdf, Reminder.pdf_sha256)


@dataclass(frozen=True)
class Rendition:
    """One archived form of a document: its slot and how to render it from the document."""

    slot: Slot
    render: Callable[[Any], bytes]

    @classmethod
    def rendered(cls, slot: Slot, content: bytes) -> Rendition:
        """A rendition whose bytes exist already (rendered before the number was taken)."""
        return cls(slot, lambda _document: content)


def take_number(
    session: Session, document: Invoice, today: date, due_date: date | None = None
) -> None:
    """Give the document the next gapless number of its series for the year, issued today.

    Only in the issuing transaction: the counter row stays locked from here until the commit
    (invoices.numbering), and a rollback gives the number back."""
    document.issue_date, document.year = today, today.year
    if due_date is not None:
        document.due_date = due_date
    document.number = numbering.next_number(session, document.series, document.year)
    if not document.is_credit_note:  # a credit note is never paid, so it has no FI payment id
        document.payment_id = numbering.payment_id(document.year, document.number)
    document.status, document.issued_at = InvoiceStatus.ISSUED, utcnow()


def archive(document: Document, renditions: Iterable[Rendition]) -> None:
    """Render each rendition in the order given and store its bytes with their SHA-256.

    In order, so that a rendition may build on one stored before it (the e-invoice will carry
    the timesheet)."""
    for rendition in renditions:
        rendition.slot.store(document, rendition.render(document))


def issue(
    session: Session,
    document: Invoice,
    today: date,
    renditions: Iterable[Rendition],
    due_date: date | None = None,
) -> None:
    """Number the document, then render and archive its renditions, in the caller's
    transaction (which commits)."""
    take_number(session, document, today, due_date)
    archive(document, renditions)
