"""Hours: what people do to shifts. Record, change, sign, dispute, correct and resolve one;
sign a whole week; auto-approve what nobody answered. Each takes the session and never
commits; each locks the shift before it checks its state."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, dates
from core import settings as settings_service
from core.errors import Invalid, NotAllowed, NotFound
from core.models import (
    EntryChangeKind,
    Placement,
    PlacementStatus,
    Role,
    TimeEntry,
    TimeEntryChange,
    User,
)
from core.shifts import ONE_SIDE_SIGNED
from portal.services.hours import notifications
from portal.services.hours.queries import scoped_entries
from portal.services.hours.rules import (
    MAX_REASON_LENGTH,
    Action,
    Party,
    Shift,
    allowed_actions,
    authorize,
    hhmm,
    party_of,
    validate_shift,
)

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


def snapshot(entry: TimeEntry) -> dict:
    return {
        "work_date": entry.work_date.isoformat(),
        "start_time": hhmm(entry.start_time),
        "end_time": hhmm(entry.end_time),
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


def _remember(session: Session, entry: TimeEntry, by: User, kind: EntryChangeKind, **change):
    """One step of the shift's history (before/after values, a note) that both sides see."""
    session.add(TimeEntryChange(time_entry_id=entry.id, kind=kind, changed_by_id=by.id, **change))


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
    now = now or dates.now()
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
    audit.record(session, by, "time_entry.recorded", entry, **snapshot(entry))
    return entry


def edit_entry(
    session: Session, by: User, entry: TimeEntry, shift: Shift, *, now: datetime | None = None
) -> None:
    """Change a shift: the editor's side is signed, the other side must confirm again."""
    party = authorize(session, entry, by, Action.EDIT)
    now = now or dates.now()
    shift = Shift(
        shift.work_date, shift.start_time, shift.end_time, shift.break_minutes, shift.note.strip()
    )
    minutes = validate_shift(session, entry.placement, shift, exclude_entry_id=entry.id, now=now)
    before = snapshot(entry)
    _apply(entry, shift, minutes)
    after = snapshot(entry)
    if before == after:
        raise Invalid(_("Nothing was changed."))
    _flush_shift(session)
    _sign(entry, party, by, now)
    _unsign(entry, Party.EMPLOYER if party == Party.WORKER else Party.WORKER)
    _remember(session, entry, by, EntryChangeKind.EDITED, before=before, after=after)
    audit.record(session, by, "time_entry.edited", entry, before=before, after=after)


def confirm_entry(session: Session, by: User, entry: TimeEntry, *, now=None) -> None:
    """The worker signs an entry the employer (or a consultant) recorded."""
    authorize(session, entry, by, Action.CONFIRM)
    _sign(entry, Party.WORKER, by, now or dates.now())
    audit.record(session, by, "time_entry.confirmed", entry)


def approve_entry(session: Session, by: User, entry: TimeEntry, *, now=None) -> None:
    """The employer signs an entry the worker (or a consultant) recorded."""
    authorize(session, entry, by, Action.APPROVE)
    _sign(entry, Party.EMPLOYER, by, now or dates.now())
    audit.record(session, by, "time_entry.approved", entry)


def dispute_entry(session: Session, by: User, entry: TimeEntry, reason: str, *, now=None) -> None:
    """Refuse to sign, with a reason; the placement's consultant takes it from here."""
    authorize(session, entry, by, Action.DISPUTE)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Tell the consultant what is wrong with the shift."))
    if len(reason) > MAX_REASON_LENGTH:
        raise Invalid(_("The reason can be at most 1000 characters."))
    entry.disputed_at = now or dates.now()
    entry.disputed_by_id, entry.dispute_reason = by.id, reason
    _remember(session, entry, by, EntryChangeKind.DISPUTED, before=snapshot(entry), note=reason)
    audit.record(session, by, "time_entry.disputed", entry, reason=reason)
    notifications.dispute_raised(session, entry, by, reason)


def correct_entry(
    session: Session, by: User, entry: TimeEntry, shift: Shift, note: str, *, now=None
) -> None:
    """The consultant changes a disputed entry; both sides must confirm it again."""
    authorize(session, entry, by, Action.CORRECT)
    now = now or dates.now()
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Explain the correction to both sides."))
    shift = Shift(
        shift.work_date, shift.start_time, shift.end_time, shift.break_minutes, shift.note.strip()
    )
    minutes = validate_shift(session, entry.placement, shift, exclude_entry_id=entry.id, now=now)
    before = snapshot(entry)
    _apply(entry, shift, minutes)
    after = snapshot(entry)
    _flush_shift(session)
    _unsign(entry, Party.WORKER)
    _unsign(entry, Party.EMPLOYER)
    _clear_dispute(entry)
    entry.resolved_at = now
    _remember(session, entry, by, EntryChangeKind.CORRECTED, before=before, after=after, note=note)
    audit.record(session, by, "time_entry.corrected", entry, before=before, after=after, note=note)
    notifications.dispute_closed(session, entry, by, note, corrected=True)


def resolve_dispute(session: Session, by: User, entry: TimeEntry, note: str, *, now=None) -> None:
    """The consultant closes a dispute and leaves the entry as it is, with a note."""
    authorize(session, entry, by, Action.RESOLVE)
    note = (note or "").strip()
    if not note:
        raise Invalid(_("Write a note to both sides about the decision."))
    _clear_dispute(entry)
    # The side that disputed has not signed; its auto-approval clock starts again now.
    entry.resolved_at = now or dates.now()
    _remember(session, entry, by, EntryChangeKind.RESOLVED, before=snapshot(entry), note=note)
    audit.record(session, by, "time_entry.resolved", entry, note=note)
    notifications.dispute_closed(session, entry, by, note, corrected=False)


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
    now = now or dates.now()
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
