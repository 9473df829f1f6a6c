"""One page per placement; the worker's consent; staff follow-up, hours changes and ending."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from core.db import get_session
from core.errors import DomainError
from core.models import STAFF_ROLES, NoteKind, PlacementEndReason, PlacementStatus, Role
from portal.auth import role_required
from portal.blueprints.orders import AcceptForm, DeclineForm
from portal.services import orders, placements

bp = Blueprint("placements", __name__, url_prefix="/placements")
EVERYONE = (Role.EMPLOYER, Role.WORKER, *STAFF_ROLES)
DESK = (Role.CONSULTANT, Role.ADMIN)

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


class HoursForm(FlaskForm):
    hours_per_week = IntegerField(
        _l("New hours per week"),
        validators=[InputRequired(), NumberRange(1, 37, _l("Between 1 and 37 hours a week."))],
    )
    effective_from = DateField(_l("From date"), validators=[InputRequired()])


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


@bp.get("")
@role_required(*EVERYONE)
def index():
    session = get_session()
    mine = request.args.get("mine") == "1"
    rows = placements.listing(session, current_user, mine_only=mine)
    return render_template(
        "placements/index.html",
        placements=rows,
        mine=mine,
        waiting=[p for p in rows if p.status == PlacementStatus.PROPOSED],
    )


def _page(placement, *, status=200, **forms):
    today = orders.today_local()
    defaults = {
        "note_form": NoteForm(formdata=None, note_date=today),
        "hours_form": HoursForm(
            formdata=None, hours_per_week=placement.hours_per_week, effective_from=today
        ),
        "end_form": EndForm(formdata=None, end_date=today),
        "accept_form": AcceptForm(),
        "decline_form": DeclineForm(formdata=None),
    }
    defaults.update(forms)
    staff = current_user.role in STAFF_ROLES
    return render_template(
        "placements/detail.html",
        placement=placement,
        staff=staff,
        desk=current_user.role in DESK,
        # Follow-up notes are for the intermediary's staff only: never handed to the template
        # for an employer or a worker, so no template mistake can leak them.
        notes=placement.notes if staff else [],
        note_kinds=NOTE_KINDS,
        end_reasons=END_REASONS,
        **defaults,
    ), status


@bp.get("/<int:placement_id>")
@role_required(*EVERYONE)
def detail(placement_id: int):
    return _page(placements.get_for_user(get_session(), current_user, placement_id))


def _act(placement_id: int, form, action, done: str, form_name: str):
    """Validate, run one service call, commit, flash; re-render with the form on errors."""
    session = get_session()
    placement = placements.get_for_user(session, current_user, placement_id)
    if not form.validate_on_submit():
        return _page(placement, status=400, **{form_name: form})
    try:
        action(session, placement)
    except DomainError as error:
        session.rollback()
        form.form_errors.append(error.message)
        return _page(placement, status=400, **{form_name: form})
    session.commit()
    flash(done, "success")
    return redirect(url_for("placements.detail", placement_id=placement_id))


@bp.post("/<int:placement_id>/accept")
@role_required(Role.WORKER)
def accept(placement_id: int):
    return _act(
        placement_id,
        AcceptForm(),
        lambda s, p: placements.worker_accept(s, current_user, p),
        _("Welcome aboard! The job is confirmed."),
        "accept_form",
    )


@bp.post("/<int:placement_id>/decline")
@role_required(Role.WORKER)
def decline(placement_id: int):
    form = DeclineForm()
    return _act(
        placement_id,
        form,
        lambda s, p: placements.decline(s, current_user, p, form.reason.data),
        _("You have said no to this job. Your contact person will be in touch."),
        "decline_form",
    )


@bp.post("/<int:placement_id>/notes")
@role_required(*DESK)
def add_note(placement_id: int):
    form = NoteForm()
    return _act(
        placement_id,
        form,
        lambda s, p: placements.add_note(
            s,
            current_user,
            p,
            note_date=form.note_date.data,
            kind=NoteKind(form.kind.data),
            text=form.text.data,
        ),
        _("Note saved."),
        "note_form",
    )


@bp.post("/<int:placement_id>/hours")
@role_required(*DESK)
def change_hours(placement_id: int):
    form = HoursForm()
    return _act(
        placement_id,
        form,
        lambda s, p: placements.change_hours(
            s,
            current_user,
            p,
            hours_per_week=form.hours_per_week.data,
            effective_from=form.effective_from.data,
        ),
        _("The agreed hours are changed."),
        "hours_form",
    )


@bp.post("/<int:placement_id>/end")
@role_required(*DESK)
def end(placement_id: int):
    form = EndForm()
    return _act(
        placement_id,
        form,
        lambda s, p: placements.end(
            s,
            current_user,
            p,
            reason=PlacementEndReason(form.reason.data),
            end_date=form.end_date.data,
            note=form.note.data or "",
        ),
        _("The placement has ended."),
        "end_form",
    )
