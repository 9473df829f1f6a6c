"""Job orders: the public order form, employers' own orders, the consultant's inbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from core import audit, dates, links, mail, outbox
from core.db import lock
from core.errors import Conflict, Invalid, NotFound
from core.models import (
    Employer,
    EmployerStatus,
    JobOrder,
    OrderStatus,
    Placement,
    PlacementStatus,
    Role,
    User,
    WorkArea,
)
from portal.services import accounts

# What the receipt page promises; not a legal figure, so a constant rather than a setting.
CALLBACK_WORKING_DAYS = 2
MAX_HOURS_PER_WEEK = 37
MAX_HEAD_COUNT = 10
OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.TAKEN, OrderStatus.PROPOSED)


@dataclass(frozen=True)
class CompanyDetails:
    """The company as typed into the public order form."""

    cvr: str
    name: str
    address_line: str
    postcode: str
    city: str
    contact_name: str
    email: str
    phone: str
    ean: str | None = None


@dataclass(frozen=True)
class OrderDetails:
    work_area_id: int
    title: str
    description: str
    address: str
    postcode: str
    hours_per_week: int
    preferred_days: int  # bit 0 = Monday
    start_date: date
    end_date: date | None
    head_count: int
    order_reference: str = ""
    person_reference: str = ""


def notify(session: Session, users: Iterable[User], template: str, **context: Any) -> None:
    """Queue the e-mail `template` once per active user, in the recipient's own language (the
    template sees the recipient as `user`)."""
    seen = set()
    for user in users:
        if user is None or not user.active or user.email in seen:
            continue
        seen.add(user.email)
        with force_locale(user.locale):
            subject, body = mail.compose(template, user=user, **context)
        outbox.add(session, "order", user.email, subject=subject, body=body)


def employer_users(employer: Employer) -> list[User]:
    return [u for u in employer.users if u.active]


def _check_details(session: Session, details: OrderDetails) -> WorkArea:
    area = session.get(WorkArea, details.work_area_id)
    if area is None or not area.active:
        raise Invalid(_("Choose a work area from the price list."))
    if not details.title.strip():
        raise Invalid(_("Describe the task in a few words."))
    if not 1 <= details.hours_per_week <= MAX_HOURS_PER_WEEK:
        raise Invalid(_("Hours per week must be between 1 and 37."))
    if not 1 <= details.head_count <= MAX_HEAD_COUNT:
        raise Invalid(_("The number of workers must be between 1 and 10."))
    if not 0 <= details.preferred_days < 1 << 7:
        raise Invalid(_("Choose weekdays from the list."))
    if details.start_date < dates.today():
        raise Invalid(_("The start date cannot be in the past."))
    if details.end_date is not None and details.end_date <= details.start_date:
        raise Invalid(_("The end date must be after the start date."))
    return area


def _new_order(details: OrderDetails, employer: Employer, area: WorkArea, **extra) -> JobOrder:
    return JobOrder(
        employer=employer,
        work_area=area,
        title=details.title.strip(),
        description=details.description.strip(),
        address=details.address.strip(),
        postcode=details.postcode.strip(),
        hours_per_week=details.hours_per_week,
        preferred_days=details.preferred_days,
        start_date=details.start_date,
        end_date=details.end_date,
        head_count=details.head_count,
        order_reference=details.order_reference.strip(),
        person_reference=details.person_reference.strip(),
        status=OrderStatus.NEW,
        **extra,
    )


def find_by_submission_key(session: Session, key: str) -> JobOrder | None:
    return session.scalar(select(JobOrder).where(JobOrder.submission_key == key))


def _already_submitted(session: Session, submission_key: str) -> JobOrder:
    """The order another request stored with this key while this one was checking."""
    existing = find_by_submission_key(session, submission_key)
    if existing is None:
        raise Conflict(_("The form had expired. Please check it and send it again."))
    return existing


def known_employer(session: Session, cvr: str) -> Employer | None:
    """The employer that already owns this CVR (never a company still awaiting that check)."""
    return session.scalar(
        select(Employer)
        .where(Employer.cvr == cvr, Employer.duplicate_of_id.is_(None))
        .order_by(Employer.id)
        .limit(1)
    )


def update_invoicing(
    session: Session, by: User, employer: Employer, invoice_email: str, ean: str | None
) -> None:
    """The employer's invoice address and EAN, for invoices issued from now on (those issued
    keep the details they were issued with)."""
    lock(session, employer)
    before = {"invoice_email": employer.invoice_email, "ean": employer.ean}
    employer.invoice_email, employer.ean = invoice_email, ean or None
    after = {"invoice_email": employer.invoice_email, "ean": employer.ean}
    if after != before:
        audit.record(
            session, by, "employer.invoicing_changed", employer, before=before, after=after
        )


def employers_by_name(session: Session) -> list[Employer]:
    return list(session.scalars(select(Employer).order_by(Employer.name)))


def submit_public_order(
    session: Session, submission_key: str, company: CompanyDetails, details: OrderDetails
) -> tuple[JobOrder, bool]:
    """Create the pending employer, its first user and the order from the public form.

    Returns the order and whether an invitation was sent. The same submission key returns
    the order it created the first time. A CVR we already know does not attach the order to
    that employer: the company waits as a pending possible duplicate for a consultant.
    """
    existing = find_by_submission_key(session, submission_key)
    if existing is not None:
        return existing, False
    area = _check_details(session, details)
    known = known_employer(session, company.cvr)
    employer = Employer(
        name=company.name.strip(),
        cvr=company.cvr,
        ean=company.ean or None,
        address_line=company.address_line.strip(),
        postcode=company.postcode.strip(),
        city=company.city.strip(),
        contact_name=company.contact_name.strip(),
        phone=company.phone.strip(),
        invoice_email=accounts.normalize_email(company.email),
        status=EmployerStatus.PENDING,
        duplicate_of=known,
    )
    order = _new_order(
        details,
        employer,
        area,
        contact_name=company.contact_name.strip(),
        contact_email=accounts.normalize_email(company.email),
        contact_phone=company.phone.strip(),
        submission_key=submission_key,
    )
    try:
        with session.begin_nested():  # the same form sent twice at once stores one order
            session.add_all([employer, order])
    except IntegrityError:
        return _already_submitted(session, submission_key), False
    invited = False
    if known is None:
        invited = _invite_contact(session, None, order)
    if not invited:
        _confirm_to_contact(session, order)
    audit.record(
        session,
        None,
        "order.submitted",
        order,
        public=True,
        cvr=company.cvr,
        employer_id=employer.id,
        possible_duplicate_of=known.id if known else None,
        invited=invited,
    )
    return order, invited


def _confirm_to_contact(session: Session, order: JobOrder) -> None:
    """E-mail the contact that the order arrived, when no invitation does so.

    Every public order sends the contact exactly one e-mail (an invitation or this), after
    the response: the receipt page and its timing are the same whether or not the address
    already has a login, so the form cannot be used to find out which addresses do."""
    if not order.contact_email:
        return
    subject, body = mail.compose(
        "order_received",
        order=order,
        days=CALLBACK_WORKING_DAYS,
        link=links.absolute_url("auth.login"),
    )
    outbox.add(session, "order", order.contact_email, subject=subject, body=body)


def _invite_contact(session: Session, by: User | None, order: JobOrder) -> bool:
    """Invite the order's contact as the employer's first user, unless the address is taken.

    An address that already has a login (another company's user, say) is left for the
    consultant to sort out on the phone; a public form must not reveal or reuse it.
    """
    if not order.contact_email or accounts.find_by_email(session, order.contact_email):
        return False
    accounts.invite(
        session,
        by,
        email=order.contact_email,
        role=Role.EMPLOYER,
        full_name=order.contact_name,
        employer=order.employer,
        phone=order.contact_phone,
        order_contact=True,
    )
    return True


def create_order(session: Session, by: User, details: OrderDetails, submission_key: str):
    """A logged-in employer user orders more help; the same key returns the same order."""
    if by.role != Role.EMPLOYER or by.employer is None:
        raise Invalid(_("Only employer users can order help here."))
    existing = find_by_submission_key(session, submission_key)
    if existing is not None:
        if existing.employer_id != by.employer_id:
            raise NotFound()
        return existing
    area = _check_details(session, details)
    try:
        # Made inside the savepoint: joining the employer's orders marks the employer changed,
        # and the savepoint's flush must find the order in the session already.
        with session.begin_nested():
            order = _new_order(
                details,
                by.employer,
                area,
                contact_name=by.full_name,
                contact_email=by.email,
                contact_phone=by.phone,
                submission_key=submission_key,
                created_by_id=by.id,
            )
            session.add(order)
    except IntegrityError:
        existing = _already_submitted(session, submission_key)
        if existing.employer_id != by.employer_id:
            raise NotFound() from None
        return existing
    audit.record(session, by, "order.created", order, employer_id=by.employer_id)
    return order


def get_for_employer(session: Session, employer_id: int | None, order_id: int) -> JobOrder:
    """The employer's own order; any other id is simply not found."""
    order = session.scalar(
        select(JobOrder).where(JobOrder.id == order_id, JobOrder.employer_id == employer_id)
    )
    if order is None or employer_id is None:
        raise NotFound()
    return order


def get(session: Session, order_id: int) -> JobOrder:
    order = session.get(JobOrder, order_id)
    if order is None:
        raise NotFound()
    return order


def placements_of(session: Session, order: JobOrder) -> list[Placement]:
    return list(
        session.scalars(
            select(Placement).where(Placement.job_order_id == order.id).order_by(Placement.id)
        )
    )


def for_employer(session: Session, employer_id: int) -> list[JobOrder]:
    open_first = case((JobOrder.status.in_(OPEN_STATUSES), 0), else_=1)
    return list(
        session.scalars(
            select(JobOrder)
            .where(JobOrder.employer_id == employer_id)
            .order_by(open_first, JobOrder.created_at.desc(), JobOrder.id.desc())
        )
    )


INBOX_LOADS = (joinedload(JobOrder.employer), joinedload(JobOrder.work_area))


def inbox(session: Session, consultant: User) -> tuple[list[JobOrder], list[JobOrder]]:
    """New orders (oldest first, so nobody waits longest), then the consultant's open ones."""
    new = session.scalars(
        select(JobOrder)
        .where(JobOrder.status == OrderStatus.NEW)
        .options(*INBOX_LOADS)
        .order_by(JobOrder.created_at, JobOrder.id)
    ).all()
    mine = session.scalars(
        select(JobOrder)
        .where(
            JobOrder.consultant_id == consultant.id,
            JobOrder.status.in_((OrderStatus.TAKEN, OrderStatus.PROPOSED)),
        )
        .options(*INBOX_LOADS)
        .order_by(JobOrder.start_date, JobOrder.id)
    ).all()
    return list(new), list(mine)


def take(session: Session, by: User, order: JobOrder) -> None:
    """The consultant becomes the order's fixed contact person."""
    # Two consultants taking the order at once: the second waits here, then sees it taken.
    lock(session, order)
    if order.status != OrderStatus.NEW:
        if order.consultant_id == by.id:
            return
        raise Conflict(
            _(
                "This order has already been taken by %(name)s.",
                name=order.consultant.full_name if order.consultant else "—",
            )
        )
    order.consultant = by
    order.status = OrderStatus.TAKEN
    order.taken_at = dates.now()
    audit.record(session, by, "order.taken", order)
    notify(
        session,
        employer_users(order.employer),
        "order_taken",
        order=order,
        contact=by,
        link=links.absolute_url("orders.detail", order_id=order.id),
    )


def resolve_duplicate(session: Session, by: User, order: JobOrder, attach: bool) -> Employer:
    """Put a public order under the employer that owns its CVR, or keep the company separate."""
    pending = order.employer
    target = pending.duplicate_of
    if target is None:
        raise Conflict(_("This order's company needs no confirmation."))
    snapshot = {
        "name": pending.name,
        "cvr": pending.cvr,
        "address": f"{pending.address_line}, {pending.postcode} {pending.city}",
        "contact": pending.contact_name,
        "email": pending.invoice_email,
        "phone": pending.phone,
    }
    if attach:
        if pending.users:
            raise Conflict(_("This company already has users; keep it separate."))
        for moved in list(pending.orders):
            moved.employer = target
            session.flush()
            audit.record(
                session,
                by,
                "order.attached_to_employer",
                moved,
                employer_id=target.id,
                submitted=snapshot,
            )
        session.delete(pending)
        session.flush()
        return target
    pending.duplicate_of = None
    invited = _invite_contact(session, by, order)
    audit.record(
        session, by, "employer.kept_separate", pending, same_cvr_as=target.id, invited=invited
    )
    return pending


def cancel(session: Session, by: User, order: JobOrder, reason: str) -> None:
    """Cancel an order that has nobody working on it; open proposals are withdrawn."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Tell us why the order is cancelled."))
    if order.status not in OPEN_STATUSES:
        raise Conflict(_("Only open orders can be cancelled."))
    placements = session.scalars(select(Placement).where(Placement.job_order_id == order.id)).all()
    if any(p.status == PlacementStatus.ACTIVE for p in placements):
        raise Conflict(
            _("Someone is working on this order. Ask your contact person to end the placement.")
        )
    now = dates.now()
    for placement in placements:
        if placement.status == PlacementStatus.PROPOSED:
            placement.status = PlacementStatus.DECLINED
            placement.declined_at, placement.declined_by_id = now, by.id
            placement.declined_reason = _("The order was cancelled.")
            audit.record(session, by, "placement.withdrawn", placement, reason="order cancelled")
    order.status = OrderStatus.CANCELLED
    order.cancelled_at, order.cancelled_reason = now, reason
    audit.record(session, by, "order.cancelled", order, reason=reason)
    if order.consultant is not None and order.consultant_id != by.id:
        notify(
            session,
            [order.consultant],
            "order_cancelled",
            order=order,
            reason=reason,
            link=links.absolute_url("consultant.order", order_id=order.id),
        )


def refresh_status(session: Session, order: JobOrder, by: User | None = None) -> None:
    """Derive taken / proposed / filled from the order's placements."""
    if order.status in (OrderStatus.NEW, OrderStatus.CANCELLED, OrderStatus.CLOSED):
        return
    counts = dict(
        session.execute(
            select(Placement.status, func.count())
            .where(Placement.job_order_id == order.id)
            .group_by(Placement.status)
        ).all()
    )
    placed = counts.get(PlacementStatus.ACTIVE, 0) + counts.get(PlacementStatus.ENDED, 0)
    if placed >= order.head_count:
        new = OrderStatus.FILLED
    elif counts.get(PlacementStatus.PROPOSED, 0):
        new = OrderStatus.PROPOSED
    else:
        new = OrderStatus.TAKEN
    if new != order.status:
        old, order.status = order.status, new
        audit.record(session, by, "order.status_changed", order, old=old.value, new=new.value)
