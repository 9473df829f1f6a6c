"""Hours: what each user may see. Placements and shifts in a user's scope (a foreign id is
not found), the week view, the consultant's disputes and the worker's totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from core.errors import NotFound
from core.models import (
    Placement,
    PlacementStatus,
    Role,
    TimeEntry,
    User,
    Worker,
)
from core.money import pay_ore
from portal.services.hours.rules import Action, allowed_actions, week_label, week_start


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
    by_employer: dict[int, list[User]] = {}
    for entry in entries:
        placement = entry.placement
        users: list[User] = []
        if entry.worker_confirmed_at is None and placement.worker.user is not None:
            users.append(placement.worker.user)
        if entry.employer_approved_at is None:
            if placement.employer_id not in by_employer:
                by_employer[placement.employer_id] = employer_users(session, placement.employer_id)
            users.extend(by_employer[placement.employer_id])
        for user in users:
            if user.active:
                waiting.setdefault(user.id, [user, 0])[1] += 1
    return {uid: (user, n) for uid, (user, n) in waiting.items()}


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


def employer_users(session: Session, employer_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User).where(
                User.employer_id == employer_id, User.role == Role.EMPLOYER, User.active
            )
        )
    )
