"""The Flask web app: one factory; each module wires itself with init_app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from defaults, PORTAL_* environment variables and test overrides."""
    import invoices
    from core import db, jobs, mail, outbox
    from portal import auth, cli, config, i18n, security, views
    from portal.blueprints import register_blueprints

    app = Flask(
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
