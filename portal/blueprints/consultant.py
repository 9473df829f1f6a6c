"""The consultant's desk: the order inbox, taking an order, matching and proposing workers."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import dates, settings
from core.db import get_session
from core.models import JobOrder, PlacementStatus, Role, Worker
from portal.auth import role_required
from portal.forms.consultant import CompanyForm, ProposeForm, TakeForm
from portal.forms.orders import CancelForm, day_names
from portal.services import orders, placements, workers
from portal.views import Done, submit

bp = Blueprint("consultant", __name__, url_prefix="/consultant")
MATCHES_SHOWN = 30  # the best candidates; the rest rank below anyone worth proposing first
DESK = (Role.CONSULTANT, Role.ADMIN)


@bp.get("/orders")
@role_required(*DESK)
def inbox():
    new, mine = orders.inbox(get_session(), current_user)
    return render_template("consultant/inbox.html", new=new, mine=mine, take_form=TakeForm())


def _order_page(order: JobOrder, *, cancel_form=None, company_form=None) -> str:
    rows = orders.placements_of(get_session(), order)
    return render_template(
        "consultant/order.html",
        order=order,
        placements=rows,
        take_form=TakeForm(),
        company_form=company_form or CompanyForm(),
        cancel_form=cancel_form or CancelForm(),
        can_cancel=order.status in orders.OPEN_STATUSES
        and not any(p.status == PlacementStatus.ACTIVE for p in rows),
        day_names=day_names,
    )


def _order_link(order_id: int) -> str:
    return url_for("consultant.order", order_id=order_id)


@bp.get("/orders/<int:order_id>")
@role_required(*DESK)
def order(order_id: int):
    return _order_page(orders.get(get_session(), order_id))


@bp.post("/orders/<int:order_id>/take")
@role_required(*DESK)
def take(order_id: int):
    job = orders.get(get_session(), order_id)

    def taken() -> Done:
        orders.take(get_session(), current_user, job)
        return Done(_order_link(order_id), _("The order is yours. Find a worker below."))

    return submit(TakeForm(), taken, back=_order_link(order_id))


@bp.post("/orders/<int:order_id>/company")
@role_required(*DESK)
def company(order_id: int):
    job = orders.get(get_session(), order_id)
    form = CompanyForm()

    def decided() -> Done:
        attach = form.decision.data == "attach"
        employer = orders.resolve_duplicate(get_session(), current_user, job, attach=attach)
        message = _("The order is now under %(name)s.", name=employer.name)
        return Done(_order_link(order_id), message)

    return submit(
        form, decided, page=lambda: _order_page(job, company_form=form), back=_order_link(order_id)
    )


@bp.post("/orders/<int:order_id>/cancel")
@role_required(*DESK)
def cancel(order_id: int):
    job = orders.get(get_session(), order_id)
    form = CancelForm()

    def cancelled() -> Done:
        orders.cancel(get_session(), current_user, job, form.reason.data)
        return Done(_order_link(order_id), _("The order is cancelled."))

    return submit(
        form, cancelled, page=lambda: _order_page(job, cancel_form=form), back=_order_link(order_id)
    )


@bp.get("/orders/<int:order_id>/match")
@role_required(*DESK)
def match(order_id: int):
    session = get_session()
    job = orders.get(session, order_id)
    ranked = workers.candidates(session, job)
    return render_template(
        "consultant/match.html",
        order=job,
        matches=ranked[:MATCHES_SHOWN],
        more=len(ranked) - MATCHES_SHOWN,
        day_names=day_names,
    )


@bp.route("/orders/<int:order_id>/propose/<int:worker_id>", methods=["GET", "POST"])
@role_required(*DESK)
def propose(order_id: int, worker_id: int):
    session = get_session()
    job, worker = orders.get(session, order_id), workers.get(session, worker_id)
    form = ProposeForm()
    form.from_order(job, dates.today())
    return submit(
        form,
        lambda: _proposed(job, worker, form),
        page=lambda: _propose_page(job, worker, form),
    )


def _propose_page(job: JobOrder, worker: Worker, form: ProposeForm) -> str:
    area, limit_bp = job.work_area, settings.get(get_session()).rate_adjust_limit_bp
    return render_template(
        "consultant/propose.html",
        order=job,
        worker=worker,
        form=form,
        pay_range=placements.rate_range(area.pay_rate_ore, limit_bp),
        bill_range=placements.rate_range(area.bill_rate_ore, limit_bp),
        limit_bp=limit_bp,
        day_names=day_names,
    )


def _proposed(job: JobOrder, worker: Worker, form: ProposeForm) -> Done:
    placements.propose(get_session(), current_user, job, worker, **form.terms())
    message = _(
        "%(worker)s is proposed to %(employer)s.",
        worker=worker.display_name,
        employer=job.employer.name,
    )
    return Done(url_for("consultant.match", order_id=job.id), message)
