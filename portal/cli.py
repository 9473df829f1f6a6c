"""flask --app wsgi ... commands."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask_babel import force_locale

from core.db import database, get_session
from invoices.cli import counted


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Load the demo data (idempotent) and print the demo logins."""
        from portal import demo

        session = get_session()
        created = demo.load(session)
        session.commit()
        click.echo(f"Demo data: {created} new rows." if created else "Demo data already loaded.")
        issued = demo.invoice_history(database().sessionmaker)
        if issued:
            click.echo(f"Demo invoices issued: {issued}.")
        click.echo(f"\nDemo logins (password: {demo.PASSWORD}):")
        for email, role, what in demo.LOGINS:
            click.echo(f"  {email:<24} {role:<11} {what}")
        click.echo()

    @app.cli.command("prune-submissions")
    @click.option("--days", default=7, show_default=True, help="Keep the keys of this many days.")
    def prune_submissions_command(days: int) -> None:
        """Forget the one-time keys of old form posts (cron-able). A form cannot be sent again
        after its session has ended (12 hours), so a week of keys is plenty."""
        from portal import submissions

        session = get_session()
        removed = submissions.prune(session, days=days)
        session.commit()
        click.echo(
            f"Forgot {counted(removed, 'form key', 'form keys')} older than "
            f"{counted(days, 'day', 'days')}."
        )

    @app.cli.group("outbox")
    def outbox_group() -> None:
        """The outbox: every e-mail, e-invoice and webhook until it is delivered."""

    @outbox_group.command("send-due")
    def outbox_send_due() -> None:
        """Send every message that is due now (cron-safe: senders at once share the rows)."""
        from core import outbox

        report = outbox.send_due()
        click.echo(
            f"{counted(report.delivered, 'message', 'messages')} delivered, "
            f"{report.retrying} to try again later, {report.given_up} given up."
        )

    @outbox_group.command("work")
    @click.option("--poll", default=5.0, show_default=True, help="Seconds between looks.")
    def outbox_work(poll: float) -> None:
        """The sender: send what falls due, for ever (SIGTERM stops it after the message in
        hand). Run one or more beside the web tier; `make serve` does."""
        import signal
        import threading

        from core import outbox

        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"Outbox sender polling every {poll:g} s.")
        outbox.work(database().sessionmaker, poll, stop)

    @app.cli.group("hours")
    def hours_group() -> None:
        """Hours: auto-approval and reminders."""

    @hours_group.command("auto-approve")
    def auto_approve_command() -> None:
        """Auto-approve unanswered hours and send the daily reminders (cron-able, idempotent)."""
        from portal.services import hours

        session = get_session()
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            approved = hours.auto_approve(session)
            session.commit()
            reminded = hours.send_reminders(session)
            session.commit()
        click.echo(
            f"Auto-approved {counted(approved, 'shift', 'shifts')}; "
            f"sent {counted(reminded, 'reminder', 'reminders')}."
        )

    @app.cli.command("payroll-export")
    @click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
    @click.option("--reexport", is_flag=True, help="Include hours of the period exported before.")
    @click.option(
        "--format", "fmt", type=click.Choice(["csv", "danlon"]), default="csv", show_default=True
    )
    @click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None)
    def payroll_export_command(start, end, reexport: bool, fmt: str, output: str | None) -> None:
        """Export approved hours for payroll; the file goes to --output or standard output."""
        from core.errors import DomainError
        from core.models import PayrollFormat
        from invoices import payroll

        session = get_session()
        try:
            # No request here to choose a language: messages come in the default one.
            with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
                export = payroll.create_export(
                    session,
                    None,
                    start.date(),
                    end.date(),
                    reexport=reexport,
                    fmt=PayrollFormat(fmt),
                )
        except DomainError as error:
            session.rollback()
            raise click.ClickException(error.message) from error
        content = export.content
        summary = (
            f"Payroll export {export.id}: {counted(export.entry_count, 'shift', 'shifts')}, "
            f"{export.total_minutes} minutes, {export.total_ore} øre."
        )
        session.commit()
        if output:
            with open(output, "w", encoding="utf-8", newline="") as handle:
                handle.write(content)
        else:
            click.echo(content, nl=False)
        click.echo(summary, err=True)
