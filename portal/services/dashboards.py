"""The figures each role's home page opens with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from core import dates, outbox
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
from portal.services.hours import week_label, week_start
from portal.services.placements import offered

OPEN_INVOICE = (InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID)
OPEN_ORDER = (OrderStatus.NEW, OrderStatus.TAKEN, OrderStatus.PROPOSED)
# A shift the employer can approve now: not yet approved by it, not disputed, not invoiced.
WAITING_FOR_EMPLOYER = and_(
    TimeEntry.employer_approved_at.is_(None),
    TimeEntry.disputed_at.is_(None),
    TimeEntry.invoice_line_id.is_(None),
)


def _count(session: Session, stmt) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


@dataclass(frozen=True)
class WeekToApprove:
    """A week with shifts that wait for the employer's approval."""

    monday: date
    shifts: int
    minutes: int

    @property
    def label(self) -> str:
        """The week as the week page reads it ('2026-W47')."""
        return week_label(self.monday)

    @property
    def number(self) -> int:
        return self.monday.isocalendar()[1]


def proposals_to_answer(session: Session, employer_id: int) -> list[Placement]:
    """Workers proposed to the employer that it has yet to accept or decline."""
    return list(
        session.scalars(
            select(Placement)
            .where(
                Placement.employer_id == employer_id,
                Placement.status == PlacementStatus.PROPOSED,
                Placement.employer_accepted_at.is_(None),
            )
            .options(joinedload(Placement.worker), joinedload(Placement.job_order))
            .order_by(Placement.start_date, Placement.id)
        )
    )


def weeks_to_approve(session: Session, employer_id: int) -> list[WeekToApprove]:
    """The weeks with shifts waiting for the employer's approval, oldest first."""
    rows = session.execute(
        select(TimeEntry.work_date, func.count(), func.sum(TimeEntry.minutes))
        .join(Placement)
        .where(Placement.employer_id == employer_id, WAITING_FOR_EMPLOYER)
        .group_by(TimeEntry.work_date)
    ).all()
    weeks: dict[date, list[int]] = {}
    for work_date, shifts, minutes in rows:
        totals = weeks.setdefault(week_start(work_date), [0, 0])
        totals[0] += shifts
        totals[1] += minutes or 0
    return [WeekToApprove(monday, *weeks[monday]) for monday in sorted(weeks)]


def invoices_to_pay(session: Session, employer_id: int) -> list[Invoice]:
    """The employer's issued invoices with an amount still to pay, the earliest due first."""
    rows = session.scalars(
        select(Invoice)
        .where(
            Invoice.employer_id == employer_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.number.is_not(None),
            Invoice.status.in_(OPEN_INVOICE),
        )
        .order_by(Invoice.due_date, Invoice.id)
    )
    return [invoice for invoice in rows if invoice.open_ore > 0]


def employer_home(session: Session, employer_id: int) -> dict:
    """The employer's inbox (what waits for it) and its figures, each a link to its list."""
    employer = session.get(Employer, employer_id)
    placements = session.scalars(
        select(Placement)
        .where(Placement.employer_id == employer_id, Placement.status == PlacementStatus.ACTIVE)
        .order_by(Placement.start_date)
    ).all()
    weeks = weeks_to_approve(session, employer_id)
    invoices = invoices_to_pay(session, employer_id)
    open_orders = _count(
        session,
        select(JobOrder.id).where(
            JobOrder.employer_id == employer_id, JobOrder.status.in_(OPEN_ORDER)
        ),
    )
    return {
        "employer": employer,
        "placements": placements,
        "proposals": proposals_to_answer(session, employer_id),
        "weeks": weeks,
        "invoices": invoices,
        "waiting_entries": sum(week.shifts for week in weeks),
        "waiting_minutes": sum(week.minutes for week in weeks),
        "open_orders": open_orders,
        "open_ore": sum(invoice.open_ore for invoice in invoices),
    }


def worker_home(session: Session, user: User) -> dict:
    worker = session.scalar(select(Worker).where(Worker.user_id == user.id))
    if worker is None:
        return {
            "worker": None,
            "placements": [],
            "offers": [],
            "waiting_entries": 0,
            "month_minutes": 0,
        }
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
        "offers": offered(session, user),
        "waiting_entries": waiting,
        "month_minutes": month_minutes,
    }


def consultant_home(session: Session, user: User) -> dict:
    """Each figure counts what the list its tile links to shows."""
    new_orders = _count(session, select(JobOrder.id).where(JobOrder.status == OrderStatus.NEW))
    my_orders = _count(
        session,
        select(JobOrder.id).where(
            JobOrder.consultant_id == user.id,
            JobOrder.status.in_((OrderStatus.TAKEN, OrderStatus.PROPOSED)),
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
        .where(
            or_(Placement.consultant_id == user.id, Placement.consultant_id.is_(None)),
            TimeEntry.disputed_at.is_not(None),
            TimeEntry.invoice_line_id.is_(None),
        ),
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
        "given_up_messages": outbox.given_up_count(session),
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
