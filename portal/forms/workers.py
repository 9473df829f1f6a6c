"""The worker profile form, kept by consultants."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
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

from core.models import PlacementEndReason, Role, User, WorkArea, Worker, WorkerStatus
from portal.forms import Digits, OnceForm, Postcode, Stripped
from portal.forms.orders import DaysField
from portal.services import workers

STATUS_LABELS = {
    WorkerStatus.AVAILABLE: _l("Available"),
    WorkerStatus.PLACED: _l("Placed"),
    WorkerStatus.PAUSED: _l("Paused"),
    WorkerStatus.LEFT: _l("Left"),
}
# A worker who left, told apart by why (their last placement's end): the outcome the
# intermediary works for is not the same as a drop-out.
LEFT_LABELS = {
    PlacementEndReason.ORDINARY_JOB: _l("Left for an ordinary job"),
    PlacementEndReason.MORE_HOURS: _l("Left for more hours"),
    PlacementEndReason.STOPPED: _l("Dropped out"),
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

    def offer(self, areas: list[WorkArea], consultants: list[User]) -> None:
        self.work_areas.choices = [SelectChoice(a.id, a.name) for a in areas]
        self.consultant_id.choices = [SelectChoice(0, "—")] + [
            SelectChoice(c.id, c.full_name or c.email) for c in consultants
        ]

    def for_new(self, by: User) -> None:
        """A new profile: 5–15 hours on weekdays, with the consultant who creates it."""
        if not self.is_submitted():
            self.hours_min.data, self.hours_max.data = 5, 15
            self.available_days.set_mask(0b0011111)
            if by.role == Role.CONSULTANT:
                self.consultant_id.data = by.id

    def for_existing(self, worker: Worker) -> None:
        """An existing profile; its e-mail is the worker's login: shown, not edited, here."""
        del self.email
        if not self.is_submitted():
            self.work_areas.data = [a.id for a in worker.work_areas]
            self.available_days.set_mask(worker.available_days)
            self.consultant_id.data = worker.consultant_id or 0
            self.status.data = worker.status.value


class EraseForm(OnceForm):
    """Erase a worker's personal data (portal.services.privacy.erase): a reason and a tick."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[DataRequired(), Length(max=1000)],
        description=_l(
            "E.g. the worker's request and when it was made. Do not write health or other "
            "personal details here: the reason is kept."
        ),
    )
    confirm = BooleanField(
        _l("I understand that this cannot be undone."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
    invalid_message = _l("Give a reason and tick the box to confirm the erasure.")
