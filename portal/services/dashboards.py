"""The figures each role's home page opens with."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from core import dates
from core.models import (
    Employer,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    JobOrder,
    OrderStatus,
    Placement,
    PlacementStatus,
    Role,
    TimeEntry,
    User,
    WorkArea,
    Worker,
)
from core.shifts import APPROVED

OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
OPEN_ORDER = (OrderStatus.NEW, OrderStatus.TAKEN, OrderStatus.PROPOSED)


def _count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def employer_home(session: Session, employer_id: int) -> dict:
    employer = session.get(Employer, employer_id)
    placements = session.scalars(
        select(Placement)
        .where(Placement.employer_id == employer_id, Placement.status == PlacementStatus.ACTIVE)
        .order_by(Placement.start_date)
    ).all()
    waiting = _count(
        session,
        select(TimeEntry.id)
        .join(Placement)
        .where(
            Placement.employer_id == employer_id,
            TimeEntry.employer_approved_at.is_(None),
            TimeEntry.disputed_at.is_(None),
        ),
    )
    open_orders = _count(
        session,
        select(JobOrder.id).where(
            JobOrder.employer_id == employer_id, JobOrder.status.in_(OPEN_ORDER)
        ),
    )
    open_ore = session.scalar(
        select(func.coalesce(func.sum(Invoice.total_ore - Invoice.paid_ore), 0)).where(
            Invoice.employer_id == employer_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(OPEN_INVOICE),
        )
    )
    return {
        "employer": employer,
        "placements": placements,
        "waiting_entries": waiting,
        "open_orders": open_orders,
        "open_ore": open_ore,
    }


def worker_home(session: Session, user: User) -> dict:
    worker = session.scalar(select(Worker).where(Worker.user_id == user.id))
    if worker is None:
        return {"worker": None, "placements": [], "waiting_entries": 0, "month_minutes": 0}
    placements = session.scalars(
        select(Placement).where(
            Placement.worker_id == worker.id, Placement.status == PlacementStatus.ACTIVE
        )
    ).all()
    waiting = _count(
        session,
        select(TimeEntry.id)
        .join(Placement)
        .where(
            Placement.worker_id == worker.id,
            TimeEntry.worker_confirmed_at.is_(None),
            TimeEntry.disputed_at.is_(None),
        ),
    )
    month_start = dates.today().replace(day=1)
    month_minutes = session.scalar(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0))
        .join(Placement)
        .where(
            Placement.worker_id == worker.id,
            TimeEntry.work_date >= month_start,
            APPROVED,
        )
    )
    return {
        "worker": worker,
        "placements": placements,
        "waiting_entries": waiting,
        "month_minutes": month_minutes,
    }


def consultant_home(session: Session, user: User) -> dict:
    new_orders = _count(session, select(JobOrder.id).where(JobOrder.status == OrderStatus.NEW))
    my_orders = _count(
        session,
        select(JobOrder.id).where(
            JobOrder.consultant_id == user.id, JobOrder.status.in_(OPEN_ORDER)
        ),
    )
    my_placements = _count(
        session,
        select(Placement.id).where(
            Placement.consultant_id == user.id, Placement.status == PlacementStatus.ACTIVE
        ),
    )
    disputes = _count(
        session,
        select(TimeEntry.id)
        .join(Placement)
        .where(Placement.consultant_id == user.id, TimeEntry.disputed_at.is_not(None)),
    )
    return {
        "new_orders": new_orders,
        "my_orders": my_orders,
        "my_placements": my_placements,
        "disputes": disputes,
    }


def finance_home(session: Session) -> dict:
    approved = and_(APPROVED, TimeEntry.invoice_line_id.is_(None))
    uninvoiced_minutes = session.scalar(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(approved)
    )
    unapproved = _count(
        session,
        select(TimeEntry.id).where(
            or_(TimeEntry.worker_confirmed_at.is_(None), TimeEntry.employer_approved_at.is_(None))
        ),
    )
    open_invoices = select(Invoice).where(
        Invoice.kind == InvoiceKind.INVOICE, Invoice.status.in_(OPEN_INVOICE)
    )
    open_ore = session.scalar(
        select(func.coalesce(func.sum(Invoice.total_ore - Invoice.paid_ore), 0)).where(
            Invoice.kind == InvoiceKind.INVOICE, Invoice.status.in_(OPEN_INVOICE)
        )
    )
    overdue = _count(session, open_invoices.where(Invoice.due_date < dates.today()))
    return {
        "uninvoiced_minutes": uninvoiced_minutes,
        "unapproved_entries": unapproved,
        "open_ore": open_ore,
        "overdue_invoices": overdue,
    }


def admin_home(session: Session) -> dict:
    users = session.execute(
        select(User.role, func.count()).where(User.active).group_by(User.role)
    ).all()
    return {
        "users_by_role": {role.value: n for role, n in users},
        "work_areas": _count(session, select(WorkArea.id).where(WorkArea.active)),
        "employers": _count(session, select(Employer.id)),
    }


def home(session: Session, user: User) -> dict:
    """What the user's own home page shows, by role."""
    if user.role == Role.EMPLOYER:
        return employer_home(session, user.employer_id)
    if user.role == Role.WORKER:
        return worker_home(session, user)
    if user.role == Role.CONSULTANT:
        return consultant_home(session, user)
    if user.role == Role.FINANCE:
        return finance_home(session)
    return admin_home(session)
