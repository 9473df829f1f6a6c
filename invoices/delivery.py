"""E-mailing issued invoices and credit notes with their PDFs; failures are kept and retried."""

from __future__ import annotations

import logging
import smtplib

from sqlalchemy import select

from core import dates, mail
from core.db import database
from core.i18n import force_locale
from core.jobs import job, queue, under_rq
from core.models import DeliveryState, EinvoiceState, Invoice
from invoices import einvoice_delivery, issuer

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


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


def render_and_deliver(invoice_id: int) -> None:
    """Just after issuing (a credit note from a page): its documents now, so the page that
    follows shows them, then the e-mail in the background. A rendering failure is logged and
    left to the delivery job, which renders what is missing before it sends."""
    try:
        issuer.render_missing(database().sessionmaker, invoice_id)
    except Exception:
        log.exception("documents of invoice %s failed; the delivery job retries", invoice_id)
    queue().enqueue(deliver, invoice_id, retries=3)


@job
def deliver(invoice_id: int, force: bool = False) -> bool:
    """Send the invoice once (or again with force); record the outcome on the invoice.

    Nothing goes out before its documents exist: what is missing is rendered first. Raises
    after recording a failure when running under RQ, so RQ retries it."""
    factory = database().sessionmaker
    issuer.render_missing(factory, invoice_id)
    with factory() as session:
        # The row lock makes two deliveries queued for the same invoice (a run resumed while
        # render-missing ran) send one e-mail: the second waits, then finds it sent.
        invoice = session.get(Invoice, invoice_id, with_for_update=True)
        if invoice is None or not invoice.documents_ready:
            return False
        if einvoice_delivery.due(invoice) and invoice.einvoice_state in (
            None,
            EinvoiceState.QUEUED,
        ):
            # A public body's e-invoice goes to the access point in its own job (retried on
            # its own; a second job finds it sent and stops).
            invoice.einvoice_state = EinvoiceState.QUEUED
            session.commit()
            queue().enqueue(einvoice_delivery.send, invoice_id, retries=5)
            invoice = session.get(Invoice, invoice_id, with_for_update=True)
        if invoice.delivery_state == DeliveryState.SENT and not force:
            return True
        message = message_for(invoice)
        invoice.delivery_attempts += 1
        try:
            if not message.to:
                raise smtplib.SMTPRecipientsRefused({"": (550, b"no invoice e-mail address")})
            mail.mailer().send(message)
        except (OSError, smtplib.SMTPException) as error:
            invoice.delivery_state = DeliveryState.FAILED
            invoice.delivery_error = str(error)[:500] or type(error).__name__
            session.commit()
            log.warning("invoice %s not delivered: %s", invoice.display_number, error)
            if under_rq():
                raise
            return False
        invoice.delivery_state = DeliveryState.SENT
        invoice.delivery_error = ""
        invoice.delivered_at = dates.now()
        session.commit()
        return True


def finish_unrendered() -> int:
    """Render the documents of every issued invoice that lacks them (a worker died between
    issuing and rendering) and queue the delivery of each; returns how many were finished.

    A document another worker is rendering at the same moment is stored once, by whichever
    commits first; only that one queues the e-mail."""
    factory = database().sessionmaker
    finished = 0
    for invoice_id in issuer.unrendered(factory):
        try:
            stored = issuer.render_missing(factory, invoice_id)
        except Exception:
            log.exception("documents of invoice %s failed", invoice_id)
            continue
        if stored:
            finished += 1
            queue().enqueue(deliver, invoice_id, retries=3)
    return finished


def retry_failed() -> int:
    """Try again every failed delivery that has attempts left; return how many went out."""
    factory = database().sessionmaker
    with factory() as session:
        ids = session.scalars(
            select(Invoice.id).where(
                Invoice.delivery_state == DeliveryState.FAILED,
                Invoice.delivery_attempts < MAX_ATTEMPTS,
            )
        ).all()
    return sum(1 for invoice_id in ids if deliver(invoice_id))
