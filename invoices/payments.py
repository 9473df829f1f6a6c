"""Recording payments on invoices: card, bank and manual, refunds, and the invoice's status.

One function records every payment. Its external id (the Stripe intent, a bank line's
fingerprint, a manual form's one-time key) is unique, so a payment delivered twice is
recorded once. Over-payments are recorded in full and shown as such; nothing is swallowed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from core import audit, dates, extensions, links
from core.db import lock
from core.errors import Conflict, Invalid
from core.i18n import gettext as _
from core.models import (
    CardIntent,
    CardIntentStatus,
    Invoice,
    InvoiceFlags,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    ProcessedStripeEvent,
    Reminder,
    User,
)

MAX_PAYMENT_ORE = 100_000_000_00


def status_for(invoice: Invoice) -> InvoiceStatus:
    """The status an issued invoice's paid and credited amounts give it."""
    if invoice.credited_ore >= invoice.total_ore:
        return InvoiceStatus.CREDITED
    if invoice.paid_ore + invoice.credited_ore >= invoice.total_ore:
        return InvoiceStatus.PAID
    if invoice.written_off_ore > 0:
        return InvoiceStatus.WRITTEN_OFF
    if invoice.paid_ore > 0:
        return InvoiceStatus.PARTLY_PAID
    return InvoiceStatus.ISSUED


# Fees, interest and compensation are claims on the invoice's reminders, a receivable of their
# own beside the invoice; money is recorded on the invoice. So what comes in beyond the
# invoice's total settles those charges first, and only the rest is an over-payment.


def charges_ore(session: Session, invoice: Invoice) -> int:
    """What the invoice's reminders claimed besides it: fees, interest and compensation."""
    return charges_by_invoice(session, [invoice.id]).get(invoice.id, 0)


def charges_by_invoice(session: Session, invoice_ids: list[int]) -> dict[int, int]:
    """The charges claimed on each invoice's delivered reminders, for many invoices in one
    query (a reminder not delivered claims nothing yet)."""
    if not invoice_ids:
        return {}
    rows = session.execute(
        select(
            Reminder.invoice_id,
            func.sum(Reminder.fee_ore + Reminder.interest_ore + Reminder.compensation_ore),
        )
        .where(Reminder.invoice_id.in_(set(invoice_ids)), Reminder.delivered)
        .group_by(Reminder.invoice_id)
    )
    return {invoice_id: int(total or 0) for invoice_id, total in rows}  # PG sums: numeric


def received_beyond_ore(invoice: Invoice) -> int:
    """How much more than the invoice's total has come in (paid and credited; after a
    write-off, money received is beyond what is left: a recovery to book by hand)."""
    settled = invoice.paid_ore + invoice.credited_ore + invoice.written_off_ore
    return max(settled - invoice.total_ore, 0)


def charges_paid_ore(invoice: Invoice, charges: int) -> int:
    """The part of the charges that money beyond the invoice's total has settled."""
    return min(received_beyond_ore(invoice), max(charges, 0))


def overpaid_ore(invoice: Invoice, charges: int | None = None) -> int:
    """How much more than the invoice and its reminders' charges has come in (0 when not
    over-paid). `charges`: what the reminders claimed, looked up when not given."""
    if received_beyond_ore(invoice) == 0:
        return 0  # the usual case, without a query (a bank import records thousands)
    if charges is None:
        session = object_session(invoice)
        charges = charges_ore(session, invoice) if session is not None and invoice.id else 0
    return received_beyond_ore(invoice) - charges_paid_ore(invoice, charges)


def payable(invoice: Invoice) -> bool:
    """An issued invoice (not a credit note) with an amount still open."""
    return (
        invoice.kind == InvoiceKind.INVOICE
        and invoice.number is not None
        and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
        and invoice.open_ore > 0
    )


def find_by_external_id(session: Session, external_id: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.external_id == external_id))


def record_payment(
    session: Session,
    invoice: Invoice | None,
    amount_ore: int,
    method: PaymentMethod,
    external_id: str | None,
    received_at: datetime | None = None,
    by: User | None = None,
    note: str = "",
) -> Payment | None:
    """Record money received (negative: paid back) once per external id.

    Returns the new payment, or None when a payment with that external id exists already.
    Without an invoice the payment is kept unassigned for finance to match."""
    if amount_ore == 0 or abs(amount_ore) > MAX_PAYMENT_ORE:
        raise Invalid(_("The amount must be between 0,01 and 100.000.000,00 kr."))
    if invoice is not None and (invoice.number is None or invoice.kind != InvoiceKind.INVOICE):
        raise Conflict(_("Payments can only be recorded on issued invoices."))
    if external_id and find_by_external_id(session, external_id) is not None:
        return None
    payment = Payment(
        invoice_id=invoice.id if invoice is not None else None,
        amount_ore=amount_ore,
        method=method,
        external_id=external_id or None,
        received_at=received_at or dates.now(),
        created_by_id=by.id if by is not None and by.is_authenticated else None,
        note=(note or "")[:2000],
    )
    try:
        # A concurrent delivery of the same payment may insert it first: then it is done.
        with session.begin_nested():
            session.add(payment)
    except IntegrityError:
        if external_id and find_by_external_id(session, external_id) is not None:
            return None
        raise
    if invoice is not None:
        _apply(session, invoice, amount_ore)
    audit.record(
        session,
        by,
        "payment.refunded" if amount_ore < 0 else "payment.recorded",
        payment,
        invoice=invoice.display_number if invoice is not None else "",
        amount_ore=amount_ore,
        method=method.value,
        external_id=external_id or "",
        overpaid_ore=overpaid_ore(invoice) if invoice is not None else 0,
    )
    if invoice is not None and amount_ore < 0:
        prompt_credit_note(session, invoice)
    return payment


def record_refund(
    session: Session,
    invoice: Invoice,
    amount_ore: int,
    method: PaymentMethod,
    external_id: str | None,
    received_at: datetime | None = None,
    by: User | None = None,
    note: str = "",
) -> Payment | None:
    """Record money paid back to the customer as a negative payment; finance is prompted to
    issue a credit note."""
    if amount_ore <= 0:
        raise Invalid(_("Enter the refunded amount as a positive number."))
    # Lock the invoice first: two refunds at once must not both see the same amount paid.
    lock(session, invoice)
    if amount_ore > paid_total(session, invoice):
        raise Invalid(_("More cannot be refunded than was paid on the invoice."))
    return record_payment(session, invoice, -amount_ore, method, external_id, received_at, by, note)


def assign(session: Session, payment: Payment, invoice: Invoice, by: User) -> None:
    """Put an unassigned payment (a card payment we could not place) on an invoice."""
    lock(session, payment)  # two people assigning it: one wins
    if payment.invoice_id is not None:
        raise Conflict(_("This payment is already recorded on an invoice."))
    if invoice.number is None or invoice.kind != InvoiceKind.INVOICE:
        raise Conflict(_("Payments can only be recorded on issued invoices."))
    payment.invoice_id = invoice.id
    _apply(session, invoice, payment.amount_ore)
    audit.record(
        session,
        by,
        "payment.assigned",
        payment,
        invoice=invoice.display_number,
        amount_ore=payment.amount_ore,
    )


def paid_total(session: Session, invoice: Invoice) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(Payment.amount_ore), 0)).where(
            Payment.invoice_id == invoice.id
        )
    )


def _apply(session: Session, invoice: Invoice, amount_ore: int) -> None:
    # Lock the invoice row so two payments arriving at once both count.
    session.refresh(invoice, with_for_update=True)
    invoice.paid_ore += amount_ore
    if invoice.status != InvoiceStatus.CREDITED:
        invoice.status = status_for(invoice)
    session.flush()


def flags_for(session: Session, invoice: Invoice) -> InvoiceFlags:
    flags = session.get(InvoiceFlags, invoice.id)
    if flags is None:
        flags = InvoiceFlags(invoice_id=invoice.id, dispute_note="")
        session.add(flags)
    return flags


def prompt_credit_note(session: Session, invoice: Invoice) -> None:
    """Ask finance (on the payments page) to issue a credit note after a refund."""
    flags_for(session, invoice).credit_note_prompt_at = dates.now()
    session.flush()


def dismiss_credit_note_prompt(session: Session, invoice: Invoice, by: User) -> None:
    flags = session.get(InvoiceFlags, invoice.id)
    if flags is None or flags.credit_note_prompt_at is None:
        return
    flags.credit_note_prompt_at = None
    audit.record(session, by, "invoice.credit_note_prompt_dismissed", invoice)


def set_disputed(session: Session, invoice: Invoice, by: User, disputed: bool, note: str = ""):
    """Mark a claim disputed (no reminders, so no fees) or clear the mark."""
    if invoice.number is None or invoice.kind != InvoiceKind.INVOICE:
        raise Conflict(_("Only issued invoices can be marked as disputed."))
    flags = flags_for(session, invoice)
    if disputed:
        flags.disputed_at, flags.disputed_by_id = dates.now(), by.id
        flags.dispute_note = (note or "").strip()[:2000]
    else:
        flags.disputed_at, flags.disputed_by_id, flags.dispute_note = None, None, ""
    session.flush()
    audit.record(
        session,
        by,
        "invoice.disputed" if disputed else "invoice.dispute_cleared",
        invoice,
        note=flags.dispute_note,
    )


def payments_for(session: Session, invoice: Invoice) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.received_at)
        )
    )


# --- Card payments: intents and Stripe events --------------------------------------------------


def card_intent_for(session: Session, gateway, invoice: Invoice) -> tuple[CardIntent, str]:
    """The PaymentIntent for the invoice's open amount and its client secret.

    Keyed by invoice id + open amount, here and at Stripe: a double click or a second tab
    finds the same intent; after a part payment the new open amount gets a new one."""
    if not payable(invoice):
        raise Conflict(_("This invoice has nothing left to pay."))
    amount = invoice.open_ore
    key = gateway.idempotency_key(invoice.id, amount)
    row = session.scalar(select(CardIntent).where(CardIntent.idempotency_key == key))
    if row is not None and row.status != CardIntentStatus.SUCCEEDED:
        return row, gateway.retrieve_intent(row.intent_id).client_secret
    if row is not None:
        raise Conflict(_("This amount has been paid by card; the payment is being recorded."))
    intent = gateway.create_intent(invoice.id, invoice.display_number, amount)
    existing = session.scalar(select(CardIntent).where(CardIntent.intent_id == intent.id))
    if existing is not None:  # a webhook about it came first, or a concurrent click won
        return existing, intent.client_secret
    row = CardIntent(
        invoice_id=invoice.id,
        intent_id=intent.id,
        idempotency_key=key,
        amount_ore=amount,
        status=CardIntentStatus.OPEN,
        failure_message="",
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        row = session.scalar(select(CardIntent).where(CardIntent.intent_id == intent.id))
        if row is None:
            raise
    return row, intent.client_secret


def latest_card_failure(session: Session, invoice: Invoice) -> CardIntent | None:
    """The invoice's most recent card attempt when it failed (shown to the employer)."""
    row = session.scalar(
        select(CardIntent)
        .where(CardIntent.invoice_id == invoice.id)
        .order_by(CardIntent.updated_at.desc(), CardIntent.id.desc())
        .limit(1)
    )
    return row if row is not None and row.status == CardIntentStatus.FAILED else None


def apply_stripe_event(session: Session, event: dict) -> str:
    """Apply a verified Stripe event exactly once; returns what happened (for the log).

    The event id is stored in the same transaction as its effects, so a redelivery finds it
    and changes nothing, and a failure rolls both back for Stripe to deliver again."""
    event_id = str(event.get("id") or "")
    kind = str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id:
        raise Invalid("event without id")
    try:
        with session.begin_nested():
            session.add(
                ProcessedStripeEvent(
                    event_id=event_id, type=kind[:60], object_id=str(obj.get("id", ""))[:100]
                )
            )
    except IntegrityError:
        return "duplicate"
    handler = _EVENT_HANDLERS.get(kind)
    outcome = handler(session, obj, event) if handler else "ignored"
    session.get(ProcessedStripeEvent, event_id).outcome = outcome[:40]
    return outcome


def _event_time(event: dict) -> datetime:
    created = event.get("created")
    if isinstance(created, int) and created > 0:
        return datetime.fromtimestamp(created, UTC)
    return dates.now()


def _intent_row(session: Session, intent: dict) -> CardIntent:
    """Our row for the intent; an intent we never saw created (another tab, a lost
    response) is adopted from the event's metadata."""
    row = session.scalar(select(CardIntent).where(CardIntent.intent_id == intent["id"]))
    if row is not None:
        return row
    invoice = _invoice_from_metadata(session, intent.get("metadata") or {})
    row = CardIntent(
        invoice_id=invoice.id if invoice is not None else None,
        intent_id=str(intent["id"])[:100],
        idempotency_key=None,
        amount_ore=int(intent.get("amount") or 0),
        status=CardIntentStatus.OPEN,
        failure_message="",
    )
    try:
        # Several events about one intent may arrive at once: one of them adds the row, the
        # others wait for it and then use that one.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        row = session.scalar(select(CardIntent).where(CardIntent.intent_id == intent["id"]))
        if row is None:
            raise
    return row


def _invoice_from_metadata(session: Session, metadata: dict) -> Invoice | None:
    raw = str(metadata.get("invoice_id", ""))
    if not raw.isdigit():
        return None
    invoice = session.get(Invoice, int(raw))
    if invoice is None or invoice.number is None or invoice.kind != InvoiceKind.INVOICE:
        return None
    return invoice


def _intent_succeeded(session: Session, intent: dict, event: dict) -> str:
    row = _intent_row(session, intent)
    row.status, row.failure_message = CardIntentStatus.SUCCEEDED, ""
    amount = int(intent.get("amount_received") or intent.get("amount") or 0)
    invoice = session.get(Invoice, row.invoice_id) if row.invoice_id else None
    if amount <= 0:
        return "no amount"
    payment = record_payment(
        session,
        invoice,
        amount,
        PaymentMethod.CARD,
        external_id=row.intent_id,
        received_at=_event_time(event),
        note="Stripe",
    )
    if payment is None:
        return "already recorded"
    return "recorded" if invoice is not None else "recorded unassigned"


def _intent_failed(session: Session, intent: dict, event: dict) -> str:
    row = _intent_row(session, intent)
    if row.status == CardIntentStatus.SUCCEEDED:
        return "already succeeded"  # a late failure of an earlier attempt changes nothing
    error = intent.get("last_payment_error") or {}
    row.status = CardIntentStatus.FAILED
    row.failure_message = str(error.get("message") or "")[:500]
    row.failed_at = _event_time(event)
    return "failed"


def _charge_refunded(session: Session, charge: dict, event: dict) -> str:
    intent_id = charge.get("payment_intent")
    if isinstance(intent_id, dict):
        intent_id = intent_id.get("id")
    if not intent_id:
        return "no intent"
    row = _intent_row(
        session,
        {"id": intent_id, "amount": charge.get("amount"), "metadata": charge.get("metadata") or {}},
    )
    invoice = session.get(Invoice, row.invoice_id) if row.invoice_id else None
    # A refund means the charge succeeded: if its success event has not arrived yet, record
    # the payment now (the later event then finds it and changes nothing).
    if find_by_external_id(session, row.intent_id) is None:
        row.status = CardIntentStatus.SUCCEEDED
        record_payment(
            session,
            invoice,
            int(charge.get("amount") or 0),
            PaymentMethod.CARD,
            external_id=row.intent_id,
            received_at=_event_time(event),
            note="Stripe",
        )
    refunded_total = int(charge.get("amount_refunded") or 0)
    already = -session.scalar(
        select(func.coalesce(func.sum(Payment.amount_ore), 0)).where(
            Payment.external_id.like(f"{row.intent_id}:refund:%")
        )
    )
    # amount_refunded is cumulative: record only what this event adds (events may arrive in
    # any order; an older, smaller total adds nothing).
    delta = refunded_total - already
    if delta <= 0:
        return "refund already recorded"
    record_payment(
        session,
        invoice,
        -delta,
        PaymentMethod.CARD,
        external_id=f"{row.intent_id}:refund:{refunded_total}",
        received_at=_event_time(event),
        note="Stripe refund",
    )
    return "refund recorded"


_EVENT_HANDLERS = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
}


# --- The pay link in invoice and reminder e-mails ----------------------------------------------


def card_payments_enabled() -> bool:
    """Whether employers can pay by card: Stripe (or the demo's emulator) is configured."""
    return extensions.get("stripe") is not None


def card_payments_demo() -> bool:
    """Card payment goes to the local Stripe emulator of `make run`: no real money moves."""
    return card_payments_enabled() and bool(extensions.config("STRIPE_DEMO"))


def pay_url(invoice: Invoice, *, as_issued: bool = False) -> str | None:
    """The public card-payment link for an invoice, or None when Stripe is off. `as_issued`:
    signed as of the issue (the link printed on the invoice, the same at every rendering)."""
    if not card_payments_enabled() or invoice.id is None:
        return None
    return links.pay_link(invoice.id, invoice.issued_at if as_issued else None)
