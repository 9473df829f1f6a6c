"""Personal data: a worker's data export, erasure and the retention purge (issue 16)."""

from __future__ import annotations

import json

import click
from flask import Blueprint, Response, current_app, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import audit, dates
from core.db import WRITE_TRANSACTION, get_session
from core.errors import NotFound
from core.models import Role, Worker
from portal.auth import role_required
from portal.forms.workers import EraseForm
from portal.services import privacy, workers
from portal.services.placements import worker_for_user
from portal.views import Done, submit

bp = Blueprint("privacy", __name__, cli_group="privacy")
DESK = (Role.CONSULTANT, Role.ADMIN)


def _download(worker: Worker) -> Response:
    """The worker's data as a JSON file; the download is in the audit log, committed before
    a byte is sent."""
    session = get_session()
    data = privacy.export(session, worker)
    audit.record(session, current_user, "worker.data_exported", worker)
    session.commit()
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="persondata-{worker.payroll_number}.json"'
        },
    )


@bp.get("/workers/<int:worker_id>/data.json")
@role_required(*DESK)
def worker_data(worker_id: int):
    return _download(workers.get(get_session(), worker_id))


@bp.get("/me/data.json")
@role_required(Role.WORKER)
def my_data():
    worker = worker_for_user(get_session(), current_user)
    if worker is None:
        raise NotFound()
    return _download(worker)


@bp.post("/workers/<int:worker_id>/erase")
@role_required(*DESK)
def erase(worker_id: int):
    worker = workers.get(get_session(), worker_id)
    form = EraseForm()
    profile = url_for("workers.edit", worker_id=worker.id)
    return submit(form, lambda: _erased(worker, form, profile), back=profile)


def _erased(worker: Worker, form: EraseForm, profile: str) -> Done:
    privacy.erase(get_session(), worker, current_user, form.reason.data)
    return Done(profile, _("The worker's personal data is erased."))


@bp.cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Report what would be done; change nothing.")
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day to purge as of (default: today in Copenhagen).",
)
@click.option(
    "--inactive-months",
    type=click.IntRange(1, 1200),
    default=None,
    help="Erase workers inactive this long (default: PRIVACY_INACTIVE_MONTHS, else 24).",
)
def purge_command(dry_run: bool, today, inactive_months: int | None) -> None:
    """Erase inactive workers and anonymise what is past bookkeeping retention (cron-able)."""
    session = get_session()
    # It reads, then writes: on SQLite take the write lock first (no effect on PostgreSQL).
    session.connection(execution_options=WRITE_TRANSACTION)
    months = inactive_months or int(
        current_app.config.get("PRIVACY_INACTIVE_MONTHS", privacy.INACTIVE_MONTHS)
    )
    day = today.date() if today is not None else dates.today()
    report = privacy.purge(session, day, dry_run=dry_run, inactive_months=months)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    for line in report.lines():
        click.echo(line)
