"""Forms of a placement's page: follow-up notes, a change of hours and ending it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.models import NoteKind, PlacementEndReason

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
