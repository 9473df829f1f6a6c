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
        outbox,
        payments,
        payroll,
        placements,
        privacy,
        receivables,
        reports,
        twofactor,
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
        outbox,
        books,
        calendar,
        reports,
        twofactor,
        privacy,
    ):
        app.register_blueprint(module.bp)
