"""The outbox (issue 22), each figure against an anchor measured in the same run:

- rows sent per second by one sender (claim, compose, SMTP, record) to a real SMTP server on
  loopback, against plain smtplib sending the same messages (a connection each, as the
  portal's mailer does), on SQLite and on PostgreSQL;
- the time from an invoice's commit to its e-mail's delivery (p50, p95) while a run of
  BENCH_OUTBOX_EMPLOYERS employers (default 200) is issued by one process and a sender
  process of its own (`flask outbox work`, polling every BENCH_OUTBOX_POLL seconds) sends,
  against the run's own time per invoice."""

from __future__ import annotations

import multiprocessing
import os
import smtplib
import socket
import statistics
import tempfile
import time
import warnings
from email.message import EmailMessage

from bench import Row, benchmark, on_both_databases
from bench.invoice_run import PERIOD_END, _Database, _percentile, migrate, seed

MESSAGES = 500


def _app(database_url: str, smtp_port: int, inline: bool = False):
    from portal import create_app

    return create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "JOBS": "inline",
            "OUTBOX_INLINE": inline,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp_port,
            "OUTBOX_DIR": tempfile.mkdtemp(prefix="bench-outbox-"),
        }
    )


class _Sink:
    """A real SMTP server on loopback that counts what it accepts."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self
        self.count = 0

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                sink.count += 1
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


def _sender_rows(url: str, kind: str) -> list[Row]:
    from core import outbox

    sink = _Sink()
    try:
        app = _app(url, sink.port)
        migrate(app)
        factory = app.extensions["db"].sessionmaker
        with app.app_context():
            with factory() as session:
                for n in range(MESSAGES):
                    outbox.add(
                        session, "account", f"p{n}@example.dk", subject="Hej", body="x" * 400
                    )
                session.info.pop("outbox_wake", None)  # nothing sent at the commit
                session.commit()
            started = time.perf_counter()
            report = outbox.send_due(factory)
            ours = time.perf_counter() - started
        assert report.delivered == MESSAGES == sink.count, (report, sink.count)

        sent_before = sink.count
        started = time.perf_counter()
        for n in range(MESSAGES):
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = "a@b.dk", f"p{n}@x.dk", "Hej"
            message.set_content("x" * 400)
            with smtplib.SMTP("127.0.0.1", sink.port, timeout=10) as smtp:
                smtp.send_message(message)
        bare = time.perf_counter() - started
        assert sink.count - sent_before == MESSAGES
        app.extensions["db"].engine.dispose()
    finally:
        sink.close()
    return [
        Row(
            f"outbox: one sender, {MESSAGES} e-mails ({kind})",
            ours * 1000,
            f"{MESSAGES / ours:.0f} rows/s; {ours / bare:.2f}× plain smtplib "
            f"({MESSAGES / bare:.0f}/s, a connection each, no database)",
        )
    ]


@benchmark
def outbox_sender() -> list[Row]:
    warnings.simplefilter("ignore", DeprecationWarning)
    return on_both_databases(_sender_rows, "outbox")


def _sender_process(database_url: str, smtp_port: int, poll: float, stop) -> None:
    """A sender of its own, as `flask outbox work` runs beside the worker."""
    warnings.simplefilter("ignore", DeprecationWarning)
    import threading

    from core import outbox

    app = _app(database_url, smtp_port)
    event = threading.Event()
    threading.Thread(target=lambda: (stop.wait(), event.set()), daemon=True).start()
    with app.app_context():
        outbox.work(app.extensions["db"].sessionmaker, poll, event)


@benchmark
def outbox_latency() -> list[Row]:
    warnings.simplefilter("ignore", DeprecationWarning)
    from sqlalchemy import select

    from core.models import OutboxMessage, OutboxState
    from invoices import runs

    employers = int(os.environ.get("BENCH_OUTBOX_EMPLOYERS", "200"))
    poll = float(os.environ.get("BENCH_OUTBOX_POLL", "1"))
    sink = _Sink()
    context = multiprocessing.get_context("fork")
    try:
        with _Database("latency") as (url, kind):
            app = _app(url, sink.port)
            migrate(app)
            factory = app.extensions["db"].sessionmaker
            with app.app_context(), factory() as session:
                seed(session, employers)
                run_id = runs.start_run(session, None, PERIOD_END).id
                session.commit()
            app.extensions["db"].engine.dispose()
            stop = context.Event()
            sender = context.Process(target=_sender_process, args=(url, sink.port, poll, stop))
            sender.start()
            started = time.perf_counter()
            with app.app_context():
                runs.process_run(factory, run_id)
            run_seconds = time.perf_counter() - started
            deadline = time.monotonic() + 600
            while sink.count < employers and time.monotonic() < deadline:
                time.sleep(0.2)
            stop.set()
            sender.join(timeout=60)
            with factory() as session:
                rows = session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == "invoice")
                ).all()
                delays = [
                    (row.delivered_at - row.created_at).total_seconds() * 1000
                    for row in rows
                    if row.state == OutboxState.DELIVERED
                ]
            app.extensions["db"].engine.dispose()
    finally:
        sink.close()
    assert len(delays) == employers, f"{len(delays)} of {employers} delivered"
    per_invoice = run_seconds / employers * 1000
    p50, p95 = statistics.median(delays), _percentile(delays, 0.95)
    return [
        Row(
            f"outbox: invoice e-mail, commit to delivery, {employers}-employer run ({kind}, p50)",
            p50,
            f"p95 {p95:.0f} ms; sender polls every {poll:g} s; the run issues an invoice "
            f"every {per_invoice:.0f} ms ({run_seconds:.1f} s in all): p50 is "
            f"{p50 / per_invoice:.1f} invoices' time",
        )
    ]
