"""The consultant's desk: the order inbox, taking an order, matching and proposing workers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange

from core import settings
from core.db import get_session
from core.errors import DomainError
from core.models import PlacementStatus, Role
from portal.auth import role_required
from portal.blueprints.orders import CancelForm, day_names
from portal.forms import MoneyField
from portal.services import orders, placements, workers
from portal.submissions import Done, OnceForm, flash_and_redirect, once
from portal.views import commit_or_flash

bp = Blueprint("consultant", __name__, url_prefix="/consultant")
DESK = (Role.CONSULTANT, Role.ADMIN)


class TakeForm(OnceForm):
    pass


class CompanyForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("attach", _l("Same company: put the order under the existing employer")),
            SelectChoice(
                "separate", _l("A different company: keep it separate and invite the contact")
            ),
        ],
        validators=[DataRequired(_l("Choose one."))],
    )


class ProposeForm(OnceForm):
    pay_rate_ore = MoneyField(_l("Pay rate per hour (kr.)"), validators=[InputRequired()])
    bill_rate_ore = MoneyField(
        _l("Bill rate per hour excl. VAT (kr.)"), validators=[InputRequired()]
    )
    hours_per_week = IntegerField(
        _l("Hours per week"),
        validators=[InputRequired(), NumberRange(1, 37, _l("Between 1 and 37 hours a week."))],
    )
    start_date = DateField(_l("Start date"), validators=[InputRequired()])


@bp.get("/orders")
@role_required(*DESK)
def inbox():
    new, mine = orders.inbox(get_session(), current_user)
    return render_template("consultant/inbox.html", new=new, mine=mine, take_form=TakeForm())


def _order_page(order, *, status: int = 200, cancel_form=None, company_form=None):
    session = get_session()
    rows = orders.placements_of(session, order)
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
    ), status


@bp.get("/orders/<int:order_id>")
@role_required(*DESK)
def order(order_id: int):
    return _order_page(orders.get(get_session(), order_id))


@bp.post("/orders/<int:order_id>/take")
@role_required(*DESK)
def take(order_id: int):
    session = get_session()
    job = orders.get(session, order_id)
    back = url_for("consultant.order", order_id=order_id)
    form = TakeForm()
    if not form.validate_on_submit():
        abort(400)

    def perform() -> Done:
        orders.take(session, current_user, job)
        return Done(back, _("The order is yours. Find a worker below."))

    return once(session, form, perform, flash_and_redirect(back))


@bp.post("/orders/<int:order_id>/company")
@role_required(*DESK)
def company(order_id: int):
    session = get_session()
    job = orders.get(session, order_id)
    form = CompanyForm()
    if not form.validate_on_submit():
        return _order_page(job, status=400, company_form=form)
    try:
        employer = orders.resolve_duplicate(
            session, current_user, job, attach=form.decision.data == "attach"
        )
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
    else:
        session.commit()
        flash(_("The order is now under %(name)s.", name=employer.name), "success")
    return redirect(url_for("consultant.order", order_id=order_id))


@bp.post("/orders/<int:order_id>/cancel")
@role_required(*DESK)
def cancel(order_id: int):
    session = get_session()
    job = orders.get(session, order_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _order_page(job, status=400, cancel_form=form)
    commit_or_flash(
        session,
        lambda: orders.cancel(session, current_user, job, form.reason.data),
        _("The order is cancelled."),
    )
    return redirect(url_for("consultant.order", order_id=order_id))


@bp.get("/orders/<int:order_id>/match")
@role_required(*DESK)
def match(order_id: int):
    session = get_session()
    job = orders.get(session, order_id)
    ranked = workers.candidates(session, job)
    return render_template(
        "consultant/match.html",
        order=job,
        matches=ranked,
        workers={w.id: w for w in workers.listing(session)},
        day_names=day_names,
    )


@bp.route("/orders/<int:order_id>/propose/<int:worker_id>", methods=["GET", "POST"])
@role_required(*DESK)
def propose(order_id: int, worker_id: int):
    session = get_session()
    job = orders.get(session, order_id)
    worker = workers.get(session, worker_id)
    area = job.work_area
    limit_bp = settings.get(session).rate_adjust_limit_bp
    form = ProposeForm()
    if not form.is_submitted():
        form.pay_rate_ore.data = area.pay_rate_ore
        form.bill_rate_ore.data = area.bill_rate_ore
        form.hours_per_week.data = job.hours_per_week
        form.start_date.data = max(job.start_date, orders.today_local())

    def page(error: str | None = None):
        if error:
            form.form_errors.append(error)
        return render_template(
            "consultant/propose.html",
            order=job,
            worker=worker,
            form=form,
            pay_range=placements.rate_range(area.pay_rate_ore, limit_bp),
            bill_range=placements.rate_range(area.bill_rate_ore, limit_bp),
            limit_bp=limit_bp,
            day_names=day_names,
        ), (400 if form.is_submitted() else 200)

    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        placements.propose(
            session,
            current_user,
            job,
            worker,
            pay_rate_ore=form.pay_rate_ore.data,
            bill_rate_ore=form.bill_rate_ore.data,
            hours_per_week=form.hours_per_week.data,
            start_date=form.start_date.data,
        )
        return Done(
            url_for("consultant.match", order_id=order_id),
            _(
                "%(worker)s is proposed to %(employer)s.",
                worker=worker.display_name,
                employer=job.employer.name,
            ),
        )

    return once(session, form, perform, page)
