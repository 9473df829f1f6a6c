"""E-mailing issued invoices and credit notes with their PDFs; failures are kept and retried."""

from __future__ import annotations

import logging
import smtplib

from sqlalchemy import select

from core import mail
from core.db import database
from core.i18n import force_locale
from core.jobs import job
from core.models import DeliveryState, Invoice, utcnow

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


@job
def deliver(invoice_id: int, force: bool = False) -> bool:
    """Send the invoice once (or again with force); record the outcome on the invoice.

    Raises after recording a failure when running under RQ, so RQ retries it."""
    factory = database().sessionmaker
    with factory() as session:
        invoice = session.get(Invoice, invoice_id)
        if invoice is None or invoice.number is None:
            return False
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
            if _under_rq():
                raise
            return False
        invoice.delivery_state = DeliveryState.SENT
        invoice.delivery_error = ""
        invoice.delivered_at = utcnow()
        session.commit()
        return True


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


def _under_rq() -> bool:
    try:
        from rq import get_current_job
    except ImportError:  # pragma: no cover
        return False
    return get_current_job() is not None
