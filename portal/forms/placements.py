"""Forms of a placement's page: follow-up notes, a change of hours, ending it and the weekly
pattern of planned shifts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from core.models import NoteKind, PlacementEndReason, PlannedSlot
from portal.forms import Form
from portal.services.hours.planned import Slot

NOTE_KINDS = {NoteKind.CALL: _l("Call"), NoteKind.VISIT: _l("Visit"), NoteKind.NOTE: _l("Note")}
END_REASONS = {
    PlacementEndReason.MORE_HOURS: _l("Moved on to more hours"),
    PlacementEndReason.ORDINARY_JOB: _l("Ordinary job"),
    PlacementEndReason.STOPPED: _l("Stopped"),
    PlacementEndReason.OTHER: _l("Other"),
}


class NoteForm(FlaskForm):
    note_date = DateField(_l("Date"), validators=[InputRequired()])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k.value, label) for k, label in NOTE_KINDS.items()]
    )
    text = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=4000)])

    def values(self) -> dict:
        return {
            "note_date": self.note_date.data,
            "kind": NoteKind(self.kind.data),
            "text": self.text.data,
        }


class HoursForm(FlaskForm):
    hours_per_week = IntegerField(
        _l("New hours per week"),
        validators=[InputRequired(), NumberRange(1, 37, _l("Between 1 and 37 hours a week."))],
    )
    effective_from = DateField(_l("From date"), validators=[InputRequired()])

    def values(self) -> dict:
        return {
            "hours_per_week": self.hours_per_week.data,
            "effective_from": self.effective_from.data,
        }


class EndForm(FlaskForm):
    reason = SelectField(
        _l("Reason"), choices=[SelectChoice(k.value, label) for k, label in END_REASONS.items()]
    )
    end_date = DateField(_l("Last day"), validators=[InputRequired()])
    note = TextAreaField(
        _l("Details"),
        validators=[Optional(), Length(max=1000)],
        description=_l('Required when the reason is "Other".'),
    )

    def values(self) -> dict:
        return {
            "reason": PlacementEndReason(self.reason.data),
            "end_date": self.end_date.data,
            "note": self.note.data or "",
        }


class DayFields(Form):
    """One day of the weekly pattern: empty when nothing is planned that day."""

    class Meta:
        csrf = False  # part of PatternForm, which carries the token

    start_time = TimeField(_l("Start"), format=["%H:%M", "%H:%M:%S"], validators=[Optional()])
    end_time = TimeField(_l("End"), format=["%H:%M", "%H:%M:%S"], validators=[Optional()])
    break_minutes = IntegerField(
        _l("Break (minutes)"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, max=720, message=_l("The break must be 0–720 minutes.")),
        ],
        render_kw={"inputmode": "numeric", "min": "0", "step": "5"},
    )

    def validate(self, extra_validators=None) -> bool:
        # Not an inline validator: Optional() ends the checks of an empty field before it.
        valid = super().validate(extra_validators)
        if valid and (self.start_time.data is None) != (self.end_time.data is None):
            empty = self.end_time if self.end_time.data is None else self.start_time
            empty.errors.append(_l("Enter both the start and the end, or neither."))
            return False
        return valid


class PatternForm(Form):
    """The week's planned shifts, one row a day (Monday first); the service checks them."""

    monday = FormField(DayFields)
    tuesday = FormField(DayFields)
    wednesday = FormField(DayFields)
    thursday = FormField(DayFields)
    friday = FormField(DayFields)
    saturday = FormField(DayFields)
    sunday = FormField(DayFields)
    on_holidays = BooleanField(_l("Also on public holidays (otherwise they are left out)"))

    @property
    def days(self) -> list[FormField]:
        return [
            self.monday,
            self.tuesday,
            self.wednesday,
            self.thursday,
            self.friday,
            self.saturday,
            self.sunday,
        ]

    def show(self, slots: list[PlannedSlot], on_holidays: bool = False) -> None:
        """Fill the rows from the stored pattern (the first shift of each day)."""
        self.on_holidays.data = on_holidays
        for slot in reversed(slots):
            day = self.days[slot.weekday].form
            day.start_time.data, day.end_time.data = slot.start_time, slot.end_time
            day.break_minutes.data = slot.break_minutes

    def slots(self) -> list[Slot]:
        return [
            Slot(
                weekday,
                day.form.start_time.data,
                day.form.end_time.data,
                day.form.break_minutes.data or 0,
            )
            for weekday, day in enumerate(self.days)
            if day.form.start_time.data is not None
        ]
