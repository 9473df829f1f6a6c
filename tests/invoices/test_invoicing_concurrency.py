"""Concurrent invoice runs over the same employers on PostgreSQL: no duplicate number, no
gap, no time entry on two invoice lines, every approved entry billed once."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from core.models import Invoice, InvoiceLine, InvoiceRun, TimeEntry, invoice_line_entries
from invoices import runs
from tests import factories
from tests.invoicing import employer_with_hours, organisation

pytestmark = pytest.mark.postgres_only

PERIOD_END = date(2026, 11, 30)
EMPLOYERS = 6
RUNS = 4


def test_concurrent_runs_bill_every_entry_once_with_gapless_numbers(app, committed):
    with committed() as session:
        factories.bind(session)
        try:
            organisation(session)
            for _ in range(EMPLOYERS):
                employer_with_hours(session, weeks=2, placements=2)
            session.commit()
        finally:
            factories.bind(None)
        run_ids = [runs.start_run(session, None, PERIOD_END).id for _ in range(RUNS)]
        session.commit()

    barrier = threading.Barrier(RUNS)
    failures: list[BaseException] = []

    def work(run_id: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                runs.process_run(committed, run_id)
        except BaseException as error:  # noqa: BLE001 (reported below)
            failures.append(error)

    threads = [threading.Thread(target=work, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not failures, failures

    with committed() as session:
        numbers = sorted(session.scalars(select(Invoice.number)))
        assert numbers == list(range(1, EMPLOYERS + 1)), "numbers must be unique and gapless"
        assert session.scalar(select(func.count(func.distinct(Invoice.employer_id)))) == EMPLOYERS
        # No entry on two lines, and every approved entry on exactly one.
        per_entry = session.execute(
            select(invoice_line_entries.c.time_entry_id, func.count()).group_by(
                invoice_line_entries.c.time_entry_id
            )
        ).all()
        entries = session.scalar(select(func.count()).select_from(TimeEntry))
        assert len(per_entry) == entries and {n for _, n in per_entry} == {1}
        assert (
            session.scalar(
                select(func.count())
                .select_from(TimeEntry)
                .where(TimeEntry.invoice_line_id.is_(None))
            )
            == 0
        )
        # Invoiced minutes equal approved minutes.
        assert session.scalar(select(func.sum(InvoiceLine.minutes))) == session.scalar(
            select(func.sum(TimeEntry.minutes))
        )
        for run in session.scalars(select(InvoiceRun)):
            assert run.status.value == "done" and not run.errors, (run.id, run.errors)
