"""Issued invoices and credit notes leave through the outbox (core.outbox): the e-mail with
the archived PDFs to the buyer's invoice address, and for a public body the e-invoice to the
access point (invoices.einvoice_delivery). Both rows are written in the transaction that
numbers the document (`queue_documents`, called by the issuer), so a worker killed after the
commit, a Redis that is down or a mail server that refuses loses neither: the sender renders
what a crash left unrendered, then sends, and tries again until delivered or given up.

The invoice keeps a summary of its e-mail's way (delivery_state, attempts, error) for its
pages; the outbox row is the truth."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import dates, mail, outbox
from core.db import database
from core.i18n import force_locale
from core.models import (
    DeliveryState,
    Invoice,
    OutboxChannel,
    OutboxMessage,
    User,
)
from invoices import issuer

log = logging.getLogger(__name__)


def message_for(invoice: Invoice) -> mail.Message:
    """The e-mail to the employer's invoice address, with the archived PDFs attached."""
    number = invoice.display_number
    with force_locale("da"):
        if invoice.is_credit_note:
            subject, text = mail.compose("credit_note", invoice=invoice)
        else:
            subject, text = mail.compose(
                "invoice", invoice=invoice, pay_link=card_pay_link(invoice)
            )
    attachments = [mail.Attachment(f"{number}.pdf", invoice.pdf or b"")]
    if invoice.timesheet_pdf:
        attachments.append(mail.Attachment(f"{number}-timeseddel.pdf", invoice.timesheet_pdf))
    return mail.Message(invoice.buyer_party.email, subject, text, attachments)


def card_pay_link(invoice: Invoice) -> str | None:
    """The signed card-payment link for the e-mail while the invoice is open and Stripe is on."""
    from invoices import payments

    return payments.pay_url(invoice) if payments.payable(invoice) else None


# The issuing worker renders a document's PDFs right after its commit; a sender that finds
# them missing waits for it this long before it renders them itself (the worker died).
RENDERING_GRACE = timedelta(seconds=60)


def render(row: OutboxMessage) -> None:
    """Before a document's message is composed: render what a crash left unrendered (once,
    whoever else is at it), unless it was issued a moment ago and is being rendered now."""
    factory = database().sessionmaker
    with factory() as session:
        invoice = session.get(Invoice, row.invoice_id)
        if invoice is None or invoice.documents_ready:
            return
        recent = invoice.issued_at and dates.now() - invoice.issued_at < RENDERING_GRACE
    if recent and outbox.patient():
        raise outbox.NotYet(1)
    issuer.render_missing(factory, row.invoice_id)


def ready(session: Session, invoice_id: int | None) -> Invoice:
    """The issued document with every rendition archived; raises while it is not (the
    message is tried again)."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.number is None:
        raise outbox.Refused(f"invoice {invoice_id} is not issued")
    if not invoice.documents_ready:
        raise RuntimeError(f"the documents of {invoice.display_number} are not rendered yet")
    return invoice


def _compose(session: Session, row: OutboxMessage) -> outbox.Envelope:
    invoice = ready(session, row.invoice_id)
    message = message_for(invoice)
    return outbox.Envelope(row.recipient, message.subject, message.body, message.attachments)


def _delivered(session: Session, row: OutboxMessage, _envelope: outbox.Envelope) -> None:
    invoice = session.get(Invoice, row.invoice_id)
    invoice.delivery_state, invoice.delivered_at = DeliveryState.SENT, dates.now()
    invoice.delivery_attempts, invoice.delivery_error = row.attempts, ""


def _failed(session: Session, row: OutboxMessage) -> None:
    invoice = session.get(Invoice, row.invoice_id)
    if invoice.delivery_state != DeliveryState.SENT:
        invoice.delivery_state = DeliveryState.FAILED
    invoice.delivery_attempts, invoice.delivery_error = row.attempts, row.last_error[:500]


for _kind in ("invoice", "credit_note"):
    outbox.register(
        outbox.Kind(
            _kind,
            OutboxChannel.EMAIL,
            prepare=render,
            compose=_compose,
            delivered=_delivered,
            failed=_failed,
        )
    )


def send_again(session: Session, invoice: Invoice, by: User | None = None) -> OutboxMessage:
    """Finance's *Send again* on an invoice page: its e-mail once more (the caller commits;
    the sender is woken with the commit)."""
    kind = "credit_note" if invoice.is_credit_note else "invoice"
    row = latest(session, invoice.id, kind)
    if row is None:
        return outbox.add(session, kind, invoice.buyer_party.email or "", invoice_id=invoice.id)
    outbox.resend(session, row, by)
    return row


def latest(session: Session, invoice_id: int, kind: str) -> OutboxMessage | None:
    """The newest outbox row of that kind for the document."""
    return session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.invoice_id == invoice_id, OutboxMessage.kind == kind)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def render_now(invoice_id: int) -> None:
    """Just after issuing from a page: the documents now, so the page that follows shows
    them. A failure is logged and left to the sender, which renders before it sends."""
    try:
        issuer.render_missing(database().sessionmaker, invoice_id)
    except Exception:
        log.exception("documents of invoice %s failed; the outbox sender renders them", invoice_id)


def finish_unrendered() -> int:
    """Render the documents of every issued invoice that lacks them (a worker died between
    issuing and rendering); returns how many were finished. Their messages wait in the
    outbox already and go out with the next send."""
    factory = database().sessionmaker
    finished = 0
    for invoice_id in issuer.unrendered(factory):
        try:
            finished += issuer.render_missing(factory, invoice_id)
        except Exception:
            log.exception("documents of invoice %s failed", invoice_id)
    if finished:
        outbox.wake()
    return finished
