"""Hours: planned shifts. A placement's weekly pattern (set by its employer or a consultant),
the planned shifts derived from it for any period, the worker's one-tap confirmation of a
planned shift as worked, and the secret calendar (ICS) addresses that list them.

A planned shift is never stored: it is the pattern applied to the placement's dates. Once a
shift is recorded on its day it shows as recorded, and confirming it records a shift through
`record_shift`, so every rule of a recorded shift applies. Each function takes the session
and never commits."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from core import audit, dates
from core.db import lock
from core.errors import Conflict, Invalid, NotAllowed, NotFound
from core.models import (
    CalendarFeed,
    JobOrder,
    Placement,
    PlacementStatus,
    PlannedSlot,
    Role,
    TimeEntry,
    User,
)
from portal.services.hours.commands import record_shift
from portal.services.hours.queries import _placement_scope
from portal.services.hours.rules import (
    MAX_SHIFT_MINUTES,
    MIN_SHIFT_MINUTES,
    Party,
    Shift,
    hhmm,
    interval_of,
    party_of,
    week_start,
)

WEEK_MINUTES = 7 * 24 * 60
# The calendar feed: the coming eight weeks and the past two.
FEED_DAYS_BACK = 14
FEED_DAYS_AHEAD = 56
PATTERN_SETTERS = (Role.EMPLOYER, Role.CONSULTANT, Role.ADMIN)
FEED_ROLES = (Role.WORKER, Role.EMPLOYER)


# --- The weekly pattern ----------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One shift of a weekly pattern as it is typed: the day (0 = Monday), start, end, break."""

    weekday: int
    start_time: time
    end_time: time
    break_minutes: int = 0

    @property
    def duration_minutes(self) -> int:
        start, end = interval_of(date(2001, 1, 1), self.start_time, self.end_time)
        return int((end - start).total_seconds()) // 60

    @property
    def minutes(self) -> int:
        return self.duration_minutes - self.break_minutes

    def week_interval(self) -> tuple[int, int]:
        """Minutes from Monday 00:00 to the start and the end (past Sunday for a night)."""
        begin = self.weekday * 24 * 60 + self.start_time.hour * 60 + self.start_time.minute
        return begin, begin + self.duration_minutes


def slot_of(row: PlannedSlot) -> Slot:
    return Slot(row.weekday, row.start_time, row.end_time, row.break_minutes)


def _check_slot(slot: Slot) -> None:
    if not 0 <= slot.weekday <= 6:
        raise Invalid(_("Choose a day of the week."))
    if slot.start_time.replace(second=0, microsecond=0) == slot.end_time.replace(
        second=0, microsecond=0
    ):
        raise Invalid(_("The shift must end at a different time than it starts."))
    if not MIN_SHIFT_MINUTES <= slot.duration_minutes <= MAX_SHIFT_MINUTES:
        raise Invalid(_("A planned shift must last from 15 minutes to 12 hours."))
    if not 0 <= slot.break_minutes < slot.duration_minutes:
        raise Invalid(_("The break must be shorter than the shift."))


def _overlap(first: Slot, second: Slot) -> bool:
    begin, end = first.week_interval()
    other_begin, other_end = second.week_interval()
    # A night shift late on Sunday reaches into Monday of the next week.
    return any(
        begin < other_end + shift and other_begin + shift < end
        for shift in (-WEEK_MINUTES, 0, WEEK_MINUTES)
    )


def validate_pattern(slots: list[Slot]) -> list[Slot]:
    """Check each shift of a pattern and that no two overlap; return them in week order."""
    clean = [
        Slot(
            s.weekday,
            s.start_time.replace(second=0, microsecond=0),
            s.end_time.replace(second=0, microsecond=0),
            s.break_minutes,
        )
        for s in slots
    ]
    for slot in clean:
        _check_slot(slot)
    clean.sort(key=Slot.week_interval)
    for index, slot in enumerate(clean):
        if any(_overlap(slot, other) for other in clean[index + 1 :]):
            raise Invalid(_("Two planned shifts of the pattern overlap."))
    return clean


def _may_set_pattern(by: User, placement: Placement) -> None:
    if by.role == Role.EMPLOYER:
        if by.employer_id != placement.employer_id:
            raise NotFound()
        return
    if by.role not in PATTERN_SETTERS:
        raise NotAllowed(_("Only the employer or a consultant plans the shifts."))


def set_pattern(
    session: Session,
    by: User,
    placement: Placement,
    slots: list[Slot],
    on_holidays: bool = False,
) -> None:
    """Replace the placement's weekly pattern (an empty list removes it), planned from this
    week on, on public holidays too only when `on_holidays`."""
    _may_set_pattern(by, placement)
    clean = validate_pattern(slots)
    # Two people saving the pattern at once: the second waits and replaces the first's.
    lock(session, placement)
    if placement.status not in (PlacementStatus.PROPOSED, PlacementStatus.ACTIVE):
        raise Conflict(_("Shifts can only be planned on a proposed or active job."))
    before = [_described(slot_of(row)) for row in placement.planned_slots]
    placement.planned_slots.clear()
    session.flush()  # the old rows go before new ones with the same day and start arrive
    this_week = week_start(dates.today())
    placement.planned_slots.extend(
        PlannedSlot(
            weekday=s.weekday,
            start_time=s.start_time,
            end_time=s.end_time,
            break_minutes=s.break_minutes,
            planned_from=this_week,
        )
        for s in clean
    )
    placement.planned_on_holidays = on_holidays
    session.flush()
    after = [_described(s) for s in clean]
    audit.record(
        session,
        by,
        "placement.pattern_set",
        placement,
        before=before,
        after=after,
        on_holidays=on_holidays,
    )


def _described(slot: Slot) -> str:
    return f"{slot.weekday} {hhmm(slot.start_time)}-{hhmm(slot.end_time)} {slot.break_minutes}"


def pattern_minutes(placement: Placement) -> int:
    """The worked minutes a week the pattern plans (breaks taken off)."""
    return sum(slot_of(row).minutes for row in placement.planned_slots)


# --- Planned shifts --------------------------------------------------------------------------


@dataclass
class PlannedShift:
    """The pattern on one day of a placement; `entry` is the shift recorded for it, if any."""

    placement: Placement
    work_date: date
    start_time: time
    end_time: time
    break_minutes: int
    entry: TimeEntry | None = None
    second: bool = False  # not the day's first planned shift

    @property
    def recorded(self) -> bool:
        return self.entry is not None

    @property
    def minutes(self) -> int:
        return self.shift().duration_minutes - self.break_minutes

    def shift(self) -> Shift:
        return Shift(self.work_date, self.start_time, self.end_time, self.break_minutes)

    @property
    def starts_at(self) -> datetime:
        """The start as an aware UTC moment (the wall clock is Copenhagen's)."""
        return _utc(self.shift().interval()[0])

    @property
    def ends_at(self) -> datetime:
        return _utc(self.shift().interval()[1])

    @property
    def uid(self) -> str:
        """Stable per placement and day (a second shift on the day adds its start)."""
        uid = f"planned-{self.placement.id}-{self.work_date:%Y%m%d}"
        if self.second:
            uid += f"-{self.start_time:%H%M}"
        return uid + "@smajob"


def _utc(wall_clock: datetime) -> datetime:
    return wall_clock.replace(tzinfo=dates.COPENHAGEN).astimezone(UTC)


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def derive(
    placements: Iterable[Placement], entries: Iterable[TimeEntry], start: date, end: date
) -> list[PlannedShift]:
    """The planned shifts of active placements in [start, end], matched with recorded ones.

    A day with one planned shift counts as recorded once any shift of the placement is
    recorded on it (the worker may have adjusted the times); on a day with several, a
    recorded shift matches the planned shifts it overlaps."""
    recorded: dict[tuple[int, date], list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        recorded[entry.placement_id, entry.work_date].append(entry)
    planned: list[PlannedShift] = []
    for placement in placements:
        if placement.status != PlacementStatus.ACTIVE or not placement.planned_slots:
            continue
        first = max(start, placement.start_date)
        last = min(end, placement.end_date) if placement.end_date else end
        by_weekday: dict[int, list[PlannedSlot]] = defaultdict(list)
        for row in placement.planned_slots:
            by_weekday[row.weekday].append(row)
        for day in _days(first, last):
            # Only from the week the pattern was saved, and a holiday only if it says so.
            rows = [row for row in by_weekday.get(day.weekday(), []) if row.planned_from <= day]
            if not placement.planned_on_holidays and day in dates.days_off(day.year):
                rows = []
            found = recorded.get((placement.id, day), [])
            for position, row in enumerate(rows):
                shift = PlannedShift(
                    placement,
                    day,
                    row.start_time,
                    row.end_time,
                    row.break_minutes,
                    second=position > 0,
                )
                shift.entry = _recorded_for(shift, found, alone=len(rows) == 1)
                planned.append(shift)
    planned.sort(key=lambda p: (p.work_date, p.start_time, p.placement.id))
    return planned


def _recorded_for(shift: PlannedShift, found: list[TimeEntry], *, alone: bool):
    if alone:
        return found[0] if found else None
    begin, end = shift.shift().interval()
    for entry in found:
        other_begin, other_end = interval_of(entry.work_date, entry.start_time, entry.end_time)
        if begin < other_end and other_begin < end:
            return entry
    return None


def _scoped_placements(session: Session, user: User) -> list[Placement]:
    stmt = (
        select(Placement)
        .where(Placement.status == PlacementStatus.ACTIVE)
        .options(
            selectinload(Placement.planned_slots),
            selectinload(Placement.employer),
            selectinload(Placement.worker),
            selectinload(Placement.job_order).selectinload(JobOrder.work_area),
        )
        .order_by(Placement.id)
    )
    scope = _placement_scope(session, user)
    if scope is not None:
        stmt = stmt.where(scope)
    return list(session.scalars(stmt))


def _entries(session: Session, placement_ids: list[int], start: date, end: date):
    if not placement_ids:
        return []
    return session.scalars(
        select(TimeEntry).where(
            TimeEntry.placement_id.in_(placement_ids), TimeEntry.work_date.between(start, end)
        )
    ).all()


def planned_shifts(session: Session, user: User, start: date, end: date) -> list[PlannedShift]:
    """The planned shifts the user may see in [start, end]: a worker's own, an employer's
    organisation's (staff: every placement's)."""
    placements = _scoped_placements(session, user)
    entries = _entries(session, [p.id for p in placements], start, end)
    return derive(placements, entries, start, end)


# --- One tap: a planned shift confirmed as worked --------------------------------------------


def confirm_planned(
    session: Session,
    by: User,
    placement: Placement,
    work_date: date,
    start_time: time,
    *,
    now: datetime | None = None,
) -> TimeEntry:
    """The worker records a planned shift exactly as planned (through record_shift, so every
    rule of a recorded shift applies); the worker's side is signed."""
    if party_of(by, placement) != Party.WORKER:
        raise NotFound()
    if work_date > dates.local_date(now or dates.now()):
        raise Invalid(_("You can confirm a planned shift on its day or after it."))
    start_time = start_time.replace(second=0, microsecond=0)
    entries = _entries(session, [placement.id], work_date, work_date)
    day = derive([placement], entries, work_date, work_date)
    planned = next((p for p in day if p.start_time == start_time), None)
    if planned is None:
        raise Invalid(_("No shift is planned for you then."))
    if planned.recorded:
        raise Conflict(_("This shift is already recorded."))
    return record_shift(session, by, placement, planned.shift(), now=now)


# --- Calendar feeds: a secret ICS address per user --------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(session: Session, user: User) -> CalendarFeed | None:
    return session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    )


def _revoke_all(session: Session, user: User, now: datetime) -> int:
    return session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    ).rowcount


def new_feed(session: Session, user: User) -> str:
    """Make the user's calendar address (the one before stops working); return its secret,
    which is not stored and so can be shown only now."""
    if user.role not in FEED_ROLES:
        raise NotAllowed(_("Only workers and employers have a calendar of planned shifts."))
    _revoke_all(session, user, dates.now())
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=_token_hash(token))
    session.add(feed)
    audit.record(session, user, "calendar_feed.created", feed)
    return token


def revoke_feeds(session: Session, user: User) -> int:
    """Stop the user's calendar address: it answers 404 from now on. Returns how many."""
    revoked = _revoke_all(session, user, dates.now())
    if revoked:
        audit.record(session, user, "calendar_feed.revoked", user, count=revoked)
    return revoked


def feed_owner(session: Session, token: str) -> User:
    """The user whose live calendar address this secret is; NotFound for anything else."""
    if not token or len(token) > 100:
        raise NotFound()
    feed = session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.token_hash == _token_hash(token), CalendarFeed.revoked_at.is_(None)
        )
    )
    if feed is None or not feed.user.active or feed.user.role not in FEED_ROLES:
        raise NotFound()
    return feed.user


def feed_shifts(session: Session, user: User, now: datetime | None = None) -> list[PlannedShift]:
    """What a calendar address lists: the planned shifts of the past two and the coming
    eight weeks, recorded or not (a calendar keeps the days that were worked)."""
    today = dates.local_date(now or dates.now())
    start, end = today - timedelta(days=FEED_DAYS_BACK), today + timedelta(days=FEED_DAYS_AHEAD)
    return planned_shifts(session, user, start, end)
