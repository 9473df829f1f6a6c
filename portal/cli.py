"""flask --app wsgi ... commands."""

from __future__ import annotations

import click
from flask import Flask

from portal.db import get_session


def init_app(app: Flask) -> None:
    from invoices import cli as invoice_cli

    invoice_cli.init_app(app)

    @app.cli.command("demo")
    def demo_command() -> None:
        """Load the demo data (idempotent) and print the demo logins."""
        from portal import demo

        session = get_session()
        created = demo.load(session)
        session.commit()
        click.echo(f"Demo data: {created} new rows." if created else "Demo data already loaded.")
        click.echo(f"\nDemo logins (password: {demo.PASSWORD}):")
        for email, role, what in demo.LOGINS:
            click.echo(f"  {email:<24} {role:<11} {what}")
        click.echo()
