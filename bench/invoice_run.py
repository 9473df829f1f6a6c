"""The invoice run benchmark: N employers × 4 placements × 4 weeks of approved hours, one run
over all of them on two processes, against bare WeasyPrint rendering the same documents."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from bench import Row, benchmark, paired_median_ms

PROCESSES = 2
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


def _process(database_url: str, run_id: int, employer_ids: list[int]) -> None:
    warnings.simplefilter("ignore", DeprecationWarning)
    from invoices import runs

    app = make_app(database_url)
    with app.app_context():
        runs.process_run(app.extensions["db"].sessionmaker, run_id, employer_ids)


def _bare(documents: list[str], base_url: str) -> None:
    warnings.simplefilter("ignore", DeprecationWarning)
    from weasyprint import HTML

    for html in documents:
        HTML(string=html, base_url=base_url).write_pdf()


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


@benchmark
def invoice_run() -> list[Row]:
    """Invoices per second through the whole pipeline vs. bare WeasyPrint on the same HTML."""
    from sqlalchemy import select

    from core.models import Invoice
    from invoices import documents, runs
    from invoices.pdf import engine

    employers = int(os.environ.get("BENCH_EMPLOYERS", "200"))
    folder = tempfile.mkdtemp(prefix="bench-")
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
    app = make_app(database_url)
    migrate(app)
    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        employer_ids = seed(session, employers)
        run_id = runs.start_run(session, None, PERIOD_END).id
        session.commit()
        session.close()
    app.extensions["db"].engine.dispose()  # children open their own connections

    halves = [employer_ids[i::PROCESSES] for i in range(PROCESSES)]
    pipeline = _parallel(_process, [(database_url, run_id, half) for half in halves])

    with app.app_context():
        session = app.extensions["db"].sessionmaker()
        invoices = session.scalars(select(Invoice).order_by(Invoice.id)).all()
        assert len(invoices) == employers, f"{len(invoices)} invoices for {employers} employers"
        html = [
            [
                text
                for invoice in invoices[i::PROCESSES]
                for text in (
                    documents.invoice_html(session, invoice),
                    documents.invoice_timesheet_html(session, invoice),
                )
            ]
            for i in range(PROCESSES)
        ]
        one = invoices[0]
        invoice_html = documents.invoice_html(session, one)
        single, single_bare = paired_median_ms(
            lambda: documents.invoice_pdf(session, one),
            lambda: _bare([invoice_html], engine().base_url),
        )
        session.close()
    app.extensions["db"].engine.dispose()
    bare = _parallel(_bare, [(chunk, engine().base_url) for chunk in html])

    kind = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    overhead = (pipeline / bare - 1) * 100
    return [
        Row(
            f"invoice run, {employers} employers × 4 placements ({kind}, "
            f"{PROCESSES} processes), total",
            pipeline * 1000,
            f"{employers / pipeline:.1f} invoices/s (2 PDFs each, queries, archive)",
        ),
        Row(
            f"bare WeasyPrint, the same {2 * employers} documents ({PROCESSES} processes), total",
            bare * 1000,
            f"{employers / bare:.1f} invoices/s; pipeline overhead {overhead:+.1f} %",
        ),
        Row(
            "one-page invoice PDF, warm (invoice_pdf)", single, f"{single / single_bare:.2f}× bare"
        ),
        Row("one-page invoice PDF, warm (bare WeasyPrint)", single_bare, "baseline"),
    ]
