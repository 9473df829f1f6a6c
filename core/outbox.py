"""Nothing that leaves is lost: one durable outbox for every e-mail, e-invoice and webhook.

A message is an `OutboxMessage` row written in the same transaction as the fact it reports
(the issued invoice, the reminder, the new order): a rollback takes both, a commit keeps both.
After the commit a sender is woken (in the request's wake, by Redis, by the sender's own
poll, or by cron: `flask --app wsgi outbox send-due`). The row is the truth; a missing Redis,
a killed worker or a crash between commit and wake only delays it.

Sending a row is three short steps, none holding a lock while a peer is talked to:
1. claim: one conditional UPDATE takes the due rows (state, next attempt, an expired lease)
   and gives them a lease, so two senders never send the same row at once;
2. send: compose what the row refers to (rendering a missing document first) and hand it to
   its channel; every error of every channel is caught here;
3. record: delivered (with what the channel answered), or tried again after a back-off with
   jitter (1 min, 5 min, 30 min, 2 h, 6 h, then daily), or given up after the last attempt or
   at once when the receiver refused it for good. Finance sees what is not delivered.

A sender that dies between handing over and recording leaves its lease to expire and the row
is sent again: delivery is at least once, and the stable Message-ID / idempotency id lets the
receiver tell a repeat. The kinds of message (what to attach, what to record on the fact) are
registered by the domains that own them (`register`); core knows only the channels."""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core import dates, mail
from core.db import database, retrying, writing
from core.jobs import job
from core.models import OutboxChannel, OutboxMessage, OutboxState, User

log = logging.getLogger(__name__)

# Seconds before the 1st, 2nd, ... retry; after the last, once a day.
BACKOFF_SECONDS = (60, 300, 1800, 7200, 21600)
DAILY = 86400
MAX_ATTEMPTS = 10  # about five days of trying (PORTAL_OUTBOX_MAX_ATTEMPTS)
LEASE = timedelta(minutes=5)  # longer than any one send (SMTP and HTTP time out well before)
BATCH = 50

_sending = threading.local()  # a sender does not wake itself


class NotYet(Exception):
    """What the message refers to is being made elsewhere right now (the issuing worker is
    rendering the invoice's PDFs): look again in `seconds`, without counting an attempt."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"not ready; again in {seconds:g} s")
        self.seconds = seconds


class Refused(Exception):
    """The receiving end answered no for good (a rejected e-invoice, no address): trying
    again would not help, so the row is given up at once with this reason."""


@dataclass
class Envelope:
    """What one attempt hands to the channel, composed from the row (and what it refers to)."""

    recipient: str
    subject: str = ""
    body: str = ""
    attachments: list[mail.Attachment] = field(default_factory=list)
    document: bytes = b""  # an e-invoice's XML, a webhook's body
    name: str = ""  # the document's name at the receiver (an invoice number)
    facts: dict = field(default_factory=dict)  # what the kind wants back when it is delivered


@dataclass(frozen=True)
class Kind:
    """One kind of message: how an attempt is composed, and what its outcome records on the
    fact it reports (the invoice's delivery state, the reminder's delivery day)."""

    name: str
    channel: OutboxChannel = OutboxChannel.EMAIL
    # Make what the message refers to, outside any transaction (render a missing document).
    prepare: Callable[[OutboxMessage], None] | None = None
    # Compose from the row in a reading session.
    compose: Callable[[Session, OutboxMessage], Envelope] | None = None
    # Hand it over; returns what the channel answered (a reference). Default: the channel's.
    transmit: Callable[[OutboxMessage, Envelope], str] | None = None
    # Record the outcome on the fact, in the transaction that records it on the row.
    delivered: Callable[[Session, OutboxMessage, Envelope], None] | None = None
    failed: Callable[[Session, OutboxMessage], None] | None = None


KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Make a kind of message known to every sender (its domain registers it at import)."""
    KINDS[kind.name] = kind


def kind_of(row: OutboxMessage) -> Kind:
    return KINDS.get(row.kind) or Kind(row.kind, row.channel)


# --- Writing a message: in the fact's transaction ----------------------------------------------


def add(
    session: Session,
    kind: str,
    recipient: str,
    *,
    channel: OutboxChannel = OutboxChannel.EMAIL,
    subject: str = "",
    body: str = "",
    dedupe_key: str | None = None,
    invoice_id: int | None = None,
    reminder_id: int | None = None,
) -> OutboxMessage:
    """Write the message beside its fact (the caller commits both); a fact's message that
    exists already (`dedupe_key`) is returned as it is, so writing it twice sends it once."""
    if dedupe_key is not None:
        found = session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if found is not None:
            return found
    row = OutboxMessage(
        kind=kind,
        channel=channel,
        recipient=recipient[:254],
        subject=subject[:300],
        body=body,
        message_id=f"<{uuid.uuid4()}@smajob.local>",
        dedupe_key=dedupe_key,
        invoice_id=invoice_id,
        reminder_id=reminder_id,
        state=OutboxState.QUEUED,
        next_attempt_at=dates.now(),
    )
    session.add(row)
    _wake_after_commit(session)
    return row


def resend(session: Session, row: OutboxMessage, by: User | None = None) -> None:
    """Finance's *Send again*: due now with a fresh count of attempts (a delivered message is
    sent again as a new message, with its own Message-ID)."""
    from core import audit

    if row.state == OutboxState.DELIVERED:
        add(
            session,
            row.kind,
            row.recipient,
            channel=row.channel,
            subject=row.subject,
            body=row.body,
            invoice_id=row.invoice_id,
            reminder_id=row.reminder_id,
        )
    else:
        row.state, row.attempts, row.next_attempt_at = OutboxState.QUEUED, 0, dates.now()
        row.lease_until, row.given_up_at = None, None
        _wake_after_commit(session)
    audit.record(session, by, "outbox.resent", row, kind=row.kind, to=row.recipient)


def give_up(session: Session, row: OutboxMessage, reason: str, by: User | None = None) -> None:
    """Stop trying: the row stays, given up with the reason, for finance to see."""
    from core import audit

    if row.state in (OutboxState.DELIVERED, OutboxState.GIVEN_UP):
        return
    row.state, row.given_up_at, row.lease_until = OutboxState.GIVEN_UP, dates.now(), None
    row.last_error = reason[:2000]
    failed = kind_of(row).failed
    if failed is not None:
        failed(session, row)
    audit.record(session, by, "outbox.given_up", row, kind=row.kind, reason=reason[:200])


def due_condition(now: datetime):
    """Rows a sender may take now: waiting and due, or held by a sender whose lease ran out."""
    return or_(
        and_(
            OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.RETRYING)),
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.lease_until < now),
    )


def backoff(attempts: int) -> timedelta:
    """The wait after the given number of failed attempts, with ±20 % jitter so that the
    rows one outage left behind do not all come back in the same second."""
    base = BACKOFF_SECONDS[attempts - 1] if 0 < attempts <= len(BACKOFF_SECONDS) else DAILY
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


# --- Sending: claim, send, record --------------------------------------------------------------


@dataclass
class Report:
    delivered: int = 0
    retrying: int = 0
    given_up: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.retrying + self.given_up


def claim(factory: sessionmaker, limit: int = BATCH, now: datetime | None = None) -> list[int]:
    """Take up to `limit` due rows for this sender (a lease on each); their ids, oldest first.

    The conditional UPDATE decides: a row another sender claimed a moment ago is no longer
    due, so two senders racing for it get it once (PostgreSQL re-checks the condition after
    waiting for the other's row lock; SQLite runs one writer at a time)."""
    now = now or dates.now()
    with writing(factory) as session:
        candidates = select(OutboxMessage.id).where(due_condition(now))
        candidates = candidates.order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        if session.bind.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        ids = list(session.scalars(candidates.limit(limit)))
        if not ids:
            return []
        claimed = session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), due_condition(now))
            .values(
                state=OutboxState.SENDING,
                lease_until=now + LEASE,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(claimed)


def send_one(factory: sessionmaker, row_id: int) -> OutboxState | None:
    """Compose, hand over and record one claimed row; its new state."""
    envelope, reference, error, refused = None, "", "", False
    try:
        with factory() as session:
            row = session.get(OutboxMessage, row_id)
            if row is None or row.state != OutboxState.SENDING:
                return None
            kind, attempts = kind_of(row), row.attempts
            if kind.prepare is None:
                envelope = kind.compose(session, row) if kind.compose else _stored(row)
            session.expunge(row)  # a detached copy: sending keeps no transaction open
        if kind.prepare is not None:
            kind.prepare(row)  # outside any transaction, then compose from what it made
            with factory() as session:
                fresh = session.get(OutboxMessage, row_id)
                envelope = kind.compose(session, fresh) if kind.compose else _stored(fresh)
        reference = (kind.transmit or CHANNELS[row.channel])(row, envelope)
    except NotYet as wait:
        return retrying(partial(_postpone, factory, row_id, attempts, wait.seconds))
    except Refused as refusal:
        error, refused = str(refusal) or "refused", True
    except Exception as failure:  # every channel's errors end on the row, none escapes
        error = _describe(failure)
        log.warning("outbox %s (%s) not delivered: %s", row_id, row.kind, error)
    outcome = Outcome(envelope, reference if not error else "", error, refused)
    return retrying(partial(_record, factory, row_id, kind, attempts, outcome))


def _postpone(factory: sessionmaker, row_id: int, attempts: int, seconds: float) -> OutboxState:
    """Back to waiting for a moment, the attempt not counted."""
    with writing(factory) as session:
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row.state == OutboxState.SENDING and row.attempts == attempts:
            row.attempts -= 1
            row.state = OutboxState.QUEUED if row.attempts == 0 else OutboxState.RETRYING
            row.lease_until, row.next_attempt_at = None, dates.now() + timedelta(seconds=seconds)
        return row.state


@dataclass
class Outcome:
    envelope: Envelope | None
    reference: str
    error: str
    refused: bool


def _record(
    factory: sessionmaker, row_id: int, kind: Kind, attempts: int, outcome: Outcome
) -> OutboxState:
    """Write what one attempt came to on the row (and on its fact), in one short transaction."""
    with writing(factory) as session:
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        now = dates.now()
        if not outcome.error:
            if row.state == OutboxState.DELIVERED:
                return row.state
            row.state, row.delivered_at, row.lease_until = OutboxState.DELIVERED, now, None
            row.last_error, row.reference = "", str(outcome.reference or "")[:200]
            if kind.delivered is not None:
                kind.delivered(session, row, outcome.envelope)
            return row.state
        if row.state != OutboxState.SENDING or row.attempts != attempts:
            return row.state  # another sender took it over after our lease ran out
        if outcome.refused or row.attempts >= max_attempts():
            reason = outcome.error
            if not outcome.refused:
                reason = f"{reason} (gave up after {row.attempts} attempts)"
            give_up(session, row, reason)
            return row.state
        row.state, row.lease_until = OutboxState.RETRYING, None
        row.last_error = outcome.error[:2000]
        row.next_attempt_at = now + backoff(row.attempts)
        if kind.failed is not None:
            kind.failed(session, row)
        return row.state


def send_due(
    factory: sessionmaker | None = None, limit: int = BATCH, patient: bool = False
) -> Report:
    """Send what is due now, a batch at a time, until nothing is left that is due (cron-safe:
    several senders at once share the rows). A patient sender (a process of its own) lets
    another process finish what a message refers to (`NotYet`); an impatient one (in the
    process that wrote the message, or an operator's command) makes it itself."""
    factory = factory or database().sessionmaker
    report = Report()
    _sending.active, _sending.patient = True, patient
    try:
        while ids := retrying(partial(claim, factory, limit)):
            for row_id in ids:
                state = send_one(factory, row_id)
                if state == OutboxState.DELIVERED:
                    report.delivered += 1
                elif state == OutboxState.RETRYING:
                    report.retrying += 1
                elif state == OutboxState.GIVEN_UP:
                    report.given_up += 1
    finally:
        _sending.active = _sending.patient = False
    return report


def patient() -> bool:
    """Whether this sender waits for another process to make what a message refers to."""
    return getattr(_sending, "patient", False)


@job
def send_due_job() -> int:
    """The background job a wake-up queues: send what is due; returns how many went out."""
    return send_due(patient=True).delivered


def work(factory: sessionmaker, poll_seconds: float = 5, stop: threading.Event | None = None):
    """The sender's own loop (`flask outbox work`): send what is due, then sleep until the
    next row falls due or the poll comes round. A database that goes away for a while (a
    restart) is waited for, not fatal."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            send_due(factory, patient=True)
            with factory() as session:
                upcoming = next_due_at(session)
        except Exception:
            log.exception("outbox sender: the round failed; trying again")
            upcoming = None
        wait = poll_seconds
        if upcoming is not None:
            wait = min(poll_seconds, max((upcoming - dates.now()).total_seconds(), 0.05))
        stop.wait(wait)


UNDELIVERED = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.RETRYING, OutboxState.GIVEN_UP)


def undelivered():
    """Every message not delivered, given up first, then the oldest: finance's list."""
    from sqlalchemy import case
    from sqlalchemy.orm import selectinload

    return (
        select(OutboxMessage)
        .where(OutboxMessage.state.in_(UNDELIVERED))
        .options(selectinload(OutboxMessage.invoice), selectinload(OutboxMessage.reminder))
        .order_by(
            case((OutboxMessage.state == OutboxState.GIVEN_UP, 0), else_=1),
            OutboxMessage.created_at,
            OutboxMessage.id,
        )
    )


def given_up_count(session: Session) -> int:
    """How many messages were given up and are still not delivered (finance's home says so)."""
    return (
        session.scalar(select(func.count()).where(OutboxMessage.state == OutboxState.GIVEN_UP)) or 0
    )


def next_due_at(session: Session) -> datetime | None:
    """When the next row falls due (None: nothing waits), so a sender can sleep until then."""
    return session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.state.in_((OutboxState.QUEUED, OutboxState.RETRYING))
        )
    )


def max_attempts() -> int:
    if has_app_context():
        return int(current_app.config.get("OUTBOX_MAX_ATTEMPTS") or MAX_ATTEMPTS)
    return MAX_ATTEMPTS


def _stored(row: OutboxMessage) -> Envelope:
    return Envelope(row.recipient, row.subject, row.body)


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}"[:2000] if text else type(error).__name__


# --- Channels ----------------------------------------------------------------------------------


def _email(row: OutboxMessage, envelope: Envelope) -> str:
    if not envelope.recipient:
        raise Refused("no e-mail address to send to")
    message = mail.Message(envelope.recipient, envelope.subject, envelope.body)
    message.attachments = envelope.attachments
    return mail.mailer().send(message, message_id=row.message_id)


def _unconfigured(row: OutboxMessage, _envelope: Envelope) -> str:
    raise RuntimeError(f"no sender for {row.channel} messages of kind {row.kind!r}")


CHANNELS: dict[OutboxChannel, Callable[[OutboxMessage, Envelope], str]] = {
    OutboxChannel.EMAIL: _email,
    OutboxChannel.EINVOICE: _unconfigured,  # each e-invoice kind brings its access point
    OutboxChannel.WEBHOOK: _unconfigured,
}


# --- Waking a sender ---------------------------------------------------------------------------


def _wake_after_commit(session: Session) -> None:
    session.info["outbox_wake"] = True


def _after_commit(session: Session) -> None:
    if session.info.pop("outbox_wake", False):
        wake()


def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop("outbox_wake", None)


def wake() -> None:
    """Ask a sender to look now: with Redis, a job for the RQ worker; without it (make run,
    tests), send here, after the response has gone when in a request. A wake that fails loses
    nothing: the rows wait for the sender's next poll (`flask outbox work`, or cron)."""
    if not has_app_context() or getattr(_sending, "active", False):
        return
    jobs = current_app.extensions["jobs"]
    if jobs.mode == "rq":
        jobs.try_enqueue(send_due_job)  # Redis down: the sender's poll finds the rows
        return
    if not current_app.config.get("OUTBOX_INLINE", True):
        return  # a sender process of its own (`flask outbox work`) polls for them
    if has_request_context() and g.get("outbox_deferred") is not None:
        g.outbox_deferred = True  # sent once the response is on its way (init_app)
        return
    send_due()


def init_app(app: Flask) -> None:
    app.config.setdefault("OUTBOX_MAX_ATTEMPTS", MAX_ATTEMPTS)
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)

    @app.before_request
    def _defer_sending() -> None:
        g.outbox_deferred = False  # a request being served: its messages go after it

    @app.teardown_request
    def _forget(_exc: BaseException | None) -> None:
        g.pop("outbox_deferred", None)

    @app.after_request
    def _send_after_response(response):
        if g.pop("outbox_deferred", False):
            # Not in the request: no page waits for the mail server, and no page's timing
            # tells whether an e-mail went out (whether an address has an account).
            context = app.app_context()

            def _send() -> None:
                with context:
                    send_due()

            response.call_on_close(_send)
        return response
