"""Placements: proposing a worker, both sides' consent, follow-up, hours changes, ending."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core import audit, dates, links, settings
from core.db import lock
from core.errors import Conflict, Invalid, NotFound
from core.models import (
    STAFF_ROLES,
    EmployerStatus,
    JobOrder,
    NoteKind,
    OrderStatus,
    Placement,
    PlacementEndReason,
    PlacementHoursChange,
    PlacementNote,
    PlacementStatus,
    Role,
    User,
    Worker,
    WorkerStatus,
)
from core.pages import Page, paginate
from portal.i18n import format_locale, money
from portal.services import orders
from portal.services.orders import employer_users, notify

OPEN_PLACEMENT = (PlacementStatus.PROPOSED, PlacementStatus.ACTIVE)


@dataclass(frozen=True)
class RateRange:
    low_ore: int
    high_ore: int


def rate_range(listed_ore: int, limit_bp: int) -> RateRange:
    """The rates a consultant may set: the price list ± the admin's limit, in whole øre."""
    low = -((-listed_ore * (10000 - limit_bp)) // 10000)  # rounded up: never below the limit
    high = listed_ore * (10000 + limit_bp) // 10000  # rounded down: never above it
    return RateRange(max(low, 1), high)


def check_rates(
    *, pay_rate_ore: int, bill_rate_ore: int, list_pay_ore: int, list_bill_ore: int, limit_bp: int
) -> None:
    """Refuse rates outside the admin's limit around the price list, or a bill below pay."""
    percent = format_decimal(Decimal(limit_bp).scaleb(-2), locale=format_locale())
    pay = rate_range(list_pay_ore, limit_bp)
    if not pay.low_ore <= pay_rate_ore <= pay.high_ore:
        raise Invalid(
            _(
                # Not ending on the amount: it ends with "kr." already.
                "The pay rate must be between %(low)s and %(high)s "
                "(±%(percent)s %% of the price list).",
                percent=percent,
                low=money(pay.low_ore),
                high=money(pay.high_ore),
            )
        )
    bill = rate_range(list_bill_ore, limit_bp)
    if not bill.low_ore <= bill_rate_ore <= bill.high_ore:
        raise Invalid(
            _(
                "The bill rate must be between %(low)s and %(high)s "
                "(±%(percent)s %% of the price list).",
                percent=percent,
                low=money(bill.low_ore),
                high=money(bill.high_ore),
            )
        )
    if bill_rate_ore < pay_rate_ore:
        raise Invalid(_("The bill rate must be at least the pay rate."))


def placed_hours(session: Session, worker_ids: list[int]) -> dict[int, int]:
    """Hours per week each worker already has in active placements and open proposals."""
    totals: dict[int, int] = {}
    if not worker_ids:
        return totals
    for worker_id, hours in session.execute(
        select(Placement.worker_id, Placement.hours_per_week).where(
            Placement.worker_id.in_(worker_ids), Placement.status.in_(OPEN_PLACEMENT)
        )
    ):
        totals[worker_id] = totals.get(worker_id, 0) + hours
    return totals


def _can_handle(by: User, order: JobOrder) -> None:
    if by.role == Role.ADMIN or order.consultant_id == by.id:
        return
    raise Conflict(
        _(
            "This order belongs to %(name)s.",
            name=order.consultant.full_name if order.consultant else "—",
        )
    )


def propose(
    session: Session,
    by: User,
    order: JobOrder,
    worker: Worker,
    *,
    pay_rate_ore: int,
    bill_rate_ore: int,
    hours_per_week: int,
    start_date: date,
) -> Placement:
    """Propose a worker to the employer with rates from the price list (adjusted in limits)."""
    # One proposal at a time per order: the head count and the "already proposed" checks
    # below must see every proposal that raced this one (the database also refuses the
    # same worker twice: uq_placements_open_worker).
    lock(session, order)
    if order.status == OrderStatus.NEW:
        raise Conflict(_("Take the order before proposing workers."))
    if order.status not in (OrderStatus.TAKEN, OrderStatus.PROPOSED):
        raise Conflict(_("This order is no longer open."))
    _can_handle(by, order)
    if order.employer.duplicate_of_id is not None:
        raise Conflict(_("Confirm the company first: its CVR already belongs to an employer."))
    if worker.status not in (WorkerStatus.AVAILABLE, WorkerStatus.PLACED):
        raise Invalid(_("%(name)s is not available for work.", name=worker.display_name))
    open_here = session.scalars(
        select(Placement).where(
            Placement.job_order_id == order.id, Placement.status.in_(OPEN_PLACEMENT)
        )
    ).all()
    if any(p.worker_id == worker.id for p in open_here):
        raise Conflict(_("%(name)s is already proposed for this order.", name=worker.display_name))
    if len(open_here) >= order.head_count:
        raise Conflict(
            ngettext(
                "The order asks for %(num)d worker, who is already proposed or placed.",
                "The order asks for %(num)d workers, and that many are already proposed or placed.",
                order.head_count,
            )
        )
    if not 1 <= hours_per_week <= orders.MAX_HOURS_PER_WEEK:
        raise Invalid(_("Hours per week must be between 1 and 37."))
    if start_date < order.start_date:
        raise Invalid(_("The start date cannot be before the order's start date."))
    if order.end_date is not None and start_date >= order.end_date:
        raise Invalid(_("The start date must be before the order's end date."))
    area = order.work_area
    check_rates(
        pay_rate_ore=pay_rate_ore,
        bill_rate_ore=bill_rate_ore,
        list_pay_ore=area.pay_rate_ore,
        list_bill_ore=area.bill_rate_ore,
        limit_bp=settings.get(session).rate_adjust_limit_bp,
    )
    placement = Placement(
        job_order=order,
        employer=order.employer,
        worker=worker,
        consultant=order.consultant or by,
        pay_rate_ore=pay_rate_ore,
        bill_rate_ore=bill_rate_ore,
        hours_per_week=hours_per_week,
        start_date=start_date,
        end_date=order.end_date,
        status=PlacementStatus.PROPOSED,
    )
    try:
        with session.begin_nested():
            session.add(placement)
    except IntegrityError as error:  # uq_placements_open_worker: proposed meanwhile
        raise Conflict(
            _("%(name)s is already proposed for this order.", name=worker.display_name)
        ) from error
    audit.record(
        session,
        by,
        "placement.proposed",
        placement,
        order_id=order.id,
        worker_id=worker.id,
        pay_rate_ore=pay_rate_ore,
        bill_rate_ore=bill_rate_ore,
        price_list=[area.pay_rate_ore, area.bill_rate_ore],
    )
    orders.refresh_status(session, order, by)
    link = links.absolute_url("orders.proposal", placement_id=placement.id)
    notify(
        session,
        employer_users(order.employer),
        "placement_proposed",
        placement=placement,
        link=link,
    )
    return placement


def _must_be_open(session: Session, placement: Placement) -> None:
    """Lock the proposal and check it is still unanswered (an answer is given once)."""
    lock(session, placement)
    if placement.status != PlacementStatus.PROPOSED:
        raise Conflict(_("This proposal has already been answered."))


def employer_accept(session: Session, by: User, placement: Placement) -> None:
    """The employer says yes; the worker is asked next."""
    _must_be_open(session, placement)
    if placement.employer_accepted_at is not None:
        raise Conflict(_("You have already accepted this proposal."))
    placement.employer_accepted_at, placement.employer_accepted_by_id = dates.now(), by.id
    audit.record(session, by, "placement.employer_accepted", placement)
    worker_user = placement.worker.user
    link = links.absolute_url("placements.detail", placement_id=placement.id)
    notify(
        session,
        [worker_user] if worker_user else [],
        "placement_offer",
        placement=placement,
        link=link,
    )


def worker_accept(session: Session, by: User, placement: Placement) -> None:
    """The worker says yes after the employer did: the placement becomes active."""
    _must_be_open(session, placement)
    if placement.employer_accepted_at is None:
        raise Conflict(_("The employer has not answered yet."))
    placement.worker_accepted_at = dates.now()
    placement.status = PlacementStatus.ACTIVE
    placement.worker.status = WorkerStatus.PLACED
    if placement.employer.status == EmployerStatus.PENDING:
        placement.employer.status = EmployerStatus.ACTIVE
        audit.record(session, by, "employer.activated", placement.employer)
    audit.record(session, by, "placement.worker_accepted", placement)
    audit.record(session, by, "placement.activated", placement)
    orders.refresh_status(session, placement.job_order, by)
    link = links.absolute_url("placements.detail", placement_id=placement.id)
    recipients = [placement.consultant, *employer_users(placement.employer)]
    notify(
        session,
        [u for u in recipients if u is not None],
        "placement_started",
        placement=placement,
        link=link,
    )


def decline(session: Session, by: User, placement: Placement, reason: str) -> None:
    """The employer or the worker says no, with a reason the consultant reads."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Please give a reason."))
    _must_be_open(session, placement)
    if by.role == Role.WORKER and placement.employer_accepted_at is None:
        raise Conflict(_("The employer has not answered yet."))
    placement.status = PlacementStatus.DECLINED
    placement.declined_at, placement.declined_by_id = dates.now(), by.id
    placement.declined_reason = reason
    side = "worker" if by.role == Role.WORKER else "employer"
    audit.record(session, by, f"placement.{side}_declined", placement, reason=reason)
    orders.refresh_status(session, placement.job_order, by)
    who = placement.worker.display_name if side == "worker" else placement.employer.name
    notify(
        session,
        [placement.consultant] if placement.consultant else [],
        "placement_declined",
        placement=placement,
        who=who,
        reason=reason,
        link=links.absolute_url("consultant.match", order_id=placement.job_order_id),
    )


def add_note(
    session: Session, by: User, placement: Placement, *, note_date: date, kind: NoteKind, text: str
) -> PlacementNote:
    """A follow-up note (call, visit, note) that only intermediary staff see."""
    text = (text or "").strip()
    if not text:
        raise Invalid(_("Write the note."))
    if note_date > dates.today():
        raise Invalid(_("The date cannot be in the future."))
    note = PlacementNote(placement=placement, author=by, note_date=note_date, kind=kind, text=text)
    session.add(note)
    session.flush()
    audit.record(session, by, "placement.note_added", note, placement_id=placement.id, kind=kind)
    return note


def change_hours(
    session: Session, by: User, placement: Placement, *, hours_per_week: int, effective_from: date
) -> PlacementHoursChange:
    """Change the agreed hours from a date and keep the old figure in the history."""
    if placement.status != PlacementStatus.ACTIVE:
        raise Conflict(_("Only an active placement's hours can change."))
    if not 1 <= hours_per_week <= orders.MAX_HOURS_PER_WEEK:
        raise Invalid(_("Hours per week must be between 1 and 37."))
    if hours_per_week == placement.hours_per_week:
        raise Invalid(_("That is already the agreed number of hours."))
    if effective_from < placement.start_date:
        raise Invalid(_("The change cannot take effect before the placement started."))
    change = PlacementHoursChange(
        placement=placement,
        old_hours_per_week=placement.hours_per_week,
        new_hours_per_week=hours_per_week,
        effective_from=effective_from,
        changed_by=by,
    )
    placement.hours_per_week = hours_per_week
    session.add(change)
    session.flush()
    audit.record(
        session,
        by,
        "placement.hours_changed",
        placement,
        old=change.old_hours_per_week,
        new=hours_per_week,
        effective_from=effective_from,
    )
    return change


def end(
    session: Session,
    by: User,
    placement: Placement,
    *,
    reason: PlacementEndReason,
    end_date: date,
    note: str = "",
) -> None:
    """End an active placement with a reason; the worker is free again if nothing else runs."""
    if placement.status != PlacementStatus.ACTIVE:
        raise Conflict(_("Only an active placement can be ended."))
    if end_date < placement.start_date:
        raise Invalid(_("The end date cannot be before the start date."))
    if reason == PlacementEndReason.OTHER and not (note or "").strip():
        raise Invalid(_("Describe the reason."))
    placement.status = PlacementStatus.ENDED
    placement.end_date = end_date
    placement.end_reason = reason.value
    placement.end_note = (note or "").strip()
    still_working = session.scalar(
        select(Placement.id).where(
            Placement.worker_id == placement.worker_id,
            Placement.status == PlacementStatus.ACTIVE,
            Placement.id != placement.id,
        )
    )
    if still_working is None and placement.worker.status == WorkerStatus.PLACED:
        placement.worker.status = WorkerStatus.AVAILABLE
    audit.record(session, by, "placement.ended", placement, reason=reason.value, end_date=end_date)


# --- Loading with tenancy: a foreign id is simply not found --------------------------------


def get_for_user(session: Session, user: User, placement_id: int) -> Placement:
    """A placement this user may see: staff any; the employer's users and the worker their own
    active or ended ones, and the worker a proposal once the employer has said yes."""
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound()
    if user.role in STAFF_ROLES:
        return placement
    if user.role == Role.EMPLOYER:
        if placement.employer_id == user.employer_id and placement.status in (
            PlacementStatus.ACTIVE,
            PlacementStatus.ENDED,
        ):
            return placement
        raise NotFound()
    if user.role == Role.WORKER:
        worker = placement.worker
        if worker.user_id != user.id:
            raise NotFound()
        if placement.status in (PlacementStatus.ACTIVE, PlacementStatus.ENDED):
            return placement
        if placement.employer_accepted_at is not None:
            return placement  # an offer for the worker to answer (or already declined)
    raise NotFound()


def get_proposal_for_employer(session: Session, user: User, placement_id: int) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None or user.employer_id is None or placement.employer_id != user.employer_id:
        raise NotFound()
    return placement


def worker_for_user(session: Session, user: User) -> Worker | None:
    return session.scalar(select(Worker).where(Worker.user_id == user.id))


def listing(session: Session, user: User, number: int = 1, mine_only: bool = False) -> Page:
    """One page of the active and ended placements the user may see, newest start first,
    with the worker, employer and task loaded alongside (no query per row)."""
    stmt = (
        select(Placement)
        .where(Placement.status.in_((PlacementStatus.ACTIVE, PlacementStatus.ENDED)))
        .options(
            joinedload(Placement.worker),
            joinedload(Placement.employer),
            joinedload(Placement.job_order),
        )
        .order_by(Placement.start_date.desc(), Placement.id.desc())
    )
    if user.role == Role.EMPLOYER:
        stmt = stmt.where(Placement.employer_id == user.employer_id)
    elif user.role == Role.WORKER:
        worker = worker_for_user(session, user)
        if worker is None:
            return Page([], 0, 1)
        stmt = stmt.where(Placement.worker_id == worker.id)
    elif mine_only:
        stmt = stmt.where(Placement.consultant_id == user.id)
    return paginate(session, stmt, number)


def offered(session: Session, user: User) -> list[Placement]:
    """Jobs the employer has accepted and the worker has yet to answer (the worker's list)."""
    worker = worker_for_user(session, user) if user.role == Role.WORKER else None
    if worker is None:
        return []
    return list(
        session.scalars(
            select(Placement)
            .where(
                Placement.worker_id == worker.id,
                Placement.status == PlacementStatus.PROPOSED,
                Placement.employer_accepted_at.is_not(None),
            )
            .options(joinedload(Placement.employer), joinedload(Placement.job_order))
            .order_by(Placement.start_date, Placement.id)
        )
    )
