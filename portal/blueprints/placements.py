"""One page per placement; the worker's consent; staff follow-up, hours changes and ending;
the weekly pattern of planned shifts (set by the employer or a consultant)."""

from __future__ import annotations

from collections.abc import Callable

from babel.dates import get_day_names
from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import dates
from core.db import get_session
from core.models import STAFF_ROLES, Placement, PlacementStatus, Role
from core.pages import page_number
from portal.auth import role_required
from portal.forms.orders import AcceptForm, DeclineForm
from portal.forms.placements import (
    END_REASONS,
    NOTE_KINDS,
    EndForm,
    HoursForm,
    NoteForm,
    PatternForm,
)
from portal.i18n import format_locale
from portal.services import placements
from portal.services.hours import planned
from portal.views import Done, submit

bp = Blueprint("placements", __name__, url_prefix="/placements")
EVERYONE = (Role.EMPLOYER, Role.WORKER, *STAFF_ROLES)
DESK = (Role.CONSULTANT, Role.ADMIN)
PLANNERS = (Role.EMPLOYER, *DESK)


@bp.get("")
@role_required(*EVERYONE)
def index():
    session = get_session()
    mine = request.args.get("mine") == "1"
    number = page_number(request.args.get("page"))
    return render_template(
        "placements/index.html",
        placements=placements.listing(session, current_user, number, mine_only=mine),
        mine=mine,
        waiting=placements.offered(session, current_user),
    )


def _may_plan(placement: Placement) -> bool:
    """Whether the pattern form is offered: the employer on an active job, the desk on a
    proposed or active one (the service decides again)."""
    if current_user.role == Role.EMPLOYER:
        return placement.status == PlacementStatus.ACTIVE
    return current_user.role in DESK and placement.status in (
        PlacementStatus.PROPOSED,
        PlacementStatus.ACTIVE,
    )


def _page(placement: Placement, **forms) -> str:
    today = dates.today()
    pattern_form = PatternForm(formdata=None)
    pattern_form.show(placement.planned_slots, placement.planned_on_holidays)
    defaults = {
        "note_form": NoteForm(formdata=None, note_date=today),
        "hours_form": HoursForm(
            formdata=None, hours_per_week=placement.hours_per_week, effective_from=today
        ),
        "end_form": EndForm(formdata=None, end_date=today),
        "accept_form": AcceptForm(),
        "decline_form": DeclineForm(formdata=None),
        "pattern_form": pattern_form,
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
        may_plan=_may_plan(placement),
        weekday_names=get_day_names("wide", locale=format_locale()),
        planned_minutes=planned.pattern_minutes(placement),
        **defaults,
    )


@bp.get("/<int:placement_id>")
@role_required(*EVERYONE)
def detail(placement_id: int):
    return _page(placements.get_for_user(get_session(), current_user, placement_id))


def _act(placement_id: int, form, form_name: str, action: Callable, message: str):
    """One service call on the placement from a form on its page (shown again on errors)."""
    placement = placements.get_for_user(get_session(), current_user, placement_id)

    def done() -> Done:
        action(get_session(), placement)
        return Done(url_for("placements.detail", placement_id=placement_id), message)

    return submit(form, done, page=lambda: _page(placement, **{form_name: form}))


@bp.post("/<int:placement_id>/accept")
@role_required(Role.WORKER)
def accept(placement_id: int):
    return _act(
        placement_id,
        AcceptForm(),
        "accept_form",
        lambda s, p: placements.worker_accept(s, current_user, p),
        _("Welcome aboard! The job is confirmed."),
    )


@bp.post("/<int:placement_id>/decline")
@role_required(Role.WORKER)
def decline(placement_id: int):
    form = DeclineForm()
    return _act(
        placement_id,
        form,
        "decline_form",
        lambda s, p: placements.decline(s, current_user, p, form.reason.data),
        _("You have said no to this job. Your contact person will be in touch."),
    )


@bp.post("/<int:placement_id>/notes")
@role_required(*DESK)
def add_note(placement_id: int):
    form = NoteForm()
    return _act(
        placement_id,
        form,
        "note_form",
        lambda s, p: placements.add_note(s, current_user, p, **form.values()),
        _("Note saved."),
    )


@bp.post("/<int:placement_id>/hours")
@role_required(*DESK)
def change_hours(placement_id: int):
    form = HoursForm()
    return _act(
        placement_id,
        form,
        "hours_form",
        lambda s, p: placements.change_hours(s, current_user, p, **form.values()),
        _("The agreed hours are changed."),
    )


@bp.post("/<int:placement_id>/end")
@role_required(*DESK)
def end(placement_id: int):
    form = EndForm()
    return _act(
        placement_id,
        form,
        "end_form",
        lambda s, p: placements.end(s, current_user, p, **form.values()),
        _("The placement has ended."),
    )


@bp.post("/<int:placement_id>/pattern")
@role_required(*PLANNERS)
def pattern(placement_id: int):
    form = PatternForm()
    return _act(
        placement_id,
        form,
        "pattern_form",
        lambda s, p: planned.set_pattern(
            s, current_user, p, form.slots(), on_holidays=form.on_holidays.data
        ),
        _("The planned shifts are saved."),
    )
