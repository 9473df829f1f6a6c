"""Payment reminders (rykkere) the Danish way: renteloven, B2B (DOMAIN-DK.md § 3).

- at most three reminders per claim, at least ten days apart, the first once the due date
  has passed (renteloven § 9 b);
- a fee per reminder of at most 100 kr. (the setting, capped here again), without VAT;
- late interest (morarente) from the due date at the configured annual rate, simple interest
  per day: amount × rate × days / 365, rounded half up once per reminder;
- the one-time compensation (kompensationsbeløb, § 9 a) on the first reminder when finance
  has switched it on;
- a disputed claim gets no reminder (and so no fee) until finance clears the mark; paid and
  credited invoices are never reminded.

Each reminder is recorded with its amounts and an outbox message in one transaction, and only
counts once that e-mail is delivered (renteloven lets a fee be charged for a reminder *sent*):
its PDF is rendered when it goes out, dated that day with the deadline counted from it, and
stored as it went; its fee and interest stand on the account from that day; the next
reminder waits ten days from it; one not delivered yet holds the next back and is shown to
finance. Sending is idempotent: the spacing and the unique (invoice, level) make a second run
the same day record nothing."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core import audit, dates, mail, outbox
from core import settings as settings_service
from core.i18n import force_locale, format_percent
from core.models import (
    Invoice,
    InvoiceFlags,
    InvoiceKind,
    InvoiceStatus,
    OrganisationSettings,
    OutboxMessage,
    Reminder,
    User,
)
from invoices import issuer, numbering, payments
from invoices.pdf import engine

log = logging.getLogger(__name__)

LEGAL_MAX_FEE_ORE = 10_000  # renteloven § 9 b: 100 kr. per reminder
MAX_REMINDERS = 3
MIN_DAYS_BETWEEN = 10
DAYS_PER_YEAR = 365
COPENHAGEN = dates.COPENHAGEN


def day_count(start: date, end: date) -> int:
    """Interest days from start to end: actual days (actual/365). The one place to change
    it if the organisation uses another convention (e.g. 30/360)."""
    return max((end - start).days, 0)


def late_interest_ore(principal_ore: int, rate_bp: int, days: int) -> int:
    """principal × rate × days / 365 in øre, rounded half up once (integers only)."""
    if principal_ore <= 0 or rate_bp <= 0 or days <= 0:
        return 0
    numerator = principal_ore * rate_bp * days
    denominator = 10_000 * DAYS_PER_YEAR
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass
class ReminderPlan:
    """What the next reminder for an invoice would claim, and whether it may go out today."""

    invoice: Invoice
    level: int
    allowed_on: date  # the first day it may be sent
    principal_ore: int
    fee_ore: int
    compensation_ore: int
    interest_from: date
    interest_to: date
    interest_days: int
    interest_rate_bp: int
    interest_ore: int
    earlier_fees_ore: int
    earlier_interest_ore: int
    earlier_compensation_ore: int

    @property
    def total_due_ore(self) -> int:
        return (
            self.principal_ore
            + self.fee_ore
            + self.compensation_ore
            + self.interest_ore
            + self.earlier_fees_ore
            + self.earlier_interest_ore
            + self.earlier_compensation_ore
        )

    def due(self, today: date) -> bool:
        return today >= self.allowed_on


def reminders_for(session: Session, invoice: Invoice) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder).where(Reminder.invoice_id == invoice.id).order_by(Reminder.level)
        )
    )


def is_disputed(session: Session, invoice: Invoice) -> bool:
    flags = session.get(InvoiceFlags, invoice.id)
    return flags is not None and flags.disputed_at is not None


def plan_next(
    session: Session,
    invoice: Invoice,
    today: date,
    org: OrganisationSettings | None = None,
    *,
    earlier: list[Reminder] | None = None,
    disputed: bool | None = None,
) -> ReminderPlan | None:
    """The next reminder for the invoice, computed for `today`; None when none may ever go
    out now (not an open, overdue invoice; three sent already; disputed). A list page passes
    the earlier reminders and the dispute mark it has loaded for all its rows at once."""
    if disputed is None:
        disputed = is_disputed(session, invoice)
    if (
        invoice.kind != InvoiceKind.INVOICE
        or invoice.number is None
        or invoice.due_date is None
        or invoice.status not in (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
        or invoice.open_ore <= 0
        or disputed
    ):
        return None
    if earlier is None:
        earlier = reminders_for(session, invoice)
    if len(earlier) >= MAX_REMINDERS or any(not r.delivered for r in earlier):
        return None  # three already, or the last has not gone out yet
    org = org or settings_service.get(session)
    level = len(earlier) + 1
    if earlier:
        allowed_on = earlier[-1].delivered_on + timedelta(days=MIN_DAYS_BETWEEN)
        interest_from = earlier[-1].interest_to
    else:
        allowed_on = invoice.due_date + timedelta(days=1)  # once the due date has passed
        interest_from = invoice.due_date
    interest_to = max(today, interest_from)
    days = day_count(interest_from, interest_to)
    principal = invoice.open_ore
    rate = org.late_interest_rate_bp
    return ReminderPlan(
        invoice=invoice,
        level=level,
        allowed_on=allowed_on,
        principal_ore=principal,
        fee_ore=max(min(org.reminder_fee_ore, LEGAL_MAX_FEE_ORE), 0),
        compensation_ore=(
            max(org.compensation_ore, 0) if org.compensation_enabled and level == 1 else 0
        ),
        interest_from=interest_from,
        interest_to=interest_to,
        interest_days=days,
        interest_rate_bp=rate,
        interest_ore=late_interest_ore(principal, rate, days),
        earlier_fees_ore=sum(r.fee_ore for r in earlier),
        earlier_interest_ore=sum(r.interest_ore for r in earlier),
        earlier_compensation_ore=sum(r.compensation_ore for r in earlier),
    )


class Stage(enum.Enum):
    """Where an overdue invoice stands with its reminders today."""

    DUE = "due"  # the next reminder may go out today
    WAITING = "waiting"  # the next one must wait for its ten days
    DISPUTED = "disputed"  # no reminders while finance has marked the claim disputed


def overdue(today: date, stage: Stage | None = None) -> Select:
    """Open, overdue invoices (in the stage, when given), oldest due date first: one query
    that decides in the database what plan_next decides per invoice, so a page of them costs
    the same whatever the number of invoices."""
    sent = (
        select(
            Reminder.invoice_id,
            func.count().label("count"),
            func.count(Reminder.delivered_on).label("delivered"),
            func.max(Reminder.delivered_on).label("last"),
        )
        .group_by(Reminder.invoice_id)
        .subquery()
    )
    stmt = (
        select(Invoice)
        .outerjoin(InvoiceFlags, InvoiceFlags.invoice_id == Invoice.id)
        .outerjoin(sent, sent.c.invoice_id == Invoice.id)
        .where(
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.number.is_not(None),
            Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID]),
            Invoice.due_date < today,
            Invoice.total_ore - Invoice.paid_ore - Invoice.credited_ore > 0,
        )
        .order_by(Invoice.due_date, Invoice.id)
    )
    disputed = InvoiceFlags.disputed_at.is_not(None)  # NULL too when there is no flags row
    # A reminder not delivered yet holds the next back (it shows as waiting).
    may_send = or_(
        sent.c.count.is_(None),
        (sent.c.count < MAX_REMINDERS) & (sent.c.delivered == sent.c.count),
    )
    undelivered = sent.c.delivered < sent.c.count
    rested = or_(sent.c.last.is_(None), sent.c.last <= today - timedelta(days=MIN_DAYS_BETWEEN))
    if stage == Stage.DISPUTED:
        stmt = stmt.where(disputed)
    elif stage == Stage.DUE:
        stmt = stmt.where(~disputed, may_send, rested)
    elif stage == Stage.WAITING:
        stmt = stmt.where(~disputed, or_(may_send & ~rested, undelivered))
    return stmt


def plans(session: Session, invoices: list[Invoice], today: date) -> list[ReminderPlan]:
    """The next reminder of each invoice, in three queries for any number of invoices."""
    ids = [invoice.id for invoice in invoices]
    earlier: dict[int, list[Reminder]] = {invoice_id: [] for invoice_id in ids}
    for reminder in session.scalars(
        select(Reminder).where(Reminder.invoice_id.in_(ids)).order_by(Reminder.level)
    ):
        earlier[reminder.invoice_id].append(reminder)
    disputed = set(
        session.scalars(
            select(InvoiceFlags.invoice_id).where(
                InvoiceFlags.invoice_id.in_(ids), InvoiceFlags.disputed_at.is_not(None)
            )
        )
    )
    org = settings_service.get(session)
    found = (
        plan_next(
            session,
            invoice,
            today,
            org,
            earlier=earlier[invoice.id],
            disputed=invoice.id in disputed,
        )
        for invoice in invoices
    )
    return [plan for plan in found if plan is not None]


def due_plans(session: Session, today: date) -> list[ReminderPlan]:
    """Every reminder that may go out today."""
    due = plans(session, list(session.scalars(overdue(today, Stage.DUE))), today)
    return [plan for plan in due if plan.due(today)]


def reminder_pdf(plan: ReminderPlan, sent_on: date, pay_url: str | None) -> bytes:
    invoice = plan.invoice
    seller = invoice.seller_party
    return engine().render(
        "pdf/reminder.html",
        locale="da",
        plan=plan,
        invoice=invoice,
        seller=seller,
        buyer=invoice.buyer_party,
        sent_on=sent_on,
        # A date to pay by, not "as soon as possible": the next reminder may follow after it.
        deadline=sent_on + timedelta(days=MIN_DAYS_BETWEEN),
        fi_line=numbering.fi_line(invoice.payment_id or "", seller.fi_creditor_number),
        rate=format_percent(plan.interest_rate_bp),
        pay_url=pay_url,
    )


def send_reminder(
    session: Session, invoice_id: int, today: date, by: User | None = None
) -> Reminder | None:
    """Send the invoice's next reminder if it is due today; None otherwise (the caller
    commits; the e-mail leaves with the commit)."""
    invoice = session.get(Invoice, invoice_id, with_for_update=True)
    if invoice is None:
        return None
    session.refresh(invoice)  # another process may have recorded a payment meanwhile
    plan = plan_next(session, invoice, today)
    if plan is None or not plan.due(today):
        return None
    address = invoice.employer.invoice_email or invoice.buyer_party.email
    reminder = Reminder(
        invoice_id=invoice.id,
        level=plan.level,
        sent_on=today,
        principal_ore=plan.principal_ore,
        fee_ore=plan.fee_ore,
        compensation_ore=plan.compensation_ore,
        interest_from=plan.interest_from,
        interest_to=plan.interest_to,
        interest_days=plan.interest_days,
        interest_rate_bp=plan.interest_rate_bp,
        interest_ore=plan.interest_ore,
        total_due_ore=plan.total_due_ore,
        email_to=address,
        created_by_id=by.id if by is not None and by.is_authenticated else None,
    )
    session.add(reminder)
    session.flush()
    audit.record(
        session,
        by,
        "invoice.reminded",
        invoice,
        number=invoice.display_number,
        level=plan.level,
        fee_ore=plan.fee_ore,
        interest_ore=plan.interest_ore,
        compensation_ore=plan.compensation_ore,
        total_due_ore=plan.total_due_ore,
    )
    # Its e-mail, committed with it: until that is delivered the reminder does not count.
    outbox.add(
        session, "reminder", address, dedupe_key=f"reminder:{reminder.id}", reminder_id=reminder.id
    )
    return reminder


def plan_of(session: Session, reminder: Reminder) -> ReminderPlan:
    """The plan a recorded reminder was made from (its amounts as stored, the earlier
    reminders' charges), to render its PDF when it goes out."""
    invoice = reminder.invoice
    earlier = [r for r in reminders_for(session, invoice) if r.level < reminder.level]
    return ReminderPlan(
        invoice=invoice,
        level=reminder.level,
        allowed_on=reminder.sent_on,
        principal_ore=reminder.principal_ore,
        fee_ore=reminder.fee_ore,
        compensation_ore=reminder.compensation_ore,
        interest_from=reminder.interest_from,
        interest_to=reminder.interest_to,
        interest_days=reminder.interest_days,
        interest_rate_bp=reminder.interest_rate_bp,
        interest_ore=reminder.interest_ore,
        earlier_fees_ore=sum(r.fee_ore for r in earlier),
        earlier_interest_ore=sum(r.interest_ore for r in earlier),
        earlier_compensation_ore=sum(r.compensation_ore for r in earlier),
    )


def _compose(session: Session, row: OutboxMessage) -> outbox.Envelope:
    """The reminder's e-mail: its PDF as it goes out today (or as it went, sent again)."""
    reminder = session.get(Reminder, row.reminder_id)
    invoice = reminder.invoice
    on = reminder.delivered_on or dates.today()
    link = payments.pay_url(invoice)
    pdf = reminder.pdf or reminder_pdf(plan_of(session, reminder), on, link)
    with force_locale("da"):
        subject, text = mail.compose(
            "invoice_reminder",
            invoice=invoice,
            reminder=reminder,
            pay_link=link,
        )
    name = f"rykker-{reminder.level}-{invoice.display_number}.pdf"
    return outbox.Envelope(
        row.recipient, subject, text, [mail.Attachment(name, pdf)], facts={"pdf": pdf, "on": on}
    )


def _delivered(session: Session, row: OutboxMessage, envelope: outbox.Envelope) -> None:
    """From now the reminder counts: the day it went out, and its PDF as it went."""
    reminder = session.get(Reminder, row.reminder_id)
    if reminder.delivered:
        return  # sent again: it counted from the first delivery
    reminder.delivered_at, reminder.delivered_on = dates.now(), envelope.facts["on"]
    issuer.REMINDER_PDF.store(reminder, envelope.facts["pdf"])


outbox.register(outbox.Kind("reminder", compose=_compose, delivered=_delivered))


def send_due_reminders(
    factory: sessionmaker, today: date | None = None, by_id: int | None = None
) -> list[int]:
    """Send every reminder due today, one invoice per transaction; returns the reminder ids.

    Cron-able: run it twice the same day and the second run sends nothing."""
    today = today or dates.today()
    with factory() as session:
        invoice_ids = list(session.scalars(overdue(today, Stage.DUE).with_only_columns(Invoice.id)))
    sent = []
    for invoice_id in invoice_ids:
        try:
            with factory.begin() as session:
                by = session.get(User, by_id) if by_id else None
                reminder = send_reminder(session, invoice_id, today, by)
                if reminder is not None:
                    sent.append(reminder.id)
        except Exception:  # one invoice's failure must not stop the others
            log.exception("reminder for invoice %s failed", invoice_id)
    return sent
