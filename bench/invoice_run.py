"""The invoice run (issue 12), each figure a ratio measured in the same run:

- the whole run over BENCH_EMPLOYERS employers (default 60) × 4 placements × 4 weeks of
  approved hours (48 shifts an invoice; an invoice PDF and a timesheet PDF each) on two worker
  processes, against Chromium (Playwright + /usr/bin/chromium, one reused page per process)
  and bare WeasyPrint rendering the same HTML on the same two processes;
- how long the number counter stays locked per invoice (p50, p95);
- throughput with one worker process and with two (the scaling factor);
- the run time at each employer count in BENCH_SCALE (default 200,1000): is it linear?

On PostgreSQL (the production database, BENCH_POSTGRES_URL); on SQLite when no server answers."""

from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from bench import Row, benchmark, gc_paused, postgres_database, sqlite_database

PROCESSES = 2
CHROMIUM = "/usr/bin/chromium"
STYLESHEET = Path(__file__).resolve().parent.parent / "static" / "pdf" / "pdf.css"
PERIOD_END = date(2026, 11, 29)
FIRST_MONDAY = date(2026, 11, 2)


def make_app(database_url: str):
    from portal import create_app

    return create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "bench",
            "DATABASE_URL": database_url,
            "JOBS": "inline",
            "OUTBOX_INLINE": False,  # the run alone: its e-mails wait for a sender (bench.outbox)
            "OUTBOX_DIR": tempfile.mkdtemp(prefix="bench-outbox-"),
        }
    )


def migrate(app) -> None:
    from alembic import command
    from alembic.config import Config

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = Config(os.path.join(root, "alembic.ini"))
    with app.extensions["db"].engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def seed(session, employers: int, placements: int = 4, weeks: int = 4) -> list[int]:
    """Bulk-insert the employers, placements and approved shifts; return the employer ids."""
    from sqlalchemy import insert, select

    from core import models as m
    from core import settings

    org = settings.get(session)
    org.legal_name, org.cvr = "Småjob Bench", "13585628"
    org.address_line, org.postcode, org.city = "Kongensgade 40", "5000", "Odense C"
    org.bank_reg, org.bank_account, org.fi_creditor_number = "1234", "0012345678", "81234567"
    area = m.WorkArea(name="Lager", bill_rate_ore=18900, pay_rate_ore=13500)
    user = m.User(email="bench@example.dk", role=m.Role.CONSULTANT, full_name="Bench")
    session.add_all([area, user])
    session.flush()
    signed = datetime(2026, 11, 30, 12, tzinfo=UTC)
    for n in range(employers):
        employer = m.Employer(
            name=f"Bench {n:04d} ApS",
            cvr="29000050",
            address_line="Testvej 1",
            postcode="5000",
            city="Odense C",
            invoice_email=f"bench{n}@example.dk",
            status=m.EmployerStatus.ACTIVE,
        )
        session.add(employer)
        session.flush()
        for p in range(placements):
            order = m.JobOrder(
                employer_id=employer.id,
                work_area_id=area.id,
                title="Lagerhjælp",
                hours_per_week=12,
                start_date=FIRST_MONDAY,
                status=m.OrderStatus.FILLED,
            )
            worker = m.Worker(
                payroll_number=f"{n:04d}{p}", first_name=f"Medarbejder{p}", last_name="Jensen"
            )
            session.add_all([order, worker])
            session.flush()
            placement = m.Placement(
                job_order_id=order.id,
                employer_id=employer.id,
                worker_id=worker.id,
                pay_rate_ore=13500,
                bill_rate_ore=18900,
                hours_per_week=12,
                start_date=FIRST_MONDAY,
                status=m.PlacementStatus.ACTIVE,
            )
            session.add(placement)
            session.flush()
            session.execute(
                insert(m.TimeEntry),
                [
                    {
                        "placement_id": placement.id,
                        "worker_id": placement.worker_id,
                        "work_date": FIRST_MONDAY + timedelta(weeks=w, days=d),
                        "start_time": clock(8, 0),
                        "end_time": clock(12, 0),
                        "break_minutes": 30,
                        "minutes": 210,
                        "note": "",
                        "entered_by_id": user.id,
                        "worker_confirmed_at": signed,
                        "employer_approved_at": signed,
                        "auto_approved": False,
                        "dispute_reason": "",
                        "created_at": signed,
                        "updated_at": signed,
                    }
                    for w in range(weeks)
                    for d in (0, 2, 4)
                ],
            )
    session.commit()
    return list(session.scalars(select(m.Employer.id).order_by(m.Employer.id)))


def _process(database_url: str, run_id: int, employer_ids: list[int], report: str) -> None:
    """One worker process issuing its share of the run; it reports, per invoice, how long the
    number counter stayed locked: from the counter UPDATE returning to the commit."""
    warnings.simplefilter("ignore", DeprecationWarning)
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from invoices import numbering, runs

    held: list[float] = []
    taken: dict[int, float] = {}
    next_number = numbering.next_number

    def timed(session, series, year):
        number = next_number(session, series, year)
        taken[id(session)] = time.perf_counter()  # the row is locked from here
        return number

    def committed(session) -> None:
        started = taken.pop(id(session), None)
        if started is not None:
            held.append((time.perf_counter() - started) * 1000)

    numbering.next_number = timed
    event.listen(Session, "after_commit", committed)
    event.listen(Session, "after_rollback", lambda session: taken.pop(id(session), None))
    app = make_app(database_url)
    with app.app_context():
        runs.process_run(app.extensions["db"].sessionmaker, run_id, employer_ids)
    with open(report, "w") as handle:
        json.dump(held, handle)


def _bare(documents: list[str], base_url: str) -> None:
    """WeasyPrint alone on the same HTML with the engine's settings (the stylesheet and font
    map made once, the collector paused per document), no fetcher, no database."""
    warnings.simplefilter("ignore", DeprecationWarning)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(string=STYLESHEET.read_text(), font_config=fonts)
    for html in documents:
        with gc_paused():
            HTML(string=html, base_url=base_url).write_pdf(
                stylesheets=[stylesheet], font_config=fonts
            )


def _chromium(documents: list[str], stylesheet: str) -> None:
    """Chromium as the yardstick: one browser and one reused page per process, set_content +
    page.pdf; the stylesheet inlined (WeasyPrint gets it parsed once, as the engine does)."""
    from playwright.sync_api import sync_playwright

    inline = f"<style>{stylesheet}</style>"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page()
        for html in documents:
            page.set_content(html.replace("</head>", f"{inline}</head>", 1))
            page.pdf(format="A4")
        browser.close()


def _parallel(target, chunks: list[tuple]) -> float:
    context = multiprocessing.get_context("fork")
    started = time.perf_counter()
    workers = [context.Process(target=target, args=chunk) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"benchmark process failed: {worker.exitcode}")
    return time.perf_counter() - started


@dataclass
class Run:
    seconds: float
    locks_ms: list[float]
    html: list[list[str]]  # the run's documents, as HTML, split over the processes


def run(database_url: str, employers: int, processes: int, keep_html: bool = False) -> Run:
    """Seed a fresh database, then time one invoice run over it on `processes` processes."""
    from sqlalchemy import select

    from core.models import Invoice
    from invoices import documents, runs

    app = make_app(database_url)
    migrate(app)
    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        employer_ids = seed(session, employers)
        run_id = runs.start_run(session, None, PERIOD_END).id
        session.commit()
        session.close()
    app.extensions["db"].engine.dispose()  # the children open their own connections

    folder = tempfile.mkdtemp(prefix="bench-locks-")
    reports = [os.path.join(folder, f"{n}.json") for n in range(processes)]
    chunks = [employer_ids[n::processes] for n in range(processes)]
    seconds = _parallel(
        _process,
        [
            (database_url, run_id, chunk, report)
            for chunk, report in zip(chunks, reports, strict=True)
        ],
    )
    locks: list[float] = []
    for report in reports:
        with open(report) as handle:
            locks += json.load(handle)

    html: list[list[str]] = []
    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        invoices = session.scalars(select(Invoice).order_by(Invoice.id)).all()
        assert len(invoices) == employers, f"{len(invoices)} invoices for {employers} employers"
        assert all(invoice.documents_ready for invoice in invoices)
        if keep_html:
            html = [
                [
                    text
                    for invoice in invoices[n::processes]
                    for text in (
                        documents.invoice_html(session, invoice),
                        documents.invoice_timesheet_html(session, invoice),
                    )
                ]
                for n in range(processes)
            ]
        session.close()
    app.extensions["db"].engine.dispose()
    return Run(seconds, locks, html)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@benchmark
def invoice_run() -> list[Row]:
    """The run against Chromium and bare WeasyPrint, its counter lock, workers and scale."""
    from invoices.pdf import engine

    employers = int(os.environ.get("BENCH_EMPLOYERS", "60"))
    scale = [int(n) for n in os.environ.get("BENCH_SCALE", "200,1000").split(",") if n.strip()]
    rows: list[Row] = []

    database = _Database
    with database("run2") as (url, kind):
        two = run(url, employers, PROCESSES, keep_html=True)
    with database("run1") as (url, kind):
        one = run(url, employers, 1)
    per_second = employers / two.seconds
    rows.append(
        Row(
            f"invoice run, {employers} employers × 48 shifts ({kind}, {PROCESSES} workers)",
            two.seconds * 1000,
            f"{per_second:.2f} invoices/s (an invoice and a timesheet PDF each)",
        )
    )

    bare = _parallel(_bare, [(chunk, engine().base_url) for chunk in two.html])
    rows.append(
        Row(
            f"bare WeasyPrint, the same {2 * employers} documents ({PROCESSES} processes)",
            bare * 1000,
            f"{employers / bare:.2f} invoices/s; the run's overhead {two.seconds / bare - 1:+.1%}",
        )
    )
    if os.path.exists(CHROMIUM):
        stylesheet = STYLESHEET.read_text()
        chromium = _parallel(_chromium, [(chunk, stylesheet) for chunk in two.html])
        rows.append(
            Row(
                f"Chromium, the same {2 * employers} documents ({PROCESSES} processes)",
                chromium * 1000,
                f"{employers / chromium:.2f} invoices/s; the run is "
                f"{chromium / two.seconds:.2f}× Chromium",
            )
        )
    else:
        rows.append(Row("Chromium, the same documents", 0.0, f"skipped: no {CHROMIUM}"))

    locks = one.locks_ms + two.locks_ms
    rows.append(
        Row(
            f"counter lock held per invoice ({kind}, p50)",
            statistics.median(locks),
            f"p95 {_percentile(locks, 0.95):.1f} ms, max {max(locks):.1f} ms, "
            f"{len(locks)} invoices",
        )
    )
    rows.append(
        Row(
            f"invoice run, {employers} employers ({kind}, 1 worker)",
            one.seconds * 1000,
            f"{employers / one.seconds:.2f} invoices/s; 2 workers are "
            f"{one.seconds / two.seconds:.2f}× as fast",
        )
    )
    first = None
    for count in scale:
        with database(f"scale{count}") as (url, kind):
            timed = run(url, count, PROCESSES)
        note = f"{count / timed.seconds:.2f} invoices/s"
        if first is None:
            first = (count, timed.seconds)
        else:
            note += (
                f"; {timed.seconds / first[1]:.2f}× the time of {first[0]} "
                f"for {count / first[0]:.0f}× the employers"
            )
        rows.append(
            Row(
                f"invoice run, {count} employers ({kind}, {PROCESSES} workers)",
                timed.seconds * 1000,
                note,
            )
        )
    return rows


class _Database:
    """A fresh PostgreSQL database for one measurement, or a SQLite file without a server."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._postgres = postgres_database(prefix)

    def __enter__(self) -> tuple[str, str]:
        url = self._postgres.__enter__()
        if url is None:
            return sqlite_database(self.prefix), "SQLite"
        return url, "PostgreSQL"

    def __exit__(self, *exc) -> None:
        self._postgres.__exit__(*exc)
