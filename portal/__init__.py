"""The Flask web app: one factory; each module wires itself with init_app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


class Portal(Flask):
    """The app: a request whose transaction the database aborted for another's sake (a
    deadlock, a serialization failure) or whose connection it lost (a restart) is served
    again from the start, a few times after a short pause, so the user sees its result or the
    clear message of the invariant that refused it, never an error page."""

    def dispatch_request(self):
        from sqlalchemy.exc import DBAPIError

        from core import db

        for attempt in range(1, db.ATTEMPTS + 1):
            try:
                return super().dispatch_request()
            except DBAPIError as error:
                if not db.is_transient(error) or attempt == db.ATTEMPTS:
                    raise
                db.get_session().rollback()
                db.log.warning("request aborted by the database (%s); serving it again", error)
                db.pause(attempt, error)
        raise AssertionError("unreachable")


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from defaults, PORTAL_* environment variables and test overrides."""
    import invoices
    from core import db, jobs, mail, outbox
    from portal import auth, cli, config, i18n, security, views
    from portal.blueprints import register_blueprints

    app = Portal(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    config.configure(app, dict(overrides or {}))
    for module in (db, security, i18n, auth, mail, outbox, jobs, invoices, views, cli):
        module.init_app(app)
    register_blueprints(app)
    return app
