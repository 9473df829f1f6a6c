"""Worker profiles (kept by consultants) and the candidates for a job order."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from core import audit
from core.errors import Invalid, NotFound
from core.models import (
    JobOrder,
    Placement,
    PlacementStatus,
    Role,
    User,
    WorkArea,
    Worker,
    WorkerStatus,
)
from core.pages import Page, paginate
from portal.services import accounts, matching
from portal.services.placements import OPEN_PLACEMENT, placed_hours

FIRST_PAYROLL_NUMBER = 1001
MATCHABLE = (WorkerStatus.AVAILABLE, WorkerStatus.PLACED)


@dataclass(frozen=True)
class WorkerData:
    first_name: str
    last_name: str
    phone: str
    postcode: str
    hours_min: int
    hours_max: int
    available_days: int  # bit 0 = Monday
    work_area_ids: list[int]
    consultant_id: int | None
    status: WorkerStatus
    payroll_number: str = ""


def _check(session: Session, data: WorkerData, worker_id: int | None) -> tuple[list, User | None]:
    if not data.first_name.strip() or not data.last_name.strip():
        raise Invalid(_("Give the worker's first and last name."))
    if not (0 <= data.hours_min <= data.hours_max <= 37):
        raise Invalid(_("Hours wanted: the minimum must be at most the maximum (0–37)."))
    if not 0 <= data.available_days < 1 << 7:
        raise Invalid(_("Choose weekdays from the list."))
    areas = []
    if data.work_area_ids:
        areas = list(session.scalars(select(WorkArea).where(WorkArea.id.in_(data.work_area_ids))))
        if len(areas) != len(set(data.work_area_ids)):
            raise Invalid(_("Choose work areas from the price list."))
    consultant = None
    if data.consultant_id:
        consultant = session.get(User, data.consultant_id)
        if consultant is None or consultant.role != Role.CONSULTANT or not consultant.active:
            raise Invalid(_("Choose an active consultant."))
    if data.payroll_number:
        clash = session.scalar(
            select(Worker.id).where(
                Worker.payroll_number == data.payroll_number, Worker.id != (worker_id or 0)
            )
        )
        if clash is not None:
            raise Invalid(_("Another worker has payroll number %(n)s.", n=data.payroll_number))
    return areas, consultant


def next_payroll_number(session: Session) -> str:
    """One above the highest purely numeric payroll number (the payroll system's own ids)."""
    numbers = [n for n in session.scalars(select(Worker.payroll_number)) if n.isdigit()]
    return str(max([FIRST_PAYROLL_NUMBER - 1, *map(int, numbers)]) + 1)


def _apply(worker: Worker, data: WorkerData, areas, consultant) -> dict:
    before = {
        "name": f"{worker.first_name} {worker.last_name}".strip(),
        "hours": [worker.hours_min, worker.hours_max],
        "days": worker.available_days,
        "postcode": worker.postcode,
        "status": worker.status.value if worker.status else None,
        "consultant_id": worker.consultant_id,
        "work_areas": sorted(a.id for a in worker.work_areas),
    }
    worker.first_name, worker.last_name = data.first_name.strip(), data.last_name.strip()
    worker.phone, worker.postcode = data.phone.strip(), data.postcode.strip()
    worker.hours_min, worker.hours_max = data.hours_min, data.hours_max
    worker.available_days, worker.status = data.available_days, data.status
    worker.consultant = consultant
    worker.work_areas = areas
    if data.payroll_number:
        worker.payroll_number = data.payroll_number
    return before


def create(session: Session, by: User, data: WorkerData, email: str) -> Worker:
    """Create the profile and invite the worker to log in."""
    areas, consultant = _check(session, data, None)
    email = accounts.normalize_email(email)
    if session.scalar(select(Worker.id).where(func.lower(Worker.email) == email)) is not None:
        raise Invalid(_("A worker with the e-mail %(email)s already exists.", email=email))
    user = accounts.invite(
        session,
        by,
        email=email,
        role=Role.WORKER,
        full_name=f"{data.first_name.strip()} {data.last_name.strip()}",
        phone=data.phone.strip(),
    )
    worker = Worker(
        user=user,
        email=email,
        payroll_number=data.payroll_number or next_payroll_number(session),
        first_name="",
        last_name="",
        status=WorkerStatus.AVAILABLE,
    )
    session.add(worker)
    _apply(worker, data, areas, consultant)
    session.flush()
    audit.record(session, by, "worker.created", worker, user_id=user.id)
    return worker


def update(session: Session, by: User, worker: Worker, data: WorkerData) -> None:
    areas, consultant = _check(session, data, worker.id)
    before = _apply(worker, data, areas, consultant)
    session.flush()
    after = {
        "name": f"{worker.first_name} {worker.last_name}",
        "hours": [worker.hours_min, worker.hours_max],
        "days": worker.available_days,
        "postcode": worker.postcode,
        "status": worker.status.value,
        "consultant_id": worker.consultant_id,
        "work_areas": sorted(a.id for a in worker.work_areas),
    }
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        audit.record(session, by, "worker.updated", worker, changes=changes)


def get(session: Session, worker_id: int) -> Worker:
    worker = session.get(Worker, worker_id)
    if worker is None:
        raise NotFound()
    return worker


def listing(session: Session, number: int = 1) -> Page:
    """One page of the worker profiles by name, their areas and consultant loaded alongside
    (erased ones are restricted to bookkeeping: not listed)."""
    stmt = (
        select(Worker)
        .where(Worker.erased_at.is_(None))
        .options(selectinload(Worker.work_areas), joinedload(Worker.consultant))
        .order_by(Worker.first_name, Worker.last_name, Worker.id)
    )
    return paginate(session, stmt, number)


def departures(session: Session, workers: list[Worker]) -> dict[int, str]:
    """Why each of these workers left, by their latest ended placement's reason (a
    PlacementEndReason value; missing when none ended): one query for a page of them."""
    ids = [worker.id for worker in workers if worker.status == WorkerStatus.LEFT]
    if not ids:
        return {}
    rows = session.execute(
        select(Placement.worker_id, Placement.end_reason)
        .where(Placement.worker_id.in_(ids), Placement.status == PlacementStatus.ENDED)
        .order_by(Placement.worker_id, Placement.end_date, Placement.id)
    )
    return {worker_id: reason for worker_id, reason in rows if reason}


def consultants(session: Session) -> list[User]:
    """The active consultants a worker may have as contact person."""
    return list(
        session.scalars(
            select(User).where(User.role == Role.CONSULTANT, User.active).order_by(User.full_name)
        )
    )


def placements_of(session: Session, worker: Worker) -> list[Placement]:
    """The worker's placements, newest first (the profile's history)."""
    return list(
        session.scalars(
            select(Placement).where(Placement.worker_id == worker.id).order_by(Placement.id.desc())
        )
    )


def candidates(session: Session, order: JobOrder) -> list[matching.Match]:
    """Every worker who could take the order, ranked, minus those already on it."""
    on_order = set(
        session.scalars(
            select(Placement.worker_id).where(
                Placement.job_order_id == order.id, Placement.status.in_(OPEN_PLACEMENT)
            )
        )
    )
    workers = [
        w
        for w in session.scalars(
            select(Worker)
            .where(Worker.status.in_(MATCHABLE), Worker.erased_at.is_(None))
            .options(selectinload(Worker.work_areas))
        )
        if w.id not in on_order
    ]
    hours = placed_hours(session, [w.id for w in workers])
    needs = matching.OrderNeeds(
        work_area_id=order.work_area_id,
        hours_per_week=order.hours_per_week,
        preferred_days=order.preferred_days,
        postcode=order.postcode or order.employer.postcode,
    )
    return matching.rank(
        needs,
        [
            matching.Candidate(
                worker_id=w.id,
                name=f"{w.first_name} {w.last_name}",
                work_area_ids=frozenset(a.id for a in w.work_areas),
                hours_min=w.hours_min,
                hours_max=w.hours_max,
                available_days=w.available_days,
                postcode=w.postcode,
                placed_hours=hours.get(w.id, 0),
            )
            for w in workers
        ],
    )
