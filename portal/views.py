"""Error pages, the one way a form route ends (submit), shared template context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, flash, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import dates
from core.db import get_session
from core.errors import DomainError
from core.models import Role
from portal import submissions
from portal.forms import Form, OnceForm

log = logging.getLogger(__name__)

TITLES = {
    400: _l("The request could not be used"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("That action is not possible here"),
    409: _l("That change is not possible now"),
    413: _l("The upload is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
}


def csv_download(body: str, filename: str) -> Response:
    """A CSV file to save, not to show (its text has the BOM spreadsheets need for æøå)."""
    return Response(
        body,
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_page(status: int, message: str = ""):
    if _wants_json():
        return jsonify(error=message or str(TITLES.get(status, _l("Error")))), status
    return render_template(
        "errors/error.html",
        status=status,
        title=str(TITLES.get(status, _l("Error"))),
        message=message,
    ), status


@dataclass
class Done:
    """What a post did: where its result is shown and what the user is told (nothing, when
    the result page says it all). `after_commit` runs once the work is committed: a job a
    worker must find committed, say."""

    url: str
    message: str
    category: str = "success"
    after_commit: Callable[[], object] | None = None


def submit(
    form: Form,
    perform: Callable[[], Done],
    *,
    page: Callable[[], ResponseReturnValue] | None = None,
    back: str | None = None,
) -> ResponseReturnValue:
    """The one way a form route ends.

    Shown (a GET): `page()`. Sent but invalid: the page again with the field errors and 400;
    a button without a page of its own flashes why on the page `back` names. Refused by the
    service (a domain error, after which everything is rolled back): told on `back` when the
    route names one, else on the page with 400. Done: commit, tell the user `Done.message`
    and redirect to `Done.url`. A form with a one-time key (OnceForm) takes effect once per
    key (portal.submissions)."""
    if not form.is_submitted():
        return page()

    def shown_again(message: str | None = None) -> ResponseReturnValue:
        if message:
            form.form_errors.append(message)
        return page(), 400

    def told_on_back(message: str | None = None) -> ResponseReturnValue:
        flash(message or _invalid_message(form), "error")
        return redirect(back)

    if not form.validate():
        return (shown_again if page is not None else told_on_back)()
    refused = told_on_back if back is not None else shown_again
    session = get_session()
    if isinstance(form, OnceForm):
        return submissions.once(session, form, perform, refused, run)
    return run(session, perform, refused)


def run(session, perform: Callable[[], Done], refused) -> ResponseReturnValue:
    """Do the work: commit and redirect to its result, or roll back and show why not."""
    try:
        done = perform()
    except DomainError as error:
        session.rollback()
        return refused(error.message)
    session.commit()
    if done.after_commit is not None:
        done.after_commit()
    if done.message:
        flash(done.message, done.category)
    return redirect(done.url)


def _invalid_message(form: Form) -> str:
    """What a button's form says when it comes back invalid: its fields' errors, else its own
    words, else that it expired (a missing token or one-time key)."""
    errors = [error for field in form for error in field.errors if field.type != "HiddenField"]
    explained = getattr(form, "invalid_message", None) or _(
        "The form had expired. Please try again."
    )
    return " ".join(map(str, errors)) or str(explained)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        get_session().rollback()
        return error_page(error.status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf(_error: CSRFError):
        return error_page(
            400, _("The form had expired or was not sent from this site. Please try again.")
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.response is not None:  # a page made for this refusal (a locked account)
            return error.response
        message = ""
        if error.code == 429:
            message = _("Too many attempts. Please wait a few minutes and try again.")
        return error_page(error.code or 500, message)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s", request.path)
        get_session().rollback()
        return error_page(500)

    @app.context_processor
    def _context():
        # Templates compare with Copenhagen's date (an invoice due today is not overdue yet,
        # whatever the server's zone), from the one clock.
        return {"Role": Role, "today": dates.today}
