"""Gather the plain data for a timesheet (per placement) and an hours statement (per worker).

The PDF functions in invoices.pdf take these dataclasses and nothing else, so a timesheet can
be rendered again from the same data (the invoicing issue archives it with the invoice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core import dates
from core import settings as settings_service
from core.models import OrganisationSettings, Placement, TimeEntry, User, Worker
from core.shifts import APPROVED, state_of
from core.snapshots import SellerSnapshot


@dataclass(frozen=True)
class Organisation:
    name: str
    cvr: str
    address: str
    email: str
    phone: str


@dataclass(frozen=True)
class Signature:
    """Who signed one side and when; `auto` when nobody answered and it auto-approved."""

    name: str
    at: datetime | None
    auto: bool = False


@dataclass(frozen=True)
class TimesheetRow:
    work_date: date
    start_time: time
    end_time: time
    break_minutes: int
    minutes: int
    note: str
    status: str  # an EntryState value
    auto_approved: bool
    worker_signature: Signature | None
    employer_signature: Signature | None
    dispute_reason: str = ""

    @property
    def overnight(self) -> bool:
        return self.end_time <= self.start_time


@dataclass(frozen=True)
class TimesheetData:
    organisation: Organisation
    placement_id: int
    worker_name: str
    payroll_number: str
    employer_name: str
    employer_cvr: str
    employer_address: str
    job_title: str
    work_area: str
    period_start: date
    period_end: date
    rows: list[TimesheetRow]
    generated_at: datetime
    locale: str = "da"

    @property
    def total_minutes(self) -> int:
        return sum(row.minutes for row in self.rows)

    @property
    def approved_minutes(self) -> int:
        return sum(row.minutes for row in self.rows if row.status in ("approved", "invoiced"))


@dataclass(frozen=True)
class StatementRow:
    work_date: date
    employer_name: str
    job_title: str
    start_time: time
    end_time: time
    break_minutes: int
    minutes: int


@dataclass
class EmployerTotal:
    employer_name: str
    first_date: date
    last_date: date
    shifts: int = 0
    minutes: int = 0


@dataclass(frozen=True)
class StatementData:
    organisation: Organisation
    worker_name: str
    payroll_number: str
    period_start: date
    period_end: date
    rows: list[StatementRow]
    employers: list[EmployerTotal] = field(default_factory=list)
    generated_at: datetime = field(default_factory=dates.now)
    locale: str = "da"

    @property
    def total_minutes(self) -> int:
        return sum(row.minutes for row in self.rows)


# The signers of each row, loaded with the rows rather than one query per shift.
ROW_LOADS = (
    selectinload(TimeEntry.worker_confirmed_by),
    selectinload(TimeEntry.employer_approved_by),
)


def organisation_of(row: OrganisationSettings | SellerSnapshot) -> Organisation:
    """The issuer's header: the organisation as it is now, or as an invoice froze it."""
    city = " ".join(part for part in (row.postcode, row.city) if part)
    return Organisation(
        name=row.legal_name,
        cvr=row.cvr,
        address=", ".join(part for part in (row.address_line, city) if part),
        email=row.email,
        phone=row.phone,
    )


def _full_name(worker: Worker) -> str:
    return f"{worker.first_name} {worker.last_name}".strip()


def _signature(user: User | None, at: datetime | None, auto: bool) -> Signature | None:
    if at is None:
        return None
    if user is None:
        return Signature("", at, auto=auto)
    return Signature(user.full_name or user.email, at)


def _state(entry: TimeEntry) -> str:

    return state_of(entry).value


def timesheet_data(
    session: Session,
    placement: Placement,
    start: date,
    end: date,
    *,
    approved_only: bool = False,
    locale: str = "da",
) -> TimesheetData:
    """Every shift of the placement in [start, end] with its sign-off evidence."""
    entries = session.scalars(
        select(TimeEntry)
        .where(TimeEntry.placement_id == placement.id, TimeEntry.work_date.between(start, end))
        .order_by(TimeEntry.work_date, TimeEntry.start_time, TimeEntry.id)
    ).all()
    if approved_only:
        entries = [entry for entry in entries if entry.approved]
    return timesheet_for_entries(session, placement, entries, start, end, locale=locale)


def timesheet_for_entries(
    session: Session,
    placement: Placement,
    entries: list[TimeEntry],
    start: date | None = None,
    end: date | None = None,
    *,
    locale: str = "da",
    organisation: Organisation | None = None,
    generated_at: datetime | None = None,
) -> TimesheetData:
    """A timesheet of exactly these shifts (an invoice attaches the shifts it bills, with the
    organisation it froze and its moment of issue)."""
    if start is None:
        start = min((e.work_date for e in entries), default=placement.start_date)
    if end is None:
        end = max((e.work_date for e in entries), default=start)
    rows = []
    for entry in entries:
        # An auto-approved entry has exactly one side signed by nobody: that side is the mark.
        rows.append(
            TimesheetRow(
                work_date=entry.work_date,
                start_time=entry.start_time,
                end_time=entry.end_time,
                break_minutes=entry.break_minutes,
                minutes=entry.minutes,
                note=entry.note,
                status=_state(entry),
                auto_approved=entry.auto_approved,
                worker_signature=_signature(
                    entry.worker_confirmed_by, entry.worker_confirmed_at, entry.auto_approved
                ),
                employer_signature=_signature(
                    entry.employer_approved_by, entry.employer_approved_at, entry.auto_approved
                ),
                dispute_reason=entry.dispute_reason,
            )
        )
    worker, employer, order = placement.worker, placement.employer, placement.job_order
    city = " ".join(part for part in (employer.postcode, employer.city) if part)
    return TimesheetData(
        organisation=organisation or organisation_of(settings_service.get(session)),
        placement_id=placement.id,
        worker_name=_full_name(worker),
        payroll_number=worker.payroll_number,
        employer_name=employer.name,
        employer_cvr=employer.cvr,
        employer_address=", ".join(part for part in (employer.address_line, city) if part),
        job_title=order.title,
        work_area=order.work_area.name,
        period_start=start,
        period_end=end,
        rows=rows,
        generated_at=generated_at or dates.now(),
        locale=locale,
    )


def hours_statement_data(
    session: Session, worker: Worker, start: date, end: date, *, locale: str = "da"
) -> StatementData:
    """The worker's approved hours in [start, end], per shift and per employer."""
    entries = session.scalars(
        select(TimeEntry)
        .join(Placement)
        .where(
            Placement.worker_id == worker.id,
            TimeEntry.work_date.between(start, end),
            APPROVED,
        )
        .order_by(TimeEntry.work_date, TimeEntry.start_time, TimeEntry.id)
    ).all()
    rows: list[StatementRow] = []
    employers: dict[int, EmployerTotal] = {}
    for entry in entries:
        placement = entry.placement
        rows.append(
            StatementRow(
                work_date=entry.work_date,
                employer_name=placement.employer.name,
                job_title=placement.job_order.title,
                start_time=entry.start_time,
                end_time=entry.end_time,
                break_minutes=entry.break_minutes,
                minutes=entry.minutes,
            )
        )
        total = employers.setdefault(
            placement.employer_id,
            EmployerTotal(placement.employer.name, entry.work_date, entry.work_date),
        )
        total.shifts += 1
        total.minutes += entry.minutes
        total.last_date = entry.work_date
    return StatementData(
        organisation=organisation_of(settings_service.get(session)),
        worker_name=_full_name(worker),
        payroll_number=worker.payroll_number,
        period_start=start,
        period_end=end,
        rows=rows,
        employers=sorted(employers.values(), key=lambda t: t.employer_name),
        generated_at=dates.now(),
        locale=locale,
    )
