"""Worker profiles, kept by consultants: creating one invites the worker by e-mail."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, settings
from core.db import get_session
from core.errors import Conflict
from core.models import Role, Worker
from core.pages import page_number
from portal.auth import role_required
from portal.forms.workers import LEFT_LABELS, STATUS_LABELS, EraseForm, WorkerForm
from portal.services import privacy, workers
from portal.views import Done, submit

bp = Blueprint("workers", __name__, url_prefix="/workers")
DESK = (Role.CONSULTANT, Role.ADMIN)


def _form(worker: Worker | None = None) -> WorkerForm:
    session = get_session()
    form = WorkerForm(obj=worker)
    form.offer(settings.work_areas(session), workers.consultants(session))
    return form


@bp.get("")
@role_required(*DESK)
def index():
    session = get_session()
    rows = workers.listing(session, page_number(request.args.get("page")))
    return render_template(
        "workers/index.html",
        workers=rows,
        status_labels=STATUS_LABELS,
        left_labels=LEFT_LABELS,
        departures=workers.departures(session, rows.items),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(*DESK)
def new():
    form = _form()
    form.for_new(current_user)
    return submit(
        form,
        lambda: _created(form),
        page=lambda: render_template("workers/form.html", form=form, worker=None),
    )


def _created(form: WorkerForm) -> Done:
    worker = workers.create(get_session(), current_user, form.data_for_service(), form.email.data)
    message = _("%(name)s is created and invited by e-mail.", name=worker.display_name)
    return Done(url_for("workers.edit", worker_id=worker.id), message)


@bp.route("/<int:worker_id>", methods=["GET", "POST"])
@role_required(*DESK)
def edit(worker_id: int):
    worker = workers.get(get_session(), worker_id)
    if worker.erased_at is not None:
        return _erased_page(worker)
    form = _form(worker)
    form.for_existing(worker)
    return submit(form, lambda: _saved(worker, form), page=lambda: _edit_page(worker, form))


def _viewed(worker: Worker) -> None:
    """Every time staff see a worker's profile is in the audit log (committed before the page
    is rendered: no record, no page)."""
    session = get_session()
    audit.record(session, current_user, "worker.viewed", worker)
    session.commit()


def _edit_page(worker: Worker, form: WorkerForm) -> str:
    _viewed(worker)
    history = workers.placements_of(get_session(), worker)
    return render_template(
        "workers/form.html", form=form, worker=worker, placements=history, erase_form=EraseForm()
    )


def _erased_page(worker: Worker) -> str:
    """An erased profile: what is kept for bookkeeping and why; it can no longer be edited."""
    if request.method != "GET":
        raise Conflict(_("The worker's personal data has been erased; the profile cannot change."))
    _viewed(worker)
    session = get_session()
    year = privacy.last_bookkeeping_year(session, worker)
    return render_template(
        "workers/erased.html",
        worker=worker,
        kept_until_year=None if year is None else year + privacy.RETENTION_YEARS,
        placements=workers.placements_of(session, worker),
    )


def _saved(worker: Worker, form: WorkerForm) -> Done:
    workers.update(get_session(), current_user, worker, form.data_for_service())
    return Done(url_for("workers.edit", worker_id=worker.id), _("Saved."))
