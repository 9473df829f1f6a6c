"""Outcome reports for admins and consultants (issue 16): the page, its CSV and the CLI that
prints the same CSV for the municipality. The figures are portal.services.outcomes'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import click
from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from core import dates
from core.db import get_session
from core.i18n import language, quantity
from core.models import PlacementEndReason, Role
from portal.auth import role_required
from portal.forms import Form, db_id
from portal.services import outcomes
from portal.views import csv_download

bp = Blueprint("reports", __name__, cli_group="reports")

DESK = (Role.CONSULTANT, Role.ADMIN)
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
REASON_LABELS = {
    PlacementEndReason.ORDINARY_JOB.value: _l("An ordinary job"),
    PlacementEndReason.MORE_HOURS.value: _l("More hours"),
    PlacementEndReason.STOPPED.value: _l("Stopped"),
    PlacementEndReason.OTHER.value: _l("Other reason"),
}
WITHHELD = "< 5"


def _optional_id(value) -> int | None:
    return None if value in (None, "") else db_id(value)


class OutcomesForm(Form):
    """The report's filters: a GET form that only reads."""

    class Meta:
        csrf = False

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    work_area = SelectField(_l("Work area"), coerce=_optional_id)
    consultant = SelectField(_l("Consultant"), coerce=_optional_id)
    employer = SelectField(_l("Employer"), coerce=_optional_id)

    def offer(self, choices: outcomes.Choices, english: bool) -> None:
        """Fill the selects (each with "All" first)."""
        self.work_area.choices = [("", _("All work areas"))] + [
            (area_id, name_en if english else name) for area_id, name, name_en in choices.work_areas
        ]
        self.consultant.choices = [("", _("All consultants")), *choices.consultants]
        self.employer.choices = [("", _("All employers")), *choices.employers]

    def period(self, today: date) -> tuple[date, date] | None:
        """The chosen period (this year so far by default, shown in the fields), or None
        when it makes no sense."""
        self.date_from.data = self.date_from.data or date(today.year, 1, 1)
        self.date_to.data = self.date_to.data or today
        start, end = self.date_from.data, self.date_to.data
        return (start, end) if EARLIEST <= start <= end <= LATEST else None

    def scope(self) -> dict[str, str | None]:
        """The chosen work area, consultant and employer by name (None: all)."""
        return {
            name: dict(field.choices).get(field.data) if field.data is not None else None
            for name, field in (
                ("work_area", self.work_area),
                ("consultant", self.consultant),
                ("employer", self.employer),
            )
        }


def _filled_form() -> tuple[OutcomesForm, tuple[date, date] | None]:
    """The filters from the query string, validated against what exists; the period."""
    form = OutcomesForm(request.args)
    form.offer(outcomes.choices(get_session()), english=language() == "en")
    valid = form.validate()
    return form, (form.period(dates.today()) if valid else None)


def _result(form: OutcomesForm, period: tuple[date, date]) -> outcomes.Outcomes:
    return outcomes.outcomes(
        get_session(),
        *period,
        work_area_id=form.work_area.data,
        consultant_id=form.consultant.data,
        employer_id=form.employer.data,
    )


@bp.get("/reports/outcomes")
@role_required(*DESK)
def outcomes_page():
    form, period = _filled_form()
    if period is None:
        return render_template("reports/outcomes.html", form=form, result=None), 400
    result = _result(form, period)
    total = result.total
    reasons = [
        (
            REASON_LABELS[reason],
            total.ended_by_reason[reason],
            _reason_text(total.ended_by_reason[reason], total.share_by_reason[reason]),
        )
        for reason in REASON_LABELS
    ]
    hours = [
        (_("At start"), total.hours_at_start, _hundredths_text(total.hours_at_start)),
        (_("At the end"), total.hours_at_end, _hundredths_text(total.hours_at_end)),
    ]
    csv_args = {
        "date_from": period[0].isoformat(),
        "date_to": period[1].isoformat(),
        **{
            name: getattr(form, name).data
            for name in ("work_area", "consultant", "employer")
            if getattr(form, name).data is not None
        },
    }
    return render_template(
        "reports/outcomes.html",
        form=form,
        result=result,
        reason_labels=REASON_LABELS,
        reasons_chart=bar_chart(reasons),
        hours_chart=bar_chart(hours),
        csv_args=csv_args,
        scope=form.scope(),
    )


@bp.get("/reports/outcomes.csv")
@role_required(*DESK)
def outcomes_csv():
    form, period = _filled_form()
    if period is None:
        abort(400)
    filename = f"resultater-{period[0].isoformat()}-{period[1].isoformat()}.csv"
    return csv_download(outcomes.csv_text(_result(form, period)), filename)


@bp.cli.command("outcomes")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--work-area", "work_area_id", type=click.IntRange(1), help="A work area's id.")
@click.option("--consultant", "consultant_id", type=click.IntRange(1), help="A user's id.")
@click.option("--employer", "employer_id", type=click.IntRange(1), help="An employer's id.")
def outcomes_command(start, end, work_area_id, consultant_id, employer_id) -> None:
    """Print the outcomes of a period as CSV: the page's download, for the municipality."""
    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    result = outcomes.outcomes(
        get_session(),
        start.date(),
        end.date(),
        work_area_id=work_area_id,
        consultant_id=consultant_id,
        employer_id=employer_id,
    )
    click.echo(outcomes.csv_text(result), nl=False)


# --- Charts: horizontal bars drawn on the server as an inline SVG ----------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as shown beside the bar ("< 5" when withheld)
    y: float
    width: float  # 0 when withheld


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int  # where the bars start; the labels end here
    bar_height: int
    bars: list[Bar]


def bar_chart(
    items: list[tuple[str, int | None, str]], width: int = 480, left: int = 170, row: int = 34
) -> Chart:
    """Geometry of a horizontal bar chart: (label, value or None when withheld, text) per
    bar, lengths in proportion to the largest value."""
    plot = width - left - 100  # room on the right for the value's text
    peak = max([1] + [value for _label, value, _text in items if value])
    bars = [
        Bar(
            str(label),
            text,
            y=8 + i * row,
            width=round(plot * (value or 0) / peak, 1),
        )
        for i, (label, value, text) in enumerate(items)
    ]
    return Chart(width, 16 + len(items) * row, left, row - 12, bars)


def _reason_text(count: int | None, share: int | None) -> str:
    if count is None:
        return WITHHELD
    return f"{count} ({share} %)" if share is not None else str(count)


def _hundredths_text(value: int | None) -> str:
    return WITHHELD if value is None else quantity(value)
