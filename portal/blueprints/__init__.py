"""Blueprints: one module per area, each with its templates/<name>/ folder."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from portal.blueprints import admin, auth, hours, invoices, main, payroll

    for module in (main, auth, admin, hours, payroll, invoices):
        app.register_blueprint(module.bp)
