"""flask --app wsgi invoice-run / invoices render-missing|retry-deliveries|ubl|journal /
worker."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask, current_app

from core import dates
from core.db import get_session
from core.errors import DomainError
from core.i18n import hours, money
from core.jobs import queue
from core.models import BillingCadence, InvoiceKind, InvoiceRun
from invoices import delivery, queries, runs


def counted(n: int, one: str, many: str) -> str:
    """'1 shift', '2 shifts': the commands speak English to operators and cron logs."""
    return f"{n} {one if n == 1 else many}"


def _resume_stalled() -> int:
    """Hand every stalled run to a worker again; returns how many were resumed."""
    session = get_session()
    resumed = 0
    for run in runs.stalled_runs(session):
        run_id, done, total = run.id, run.done, run.total
        if not runs.claim_resume(session, run_id, None):
            continue
        session.commit()
        click.echo(f"Run {run_id} had stopped at {done}/{total} employers; resuming it.")
        queue().enqueue(runs.run_job, run_id)
        resumed += 1
    session.rollback()
    return resumed


def init_app(app: Flask) -> None:
    @app.cli.command("invoice-run")
    @click.option("--until", "until", required=True, help="Period end, YYYY-MM-DD.")
    @click.option("--cadence", type=click.Choice([c.value for c in BillingCadence]), default=None)
    @click.option("--employer", "employer_ids", type=int, multiple=True, help="Only these ids.")
    @click.option("--issue", is_flag=True, help="Issue the invoices (default: preview only).")
    def invoice_run(until: str, cadence: str | None, employer_ids: tuple[int, ...], issue: bool):
        """Preview (or with --issue, issue) invoices for approved hours up to --until."""
        try:
            period_end = date.fromisoformat(until)
        except ValueError as error:
            raise click.BadParameter("use YYYY-MM-DD", param_hint="--until") from error
        session = get_session()
        chosen = BillingCadence(cadence) if cadence else None
        preview = runs.preview(session, period_end, chosen, list(employer_ids) or None)
        for draft in preview.drafts:
            click.echo(
                f"{draft.employer.name:<40} {counted(len(draft.lines), 'line', 'lines'):>9} "
                f"{hours(draft.minutes):>8} t {money(draft.total_ore):>16}"
            )
        click.echo(
            f"{counted(len(preview.drafts), 'invoice', 'invoices')}, "
            f"{money(preview.total_ore)} incl. VAT; "
            f"{counted(len(preview.left_out), 'shift', 'shifts')} left out (not approved)."
        )
        if not issue:
            return
        resumed = _resume_stalled()
        if resumed:
            # A resumed run may have billed what this one would: look again before starting.
            session = get_session()
        if not runs.billable_employer_ids(session, period_end, chosen, list(employer_ids) or None):
            # No approved, uninvoiced hours: a normal outcome for a cron job, so exit 0.
            click.echo(f"Nothing {'more ' if resumed else ''}to bill up to {period_end}.")
            return
        try:
            run = runs.start_run(session, None, period_end, chosen, list(employer_ids) or None)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        run_id = run.id
        session.commit()
        job_id = queue().enqueue(runs.run_job, run_id)
        if job_id:
            click.echo(f"Run {run_id} queued as job {job_id}; a worker issues the invoices.")
        else:
            run = get_session().get(InvoiceRun, run_id)
            click.echo(
                f"Run {run_id}: {run.done}/{run.total} employers, status {run.status.value}."
            )

    @app.cli.group("invoices")
    def invoices_group() -> None:
        """Invoice maintenance."""

    @invoices_group.command("resume-stalled")
    def resume_stalled() -> None:
        """Resume invoice runs left unfinished by a worker that died (cron-able)."""
        click.echo(f"{counted(_resume_stalled(), 'run', 'runs')} resumed.")

    @invoices_group.command("render-missing")
    def render_missing() -> None:
        """Render the documents of issued invoices that lack them, then e-mail them."""
        click.echo(f"{counted(delivery.finish_unrendered(), 'invoice', 'invoices')} finished.")

    @invoices_group.command("ubl")
    @click.argument("number")
    def ubl(number: str) -> None:
        """Print the e-invoice (UBL XML) of an issued invoice or credit note, e.g. F-2026-0003."""
        kinds = (InvoiceKind.INVOICE, InvoiceKind.CREDIT_NOTE)
        invoice = queries.invoice_by_number(get_session(), number, kinds)
        if invoice is None:
            raise click.ClickException(f"No issued invoice or credit note {number}.")
        if not invoice.ubl_xml:
            raise click.ClickException(
                f"{invoice.display_number} has no e-invoice yet (flask --app wsgi invoices "
                "render-missing makes it; the e-invoice rules must be loaded)."
            )
        click.echo(invoice.ubl_xml.decode("utf-8"), nl=False)

    @invoices_group.command("journal")
    @click.option("--from", "date_from", required=True, help="First day, YYYY-MM-DD.")
    @click.option("--to", "date_to", required=True, help="Last day, YYYY-MM-DD.")
    def journal_command(date_from: str, date_to: str) -> None:
        """Print the bookkeeping journal of a period as CSV (the file finance downloads)."""
        from invoices import journal

        try:
            start, end = date.fromisoformat(date_from), date.fromisoformat(date_to)
        except ValueError as error:
            raise click.BadParameter("use YYYY-MM-DD for --from and --to") from error
        if end < start:
            raise click.BadParameter("--to is before --from")
        click.echo(journal.journal_csv(get_session(), start, end, bom=False), nl=False)

    @app.cli.group("reminders")
    def reminders_group() -> None:
        """Payment reminders (rykkere) under renteloven."""

    @reminders_group.command("send")
    @click.option("--date", "on", default=None, help="Business date, YYYY-MM-DD (default: today).")
    def reminders_send(on: str | None) -> None:
        """Send every reminder due today (cron-able; a second run the same day sends nothing)."""
        from core.db import database
        from invoices import reminders

        try:
            today = date.fromisoformat(on) if on else dates.today()
        except ValueError as error:
            raise click.BadParameter("use YYYY-MM-DD", param_hint="--date") from error
        sent = reminders.send_due_reminders(database().sessionmaker, today)
        click.echo(f"{counted(len(sent), 'reminder', 'reminders')} sent for {today.isoformat()}.")

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    def worker(burst: bool) -> None:
        """Run an RQ worker for the portal's queue (needs REDIS_URL); it waits for Redis to
        come back instead of exiting."""
        import time

        from redis.exceptions import ConnectionError as RedisDown
        from redis.exceptions import TimeoutError as RedisSlow
        from rq import Worker

        from core import outbox

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("Set REDIS_URL (or PORTAL_REDIS_URL) to run a worker.")
        jobs, failures = queue(), 0
        while True:
            try:
                jobs.queue.connection.ping()
                # What waited while no worker was here: documents a dead worker left
                # unrendered, runs whose job was lost, messages whose wake-up was. Jobs, not
                # calls here: jobs run in a forked work horse, and the e-invoice rules' runtime
                # (Saxon) must never start in this parent, as it does not survive the fork.
                jobs.enqueue(delivery.finish_unrendered)
                jobs.enqueue(runs.resume_waiting_job)
                jobs.enqueue(outbox.send_due_job)
                failures = 0
                Worker([jobs.name], connection=jobs.queue.connection).work(burst=burst)
                return
            except (RedisDown, RedisSlow) as error:
                failures += 1
                wait = min(2**failures, 30)
                click.echo(f"Redis is unreachable ({error}); trying again in {wait} s.", err=True)
                time.sleep(wait)
