"""The billing domain: invoice runs, numbering, documents, payments, reminders and exports.

It stands on `core` beside hiring and hours (`portal/services/`) and imports neither them nor
Flask (its CLI aside): what it needs of the running app comes through `core.extensions`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the app is handed in; billing itself never imports Flask
    from flask import Flask


def init_app(app: Flask) -> None:
    """Wire billing into the app: the immutability guard, the PDF engine, Stripe, the CLI."""
    # Loading them registers billing's kinds of outbox message (invoice, e-invoice, reminder).
    from invoices import cli, delivery, einvoice_delivery, einvoice_rules, guard, pdf, reminders  # noqa: F401
    from invoices.stripe_gateway import StripeGateway

    guard.install()
    app.extensions["pdf"] = pdf.PdfEngine()
    # The e-invoice rules (None when the directory holds none: no e-invoices are made).
    rules = einvoice_rules.load(app.config.get("EINVOICE_RULES_DIR"))
    if rules is not None:
        app.extensions["einvoice_rules"] = rules
    app.extensions["stripe"] = StripeGateway.from_config(app.config)  # None: card payment off
    cli.init_app(app)
