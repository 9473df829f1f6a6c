"""Hours: record a shift, the week views, sign-off, disputes, timesheet and statement PDFs."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from core.db import get_session
from core.errors import NotFound
from core.models import Role, TimeEntry
from invoices import pdf
from invoices.timesheets import hours_statement_data, timesheet_data
from portal.auth import role_required
from portal.forms import db_id
from portal.services import hours
from portal.submissions import Done, OnceForm, flash_and_redirect, once

bp = Blueprint("hours", __name__, url_prefix="/hours")

PARTIES = (Role.WORKER, Role.EMPLOYER)
MAX_PERIOD_DAYS = 366

STATE_LABELS = {
    hours.EntryState.WAITING_FOR_EMPLOYER: _l("Waiting for the employer"),
    hours.EntryState.WAITING_FOR_WORKER: _l("Waiting for the worker"),
    hours.EntryState.WAITING_FOR_BOTH: _l("Waiting for both sides"),
    hours.EntryState.APPROVED: _l("Approved"),
    hours.EntryState.DISPUTED: _l("Disputed"),
    hours.EntryState.INVOICED: _l("Invoiced"),
}
CHANGE_LABELS = {
    "edited": _l("Changed"),
    "disputed": _l("Disputed"),
    "corrected": _l("Corrected by the consultant"),
    "resolved": _l("Dispute resolved by the consultant"),
}
FIELD_LABELS = {
    "work_date": _l("Date"),
    "start_time": _l("Start"),
    "end_time": _l("End"),
    "break_minutes": _l("Break (minutes)"),
    "minutes": _l("Minutes worked"),
    "note": _l("Note"),
}


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

    def validate_end(self, field):
        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_("The end date must not be before the start date."))
            if (field.data - self.start.data).days > MAX_PERIOD_DAYS:
                raise ValidationError(_("Choose a period of at most one year."))


class TimesheetForm(PeriodForm):
    placement_id = SelectField(_l("Job"), coerce=int, validators=[InputRequired()])


def _today() -> date:
    return hours.business_today()


def _locale() -> str:
    return str(get_locale() or "da")


def _placement_label(placement) -> str:
    title = placement.job_order.title
    if current_user.role == Role.WORKER:
        return f"{placement.employer.name} – {title}"
    if current_user.role == Role.EMPLOYER:
        return f"{placement.worker.display_name} – {title}"
    worker = placement.worker
    return f"{placement.employer.name} – {worker.first_name} {worker.last_name} – {title}"


def _pdf_response(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


def _entry_context(entry: TimeEntry) -> dict:
    return {
        "entry": entry,
        "state": hours.state_of(entry),
        "actions": hours.allowed_actions(entry, current_user),
        "state_labels": STATE_LABELS,
        "change_labels": CHANGE_LABELS,
        "field_labels": FIELD_LABELS,
        "corrected": any(c.kind.value == "corrected" for c in entry.changes),
    }


@bp.get("/")
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN)
def index():
    if current_user.role in PARTIES:
        return redirect(url_for("hours.week"))
    if current_user.role == Role.CONSULTANT:
        return redirect(url_for("hours.disputes"))
    return redirect(url_for("hours.timesheet"))


@bp.get("/week")
@role_required(*PARTIES)
def week():
    session = get_session()
    monday = hours.parse_week(request.args.get("week"), _today())
    view = hours.week_view(session, current_user, monday)
    return render_template(
        "hours/week.html",
        view=view,
        form=ActionForm(week=view.label),
        state_of=hours.state_of,
        state_labels=STATE_LABELS,
        previous=hours.week_label(monday - timedelta(days=7)),
        next=hours.week_label(monday + timedelta(days=7)),
        sunday=monday + timedelta(days=6),
    )


@bp.post("/week")
@role_required(*PARTIES)
def sign_week():
    session = get_session()
    form = ActionForm()
    monday = hours.parse_week(form.week.data, _today())
    back = url_for("hours.week", week=hours.week_label(monday))
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return redirect(back)

    def perform() -> Done:
        if current_user.role == Role.EMPLOYER:
            count = hours.approve_week(session, current_user, monday)
            message = _("%(n)d shift(s) approved.", n=count)
        else:
            count = hours.confirm_week(session, current_user, monday)
            message = _("%(n)d shift(s) confirmed.", n=count)
        return Done(back, message if count else _("Nothing was waiting for you this week."))

    return once(session, form, perform, flash_and_redirect(back))


@bp.route("/record", methods=["GET", "POST"])
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT)
def record():
    session = get_session()
    placements = hours.placements_for(session, current_user, active_only=True)
    form = RecordForm()
    form.placement_id.choices = [(p.id, _placement_label(p)) for p in placements]
    if request.method == "GET":
        form.work_date.data = _today()
        wanted = request.args.get("placement_id", type=int)
        ids = [p.id for p in placements]
        form.placement_id.data = wanted if wanted in ids else (ids[0] if ids else None)

    def page(error: str | None = None):
        if error:
            form.form_errors.append(error)
        status = 400 if request.method == "POST" else 200
        return render_template("hours/record.html", form=form, placements=placements), status

    if not (placements and form.validate_on_submit()):
        return page()

    def perform() -> Done:
        placement = hours.get_placement_for(session, current_user, form.placement_id.data)
        entry = hours.record_shift(session, current_user, placement, form.shift())
        message = _(
            "Shift recorded: %(hours)s hours on %(date)s.",
            hours=_hours(entry.minutes),
            date=entry.work_date.strftime("%d-%m-%Y"),
        )
        if current_user.role == Role.CONSULTANT:
            return Done(url_for("hours.entry", entry_id=entry.id), message)
        week = hours.week_label(hours.week_start(entry.work_date))
        return Done(url_for("hours.week", week=week), message)

    return once(session, form, perform, page)


def _hours(minutes: int) -> str:
    from portal.i18n import hours as format_hours

    return format_hours(minutes)


@bp.get("/entries/<int:entry_id>")
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN)
def entry(entry_id: int):
    session = get_session()
    found = hours.get_entry_for(session, current_user, entry_id)
    return render_template(
        "hours/entry.html", form=ActionForm(), resolve_form=ResolveForm(), **_entry_context(found)
    )


@bp.post("/entries/<int:entry_id>/sign")
@role_required(*PARTIES)
def sign(entry_id: int):
    session = get_session()
    found = hours.get_entry_for(session, current_user, entry_id)
    back = url_for("hours.entry", entry_id=entry_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please try again."), "error")
        return redirect(back)

    def perform() -> Done:
        if current_user.role == Role.EMPLOYER:
            hours.approve_entry(session, current_user, found)
            return Done(back, _("Shift approved."))
        hours.confirm_entry(session, current_user, found)
        return Done(back, _("Shift confirmed."))

    return once(session, form, perform, flash_and_redirect(back))


def _form_page(template: str, form, entry: TimeEntry):
    """Re-render a shift form after a refused post, with the reason on top."""

    def page(error: str | None = None):
        if error:
            form.form_errors.append(error)
        status = 400 if request.method == "POST" else 200
        return render_template(template, form=form, entry=entry), status

    return page


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@role_required(*PARTIES)
def edit(entry_id: int):
    session = get_session()
    found = hours.get_entry_for(session, current_user, entry_id)
    form = ShiftFields(obj=found)
    if hours.Action.EDIT not in hours.allowed_actions(found, current_user):
        flash(_("This shift can no longer be changed here. Contact your consultant."), "error")
        return redirect(url_for("hours.entry", entry_id=entry_id))
    page = _form_page("hours/edit.html", form, found)
    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        hours.edit_entry(session, current_user, found, form.shift())
        return Done(
            url_for("hours.entry", entry_id=entry_id),
            _("Shift changed. The other side must confirm it again."),
        )

    return once(session, form, perform, page)


@bp.route("/entries/<int:entry_id>/dispute", methods=["GET", "POST"])
@role_required(*PARTIES)
def dispute(entry_id: int):
    session = get_session()
    found = hours.get_entry_for(session, current_user, entry_id)
    form = DisputeForm()
    page = _form_page("hours/dispute.html", form, found)
    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        hours.dispute_entry(session, current_user, found, form.reason.data)
        return Done(
            url_for("hours.entry", entry_id=entry_id),
            _("The shift is disputed. Your consultant will look at it."),
        )

    return once(session, form, perform, page)


@bp.get("/disputes")
@role_required(Role.CONSULTANT)
def disputes():
    session = get_session()
    everyone = request.args.get("all") == "1"
    rows = hours.disputed_entries(session, current_user, everyone=everyone)
    return render_template("hours/disputes.html", entries=rows, everyone=everyone)


@bp.route("/entries/<int:entry_id>/correct", methods=["GET", "POST"])
@role_required(Role.CONSULTANT)
def correct(entry_id: int):
    session = get_session()
    found = hours.get_entry_for(session, current_user, entry_id)
    form = CorrectForm(obj=found)
    page = _form_page("hours/correct.html", form, found)
    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        note = form.correction_note.data
        hours.correct_entry(session, current_user, found, form.shift(), note)
        return Done(
            url_for("hours.disputes"),
            _("Shift corrected. Both sides have been asked to confirm it."),
        )

    return once(session, form, perform, page)


@bp.post("/entries/<int:entry_id>/resolve")
@role_required(Role.CONSULTANT)
def resolve(entry_id: int):
    session = get_session()
    found = hours.get_entry_for(session, current_user, entry_id)
    form = ResolveForm()

    def page(error: str | None = None):
        if error:
            form.form_errors.append(error)
        return render_template(
            "hours/entry.html", form=ActionForm(), resolve_form=form, **_entry_context(found)
        ), 400

    if not form.validate_on_submit():
        return page()

    def perform() -> Done:
        hours.resolve_dispute(session, current_user, found, form.resolution.data)
        return Done(url_for("hours.disputes"), _("Dispute resolved. Both sides have been told."))

    return once(session, form, perform, page)


@bp.get("/mine")
@role_required(Role.WORKER)
def mine():
    session = get_session()
    worker = hours.worker_of(session, current_user)
    if worker is None:
        raise NotFound()
    today = _today()
    form = PeriodForm(request.args)
    if not request.args:
        form.start.data, form.end.data = today.replace(day=1), today
    start = today.replace(day=1) - timedelta(days=92)
    months, weeks = hours.worker_totals(session, worker, start.replace(day=1), today)
    return render_template(
        "hours/mine.html",
        worker=worker,
        months=months,
        weeks=weeks,
        form=form,
        placements=hours.placements_for(session, current_user),
    )


@bp.get("/statement.pdf")
@role_required(Role.WORKER)
def statement():
    session = get_session()
    worker = hours.worker_of(session, current_user)
    if worker is None:
        raise NotFound()
    form = PeriodForm(request.args)
    if not form.validate():
        today = _today()
        months, weeks = hours.worker_totals(
            session, worker, (today.replace(day=1) - timedelta(days=92)).replace(day=1), today
        )
        return render_template(
            "hours/mine.html",
            worker=worker,
            months=months,
            weeks=weeks,
            form=form,
            placements=hours.placements_for(session, current_user),
        ), 400
    data = hours_statement_data(session, worker, form.start.data, form.end.data, locale=_locale())
    name = f"timeopgoerelse-{form.start.data.isoformat()}-{form.end.data.isoformat()}.pdf"
    return _pdf_response(pdf.render_hours_statement_pdf(data), name)


@bp.get("/timesheet")
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN)
def timesheet():
    session = get_session()
    placements = hours.placements_for(session, current_user)
    form = TimesheetForm(request.args)
    form.placement_id.choices = [(p.id, _placement_label(p)) for p in placements]
    if "placement_id" not in request.args:
        today = _today()
        form.start.data, form.end.data = today.replace(day=1), today
        return render_template("hours/timesheet.html", form=form, placements=placements)
    # A foreign or unknown placement answers 404 before the form is looked at.
    placement = hours.get_placement_for(
        session, current_user, request.args.get("placement_id", type=db_id) or 0
    )
    if not form.validate():
        return render_template("hours/timesheet.html", form=form, placements=placements), 400
    data = timesheet_data(session, placement, form.start.data, form.end.data, locale=_locale())
    period = f"{form.start.data.isoformat()}-{form.end.data.isoformat()}"
    name = f"timeseddel-{placement.id}-{period}.pdf"
    return _pdf_response(pdf.render_timesheet_pdf(data), name)
