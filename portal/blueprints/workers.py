"""Worker profiles, kept by consultants: creating one invites the worker by e-mail."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, IntegerField, SelectChoice, SelectField, SelectMultipleField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from core import settings
from core.db import get_session
from core.errors import DomainError
from core.models import Placement, Role, User, WorkerStatus
from portal.auth import role_required
from portal.blueprints.orders import DaysField
from portal.forms import Digits, Postcode, Stripped
from portal.services import workers

bp = Blueprint("workers", __name__, url_prefix="/workers")
DESK = (Role.CONSULTANT, Role.ADMIN)

STATUS_LABELS = {
    WorkerStatus.AVAILABLE: _l("Available"),
    WorkerStatus.PLACED: _l("Placed"),
    WorkerStatus.PAUSED: _l("Paused"),
    WorkerStatus.LEFT: _l("Left"),
}


class AreasField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class WorkerForm(FlaskForm):
    first_name = Stripped(_l("First name"), validators=[DataRequired(), Length(max=100)])
    last_name = Stripped(_l("Last name"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
        description=_l("The worker receives an invitation to log in at this address."),
    )
    phone = Stripped(_l("Phone"), validators=[Optional(), Length(max=30)])
    postcode = Stripped(_l("Postcode"), validators=[DataRequired(), Postcode()])
    work_areas = AreasField(_l("Work areas"), coerce=int, validators=[Optional()])
    hours_min = IntegerField(
        _l("Hours per week wanted, at least"),
        validators=[InputRequired(), NumberRange(0, 37, _l("Between 0 and 37."))],
    )
    hours_max = IntegerField(
        _l("Hours per week wanted, at most"),
        validators=[InputRequired(), NumberRange(1, 37, _l("Between 1 and 37."))],
    )
    available_days = DaysField(_l("Available weekdays"), validators=[Optional()])
    consultant_id = SelectField(_l("Contact consultant"), coerce=int, default=0)
    status = SelectField(
        _l("Status"), choices=[SelectChoice(s.value, label) for s, label in STATUS_LABELS.items()]
    )
    payroll_number = Stripped(
        _l("Payroll number"),
        validators=[Optional(), Digits(1, 20, message=_l("Digits only."))],
        description=_l("The worker's number in the payroll system. Empty: the next free one."),
    )

    def validate_hours_max(self, field):
        low, high = self.hours_min.data, field.data
        if low is not None and high is not None and high < low:
            raise ValidationError(_("The maximum must be at least the minimum."))

    def data_for_service(self) -> workers.WorkerData:
        return workers.WorkerData(
            first_name=self.first_name.data,
            last_name=self.last_name.data,
            phone=self.phone.data or "",
            postcode=self.postcode.data,
            hours_min=self.hours_min.data,
            hours_max=self.hours_max.data,
            available_days=self.available_days.mask,
            work_area_ids=list(self.work_areas.data or []),
            consultant_id=self.consultant_id.data or None,
            status=WorkerStatus(self.status.data),
            payroll_number=self.payroll_number.data or "",
        )


def _choices(form: WorkerForm) -> None:
    session = get_session()
    form.work_areas.choices = [SelectChoice(a.id, a.name) for a in settings.work_areas(session)]
    consultants = session.scalars(
        select(User).where(User.role == Role.CONSULTANT, User.active).order_by(User.full_name)
    ).all()
    form.consultant_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(c.id, c.full_name or c.email) for c in consultants
    ]


@bp.get("")
@role_required(*DESK)
def index():
    return render_template(
        "workers/index.html", workers=workers.listing(get_session()), status_labels=STATUS_LABELS
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*DESK)
def new():
    session = get_session()
    form = WorkerForm()
    _choices(form)
    if not form.is_submitted():
        form.hours_min.data, form.hours_max.data = 5, 15
        form.available_days.set_mask(0b0011111)
        if current_user.role == Role.CONSULTANT:
            form.consultant_id.data = current_user.id
    if form.validate_on_submit():
        try:
            worker = workers.create(session, current_user, form.data_for_service(), form.email.data)
        except DomainError as error:
            session.rollback()
            form.form_errors.append(error.message)
        else:
            session.commit()
            flash(
                _("%(name)s is created and invited by e-mail.", name=worker.display_name),
                "success",
            )
            return redirect(url_for("workers.edit", worker_id=worker.id))
    return render_template("workers/form.html", form=form, worker=None), (
        400 if form.is_submitted() else 200
    )


@bp.route("/<int:worker_id>", methods=["GET", "POST"])
@role_required(*DESK)
def edit(worker_id: int):
    session = get_session()
    worker = workers.get(session, worker_id)
    form = WorkerForm(obj=worker)
    _choices(form)
    # The e-mail is the worker's login; it is shown, not edited, here.
    del form.email
    if not form.is_submitted():
        form.work_areas.data = [a.id for a in worker.work_areas]
        form.available_days.set_mask(worker.available_days)
        form.consultant_id.data = worker.consultant_id or 0
        form.status.data = worker.status.value
    if form.validate_on_submit():
        try:
            workers.update(session, current_user, worker, form.data_for_service())
        except DomainError as error:
            session.rollback()
            form.form_errors.append(error.message)
        else:
            session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("workers.edit", worker_id=worker.id))
    history = session.scalars(
        select(Placement).where(Placement.worker_id == worker.id).order_by(Placement.id.desc())
    ).all()
    return render_template("workers/form.html", form=form, worker=worker, placements=history), (
        400 if form.is_submitted() else 200
    )
