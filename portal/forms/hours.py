"""Forms of the hours pages: a shift (record, change, correct), a dispute and its resolution,
the sign buttons, and the period of a timesheet or an hours statement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from core.models import Placement
from portal.forms import OnceForm
from portal.services import hours

MAX_PERIOD_DAYS = 366


class ShiftFields(OnceForm):
    work_date = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose the date."))])
    start_time = TimeField(
        _l("Start"),
        format=["%H:%M", "%H:%M:%S"],
        validators=[InputRequired(message=_l("Enter when the shift started."))],
    )
    end_time = TimeField(
        _l("End"),
        format=["%H:%M", "%H:%M:%S"],
        validators=[InputRequired(message=_l("Enter when the shift ended."))],
        description=_l("An end before the start means the shift ran past midnight."),
    )
    break_minutes = IntegerField(
        _l("Break (minutes)"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter the break in minutes (0 for none).")),
            NumberRange(min=0, max=720, message=_l("The break must be 0–720 minutes.")),
        ],
        render_kw={"inputmode": "numeric", "min": "0", "step": "5"},
    )
    note = TextAreaField(
        _l("Note (optional)"), validators=[Optional(), Length(max=hours.MAX_NOTE_LENGTH)]
    )

    def shift(self) -> hours.Shift:
        return hours.Shift(
            self.work_date.data,
            self.start_time.data,
            self.end_time.data,
            self.break_minutes.data,
            self.note.data or "",
        )


class RecordForm(ShiftFields):
    placement_id = SelectField(_l("Job"), coerce=int, validators=[InputRequired()])

    def offer(
        self,
        placements: list[Placement],
        label: Callable[[Placement], str],
        *,
        wanted: int | None,
        today: date,
    ) -> None:
        """The jobs to choose from; a new form starts today on the wanted (or first) job."""
        self.placement_id.choices = [(p.id, label(p)) for p in placements]
        if not self.is_submitted():
            ids = [p.id for p in placements]
            self.work_date.data = today
            self.placement_id.data = wanted if wanted in ids else (ids[0] if ids else None)


class CorrectForm(ShiftFields):
    correction_note = TextAreaField(
        _l("What was corrected, and why (both sides see it)"),
        validators=[InputRequired(message=_l("Explain the correction.")), Length(max=1000)],
    )


class DisputeForm(OnceForm):
    reason = TextAreaField(
        _l("What is wrong with the shift?"),
        validators=[
            InputRequired(message=_l("Tell the consultant what is wrong with the shift.")),
            Length(max=hours.MAX_REASON_LENGTH),
        ],
    )


class ResolveForm(OnceForm):
    resolution = TextAreaField(
        _l("Decision (both sides see it)"),
        validators=[
            InputRequired(message=_l("Write a note to both sides about the decision.")),
            Length(max=1000),
        ],
    )


class ActionForm(OnceForm):
    week = HiddenField()


class PeriodForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads

    start = DateField(_l("From"), validators=[InputRequired(message=_l("Choose a start date."))])
    end = DateField(_l("To"), validators=[InputRequired(message=_l("Choose an end date."))])

    def this_month(self, today: date) -> None:
        """Start with the month so far."""
        self.start.data, self.end.data = today.replace(day=1), today

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_("The end date must not be before the start date."))
            if (field.data - self.start.data).days > MAX_PERIOD_DAYS:
                raise ValidationError(_("Choose a period of at most one year."))


class TimesheetForm(PeriodForm):
    placement_id = SelectField(_l("Job"), coerce=int, validators=[InputRequired()])
