"""Hours: the rules of a shift. Who may do what to it in which state (RULES), and what a
shift may be (validate_shift), with the dates and weeks they are read in."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import dates
from core.db import lock
from core.errors import Conflict, Invalid, NotAllowed, NotFound
from core.models import (
    Placement,
    Role,
    TimeEntry,
    User,
)
from core.shifts import EntryState, state_of

COPENHAGEN = dates.COPENHAGEN
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


def authorize(session: Session, entry: TimeEntry, user: User, action: Action) -> Party:
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


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def ddmmyyyy(value: date) -> str:
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
    if shift.work_date > dates.local_date(now or dates.now()):
        # Hours are recorded once worked; a coming shift goes in the calendar as planned.
        raise Invalid(
            _(
                "Hours can be recorded once they are worked, not for a day that has not "
                "come. Put a coming shift in the calendar as a planned shift."
            )
        )
    if shift.work_date < placement.start_date:
        raise Invalid(
            _(
                "The job starts on %(date)s; hours before that cannot be recorded.",
                date=ddmmyyyy(placement.start_date),
            )
        )
    if placement.end_date is not None and shift.work_date > placement.end_date:
        raise Invalid(
            _(
                "The job ended on %(date)s; hours after that cannot be recorded.",
                date=ddmmyyyy(placement.end_date),
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
                    date=ddmmyyyy(other.work_date),
                    start=hhmm(other.start_time),
                    end=hhmm(other.end_time),
                )
            )
    return duration - shift.break_minutes
