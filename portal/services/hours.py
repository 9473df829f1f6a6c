"""Hours: recording shifts, the two-party sign-off, disputes, auto-approval and reminders.

One record per shift, signed on two sides: the worker's (worker_confirmed_*) and the
employer's (employer_approved_*). Whoever records a shift signs their own side; a consultant
recording signs neither. The sign-off rules live in one table, RULES, below.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core import audit, mail
from core import settings as settings_service
from core.db import lock
from core.errors import Conflict, Invalid, NotAllowed, NotFound
from core.models import (
    EntryChangeKind,
    HoursReminder,
    Placement,
    PlacementStatus,
    Role,
    TimeEntry,
    TimeEntryChange,
    User,
    Worker,
    utcnow,
)
from core.money import pay_ore
from core.shifts import ONE_SIDE_SIGNED, EntryState, state_of

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
MIN_SHIFT_MINUTES = 15
MAX_SHIFT_MINUTES = 12 * 60
MAX_NOTE_LENGTH = 500
MAX_REASON_LENGTH = 1000


class Party(enum.StrEnum):
    """How a user stands to one entry's placement."""

    WORKER = "worker"
    EMPLOYER = "employer"
    CONSULTANT = "consultant"


class Action(enum.StrEnum):
    EDIT = "edit"
    CONFIRM = "confirm"  # the worker signs
    APPROVE = "approve"  # the employer signs
    DISPUTE = "dispute"
    CORRECT = "correct"  # consultant: change a disputed entry
    RESOLVE = "resolve"  # consultant: close a dispute, entry unchanged


_S, _P, _A = EntryState, Party, Action

# The sign-off state machine: (party, state) -> what that party may do. Anything missing is
# refused. Approved, disputed and invoiced entries are closed to the two parties: a mistake
# found after both signed goes through the consultant (or a credit note once invoiced).
RULES: dict[tuple[Party, EntryState], frozenset[Action]] = {
    (_P.WORKER, _S.WAITING_FOR_EMPLOYER): frozenset({_A.EDIT}),
    (_P.WORKER, _S.WAITING_FOR_WORKER): frozenset({_A.CONFIRM, _A.DISPUTE, _A.EDIT}),
    (_P.WORKER, _S.WAITING_FOR_BOTH): frozenset({_A.CONFIRM, _A.DISPUTE, _A.EDIT}),
    (_P.EMPLOYER, _S.WAITING_FOR_EMPLOYER): frozenset({_A.APPROVE, _A.DISPUTE, _A.EDIT}),
    (_P.EMPLOYER, _S.WAITING_FOR_WORKER): frozenset({_A.EDIT}),
    (_P.EMPLOYER, _S.WAITING_FOR_BOTH): frozenset({_A.APPROVE, _A.DISPUTE, _A.EDIT}),
    (_P.CONSULTANT, _S.DISPUTED): frozenset({_A.CORRECT, _A.RESOLVE}),
}


def party_of(user: User, placement: Placement) -> Party | None:
    """The user's side on this placement, or None when it is not theirs."""
    if user.role == Role.WORKER:
        worker = placement.worker
        return Party.WORKER if worker is not None and worker.user_id == user.id else None
    if user.role == Role.EMPLOYER:
        return Party.EMPLOYER if user.employer_id == placement.employer_id else None
    if user.role == Role.CONSULTANT:
        return Party.CONSULTANT
    return None


def allowed_actions(entry: TimeEntry, user: User) -> frozenset[Action]:
    party = party_of(user, entry.placement)
    if party is None:
        return frozenset()
    return RULES.get((party, state_of(entry)), frozenset())


def _authorize(session: Session, entry: TimeEntry, user: User, action: Action) -> Party:
    """Lock the entry and check that the user may do this to it in its current state.

    The lock (PostgreSQL; SQLite's POST transactions hold the write lock) makes a second
    request, or the invoice run, wait and then see this one's result: a shift is approved,
    disputed or invoiced once, never by two requests that both read its old state."""
    lock(session, entry)
    party = party_of(user, entry.placement)
    if party is None:
        if user.is_staff:
            raise NotAllowed(_("Only the worker, the employer or a consultant can do that."))
        raise NotFound()
    if entry.invoice_line_id is not None:
        raise Conflict(_("These hours have been invoiced and can no longer change."))
    if action in RULES.get((party, state_of(entry)), frozenset()):
        return party
    if any(action in actions for (p, _state), actions in RULES.items() if p == party):
        raise Conflict(_("That is not possible for this shift in its current state."))
    raise NotAllowed(_("You cannot do that to a shift."))


# --- Dates, shifts and arithmetic ------------------------------------------------------------


def business_today(now: datetime | None = None) -> date:
    """Today in Copenhagen, where the shifts happen."""
    return (now or utcnow()).astimezone(COPENHAGEN).date()


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(text: str | None, today: date) -> date:
    """'2026-W47' -> that ISO week's Monday; anything unreadable -> this week."""
    if text:
        try:
            year, week = text.upper().split("-W")
            # Years near date's limits would overflow the previous/next week links.
            if 2000 <= int(year) <= 2999:
                return date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            pass
    return week_start(today)


def week_label(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Shift:
    """What a person types: date, start, end, break and an optional note."""

    work_date: date
    start_time: time
    end_time: time
    break_minutes: int = 0
    note: str = ""

    def interval(self) -> tuple[datetime, datetime]:
        """Wall-clock start and end; an end before the start is on the next day."""
        return interval_of(self.work_date, self.start_time, self.end_time)

    @property
    def duration_minutes(self) -> int:
        start, end = self.interval()
        return int((end - start).total_seconds()) // 60


def interval_of(work_date: date, start: time, end: time) -> tuple[datetime, datetime]:
    begin = datetime.combine(work_date, start.replace(second=0, microsecond=0))
    finish = datetime.combine(work_date, end.replace(second=0, microsecond=0))
    if finish <= begin:
        finish += timedelta(days=1)
    return begin, finish


def shift_of(entry: TimeEntry) -> Shift:
    return Shift(entry.work_date, entry.start_time, entry.end_time, entry.break_minutes, entry.note)


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _ddmmyyyy(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def validate_shift(
    session: Session,
    placement: Placement,
    shift: Shift,
    *,
    exclude_entry_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Check every rule for a shift and return its worked minutes; raise Invalid otherwise."""
    start = shift.start_time.replace(second=0, microsecond=0)
    end = shift.end_time.replace(second=0, microsecond=0)
    if start == end:
        raise Invalid(_("The shift must end at a different time than it starts."))
    duration = shift.duration_minutes
    if duration < MIN_SHIFT_MINUTES:
        raise Invalid(_("A shift must last at least 15 minutes."))
    if duration > MAX_SHIFT_MINUTES:
        raise Invalid(_("A shift can last at most 12 hours."))
    if shift.break_minutes < 0:
        raise Invalid(_("The break cannot be negative."))
    if shift.break_minutes >= duration:
        raise Invalid(_("The break must be shorter than the shift."))
    if len(shift.note) > MAX_NOTE_LENGTH:
        raise Invalid(_("The note can be at most 500 characters."))
    if shift.work_date > business_today(now) + timedelta(days=1):
        raise Invalid(_("Hours can be recorded at most one day ahead."))
    if shift.work_date < placement.start_date:
        raise Invalid(
            _(
                "The job starts on %(date)s; hours before that cannot be recorded.",
                date=_ddmmyyyy(placement.start_date),
            )
        )
    if placement.end_date is not None and shift.work_date > placement.end_date:
        raise Invalid(
            _(
                "The job ended on %(date)s; hours after that cannot be recorded.",
                date=_ddmmyyyy(placement.end_date),
            )
        )
    begin, finish = shift.interval()
    # Across all the worker's placements: nobody works two shifts at once. A shift that
    # started the day before can reach into this one, hence the one-day margin either side.
    others = session.scalars(
        select(TimeEntry)
        .join(Placement)
        .where(
            Placement.worker_id == placement.worker_id,
            TimeEntry.work_date.between(
                shift.work_date - timedelta(days=1), shift.work_date + timedelta(days=1)
            ),
            TimeEntry.id != (exclude_entry_id or 0),
        )
    )
    for other in others:
        other_begin, other_finish = interval_of(other.work_date, other.start_time, other.end_time)
        if begin < other_finish and other_begin < finish:
            raise Invalid(
                _(
                    "This shift overlaps another shift on %(date)s from %(start)s to %(end)s.",
                    date=_ddmmyyyy(other.work_date),
                    start=_hhmm(other.start_time),
                    end=_hhmm(other.end_time),
                )
            )
    return duration - shift.break_minutes


OVERLAP_CONSTRAINT = "ck_time_entries_no_overlap"


def _flush_shift(session: Session) -> None:
    """Write the shift. On PostgreSQL an exclusion constraint refuses a shift that overlaps
    one another request stored after validate_shift looked (the worker and the employer
    recording at the same moment): that is the same mistake, so it gets the same message."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        if OVERLAP_CONSTRAINT not in str(error.orig):
            raise
        raise Invalid(
            _("This shift overlaps another shift of the same worker that was just recorded.")
        ) from error


def _snapshot(entry: TimeEntry) -> dict:
    return {
        "work_date": entry.work_date.isoformat(),
        "start_time": _hhmm(entry.start_time),
        "end_time": _hhmm(entry.end_time),
        "break_minutes": entry.break_minutes,
        "minutes": entry.minutes,
        "note": entry.note,
    }


def _apply(entry: TimeEntry, shift: Shift, minutes: int) -> None:
    entry.work_date = shift.work_date
    entry.start_time = shift.start_time.replace(second=0, microsecond=0)
    entry.end_time = shift.end_time.replace(second=0, microsecond=0)
    entry.break_minutes = shift.break_minutes
    entry.minutes = minutes
    entry.note = shift.note.strip()


def _sign(entry: TimeEntry, party: Party, by: User | None, now: datetime) -> None:
    if party == Party.WORKER:
        entry.worker_confirmed_at, entry.worker_confirmed_by_id = now, by.id if by else None
    elif party == Party.EMPLOYER:
        entry.employer_approved_at, entry.employer_approved_by_id = now, by.id if by else None


def _unsign(entry: TimeEntry, party: Party) -> None:
    if party == Party.WORKER:
        entry.worker_confirmed_at, entry.worker_confirmed_by_id = None, None
    else:
        entry.employer_approved_at, entry.employer_approved_by_id = None, None
    entry.auto_approved = False


def _clear_dispute(entry: TimeEntry) -> None:
    entry.disputed_at, entry.disputed_by_id, entry.dispute_reason = None, None, ""


# --- Recording and the sign-off --------------------------------------------------------------


def record_shift(
    session: Session, by: User, placement: Placement, shift: Shift, *, now: datetime | None = None
) -> TimeEntry:
    """Record a shift on an active placement; the recorder's own side is signed."""
    party = party_of(by, placement)
    if party is None:
        raise NotFound()
    if placement.status != PlacementStatus.ACTIVE:
        raise Invalid(_("Hours can only be recorded on an active job."))
    now = now or utcnow()
    shift = Shift(
        shift.work_date, shift.start_time, shift.end_time, shift.break_minutes, shift.note.strip()
    )
    minutes = validate_shift(session, placement, shift, now=now)
    entry = TimeEntry(
        placement=placement, worker_id=placement.worker_id, entered_by_id=by.id, minutes=minutes
    )
    _apply(entry, shift, minutes)
    _sign(entry, party, by, now)
    session.add(entry)
    _flush_shift(session)
    audit.record(session, by, "time_entry.recorded", entry, **_snapshot(entry))
    return entry


def edit_entry(
    session: Session, by: User, entry: TimeEntry, shift: Shift, *, now: datetime | None = None
) -> None:
    """Change a shift: the editor's side is signed, the other side must confirm again."""
    party = _authorize(session, entry, by, Action.EDIT)
    now = now or utcnow()
    shift = Shift(
        shift.work_date, shift.start_time, shift.end_time, shift.break_minutes, shift.note.strip()
    )
    minutes = validate_shift(session, entry.placement, shift, exclude_entry_id=entry.id, now=now)
    before = _snapshot(entry)
    _apply(entry, shift, minutes)
    after = _snapshot(entry)
    if before == after:
        raise Invalid(_("Nothing was changed."))
    _flush_shift(session)
    _sign(entry, party, by, now)
    _unsign(entry, Party.EMPLOYER if party == Party.WORKER else Party.WORKER)
    session.add(
        TimeEntryChange(
            time_entry_id=entry.id,
            kind=EntryChangeKind.EDITED,
            changed_by_id=by.id,
            before=before,
            after=after,
        )
    )
    audit.record(session, by, "time_entry.edited", entry, before=before, after=after)


def confirm_entry(session: Session, by: User, entry: TimeEntry, *, now=None) -> None:
    """The worker signs an entry the employer (or a consultant) recorded."""
    _authorize(session, entry, by, Action.CONFIRM)
    _sign(entry, Party.WORKER, by, now or utcnow())
    audit.record(session, by, "time_entry.confirmed", entry)


def approve_entry(session: Session, by: User, entry: TimeEntry, *, now=None) -> None:
    """The employer signs an entry the worker (or a consultant) recorded."""
    _authorize(session, entry, by, Action.APPROVE)
    _sign(entry, Party.EMPLOYER, by, now or utcnow())
    audit.record(session, by, "time_entry.approved", entry)


def dispute_entry(session: Session, by: User, entry: TimeEntry, reason: str, *, now=None) -> None:
    """Refuse to sign, with a reason; the placement's consultant takes it from here."""
    _authorize(session, entry, by, Action.DISPUTE)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Tell the consultant what is wrong with the shift."))
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(_("The reason can be at most 1000 characters."))
    entry.disputed_at, entry.disputed_by_id, entry.dispute_reason = now or utcnow(), by.id, reason
    session.add(
        TimeEntryChange(
            time_entry_id=entry.id,
            kind=EntryChangeKind.DISPUTED,
            changed_by_id=by.id,
            before=_snapshot(entry),
            note=reason,
        )
    )
    audit.record(session, by, "time_entry.disputed", entry, reason=reason)
    consultant = entry.placement.consultant
    if consultant is not None and consultant.active:
        _notify(
            session,
            [consultant],
            lambda: (
                _("Disputed hours: %(worker)s", worker=entry.placement.worker.display_name),
                _(
                    "Hello %(name)s,\n\n%(who)s disputed the shift on %(date)s (%(start)s–"
                    "%(end)s) for %(worker)s at %(employer)s:\n\n%(reason)s\n\n"
                    "Correct it or resolve the dispute here:\n%(link)s\n",
                    name=consultant.full_name or consultant.email,
                    who=by.full_name or by.email,
                    date=_ddmmyyyy(entry.work_date),
                    start=_hhmm(entry.start_time),
                    end=_hhmm(entry.end_time),
                    worker=entry.placement.worker.display_name,
                    employer=entry.placement.employer.name,
                    reason=reason,
                    link=_link("hours.entry", entry_id=entry.id),
                ),
            ),
        )


def correct_entry(
    session: Session, by: User, entry: TimeEntry, shift: Shift, note: str, *, now=None
) -> None:
    """The consultant changes a disputed entry; both sides must confirm it again."""
    _authorize(session, entry, by, Action.CORRECT)
    now = now or utcnow()
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Explain the correction to both sides."))
    shift = Shift(
        shift.work_date, shift.start_time, shift.end_time, shift.break_minutes, shift.note.strip()
    )
    minutes = validate_shift(session, entry.placement, shift, exclude_entry_id=entry.id, now=now)
    before = _snapshot(entry)
    _apply(entry, shift, minutes)
    after = _snapshot(entry)
    _flush_shift(session)
    _unsign(entry, Party.WORKER)
    _unsign(entry, Party.EMPLOYER)
    _clear_dispute(entry)
    entry.resolved_at = now
    session.add(
        TimeEntryChange(
            time_entry_id=entry.id,
            kind=EntryChangeKind.CORRECTED,
            changed_by_id=by.id,
            before=before,
            after=after,
            note=note,
        )
    )
    audit.record(session, by, "time_entry.corrected", entry, before=before, after=after, note=note)
    _notify_parties(session, entry, by, note, corrected=True)


def resolve_dispute(session: Session, by: User, entry: TimeEntry, note: str, *, now=None) -> None:
    """The consultant closes a dispute and leaves the entry as it is, with a note."""
    _authorize(session, entry, by, Action.RESOLVE)
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Write a note to both sides about the decision."))
    _clear_dispute(entry)
    # The side that disputed has not signed; its auto-approval clock starts again now.
    entry.resolved_at = now or utcnow()
    session.add(
        TimeEntryChange(
            time_entry_id=entry.id,
            kind=EntryChangeKind.RESOLVED,
            changed_by_id=by.id,
            before=_snapshot(entry),
            note=note,
        )
    )
    audit.record(session, by, "time_entry.resolved", entry, note=note)
    _notify_parties(session, entry, by, note, corrected=False)


def _notify_parties(
    session: Session, entry: TimeEntry, by: User, note: str, *, corrected: bool
) -> None:
    placement = entry.placement
    recipients = _employer_users(session, placement.employer_id)
    if placement.worker.user is not None and placement.worker.user.active:
        recipients.append(placement.worker.user)
    link = _link("hours.entry", entry_id=entry.id)

    def text():
        subject = _("Hours for %(date)s: the dispute is closed", date=_ddmmyyyy(entry.work_date))
        if corrected:
            what = _(
                "The consultant corrected the shift to %(start)s–%(end)s, break %(pause)d "
                "minutes. Please look at it and confirm it again.",
                start=_hhmm(entry.start_time),
                end=_hhmm(entry.end_time),
                pause=entry.break_minutes,
            )
        else:
            what = _("The consultant left the shift as it was recorded.")
        return subject, _(
            "Hello,\n\nThe shift on %(date)s for %(worker)s at %(employer)s has been handled "
            "by %(consultant)s.\n\n%(what)s\n\nNote: %(note)s\n\n%(link)s\n",
            date=_ddmmyyyy(entry.work_date),
            worker=placement.worker.display_name,
            employer=placement.employer.name,
            consultant=by.full_name or by.email,
            what=what,
            note=note,
            link=link,
        )

    _notify(session, recipients, text)


def _employer_users(session: Session, employer_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User).where(
                User.employer_id == employer_id, User.role == Role.EMPLOYER, User.active
            )
        )
    )


def _notify(session: Session, users: list[User], text) -> None:
    """Queue one e-mail per user, written in the user's own language."""
    for user in users:
        with force_locale(user.locale):
            subject, body = text()
            mail.queue(session, mail.Message(user.email, subject, body))


def _link(endpoint: str, **values) -> str:
    from core.links import absolute_url

    return absolute_url(endpoint, **values)


# --- Whole weeks -----------------------------------------------------------------------------


def _sign_week(session: Session, by: User, monday: date, action: Action) -> int:
    signed = 0
    for entry in scoped_entries(session, by, monday, monday + timedelta(days=6), lock=True):
        if action in allowed_actions(entry, by):
            (confirm_entry if action == Action.CONFIRM else approve_entry)(session, by, entry)
            signed += 1
    return signed


def approve_week(session: Session, by: User, monday: date) -> int:
    """The employer approves every entry of the week that waits for it; returns how many."""
    if by.role != Role.EMPLOYER:
        raise NotAllowed(_("Only the employer approves hours."))
    return _sign_week(session, by, monday, Action.APPROVE)


def confirm_week(session: Session, by: User, monday: date) -> int:
    """The worker confirms every entry of the week that waits for them; returns how many."""
    if by.role != Role.WORKER:
        raise NotAllowed(_("Only the worker confirms hours."))
    return _sign_week(session, by, monday, Action.CONFIRM)


# --- Auto-approval and reminders ---------------------------------------------------------------


def auto_approve(session: Session, now: datetime | None = None) -> int:
    """Sign the missing side of entries left unanswered for N days; safe to run any time."""
    now = now or utcnow()
    days = settings_service.get(session).auto_approve_days
    candidates = session.scalars(
        select(TimeEntry).where(
            TimeEntry.invoice_line_id.is_(None),
            TimeEntry.disputed_at.is_(None),
            ONE_SIDE_SIGNED,
        )
    )
    approved = 0
    for entry in candidates:
        signed_at = entry.worker_confirmed_at or entry.employer_approved_at
        clock = max(signed_at, entry.resolved_at) if entry.resolved_at else signed_at
        if clock + timedelta(days=days) > now:
            continue
        missing = Party.EMPLOYER if entry.employer_approved_at is None else Party.WORKER
        _sign(entry, missing, None, now)
        entry.auto_approved = True
        audit.record(session, None, "time_entry.auto_approved", entry, side=missing.value)
        approved += 1
    return approved


def waiting_by_user(session: Session) -> dict[int, tuple[User, int]]:
    """Each user with entries waiting for their signature, and how many."""
    entries = session.scalars(
        select(TimeEntry)
        .where(
            TimeEntry.invoice_line_id.is_(None),
            TimeEntry.disputed_at.is_(None),
            or_(TimeEntry.worker_confirmed_at.is_(None), TimeEntry.employer_approved_at.is_(None)),
        )
        .options(selectinload(TimeEntry.placement).selectinload(Placement.worker))
    )
    waiting: dict[int, list] = {}
    employer_users: dict[int, list[User]] = {}
    for entry in entries:
        placement = entry.placement
        users: list[User] = []
        if entry.worker_confirmed_at is None and placement.worker.user is not None:
            users.append(placement.worker.user)
        if entry.employer_approved_at is None:
            if placement.employer_id not in employer_users:
                employer_users[placement.employer_id] = _employer_users(
                    session, placement.employer_id
                )
            users.extend(employer_users[placement.employer_id])
        for user in users:
            if user.active:
                waiting.setdefault(user.id, [user, 0])[1] += 1
    return {uid: (user, n) for uid, (user, n) in waiting.items()}


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """E-mail everyone with entries waiting for them, at most once per Copenhagen day."""
    now = now or utcnow()
    today = business_today(now)
    sent = 0
    for user_id, (user, count) in sorted(waiting_by_user(session).items()):
        last = session.get(HoursReminder, user_id)
        if last is not None and business_today(last.last_sent_at) == today:
            continue
        link = _link("hours.week")
        with force_locale(user.locale):
            subject = _("Hours are waiting for you")
            if user.role == Role.WORKER:
                what = _("%(n)d shift(s) are waiting for your confirmation.", n=count)
            else:
                what = _("%(n)d shift(s) are waiting for your approval.", n=count)
            body = _(
                "Hello %(name)s,\n\n%(what)s\n\nUnanswered hours are approved automatically "
                "after a few days. See them here:\n%(link)s\n",
                name=user.full_name or user.email,
                what=what,
                link=link,
            )
            mail.queue(session, mail.Message(user.email, subject, body))
        if last is None:
            session.add(HoursReminder(user_id=user_id, last_sent_at=now))
        else:
            last.last_sent_at = now
        audit.record(session, None, "hours.reminder_sent", user, waiting=count)
        sent += 1
    return sent


# --- Reading: what each user may see ----------------------------------------------------------


def worker_of(session: Session, user: User) -> Worker | None:
    return session.scalar(select(Worker).where(Worker.user_id == user.id))


def _placement_scope(session: Session, user: User):
    """A WHERE clause for the placements this user may see; None when all."""
    if user.role == Role.EMPLOYER:
        return Placement.employer_id == user.employer_id
    if user.role == Role.WORKER:
        worker = worker_of(session, user)
        return Placement.worker_id == (worker.id if worker else -1)
    return None


def placements_for(session: Session, user: User, *, active_only: bool = False) -> list[Placement]:
    stmt = select(Placement).order_by(Placement.start_date, Placement.id)
    scope = _placement_scope(session, user)
    if scope is not None:
        stmt = stmt.where(scope)
    if active_only:
        stmt = stmt.where(Placement.status == PlacementStatus.ACTIVE)
    else:
        stmt = stmt.where(Placement.status.in_((PlacementStatus.ACTIVE, PlacementStatus.ENDED)))
    return list(session.scalars(stmt))


def get_placement_for(session: Session, user: User, placement_id: int) -> Placement:
    """The placement if the user may see it; NotFound for foreign or unknown ids."""
    stmt = select(Placement).where(Placement.id == placement_id)
    scope = _placement_scope(session, user)
    if scope is not None:
        stmt = stmt.where(scope)
    placement = session.scalar(stmt)
    if placement is None:
        raise NotFound()
    return placement


def get_entry_for(session: Session, user: User, entry_id: int) -> TimeEntry:
    """The entry if the user may see it; NotFound for foreign or unknown ids."""
    stmt = select(TimeEntry).join(Placement).where(TimeEntry.id == entry_id)
    scope = _placement_scope(session, user)
    if scope is not None:
        stmt = stmt.where(scope)
    entry = session.scalar(stmt)
    if entry is None:
        raise NotFound()
    return entry


def scoped_entries(
    session: Session, user: User, start: date, end: date, *, lock: bool = False
) -> list[TimeEntry]:
    """The user's entries in the period; with `lock`, locked and read afresh for a change."""
    stmt = (
        select(TimeEntry)
        .join(Placement)
        .where(TimeEntry.work_date.between(start, end))
        .order_by(TimeEntry.work_date, TimeEntry.start_time, TimeEntry.id)
    )
    scope = _placement_scope(session, user)
    if scope is not None:
        stmt = stmt.where(scope)
    if lock:
        stmt = stmt.with_for_update(of=TimeEntry).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


@dataclass
class PlacementWeek:
    placement: Placement
    entries: list[TimeEntry] = field(default_factory=list)
    minutes: int = 0
    approved_minutes: int = 0
    pending: int = 0  # entries this user can sign now


@dataclass
class WeekView:
    monday: date
    placements: list[PlacementWeek]

    @property
    def week_number(self) -> int:
        return self.monday.isocalendar()[1]

    @property
    def label(self) -> str:
        return week_label(self.monday)

    @property
    def minutes(self) -> int:
        return sum(p.minutes for p in self.placements)

    @property
    def approved_minutes(self) -> int:
        return sum(p.approved_minutes for p in self.placements)

    @property
    def pending(self) -> int:
        return sum(p.pending for p in self.placements)


def week_view(session: Session, user: User, monday: date) -> WeekView:
    """The user's week, one block per placement with totals."""
    sign = Action.CONFIRM if user.role == Role.WORKER else Action.APPROVE
    groups: dict[int, PlacementWeek] = {}
    for entry in scoped_entries(session, user, monday, monday + timedelta(days=6)):
        group = groups.setdefault(entry.placement_id, PlacementWeek(entry.placement))
        group.entries.append(entry)
        group.minutes += entry.minutes
        if entry.approved:
            group.approved_minutes += entry.minutes
        if sign in allowed_actions(entry, user):
            group.pending += 1
    return WeekView(monday, sorted(groups.values(), key=lambda g: g.placement.id))


def disputed_entries(session: Session, consultant: User, *, everyone: bool = False):
    """Disputed entries on the consultant's placements (and on placements with none)."""
    stmt = (
        select(TimeEntry)
        .join(Placement)
        .where(TimeEntry.disputed_at.is_not(None), TimeEntry.invoice_line_id.is_(None))
        .order_by(TimeEntry.disputed_at)
    )
    if not everyone:
        stmt = stmt.where(
            or_(Placement.consultant_id == consultant.id, Placement.consultant_id.is_(None))
        )
    return list(session.scalars(stmt))


@dataclass
class PeriodTotal:
    key: str  # "2026-11" or "2026-W47"
    start: date
    minutes: int = 0
    approved_minutes: int = 0
    pay_ore: int = 0  # approved minutes × pay rate, rounded once per placement


def worker_totals(
    session: Session, worker: Worker, start: date, end: date
) -> tuple[list[PeriodTotal], list[PeriodTotal]]:
    """The worker's hours per month and per ISO week in [start, end], with the pay basis."""
    entries = session.scalars(
        select(TimeEntry)
        .join(Placement)
        .where(Placement.worker_id == worker.id, TimeEntry.work_date.between(start, end))
        .order_by(TimeEntry.work_date)
    ).all()

    def group(key_of, start_of) -> list[PeriodTotal]:
        totals: dict[str, PeriodTotal] = {}
        approved: dict[str, dict[Placement, int]] = defaultdict(lambda: defaultdict(int))
        for entry in entries:
            key = key_of(entry.work_date)
            total = totals.setdefault(key, PeriodTotal(key, start_of(entry.work_date)))
            total.minutes += entry.minutes
            if entry.approved:
                total.approved_minutes += entry.minutes
                approved[key][entry.placement] += entry.minutes
        for key, per_placement in approved.items():
            totals[key].pay_ore = sum(
                pay_ore(minutes, placement.pay_rate_ore)
                for placement, minutes in per_placement.items()
            )
        return sorted(totals.values(), key=lambda t: t.start, reverse=True)

    months = group(lambda d: f"{d.year}-{d.month:02d}", lambda d: d.replace(day=1))
    weeks = group(lambda d: week_label(week_start(d)), week_start)
    return months, weeks
