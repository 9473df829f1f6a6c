"""Error pages, shared template context."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, flash, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.db import get_session
from core.errors import DomainError
from core.models import Role

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


def commit_or_flash(session, action: Callable[[], object], success: str) -> bool:
    """Run one service call for a button post: commit and flash `success`, or roll back and
    flash the domain error's message. Returns whether it went through."""
    try:
        action()
    except DomainError as error:
        session.rollback()
        flash(error.message, "error")
        return False
    session.commit()
    flash(success, "success")
    return True


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
        return {"Role": Role}
