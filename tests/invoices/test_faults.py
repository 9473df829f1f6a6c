"""Faults: an RQ worker killed with SIGKILL in the middle of an invoice run on PostgreSQL, then
the job run again by a new worker. What must hold afterwards: whole invoices only, numbers
gapless per series and year, no shift on two invoice lines, every approved shift billed once.

Runs when TEST_DATABASE_URL and REDIS_URL are set (CI); with CI=true it fails rather than skips
when they are missing. It uses its own database (committed data, seen by other processes).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from core import dates
from core import models as m
from core.jobs import queue
from invoices import runs
from portal import create_app
from tests import factories
from tests.helpers import IN_CI, ROOT, alembic_config, travelled_env
from tests.invoicing import employer_with_hours, organisation
from tests.peers import PrivateSmtp

pytestmark = pytest.mark.faults

DATABASE = os.environ.get("TEST_DATABASE_URL")
REDIS = os.environ.get("REDIS_URL")
EMPLOYERS = 30


def _redis_url() -> str:
    """A Redis database of its own, so no other test run's worker takes these jobs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(REDIS)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 8) % 16}"))


@pytest.fixture
def fault_app(tmp_path):
    if not (DATABASE and REDIS):
        message = "the fault test needs TEST_DATABASE_URL (PostgreSQL) and REDIS_URL"
        if IN_CI:
            pytest.fail(message + " (CI=true: not skipping)")
        pytest.skip(message)
    base = make_url(DATABASE)
    name = f"portal_faults_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "faults",
            "DATABASE_URL": url,
            "REDIS_URL": _redis_url(),
            "JOBS": "rq",
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    engine = app.extensions["db"].engine
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        with app.app_context():
            queue().queue.empty()
        yield app, url
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _worker(url: str, tmp_path, smtp: PrivateSmtp, *, burst: bool) -> subprocess.Popen:
    env = travelled_env(
        {
            **os.environ,
            "PORTAL_DATABASE_URL": url,
            "REDIS_URL": _redis_url(),
            "PORTAL_SECRET_KEY": "faults",
            "PORTAL_OUTBOX_DIR": str(tmp_path / "outbox"),
            "PORTAL_SMTP_HOST": "127.0.0.1",
            "PORTAL_SMTP_PORT": str(smtp.port),
        }
    )
    env.pop("PORTAL_REDIS_URL", None)
    args = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "worker"]
    with open(tmp_path / f"worker-{time.monotonic_ns()}.log", "wb") as log:
        return subprocess.Popen(
            args + (["--burst"] if burst else []),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _descendants(pid: int) -> list[int]:
    """The process ids below pid (children first found, then theirs), read from /proc."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _issued(session: Session) -> int:
    return session.scalar(select(func.count()).where(m.Invoice.number.is_not(None)))


@pytest.fixture
def smtp():
    server = PrivateSmtp().start()
    yield server
    server.stop()


def test_sigkilled_worker_leaves_whole_invoices_and_a_rerun_finishes_the_job(
    fault_app, tmp_path, smtp
):
    app, url = fault_app
    engine = app.extensions["db"].engine
    monday = dates.today() - timedelta(days=dates.today().weekday() + 21)
    with Session(engine) as session:
        factories.bind(session)
        try:
            organisation(session)
            for n in range(EMPLOYERS):
                employer_with_hours(session, weeks=2, placements=1 + n % 2, start=monday)
            session.commit()
        finally:
            factories.bind(None)
        approved = session.scalar(select(func.count()).select_from(m.TimeEntry))

    with app.app_context():
        from core.db import get_session

        session = get_session()
        run = runs.start_run(session, None, dates.today())
        run_id = run.id
        session.commit()
        queue().enqueue(runs.run_job, run_id)

    worker = _worker(url, tmp_path, smtp, burst=False)
    try:
        deadline = time.monotonic() + 120
        with Session(engine) as session:
            while _issued(session) < 3:
                assert worker.poll() is None, "the worker stopped on its own"
                assert time.monotonic() < deadline, "no invoices within two minutes"
                time.sleep(0.05)
    finally:
        # RQ runs each job in a forked "work horse" in a process group of its own: kill it
        # too, as a crash of the machine or the OOM killer would.
        for pid in [*_descendants(worker.pid), worker.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=30)

    with Session(engine) as session:
        killed_at = _issued(session)
        run = session.get(m.InvoiceRun, run_id)
        assert killed_at < EMPLOYERS, "the worker finished before it was killed"
        assert run.status == m.RunStatus.RUNNING and run.done == killed_at
    # Killed between the phases, at most the last invoice is numbered without its documents
    # (it shows as being prepared); every document that exists is whole.
    _assert_whole_and_gapless(engine, unrendered_at_most=1)

    # An operator queues the job again; a fresh worker picks it up and finishes the run.
    with app.app_context():
        queue().enqueue(runs.run_job, run_id)
    again = _worker(url, tmp_path, smtp, burst=True)
    assert again.wait(timeout=300) == 0

    with Session(engine) as session:
        run = session.get(m.InvoiceRun, run_id)
        assert run.status == m.RunStatus.DONE, run.errors
        assert run.done == run.total == EMPLOYERS
        assert _issued(session) == EMPLOYERS
        billed = session.scalar(
            select(func.count()).where(m.TimeEntry.invoice_line_id.is_not(None))
        )
        assert billed == approved, "every approved shift is billed"
        linked = session.scalar(select(func.count()).select_from(m.invoice_line_entries))
        assert linked == approved, "and billed once"
    _assert_whole_and_gapless(engine)  # the rerun rendered what the killed worker left

    # And every invoice was e-mailed, those numbered before the kill included: their outbox
    # rows were committed with their numbers, and the new worker's wake-ups sent them.
    with Session(engine) as session:
        invoices = session.scalars(select(m.Invoice)).all()
        messages = session.scalars(select(m.OutboxMessage)).all()
    assert {r.invoice_id for r in messages if r.kind == "invoice"} == {i.id for i in invoices}
    assert {r.state for r in messages} == {m.OutboxState.DELIVERED}
    received = Counter(message["Message-ID"] for message in smtp.mailbox.messages)
    assert set(received) == {r.message_id for r in messages}
    assert set(received.values()) == {1}, "each exactly once"


def _assert_whole_and_gapless(engine, unrendered_at_most: int = 0) -> None:
    with Session(engine) as session:
        invoices = session.scalars(select(m.Invoice).order_by(m.Invoice.id)).all()
        unrendered = 0
        for invoice in invoices:
            # Whole invoices only: a number, lines, a payment id; both PDFs with their
            # checksums, or (killed between the phases) neither yet.
            assert invoice.number is not None and invoice.status == m.InvoiceStatus.ISSUED
            assert invoice.lines, invoice.id
            assert invoice.subtotal_ore == sum(line.amount_ore for line in invoice.lines)
            assert invoice.payment_id
            if not invoice.documents_ready:
                unrendered += 1
                assert invoice.pdf_sha256 is None or invoice.timesheet_sha256 is None
            for content, checksum in (
                (invoice.pdf, invoice.pdf_sha256),
                (invoice.timesheet_pdf, invoice.timesheet_sha256),
            ):
                if checksum is not None:
                    assert content.startswith(b"%PDF")
                    assert checksum == hashlib.sha256(content).hexdigest()
        assert unrendered <= unrendered_at_most
        by_series = Counter()
        for invoice in invoices:
            by_series[(invoice.series, invoice.year)] += 1
        for (series, year), count in by_series.items():
            numbers = sorted(i.number for i in invoices if (i.series, i.year) == (series, year))
            assert numbers == list(range(1, count + 1)), (series, year, numbers)
            counter = session.get(m.InvoiceNumberCounter, (series, year))
            assert counter.last_number == count
        # No shift on two invoice lines, and each billed shift points at its one line.
        pairs = session.execute(select(m.invoice_line_entries)).all()
        per_entry = Counter(entry_id for _line_id, entry_id in pairs)
        assert all(n == 1 for n in per_entry.values())
        for line_id, entry_id in pairs:
            assert session.get(m.TimeEntry, entry_id).invoice_line_id == line_id
        unlinked = session.scalar(
            select(func.count()).where(
                m.TimeEntry.invoice_line_id.is_not(None),
                m.TimeEntry.id.not_in(select(m.invoice_line_entries.c.time_entry_id)),
            )
        )
        assert unlinked == 0
