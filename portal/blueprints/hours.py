"""Hours: record a shift, the week views with their planned shifts (confirmed as worked in one
tap), sign-off, disputes, timesheet and statement PDFs."""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import get_day_names
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import dates
from core.db import get_session
from core.errors import NotFound
from core.i18n import hours as format_hours
from core.models import Placement, Role, TimeEntry, Worker
from invoices import pdf
from invoices.timesheets import hours_statement_data, timesheet_data
from portal.auth import role_required
from portal.forms import db_id
from portal.forms.hours import (
    ActionForm,
    CorrectForm,
    DisputeForm,
    PeriodForm,
    PlannedForm,
    RecordForm,
    ResolveForm,
    ShiftFields,
    TimesheetForm,
)
from portal.i18n import format_locale
from portal.services import hours
from portal.services.hours import planned
from portal.views import Done, submit

bp = Blueprint("hours", __name__, url_prefix="/hours")

PARTIES = (Role.WORKER, Role.EMPLOYER)

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


def _today() -> date:
    return dates.today()


def _locale() -> str:
    return str(get_locale() or "da")


def _placement_label(placement: Placement) -> str:
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


def _entry_page(entry: TimeEntry, resolve_form: ResolveForm | None = None) -> str:
    return render_template(
        "hours/entry.html",
        form=ActionForm(),
        resolve_form=resolve_form or ResolveForm(),
        entry=entry,
        state=hours.state_of(entry),
        actions=hours.allowed_actions(entry, current_user),
        state_labels=STATE_LABELS,
        change_labels=CHANGE_LABELS,
        field_labels=FIELD_LABELS,
        corrected=any(c.kind.value == "corrected" for c in entry.changes),
    )


def _entry_link(entry_id: int) -> str:
    return url_for("hours.entry", entry_id=entry_id)


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
    monday = hours.parse_week(request.args.get("week"), _today())
    sunday = monday + timedelta(days=6)
    session = get_session()
    view = hours.week_view(session, current_user, monday)
    waiting = [
        p for p in planned.planned_shifts(session, current_user, monday, sunday) if not p.recorded
    ]
    return render_template(
        "hours/week.html",
        view=view,
        form=ActionForm(week=view.label),
        state_of=hours.state_of,
        state_labels=STATE_LABELS,
        previous=hours.week_label(monday - timedelta(days=7)),
        next=hours.week_label(monday + timedelta(days=7)),
        sunday=sunday,
        confirmable=[_confirmable(p) for p in waiting if _may_confirm(p)],
        planned=[p for p in waiting if not _may_confirm(p)],
        weekday_names=get_day_names("wide", locale=format_locale()),
    )


def home_shifts(session, user) -> dict:
    """For the worker's home page: this week's planned shifts whose day has come and that are
    not recorded, each with its one-tap form (as on the week page)."""
    today = _today()
    monday = hours.week_start(today)
    waiting = [p for p in planned.planned_shifts(session, user, monday, today) if not p.recorded]
    return {
        "confirmable": [_confirmable(p) for p in waiting if _may_confirm(p)],
        "weekday_names": get_day_names("wide", locale=format_locale()),
        "this_week": hours.week_label(monday),
    }


def _may_confirm(shift: planned.PlannedShift) -> bool:
    """The worker confirms a planned shift from its day on; the employer only sees it."""
    return current_user.role == Role.WORKER and shift.work_date <= _today()


def _confirmable(shift: planned.PlannedShift) -> tuple:
    """A planned shift with its one-tap form (a key of its own) and the link to the record
    form filled in with it."""
    form = PlannedForm(formdata=None, work_date=shift.work_date, start_time=shift.start_time)
    adjust = url_for(
        "hours.record",
        placement_id=shift.placement.id,
        work_date=shift.work_date.isoformat(),
        start_time=shift.start_time.strftime("%H:%M"),
        end_time=shift.end_time.strftime("%H:%M"),
        break_minutes=shift.break_minutes,
    )
    return shift, form, adjust


@bp.post("/planned/<int:placement_id>/confirm")
@role_required(Role.WORKER)
def confirm_planned(placement_id: int):
    placement = hours.get_placement_for(get_session(), current_user, placement_id)
    form = PlannedForm()
    day = form.work_date.data if isinstance(form.work_date.data, date) else _today()
    back = url_for("hours.week", week=hours.week_label(hours.week_start(day)))
    return submit(form, lambda: _planned_confirmed(placement, form, back), back=back)


def _shift_recorded(entry) -> str:
    """'Vagt registreret: 7,08 timer den 24-11-2026.' ("1,5 timer" is plural too)."""
    return ngettext(
        "Shift recorded: %(hours)s hour on %(date)s.",
        "Shift recorded: %(hours)s hours on %(date)s.",
        entry.minutes // 60 if entry.minutes % 60 == 0 else 2,
        hours=format_hours(entry.minutes),
        date=entry.work_date.strftime("%d-%m-%Y"),
    )


def _planned_confirmed(placement: Placement, form: PlannedForm, back: str) -> Done:
    entry = planned.confirm_planned(
        get_session(), current_user, placement, form.work_date.data, form.start_time.data
    )
    message = _shift_recorded(entry)
    return Done(back, message)


@bp.post("/week")
@role_required(*PARTIES)
def sign_week():
    form = ActionForm()
    monday = hours.parse_week(form.week.data, _today())
    back = url_for("hours.week", week=hours.week_label(monday))
    return submit(form, lambda: _week_signed(monday, back), back=back)


def _week_signed(monday: date, back: str) -> Done:
    session = get_session()
    if current_user.role == Role.EMPLOYER:
        count = hours.approve_week(session, current_user, monday)
        message = ngettext("%(num)d shift approved.", "%(num)d shifts approved.", count)
    else:
        count = hours.confirm_week(session, current_user, monday)
        message = ngettext("%(num)d shift confirmed.", "%(num)d shifts confirmed.", count)
    return Done(back, message if count else _("Nothing was waiting for you this week."))


@bp.route("/record", methods=["GET", "POST"])
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT)
def record():
    placements = hours.placements_for(get_session(), current_user, active_only=True)
    form = RecordForm()
    wanted = request.args.get("placement_id", type=int)
    form.offer(placements, _placement_label, wanted=wanted, today=_today())
    form.prefill(request.args)
    return submit(
        form,
        lambda: _recorded(form),
        page=lambda: render_template("hours/record.html", form=form, placements=placements),
    )


def _recorded(form: RecordForm) -> Done:
    session = get_session()
    placement = hours.get_placement_for(session, current_user, form.placement_id.data)
    entry = hours.record_shift(session, current_user, placement, form.shift())
    message = _shift_recorded(entry)
    if current_user.role == Role.CONSULTANT:
        return Done(_entry_link(entry.id), message)
    week = hours.week_label(hours.week_start(entry.work_date))
    return Done(url_for("hours.week", week=week), message)


@bp.get("/entries/<int:entry_id>")
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN)
def entry(entry_id: int):
    return _entry_page(hours.get_entry_for(get_session(), current_user, entry_id))


@bp.post("/entries/<int:entry_id>/sign")
@role_required(*PARTIES)
def sign(entry_id: int):
    found = hours.get_entry_for(get_session(), current_user, entry_id)
    return submit(ActionForm(), lambda: _signed(found), back=_entry_link(entry_id))


def _signed(entry: TimeEntry) -> Done:
    if current_user.role == Role.EMPLOYER:
        hours.approve_entry(get_session(), current_user, entry)
        return Done(_entry_link(entry.id), _("Shift approved."))
    hours.confirm_entry(get_session(), current_user, entry)
    return Done(_entry_link(entry.id), _("Shift confirmed."))


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@role_required(*PARTIES)
def edit(entry_id: int):
    found = hours.get_entry_for(get_session(), current_user, entry_id)
    if hours.Action.EDIT not in hours.allowed_actions(found, current_user):
        flash(_("This shift can no longer be changed here. Contact your consultant."), "error")
        return redirect(_entry_link(entry_id))
    form = ShiftFields(obj=found)
    return submit(
        form,
        lambda: _edited(found, form),
        page=lambda: render_template("hours/edit.html", form=form, entry=found),
    )


def _edited(entry: TimeEntry, form: ShiftFields) -> Done:
    hours.edit_entry(get_session(), current_user, entry, form.shift())
    message = _("Shift changed. The other side must confirm it again.")
    return Done(_entry_link(entry.id), message)


@bp.route("/entries/<int:entry_id>/dispute", methods=["GET", "POST"])
@role_required(*PARTIES)
def dispute(entry_id: int):
    found = hours.get_entry_for(get_session(), current_user, entry_id)
    form = DisputeForm()
    return submit(
        form,
        lambda: _disputed(found, form.reason.data),
        page=lambda: render_template("hours/dispute.html", form=form, entry=found),
    )


def _disputed(entry: TimeEntry, reason: str) -> Done:
    hours.dispute_entry(get_session(), current_user, entry, reason)
    message = _("The shift is disputed. Your consultant will look at it.")
    return Done(_entry_link(entry.id), message)


@bp.get("/disputes")
@role_required(Role.CONSULTANT)
def disputes():
    everyone = request.args.get("all") == "1"
    rows = hours.disputed_entries(get_session(), current_user, everyone=everyone)
    return render_template("hours/disputes.html", entries=rows, everyone=everyone)


@bp.route("/entries/<int:entry_id>/correct", methods=["GET", "POST"])
@role_required(Role.CONSULTANT)
def correct(entry_id: int):
    found = hours.get_entry_for(get_session(), current_user, entry_id)
    form = CorrectForm(obj=found)
    return submit(
        form,
        lambda: _corrected(found, form),
        page=lambda: render_template("hours/correct.html", form=form, entry=found),
    )


def _corrected(entry: TimeEntry, form: CorrectForm) -> Done:
    session = get_session()
    hours.correct_entry(session, current_user, entry, form.shift(), form.correction_note.data)
    message = _("Shift corrected. Both sides have been asked to confirm it.")
    return Done(url_for("hours.disputes"), message)


@bp.post("/entries/<int:entry_id>/resolve")
@role_required(Role.CONSULTANT)
def resolve(entry_id: int):
    found = hours.get_entry_for(get_session(), current_user, entry_id)
    form = ResolveForm()
    return submit(
        form,
        lambda: _resolved(found, form.resolution.data),
        page=lambda: _entry_page(found, form),
    )


def _resolved(entry: TimeEntry, note: str) -> Done:
    hours.resolve_dispute(get_session(), current_user, entry, note)
    return Done(url_for("hours.disputes"), _("Dispute resolved. Both sides have been told."))


def _own_worker() -> Worker:
    worker = hours.worker_of(get_session(), current_user)
    if worker is None:
        raise NotFound()
    return worker


def _mine_page(worker: Worker, form: PeriodForm) -> str:
    session, today = get_session(), _today()
    first = (today.replace(day=1) - timedelta(days=92)).replace(day=1)
    months, weeks = hours.worker_totals(session, worker, first, today)
    placements = hours.placements_for(session, current_user)
    return render_template(
        "hours/mine.html",
        worker=worker,
        months=months,
        weeks=weeks,
        form=form,
        placements=placements,
    )


@bp.get("/mine")
@role_required(Role.WORKER)
def mine():
    worker = _own_worker()
    form = PeriodForm(request.args)
    if not request.args:
        form.this_month(_today())
    return _mine_page(worker, form)


@bp.get("/statement.pdf")
@role_required(Role.WORKER)
def statement():
    worker = _own_worker()
    form = PeriodForm(request.args)
    if not form.validate():
        return _mine_page(worker, form), 400
    start, end = form.start.data, form.end.data
    data = hours_statement_data(get_session(), worker, start, end, locale=_locale())
    name = f"timeopgoerelse-{start.isoformat()}-{end.isoformat()}.pdf"
    return _pdf_response(pdf.render_hours_statement_pdf(data), name)


@bp.get("/timesheet")
@role_required(Role.WORKER, Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN)
def timesheet():
    placements = hours.placements_for(get_session(), current_user)
    form = TimesheetForm(request.args)
    form.placement_id.choices = [(p.id, _placement_label(p)) for p in placements]
    if "placement_id" not in request.args:
        form.this_month(_today())
        return render_template("hours/timesheet.html", form=form, placements=placements)
    # A foreign or unknown placement answers 404 before the form is looked at.
    wanted = request.args.get("placement_id", type=db_id) or 0
    placement = hours.get_placement_for(get_session(), current_user, wanted)
    if not form.validate():
        return render_template("hours/timesheet.html", form=form, placements=placements), 400
    return _timesheet_pdf(placement, form.start.data, form.end.data)


def _timesheet_pdf(placement: Placement, start: date, end: date) -> Response:
    data = timesheet_data(get_session(), placement, start, end, locale=_locale())
    name = f"timeseddel-{placement.id}-{start.isoformat()}-{end.isoformat()}.pdf"
    return _pdf_response(pdf.render_timesheet_pdf(data), name)
