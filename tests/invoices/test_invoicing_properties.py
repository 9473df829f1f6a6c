"""Property: across any sequence of runs and credit notes, every approved minute up to the
period end is billed exactly once (credits that release hours count them back)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import dates
from core.db import database
from core.models import Invoice, InvoiceKind, InvoiceLine, Role, TimeEntry, invoice_line_entries
from invoices import credit, runs
from tests import factories
from tests.helpers import rolled_back
from tests.invoicing import approved_entry, organisation

# A Monday at least 60 days back: runs bill up to START + 60 days, and never a later day
# than today (core.dates).
_BACK = dates.today() - timedelta(days=63)
START = _BACK - timedelta(days=_BACK.weekday())
operations = st.lists(
    st.one_of(
        st.tuples(st.just("shift"), st.integers(0, 1), st.integers(0, 48), st.integers(15, 720)),
        st.tuples(st.just("run"), st.integers(0, 55)),
        st.tuples(st.just("credit"), st.integers(0, 9), st.booleans(), st.booleans()),
    ),
    min_size=1,
    max_size=8,
)


def billed_once(db) -> None:
    """The invariants that must hold after every step."""
    # A shift is on at most one live line, and that line bills it.
    for entry in db.scalars(select(TimeEntry)):
        if entry.invoice_line_id is not None:
            line_entries = db.scalars(
                select(invoice_line_entries.c.time_entry_id).where(
                    invoice_line_entries.c.invoice_line_id == entry.invoice_line_id
                )
            ).all()
            assert entry.id in line_entries
    invoiced = db.scalar(
        select(func.coalesce(func.sum(InvoiceLine.minutes), 0))
        .join(Invoice)
        .where(Invoice.kind == InvoiceKind.INVOICE)
    )
    released = db.scalar(
        select(func.coalesce(func.sum(InvoiceLine.minutes), 0))
        .join(Invoice)
        .where(Invoice.kind == InvoiceKind.CREDIT_NOTE, InvoiceLine.released_entries)
    )
    live = db.scalar(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(
            TimeEntry.invoice_line_id.is_not(None)
        )
    )
    settled = db.scalar(
        select(func.coalesce(func.sum(InvoiceLine.minutes), 0))
        .join(Invoice)
        .where(Invoice.kind == InvoiceKind.CREDIT_NOTE, ~InvoiceLine.released_entries)
    )
    # Invoiced minus released = billed now (live lines, settled credits included).
    assert invoiced - released == live
    assert settled <= live
    numbers = sorted(db.scalars(select(Invoice.number).where(Invoice.kind == InvoiceKind.INVOICE)))
    assert numbers == list(range(1, len(numbers) + 1))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_every_approved_minute_is_billed_exactly_once(app, steps):
    with rolled_back(app) as db:
        organisation(db)
        finance = factories.UserFactory(role=Role.FINANCE)
        employer = factories.EmployerFactory()
        placements = [
            factories.PlacementFactory(job_order__employer=employer, start_date=START)
            for _ in range(2)
        ]
        db.commit()
        worked: set[tuple[int, int]] = set()
        for step in steps:
            if step[0] == "shift":
                _, which, day, minutes = step
                if (which, day) in worked:
                    continue  # a second shift at the same hour: the database refuses overlaps
                worked.add((which, day))
                approved_entry(placements[which], START + timedelta(days=day), minutes=minutes)
                db.commit()
            elif step[0] == "run":
                period_end = START + timedelta(days=step[1])
                if runs.billable_employer_ids(db, period_end):
                    run_id = runs.start_run(db, None, period_end).id
                    db.commit()
                    runs.process_run(database().sessionmaker, run_id)
                    db.expire_all()
            else:
                _, pick, whole, release = step
                invoices = db.scalars(
                    select(Invoice).where(Invoice.kind == InvoiceKind.INVOICE).order_by(Invoice.id)
                ).all()
                if not invoices:
                    continue
                invoice = invoices[pick % len(invoices)]
                open_lines = [
                    line
                    for line in invoice.lines
                    if line.id not in credit.credited_line_ids(db, invoice)
                ]
                if not open_lines:
                    continue
                chosen = None if whole else [open_lines[pick % len(open_lines)].id]
                if chosen is None and len(open_lines) != len(invoice.lines):
                    chosen = [line.id for line in open_lines]
                credit.issue_credit_note(db, finance, invoice, chosen, release, "test")
                db.commit()
                if release:  # released hours go back to the employer, who approves them again
                    unsigned = TimeEntry.employer_approved_at.is_(None)
                    for entry in db.scalars(select(TimeEntry).where(unsigned)):
                        entry.employer_approved_at = dates.now()
                    db.commit()
            billed_once(db)
        # A final run up to the last shift bills everything that is not settled.
        last = START + timedelta(days=60)
        if runs.billable_employer_ids(db, last):
            run_id = runs.start_run(db, None, last).id
            db.commit()
            runs.process_run(database().sessionmaker, run_id)
            db.expire_all()
        billed_once(db)
        assert (
            db.scalar(
                select(func.count())
                .select_from(TimeEntry)
                .where(TimeEntry.invoice_line_id.is_(None))
            )
            == 0
        )
