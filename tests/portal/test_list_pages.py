"""Every list that grows with the data is paginated and costs the same number of queries
whether it holds a few rows or many (issue 12: /placements made 4,513 queries at 505
employers). Each test renders a page, adds rows of every kind the page shows, and renders it
again: the statement count must not move."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core import dates
from core import models as m
from core.models import Role
from invoices import reminders, runs
from tests import factories
from tests.helpers import post_form, statements
from tests.invoicing import PERIOD_END, approved_entry, employer_with_hours, organisation


def statement_count(client, engine, path: str) -> int:
    with statements(engine) as seen:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return len(seen)


def assert_constant(client, db, engine, path: str, add: Callable[[int], None]) -> None:
    """Same statements for the page with a few rows and with many more."""
    add(2)
    db.commit()
    client.get(path)  # warm: per-process caches (settings, translations) fill here
    few = statement_count(client, engine, path)
    add(12)
    db.commit()
    assert statement_count(client, engine, path) == few


def other_placement(**kwargs) -> m.Placement:
    """An active placement of a new worker at a new employer on a new task."""
    return factories.PlacementFactory(worker=factories.WorkerFactory(), **kwargs)


def test_placements_for_staff_all_and_mine(client, db, engine, as_role):
    consultant = as_role(Role.CONSULTANT)

    def add(n):
        for _ in range(n):
            other_placement()
            other_placement(consultant_id=consultant.id)

    assert_constant(client, db, engine, "/placements", add)
    assert_constant(client, db, engine, "/placements?mine=1", add)


def test_placements_for_an_employer(client, db, engine, as_role):
    employer_user = as_role(Role.EMPLOYER)

    def add(n):
        for _ in range(n):
            order = factories.JobOrderFactory(employer=employer_user.employer)
            factories.PlacementFactory(job_order=order)

    assert_constant(client, db, engine, "/placements", add)


def test_placements_for_a_worker(client, db, engine, as_role):
    worker_user = as_role(Role.WORKER)
    worker = factories.worker_profile(worker_user)

    def for_worker(n):
        for _ in range(n):
            factories.PlacementFactory(worker=worker)
            factories.PlacementFactory(
                worker=worker,
                status=m.PlacementStatus.PROPOSED,
                employer_accepted_at=dates.now(),
            )

    assert_constant(client, db, engine, "/placements", for_worker)


def test_placements_are_paginated_newest_first(client, db, as_role):
    as_role(Role.CONSULTANT)
    start = date(2026, 1, 5)
    for n in range(51):
        worker = factories.WorkerFactory(first_name=f"Nr{n:02d}", last_name="Side")
        factories.PlacementFactory(worker=worker, start_date=start + timedelta(days=n))
    db.commit()
    first = client.get("/placements").text
    assert "Nr50 S." in first and "Nr01 S." in first and "Nr00 S." not in first
    assert "Side 1 af 2" in first and 'rel="next" href="/placements?page=2"' in first
    second = client.get("/placements?page=2").text
    assert "Nr00 S." in second and "Nr01 S." not in second and "Side 2 af 2" in second
    # A page number that is no page number is the first page, never an error.
    assert "Side 1 af 2" in client.get("/placements?page=99999999999999999999").text


def test_workers_list(client, db, engine, as_role):
    as_role(Role.CONSULTANT)
    consultant = factories.UserFactory(role=Role.CONSULTANT)

    def add(n):
        for _ in range(n):
            area = factories.WorkAreaFactory()
            factories.WorkerFactory(work_areas=[area], consultant=consultant)

    assert_constant(client, db, engine, "/workers", add)


def test_consultant_inbox_and_match(client, db, engine, as_role):
    consultant = as_role(Role.CONSULTANT)
    order = factories.JobOrderFactory(status=m.OrderStatus.TAKEN, consultant=consultant)

    def add(n):
        for _ in range(n):
            factories.JobOrderFactory(status=m.OrderStatus.NEW)
            factories.JobOrderFactory(status=m.OrderStatus.TAKEN, consultant=consultant)
            worker = factories.WorkerFactory(work_areas=[order.work_area])
            factories.PlacementFactory(worker=worker)

    assert_constant(client, db, engine, "/consultant/orders", add)
    assert_constant(client, db, engine, f"/consultant/orders/{order.id}/match", add)


@pytest.fixture
def overdue(db):
    """Adds overdue invoices in every reminder stage: due, waiting for its ten days, disputed."""
    today = dates.today()
    organisation(db)

    def add(n):
        for _ in range(n):
            factories.issued_invoice(due_date=today - timedelta(days=40))
            waiting = factories.issued_invoice(due_date=today - timedelta(days=40))
            factories.ReminderFactory(invoice=waiting, sent_on=today - timedelta(days=3))
            disputed = factories.issued_invoice(due_date=today - timedelta(days=40))
            factories.InvoiceFlagsFactory(invoice=disputed, disputed_at=dates.now())
            factories.ReminderFactory(invoice=disputed, sent_on=today - timedelta(days=20))

    return add


def test_reminders_page(client, db, engine, as_role, overdue):
    as_role(Role.FINANCE)
    assert_constant(client, db, engine, "/finance/reminders", overdue)


def test_reminders_page_sorts_and_paginates_each_list(client, db, as_role, overdue):
    as_role(Role.FINANCE)
    overdue(51)
    db.commit()
    page = client.get("/finance/reminders").text
    assert page.count('href="/finance/invoices/') == 50 + 50 + 50  # due, waiting, disputed
    for stage in ("due", "waiting", "disputed"):
        assert f"/finance/reminders?{stage}_page=2" in page
    second = client.get("/finance/reminders?due_page=2").text
    assert second.count('href="/finance/invoices/') == 1 + 50 + 50


def test_the_lists_agree_with_plan_next(app, db, ctx, overdue):
    """The database's sorting of overdue invoices is the one plan_next makes invoice by
    invoice (due, waiting, disputed, or no reminder left)."""
    overdue(3)
    today = dates.today()
    done = factories.issued_invoice(due_date=today - timedelta(days=90))
    for level in (1, 2, 3):
        factories.ReminderFactory(
            invoice=done, level=level, sent_on=today - timedelta(days=80 - 10 * level)
        )
    db.flush()
    for invoice in db.scalars(reminders.overdue(today)):
        plan = reminders.plan_next(db, invoice, today)
        stage = next(
            (s for s in reminders.Stage if invoice in db.scalars(reminders.overdue(today, s))),
            None,
        )
        if plan is None:
            assert stage in (reminders.Stage.DISPUTED, None)
            assert reminders.is_disputed(db, invoice) == (stage == reminders.Stage.DISPUTED)
        else:
            assert stage == (reminders.Stage.DUE if plan.due(today) else reminders.Stage.WAITING)
    due = reminders.due_plans(db, today)
    assert len(due) == 3 and all(plan.level == 1 for plan in due)


def test_run_preview_summarises_per_employer_and_opens_the_shifts_on_demand(
    client, db, engine, as_role
):
    organisation(db)
    as_role(Role.FINANCE)
    path = f"/finance/invoicing?period_end={PERIOD_END.isoformat()}&cadence="

    def add(n):
        for _ in range(n):
            employer, [placement] = employer_with_hours(db, weeks=3)
            factories.TimeEntryFactory(placement=placement, work_date=date(2026, 11, 20))

    assert_constant(client, db, engine, path, add)
    employer = db.scalars(select(m.Employer).order_by(m.Employer.id)).first()
    page = client.get(path).text
    assert "Lines and shifts" in page or "Linjer og vagter" in page
    assert "Jørgen0 H." not in page  # no shift on the summary
    detail = f"/finance/invoicing/employers/{employer.id}?period_end={PERIOD_END}&cadence="
    shown = client.get(detail)
    assert shown.status_code == 200
    # Three lines (uge 45–47), each named on the draft and on its two shifts; one left out.
    assert [shown.text.count(f"uge {week}") for week in (45, 46, 47)] == [3, 3, 3]
    assert "Venter på" in shown.text and "(1 vagt)" in shown.text
    missing = client.get(f"/finance/invoicing/employers/{2**31}?period_end={PERIOD_END}")
    assert missing.status_code == 404
    wrong = client.get(f"/finance/invoicing/employers/{employer.id}?period_end=x")
    assert wrong.headers["Location"] == "/finance/invoicing?period_end=x"


def test_the_summary_bills_what_the_run_would_issue(app, db, ctx):
    """Odd minutes and rates, several placements and weeks: the per-employer totals of the
    summary are the draft's, line rounding included."""
    organisation(db)
    for n in range(3):
        employer, placements = employer_with_hours(db, weeks=2, placements=2)
        for k, placement in enumerate(placements):
            placement.bill_rate_ore = 18937 + 111 * n + k
            approved_entry(placement, date(2026, 11, 24), minutes=7 + 13 * k + n)
    db.flush()
    summary = runs.summarise(db, PERIOD_END)
    drafts = {d.employer.id: d for d in runs.preview(db, PERIOD_END).drafts}
    assert summary.billable == len(drafts) == 3
    for row in summary.employers:
        draft = drafts[row.employer_id]
        assert (row.subtotal_ore, row.vat_ore, row.total_ore) == (
            draft.subtotal_ore,
            draft.vat_ore,
            draft.total_ore,
        )
        assert (row.minutes, row.lines) == (draft.minutes, len(draft.lines))
        assert (row.period_start, row.period_end) == (draft.period_start, draft.period_end)
    assert summary.minutes == sum(d.minutes for d in drafts.values())


def test_run_preview_pages_employers_and_issues_them_all(client, db, as_role):
    organisation(db)
    as_role(Role.FINANCE)
    for n in range(51):
        employer_with_hours(db, weeks=1, name=f"Kunde {n:02d}")
    db.commit()
    path = f"/finance/invoicing?period_end={PERIOD_END.isoformat()}&cadence="
    first = client.get(path).text
    assert first.count('name="employer_ids"') == 50 and "Kunde 50" not in first
    assert "Side 1 af 2" in first and "Udsted alle 51 fakturaer" in first
    second = client.get(path + "&page=2").text
    assert second.count('name="employer_ids"') == 1 and "Kunde 50" in second
    response = post_form(
        client,
        "/finance/invoicing/issue",
        {"period_end": PERIOD_END.isoformat(), "cadence": "", "everyone": "y"},
        page=path,
    )
    assert response.status_code == 302
    run = db.scalars(select(m.InvoiceRun)).one()
    assert (run.total, run.employer_ids) == (51, None)


def test_admin_users(client, db, engine, as_role):
    as_role(Role.ADMIN)

    def add(n):
        for _ in range(n):
            factories.user_for(Role.EMPLOYER)
            factories.UserFactory(role=Role.CONSULTANT)

    assert_constant(client, db, engine, "/admin/users", add)


def test_run_detail(client, db, engine, as_role):
    as_role(Role.FINANCE)
    run = factories.InvoiceRunFactory()

    def add(n):
        for _ in range(n):
            factories.issued_invoice(run_id=run.id)

    assert_constant(client, db, engine, f"/finance/runs/{run.id}", add)


def test_a_long_bank_statement_pages_its_lines(client, db, engine, as_role):
    as_role(Role.FINANCE)
    batch = factories.BankImportFactory()

    def add(n):
        for _ in range(n):
            invoice = factories.issued_invoice()
            factories.BankLineFactory(bank_import=batch, suggested_invoice_id=invoice.id)
            factories.BankLineFactory(
                bank_import=batch,
                status=m.BankLineStatus.MATCHED,
                invoice_id=factories.issued_invoice().id,
            )

    path = f"/finance/bank-import/{batch.id}"
    assert_constant(client, db, engine, path, add)
    add(40)  # 54 unmatched and 54 recorded lines in all
    db.commit()
    page = client.get(path).text
    assert "Ikke matchet: 54" in page and "Registreret: 54" in page
    assert page.count('name="invoice_number"') == 50
    assert f"{path}?unmatched_page=2" in page and f"{path}?page=2" in page
    rest = client.get(f"{path}?unmatched_page=2&page=3").text
    assert rest.count('name="invoice_number"') == 4 and "Side 3 af 3" in rest
