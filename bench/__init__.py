"""Benchmarks (not tests). `make bench` runs `python -m bench` and prints one table.

Each benchmark is a function registered with @benchmark that returns table rows
(name, median milliseconds, note). Later issues add their own functions here.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

RUNS = 20


@dataclass(frozen=True)
class Row:
    name: str
    median_ms: float
    note: str = ""


BENCHMARKS: list[Callable[[], list[Row]]] = []


def benchmark(function: Callable[[], list[Row]]) -> Callable[[], list[Row]]:
    BENCHMARKS.append(function)
    return function


def median_ms(function: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of `runs` calls after one warm-up call, in milliseconds."""
    function()
    times = []
    for _ in range(runs):
        gc.collect()  # a collection left over from the last run must not land in this one
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def paired_median_ms(
    first: Callable[[], object], second: Callable[[], object], runs: int = RUNS
) -> tuple[float, float]:
    """Like median_ms for two functions, alternating them so machine load hits both alike."""
    first(), second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for function, bucket in ((first, times[0]), (second, times[1])):
            gc.collect()
            start = time.perf_counter()
            function()
            bucket.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def timesheet_sample(rows: int = 30):
    """A timesheet with `rows` shifts, as plain data (no database needed)."""
    from invoices.timesheets import Organisation, Signature, TimesheetData, TimesheetRow

    signed = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    start = date(2026, 11, 1)
    return TimesheetData(
        organisation=Organisation(
            "Småjob Fyn ApS", "13748136", "Vestergade 1, 5000 Odense C", "kontakt@smajob.dk", ""
        ),
        placement_id=1,
        worker_name="Anna Østergaard",
        payroll_number="1001",
        employer_name="Lager & Co ApS",
        employer_cvr="29000050",
        employer_address="Testvej 1, 5000 Odense C",
        job_title="Lagerhjælp",
        work_area="Lager",
        period_start=start,
        period_end=start + timedelta(days=rows - 1),
        rows=[
            TimesheetRow(
                work_date=start + timedelta(days=n),
                start_time=clock(8, 0),
                end_time=clock(12, 0),
                break_minutes=30,
                minutes=210,
                note="Varemodtagelse" if n % 5 == 0 else "",
                status="approved",
                auto_approved=n % 7 == 0,
                worker_signature=Signature("Anna Østergaard", signed),
                employer_signature=Signature("Erik Hansen", signed, auto=n % 7 == 0),
            )
            for n in range(rows)
        ],
        generated_at=signed,
    )


@contextmanager
def gc_paused():
    """As invoices.pdf.PdfEngine renders: the cyclic collector paused for one document."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@benchmark
def timesheet_pdf() -> list[Row]:
    """A 30-row timesheet: our pipeline (Jinja + asset-only fetcher) vs. bare WeasyPrint."""
    from invoices import pdf

    data = timesheet_sample(30)
    engine = pdf.engine()
    html = engine.render_html("pdf/timesheet.html", locale=data.locale, sheet=data)

    fonts = pdf.FontConfiguration()
    stylesheet = pdf.CSS(string=(pdf.ASSETS_DIR / "pdf.css").read_text(), font_config=fonts)

    def bare() -> bytes:
        # The same HTML through WeasyPrint's default fetcher, which would load anything, with
        # the engine's settings (stylesheet parsed once, one font map, the collector paused),
        # so that the difference is our pipeline's own cost.
        with gc_paused():
            return pdf.HTML(string=html, base_url=engine.base_url).write_pdf(
                stylesheets=[stylesheet], font_config=fonts
            )

    ours, plain = paired_median_ms(lambda: pdf.render_timesheet_pdf(data), bare)
    return [
        Row("timesheet PDF, 30 rows (render_timesheet_pdf)", ours, f"{ours / plain:.2f}× bare"),
        Row("timesheet PDF, 30 rows (bare WeasyPrint, same HTML)", plain, "baseline"),
    ]


POSTGRES_URL_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_database(prefix: str):
    """A PostgreSQL database made for one benchmark (at BENCH_POSTGRES_URL's server) and
    dropped afterwards; yields its URL, or None when no server answers."""
    import os
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = os.environ.get("BENCH_POSTGRES_URL", POSTGRES_URL_DEFAULT)
    name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:  # noqa: BLE001 (the caller says in the table that PostgreSQL is missing)
        admin.dispose()
        yield None
        return
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_database(prefix: str) -> str:
    """The URL of a fresh SQLite file for one benchmark."""
    import tempfile

    return f"sqlite:///{tempfile.mkdtemp(prefix=f'bench-{prefix}-')}/bench.db"


def on_both_databases(run_on: Callable[[str, str], list[Row]], prefix: str) -> list[Row]:
    """`run_on(url, kind)` on a fresh SQLite file, then on a PostgreSQL database made for it
    and dropped afterwards; a missing server is said in the table."""
    rows = run_on(sqlite_database(prefix), "SQLite")
    with postgres_database(prefix) as url:
        if url is None:
            return [*rows, Row(f"PostgreSQL {prefix}", 0.0, "skipped: no PostgreSQL server")]
        rows += run_on(url, "PostgreSQL")
    return rows


def print_table(rows: list[Row]) -> None:
    width = max(len(row.name) for row in rows)
    print(f"{'benchmark':<{width}}  {'ms':>10}  note")
    print(f"{'-' * width}  {'-' * 10}  {'-' * 12}")
    for row in rows:
        print(f"{row.name:<{width}}  {row.median_ms:>10.1f}  {row.note}")
