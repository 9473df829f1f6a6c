"""Blueprints: one module per area, each with its templates/<name>/ folder."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from portal.blueprints import (
        admin,
        auth,
        books,
        calendar,
        consultant,
        hours,
        invoices,
        main,
        orders,
        payments,
        payroll,
        placements,
        receivables,
        workers,
    )

    for module in (
        main,
        auth,
        admin,
        orders,
        consultant,
        placements,
        workers,
        hours,
        payroll,
        invoices,
        payments,
        receivables,
        books,
        calendar,
    ):
        app.register_blueprint(module.bp)
