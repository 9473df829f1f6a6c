"""The payroll export form."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from core.models import PayrollFormat
from portal.forms import OnceForm

FORMAT_LABELS = {
    PayrollFormat.CSV.value: _l("CSV (documented columns)"),
    PayrollFormat.DANLON.value: _l("Danløn import lines"),
}


class ExportForm(OnceForm):
    start = DateField(_l("From"), validators=[InputRequired(message=_l("Choose a start date."))])
    end = DateField(_l("To"), validators=[InputRequired(message=_l("Choose an end date."))])
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice(value, label) for value, label in FORMAT_LABELS.items()],
        default="csv",
    )
    reexport = BooleanField(
        _l("Export hours of this period again, even if they were exported before"),
        description=_l("Only for a lost or rejected file: the hours would be paid twice."),
    )

    def previous_month(self, today: date) -> None:
        """A new export covers the month before this one."""
        if not self.is_submitted():
            end = today.replace(day=1) - timedelta(days=1)
            self.start.data, self.end.data = end.replace(day=1), end
