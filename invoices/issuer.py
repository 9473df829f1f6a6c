"""The one issuer of documents: a gapless number, then every rendition archived with its SHA-256.

Issuing is two phases. In the issuing transaction an invoice or credit note is numbered and
frozen (lines, snapshots, totals, payment id) and nothing is rendered: the counter row is
locked for milliseconds (`take_number`, last before the commit). After the commit its
renditions (the timesheet PDF, the invoice PDF, the e-invoice) are rendered from the
stored data only and archived, each in a bytes column beside a column with the bytes' SHA-256,
written once (`render_missing`; invoices.guard and the database's trigger refuse any change).
A crash between the phases leaves a numbered invoice without documents: the run's job, `flask
--app wsgi invoices render-missing` and every worker's start render them, and until they
exist the invoice is shown as being prepared. Its messages (the e-mail, the e-invoice) are
written to the outbox with the number; their sender renders what is missing before it sends.

A reminder is not numbered; its one rendition is archived in its own transaction (`archive`).
A new rendition is a new Slot here (its two columns in a migration, the guard and the
trigger) and one more entry in `renditions`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from core import dates, outbox
from core.db import writing
from core.models import (
    EinvoiceState,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    OutboxChannel,
    Reminder,
)
from invoices import documents, einvoice, numbering

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
UBL_XML = Slot(Invoice.ubl_xml, Invoice.ubl_sha256)
REMINDER_PDF = Slot(Reminder.pdf, Reminder.pdf_sha256)


Earlier = Mapping[Slot, bytes]  # what this pass has rendered so far, for a later rendition


@dataclass(frozen=True)
class Rendition:
    """One archived form of a document: its slot and how to render it from the document (and
    from the renditions made before it in the same pass: the e-invoice carries the
    timesheet)."""

    slot: Slot
    render: Callable[[Any, Earlier], bytes]

    @classmethod
    def rendered(cls, slot: Slot, content: bytes) -> Rendition:
        """A rendition whose bytes exist already."""
        return cls(slot, lambda _document, _earlier: content)


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
    document.status, document.issued_at = InvoiceStatus.ISSUED, dates.now()
    queue_messages(session, document)


def queue_messages(session: Session, document: Invoice) -> None:
    """Write what a just-numbered document sends, committed with its number (core.outbox):
    its e-mail, and its e-invoice when the buyer is a public body with the rules loaded. The
    senders render whatever a crash left unrendered before they send (invoices.delivery)."""
    session.flush()  # the document's id
    kind = "credit_note" if document.is_credit_note else "invoice"
    buyer = document.buyer_party
    outbox.add(
        session, kind, buyer.email or "", dedupe_key=f"{kind}:{document.id}", invoice_id=document.id
    )
    if buyer.ean and einvoice.enabled():
        document.einvoice_state = EinvoiceState.QUEUED
        outbox.add(
            session,
            "einvoice",
            buyer.ean,
            channel=OutboxChannel.EINVOICE,
            dedupe_key=f"einvoice:{document.id}",
            invoice_id=document.id,
        )


def archive(document: Document, renditions: Iterable[Rendition]) -> None:
    """Render each rendition in the order given and store its bytes with their SHA-256."""
    for slot, content in render_all(document, renditions).items():
        slot.store(document, content)


def render_all(document: Document, renditions: Iterable[Rendition]) -> dict[Slot, bytes]:
    """Each rendition's bytes, in the order given, so that one may build on those before it."""
    done: dict[Slot, bytes] = {}
    for rendition in renditions:
        done[rendition.slot] = rendition.render(document, done)
    return done


# --- Phase two: the documents, after the issuing commit -----------------------------------------


def renditions(session: Session, invoice: Invoice) -> list[Rendition]:
    """What an issued invoice or credit note is archived as, each rendered from stored data:
    the PDF, an invoice's timesheet PDF, and (when the e-invoice rules are loaded) the
    validated e-invoice, which carries the timesheet inside."""
    pdf = Rendition(
        INVOICE_PDF,
        lambda numbered, _earlier: documents.invoice_pdf(
            session, numbered, pay_url=documents.card_pay_url(numbered)
        ),
    )
    found = [pdf]
    if not invoice.is_credit_note:
        timesheet = Rendition(
            TIMESHEET_PDF,
            lambda numbered, _earlier: documents.invoice_timesheet_pdf(session, numbered),
        )
        found = [timesheet, pdf]
    if einvoice.enabled():
        found.append(
            Rendition(
                UBL_XML,
                lambda numbered, earlier: einvoice.xml(
                    session, numbered, earlier.get(TIMESHEET_PDF) or numbered.timesheet_pdf
                ),
            )
        )
    return found


def missing(session: Session, invoice: Invoice) -> list[Rendition]:
    """The renditions an issued invoice has not got yet."""
    if invoice.number is None:
        return []
    return [r for r in renditions(session, invoice) if _checksum(invoice, r.slot) is None]


def complete(session: Session, invoice: Invoice) -> bool:
    """Render and archive, in this session, what the invoice lacks (the CLI, tests)."""
    todo = missing(session, invoice)
    archive(invoice, todo)
    session.flush()
    return bool(todo)


def render_missing(factory: sessionmaker, invoice_id: int) -> bool:
    """Render an issued invoice's missing documents outside any transaction that writes, then
    archive them in a short one, exactly once: a second worker rendering the same invoice at
    the same time waits for the row lock and then finds them stored. Returns whether anything
    was stored."""
    with factory() as reading:
        invoice = reading.get(Invoice, invoice_id)
        if invoice is None:
            return False
        rendered = render_all(invoice, missing(reading, invoice))
    if not rendered:
        return False
    with writing(factory) as session:
        invoice = session.get(Invoice, invoice_id, with_for_update=True)
        todo = {slot: content for slot, content in rendered.items() if not _checksum(invoice, slot)}
        for slot, content in todo.items():
            slot.store(invoice, content)
    return bool(todo)


def _checksum(invoice: Invoice, slot: Slot) -> str | None:
    return getattr(invoice, slot.checksum.key)


def unrendered(factory: sessionmaker, run_id: int | None = None) -> list[int]:
    """Issued invoices without all their documents (of one run, when given), oldest first;
    the e-invoice counts when the rules are loaded (older invoices get theirs then too)."""
    lacking = [
        Invoice.pdf_sha256.is_(None),
        (Invoice.kind == InvoiceKind.INVOICE) & Invoice.timesheet_sha256.is_(None),
    ]
    if einvoice.enabled():
        lacking.append(Invoice.ubl_sha256.is_(None))
    query = select(Invoice.id).where(Invoice.number.is_not(None), or_(*lacking))
    query = query.order_by(Invoice.id)
    if run_id is not None:
        query = query.where(Invoice.run_id == run_id)
    with factory() as session:
        return list(session.scalars(query))
