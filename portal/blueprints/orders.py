"""Ordering help: the public "Bestil hjælp" page and the employer's own orders and proposals."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import settings
from core.db import get_session
from core.models import JobOrder, Placement, PlacementStatus, Role
from portal.auth import role_required
from portal.forms.orders import (
    KEY_PATTERN,
    AcceptForm,
    CancelForm,
    DeclineForm,
    InvoicingForm,
    PublicOrderForm,
    TaskForm,
    day_names,
)
from portal.security import limiter
from portal.services import orders, placements
from portal.views import Done, submit

log = logging.getLogger(__name__)
bp = Blueprint("orders", __name__)

ORDER_LIMIT_PER_IP = "10 per hour"  # override with PORTAL_ORDER_LIMIT_PER_IP


def _limit() -> str:
    return current_app.config.get("ORDER_LIMIT_PER_IP", ORDER_LIMIT_PER_IP)


def _receipt(order: JobOrder | None) -> str:
    return render_template(
        "orders/received.html",
        order=order,
        org=settings.get(get_session()),
        callback_days=orders.CALLBACK_WORKING_DAYS,
    )


@bp.route("/order", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def public_order():
    if current_user.is_authenticated and current_user.role == Role.EMPLOYER:
        return redirect(url_for("orders.new"))
    form = PublicOrderForm()
    areas = settings.work_areas(get_session(), only_active=True)
    form.offer(areas)
    if form.is_submitted() and form.website.data:
        # A robot filled the hidden field: look successful, store nothing.
        log.info("order form honeypot filled from %s", request.remote_addr)
        return _receipt(None)
    return submit(
        form,
        lambda: _ordered_publicly(form),
        page=lambda: render_template("orders/public.html", form=form, areas=areas),
    )


def _ordered_publicly(form: PublicOrderForm) -> Done:
    key = form.submission_key.data
    orders.submit_public_order(get_session(), key, form.company(), form.details())
    return Done(url_for("orders.received", key=key), "")  # the receipt page says it all


@bp.get("/order/received/<key>")
def received(key: str):
    order = orders.find_by_submission_key(get_session(), key) if KEY_PATTERN.match(key) else None
    if order is None:
        abort(404)
    return _receipt(order)


@bp.get("/orders")
@role_required(Role.EMPLOYER)
def index():
    rows = orders.for_employer(get_session(), current_user.employer_id)
    return render_template("orders/index.html", orders=rows)


@bp.route("/company/invoicing", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def invoicing():
    """The employer's own invoicing details: where invoices go, and a public body's EAN."""
    employer = current_user.employer
    form = InvoicingForm(obj=employer)

    def saved() -> Done:
        ean = form.ean.data or None
        orders.update_invoicing(get_session(), current_user, employer, form.invoice_email.data, ean)
        return Done(url_for("orders.invoicing"), _("Your invoicing details are saved."))

    def page() -> str:
        return render_template("orders/invoicing.html", form=form, employer=employer)

    return submit(form, saved, page=page)


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def new():
    form = TaskForm()
    areas = settings.work_areas(get_session(), only_active=True)
    form.offer(areas)
    form.at(current_user.employer)
    return submit(
        form,
        lambda: _ordered(form),
        page=lambda: render_template("orders/new.html", form=form, areas=areas),
    )


def _ordered(form: TaskForm) -> Done:
    order = orders.create_order(
        get_session(), current_user, form.details(), form.submission_key.data
    )
    message = _("Thank you! Your order has been received.")
    return Done(url_for("orders.detail", order_id=order.id), message)


def _own_order(order_id: int) -> JobOrder:
    return orders.get_for_employer(get_session(), current_user.employer_id, order_id)


def _detail_page(order: JobOrder, cancel_form: CancelForm | None = None) -> str:
    rows = orders.placements_of(get_session(), order)
    has_active = any(p.status == PlacementStatus.ACTIVE for p in rows)
    return render_template(
        "orders/detail.html",
        order=order,
        placements=rows,
        can_cancel=order.status in orders.OPEN_STATUSES and not has_active,
        cancel_form=cancel_form or CancelForm(),
        decline_form=DeclineForm(formdata=None),
        day_names=day_names,
    )


@bp.get("/orders/<int:order_id>")
@role_required(Role.EMPLOYER)
def detail(order_id: int):
    return _detail_page(_own_order(order_id))


@bp.post("/orders/<int:order_id>/cancel")
@role_required(Role.EMPLOYER)
def cancel(order_id: int):
    order = _own_order(order_id)
    form = CancelForm()
    back = url_for("orders.detail", order_id=order_id)

    def cancelled() -> Done:
        orders.cancel(get_session(), current_user, order, form.reason.data)
        return Done(back, _("The order is cancelled."))

    return submit(form, cancelled, page=lambda: _detail_page(order, form), back=back)


def _proposal(placement_id: int) -> Placement:
    return placements.get_proposal_for_employer(get_session(), current_user, placement_id)


def _proposal_page(placement: Placement, decline_form: DeclineForm | None = None) -> str:
    return render_template(
        "orders/proposal.html",
        placement=placement,
        accept_form=AcceptForm(),
        decline_form=decline_form or DeclineForm(),
    )


@bp.get("/orders/proposals/<int:placement_id>")
@role_required(Role.EMPLOYER)
def proposal(placement_id: int):
    return _proposal_page(_proposal(placement_id))


@bp.post("/orders/proposals/<int:placement_id>/accept")
@role_required(Role.EMPLOYER)
def accept(placement_id: int):
    placement = _proposal(placement_id)
    form = AcceptForm()
    back = form.back(url_for("orders.proposal", placement_id=placement_id))

    def accepted() -> Done:
        placements.employer_accept(get_session(), current_user, placement)
        worker = placement.worker.first_name
        return Done(back, _("Thank you! We now ask %(worker)s to confirm.", worker=worker))

    return submit(form, accepted, back=back)


@bp.post("/orders/proposals/<int:placement_id>/decline")
@role_required(Role.EMPLOYER)
def decline(placement_id: int):
    placement = _proposal(placement_id)
    form = DeclineForm()
    back = form.back(url_for("orders.detail", order_id=placement.job_order_id))

    def declined() -> Done:
        placements.decline(get_session(), current_user, placement, form.reason.data)
        message = _("The proposal is declined. Your contact person will be in touch.")
        return Done(back, message)

    return submit(form, declined, page=lambda: _proposal_page(placement, form), back=back)
