"""The bank import at the documented maximum (20,000 lines) on SQLite and PostgreSQL, against
the two figures that matter: parsing the same file alone (the floor) and gunicorn's default
30 s worker timeout (the ceiling a web request must stay well within)."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta

from bench import Row, benchmark, on_both_databases
from bench.invoice_run import make_app, migrate

INVOICES = 500
RUNS = 3
GUNICORN_TIMEOUT_MS = 30_000


def statement(invoices: list[tuple[str, str, int]]) -> bytes:
    """20,000 lines: one payment by FI id per invoice, one naming its number with another
    amount, and the rest unknown transfers."""
    from invoices.bank_import import MAX_LINES

    rows = ["Dato;Tekst;Beløb"]
    for payment_id, number, total in invoices:
        rows.append(f"01-12-2026;Betaling {payment_id};{total // 100},{total % 100:02d}")
        rows.append(f"02-12-2026;Faktura {number} rest;12,34")
    day = date(2026, 12, 1)
    for n in range(MAX_LINES - len(rows) + 1):
        rows.append(f"{(day + timedelta(days=n % 28)).strftime('%d-%m-%Y')};Overførsel {n};{n},50")
    return ("\n".join(rows) + "\n").encode()


def run_on(database_url: str, kind: str) -> list[Row]:
    from core.models import Invoice
    from invoices import bank_import
    from tests import factories

    app = make_app(database_url)
    migrate(app)
    database = app.extensions["db"]
    with app.app_context(), database.sessionmaker() as session:
        factories.bind(session)
        try:
            made = [factories.issued_invoice(total_ore=100_000) for _ in range(INVOICES)]
            session.commit()
        finally:
            factories.bind(None)
        content = statement([(i.payment_id, i.display_number, i.total_ore) for i in made])

    parse_times, import_times = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        bank_import.parse_statement(content)
        parse_times.append((time.perf_counter() - start) * 1000)
        with app.test_request_context("/"), database.sessionmaker() as session:
            start = time.perf_counter()
            batch, _errors = bank_import.import_statement(session, None, "bench.csv", content)
            session.flush()
            import_times.append((time.perf_counter() - start) * 1000)
            paid = session.query(Invoice).filter(Invoice.paid_ore > 0).count()
            session.rollback()  # the next run imports the same file afresh
    database.engine.dispose()
    parse_ms, import_ms = statistics.median(parse_times), statistics.median(import_times)
    note = (
        f"{import_ms / parse_ms:.1f}× parsing alone; {import_ms / GUNICORN_TIMEOUT_MS:.1%} of "
        f"gunicorn's 30 s timeout; {paid} invoices paid"
    )
    return [
        Row(f"bank import, 20,000 lines ({kind}), median of {RUNS}", import_ms, note),
        Row(f"parse the same file alone ({kind}), median of {RUNS}", parse_ms, "the floor"),
    ]


@benchmark
def bank_import_at_the_maximum() -> list[Row]:
    return on_both_databases(run_on, "bank")
