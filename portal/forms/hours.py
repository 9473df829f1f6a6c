"""Forms of the hours pages: a shift (record, change, correct), a dispute and its resolution,
the sign buttons, and the period of a timesheet or an hours statement."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

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
        _l("Note (optional)"),
        description=_l("At most %(n)d characters.", n=hours.MAX_NOTE_LENGTH),
        validators=[Optional(), Length(max=hours.MAX_NOTE_LENGTH)],
        render_kw={"maxlength": str(hours.MAX_NOTE_LENGTH)},
    )

    def shift(self) -> hours.Shift:
        return hours.Shift(
            self.work_date.data,
            self.start_time.data,
            self.end_time.data,
            self.break_minutes.data,
            self.note.data or "",
        )


def _job_id(value) -> int | None:
    """The chosen job's id; None for the empty "Choose a job" option."""
    return None if value in (None, "") else int(value)


class RecordForm(ShiftFields):
    placement_id = SelectField(
        _l("Job"),
        coerce=_job_id,
        validators=[InputRequired(message=_l("Choose the job the shift belongs to."))],
    )

    def offer(
        self,
        placements: list[Placement],
        label: Callable[[Placement], str],
        *,
        wanted: int | None,
        today: date,
    ) -> None:
        """The jobs to choose from; a new form starts today on the wanted job, or on the only
        one. With several, none is chosen for the worker: a pre-chosen first job once had a
        shift booked to the wrong employer unnoticed."""
        self.placement_id.choices = [(p.id, label(p)) for p in placements]
        if len(placements) > 1:
            self.placement_id.choices.insert(0, ("", _("Choose a job")))
        if not self.is_submitted():
            ids = [p.id for p in placements]
            only = ids[0] if len(ids) == 1 else None
            self.work_date.data = today
            self.placement_id.data = wanted if wanted in ids else only

    def prefill(self, args: Mapping[str, str]) -> None:
        """A new form takes the date and times from the query string where they read well
        (the "Adjust" link of a planned shift); anything else keeps the defaults."""
        if self.is_submitted():
            return
        for field in (self.work_date, self.start_time, self.end_time, self.break_minutes):
            text = args.get(field.name)
            if not text or len(text) > 10:
                continue
            before = field.data
            try:
                field.process_formdata([text])
            except ValueError:
                field.data = before
                continue
            if field.data is None or (field is self.break_minutes and not 0 <= field.data <= 720):
                field.data = before


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


class PlannedForm(OnceForm):
    """One tap: a planned shift (its placement is in the URL) confirmed as worked."""

    work_date = DateField(validators=[InputRequired()], widget=HiddenInput())
    start_time = TimeField(
        format=["%H:%M", "%H:%M:%S"], validators=[InputRequired()], widget=HiddenInput()
    )


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
