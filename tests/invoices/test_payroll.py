"""The payroll export: exact amounts, totals, no repeats, re-export, the page and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from core import settings as settings_service
from core.errors import Invalid
from core.models import PayrollExport, PayrollFormat, Role, TimeEntry
from invoices import payroll
from tests import factories
from tests.helpers import post_form

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def ctx(db):
    with time_machine.travel(NOW, tick=False), force_locale("da"):
        yield


def approved(placement, day, minutes, **kwargs):
    return factories.TimeEntryFactory(
        placement=placement,
        work_date=day,
        start_time=time(8, 0),
        end_time=time(8, 0),
        minutes=minutes,
        break_minutes=0,
        worker_confirmed_at=NOW,
        employer_approved_at=NOW,
        **kwargs,
    )


@pytest.fixture
def november(db, ctx):
    """Two workers, three placements with awkward rates, and entries that must stay out."""
    anna = factories.WorkerFactory(first_name="Anna", last_name="Ærø", payroll_number="1001")
    bo = factories.WorkerFactory(first_name="Bo", last_name="Berg", payroll_number="1002")
    p1 = factories.PlacementFactory(worker=anna, pay_rate_ore=13550)
    p2 = factories.PlacementFactory(worker=anna, pay_rate_ore=14025)
    p3 = factories.PlacementFactory(worker=bo, pay_rate_ore=12999)
    entries = [
        approved(p1, date(2026, 11, 3), 211),
        approved(p1, date(2026, 11, 10), 187),
        approved(p2, date(2026, 11, 4), 95),
        approved(p3, date(2026, 11, 5), 241),
        approved(p3, date(2026, 11, 30), 17),
    ]
    # Not approved, disputed, or after the period: never in the November export.
    factories.TimeEntryFactory(placement=p1, work_date=date(2026, 11, 12), minutes=100)
    factories.TimeEntryFactory(
        placement=p3,
        work_date=date(2026, 11, 13),
        minutes=100,
        worker_confirmed_at=NOW,
        disputed_at=NOW,
        dispute_reason="x",
    )
    approved(p3, date(2026, 12, 1), 60)
    db.flush()
    return entries


def expected_amount(minutes: int, rate_ore: int) -> int:
    """The billing rule, recomputed apart: hours to two decimals, × the rate, to the øre."""
    hours = (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int((hours * Decimal(rate_ore)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_csv(content: str) -> list[list[str]]:
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))


def test_csv_rows_and_totals_equal_approved_minutes_times_rates(db, november):
    export = payroll.create_export(db, None, NOV_1, NOV_30)
    rows = read_csv(export.content)
    assert rows[0] == list(payroll.CSV_HEADER)
    body, total = rows[1:-1], rows[-1]
    assert [r[0] for r in body] == ["1001", "1001", "1002"]
    assert body[0][1] == "Anna Ærø" and body[0][2:4] == ["2026-11-01", "2026-11-30"]
    # Row per worker per placement: minutes, hours "6,63", rate and exact amount.
    by_rate = {13550: 211 + 187, 14025: 95, 12999: 241 + 17}
    expected_rows = {
        (str(minutes), payroll.kroner(rate), payroll.kroner(expected_amount(minutes, rate)))
        for rate, minutes in by_rate.items()
    }
    assert {(r[6], r[8], r[9]) for r in body} == expected_rows
    assert body[0][7] == "6,63"  # 398 minutes = 6.6333 hours
    for row in body:  # as the reader checks it: timer × timesats = beløb, to the øre
        hours, rate, amount = (Decimal(row[i].replace(",", ".")) for i in (7, 8, 9))
        assert (hours * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == amount
    # The totals row: approved minutes, and the sum of the rows' amounts to the øre.
    total_minutes = sum(e.minutes for e in november)
    total_ore = sum(expected_amount(m, r) for r, m in by_rate.items())
    assert total[1] == "I alt" and total[6] == str(total_minutes)
    assert total[7] == payroll.hundredths_decimal(sum(int(r[7].replace(",", "")) for r in body))
    assert total[9] == payroll.kroner(total_ore)
    assert export.total_minutes == total_minutes and export.total_ore == total_ore
    assert export.entry_count == 5
    assert sum(int(r[6]) for r in body) == total_minutes


def test_exported_entries_are_marked_and_never_repeated(db, november):
    first = payroll.create_export(db, None, NOV_1, NOV_30)
    assert {e.payroll_export_id for e in november} == {first.id}
    with pytest.raises(Invalid, match="ingen godkendte timer"):
        payroll.create_export(db, None, NOV_1, NOV_30)
    # An entry approved after the export lands in the next one, whatever its date.
    late = approved(november[0].placement, date(2026, 11, 20), 120)
    second = payroll.create_export(db, None, date(2026, 12, 1), date(2026, 12, 31))
    assert late.payroll_export_id == second.id
    assert second.entry_count == 2  # the late November entry and the 1 December one
    # The file says so: that row runs from the November shift, not from 1 December.
    starts = {row[4]: row[2] for row in read_csv(second.content)[1:-1]}
    assert starts[str(late.placement_id)] == "2026-11-20"
    assert sorted(starts.values()) == ["2026-11-20", "2026-12-01"]
    assert all(e.payroll_export_id == first.id for e in november)


def test_reexport_repeats_the_period_when_asked(db, november):
    first = payroll.create_export(db, None, NOV_1, NOV_30)
    again = payroll.create_export(db, None, NOV_1, NOV_30, reexport=True)
    assert again.reexport and again.content == first.content
    assert again.total_ore == first.total_ore
    # Each shift keeps the export that first paid it (issue 14, item 11).
    assert {e.payroll_export_id for e in november} == {first.id}


def test_danlon_lines(db, ctx):
    settings_service.get(db).cvr = "12345678"
    worker = factories.WorkerFactory(payroll_number="100")
    placement = factories.PlacementFactory(worker=worker, pay_rate_ore=20000)
    approved(placement, date(2026, 11, 2), 25 * 60)
    export = payroll.create_export(db, None, NOV_1, NOV_30, fmt=PayrollFormat.DANLON)
    assert export.content == "12345678;100;1;2500;20000;500000\r\n"


def test_period_must_be_in_order(db, ctx):
    with pytest.raises(Invalid):
        payroll.create_export(db, None, NOV_30, NOV_1)


def test_finance_page_creates_and_downloads_the_same_bytes(client, db, november, as_role):
    user = as_role(Role.FINANCE)
    page = client.get("/payroll/")
    assert page.status_code == 200 and "Lønfil" in page.text
    response = post_form(
        client, "/payroll/", {"start": "2026-11-01", "end": "2026-11-30", "format": "csv"}
    )
    assert response.status_code == 302
    export = db.scalar(select(PayrollExport))
    assert export.created_by_id == user.id
    download = client.get(f"/payroll/{export.id}/download")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data.decode("utf-8") == export.content
    assert "loenfil-2026-11-01-2026-11-30" in download.headers["Content-Disposition"]
    again = post_form(
        client, "/payroll/", {"start": "2026-11-01", "end": "2026-11-30", "format": "csv"}
    )
    assert again.status_code == 400 and "ingen godkendte timer" in again.text
    assert client.get("/payroll/999999/download").status_code == 404


def test_payroll_is_for_finance_only(client, db, november, as_role):
    export = payroll.create_export(db, None, NOV_1, NOV_30)
    db.commit()
    as_role(Role.EMPLOYER)
    assert client.get("/payroll/").status_code == 403
    assert client.get(f"/payroll/{export.id}/download").status_code == 403


def test_cli_exports_to_a_file_and_refuses_a_repeat(app, db, november, tmp_path):
    approved_minutes = sum(e.minutes for e in november)
    db.commit()  # from here on only the command touches the database until the end
    runner = app.test_cli_runner()
    target = tmp_path / "loen.csv"
    args = ["payroll-export", "--from", "2026-11-01", "--to", "2026-11-30", "--output", target]
    result = runner.invoke(args=[str(a) for a in args])
    assert result.exit_code == 0, result.output
    rows = read_csv(target.read_text(encoding="utf-8"))
    assert rows[-1][6] == str(approved_minutes)
    result = runner.invoke(args=[str(a) for a in args])
    assert result.exit_code == 1 and "ingen godkendte timer" in result.output
    result = runner.invoke(args=[str(a) for a in args] + ["--reexport"])
    assert result.exit_code == 0
    db.expire_all()
    assert db.scalar(select(TimeEntry).where(TimeEntry.payroll_export_id.is_(None))) is not None


def test_admin_may_export_too(client, db, as_role):
    as_role(Role.ADMIN)
    assert client.get("/payroll/").status_code == 200


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(db, ctx):
    """Names typed by people reach finance's spreadsheet as text, never as formulas."""
    employer = factories.EmployerFactory(name='=HYPERLINK("http://example.com","Klik")')
    order = factories.JobOrderFactory(employer=employer)
    plus = factories.WorkerFactory(first_name="+SUM(1+1)", last_name="Jensen")
    at = factories.WorkerFactory(first_name="@SUM(1+1)", last_name="Hansen")
    for worker in (plus, at):
        placement = factories.PlacementFactory(job_order=order, worker=worker)
        approved(placement, date(2026, 11, 3), 60)
    db.flush()
    export = payroll.create_export(db, None, NOV_1, NOV_30)
    rows = read_csv(export.content)
    names = {row[1] for row in rows[1:-1]}
    assert names == {"'+SUM(1+1) Jensen", "'@SUM(1+1) Hansen"}
    assert {row[5] for row in rows[1:-1]} == {"'" + employer.name}
    # Figures stay figures (the totals row's amount included).
    assert rows[-1][-1] and not rows[-1][-1].startswith("'")


def test_a_shift_corrected_after_it_was_paid_goes_into_the_next_file_as_the_difference(app, db):
    """Issue 14, item 1 from the pay side: finance credits a line and releases its shifts,
    the employer corrects one from 240 to 120 minutes and approves the rest as they were.
    The next payroll file takes back the 120 minutes paid too much, and repeats nothing."""
    from invoices import credit
    from portal.services.hours import commands as hours_commands
    from portal.services.hours.rules import Shift
    from tests.invoicing import employer_with_hours, issue_run, organisation

    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    employer, [placement] = employer_with_hours(db, weeks=1)  # two shifts of 240 minutes
    placement.pay_rate_ore = 15000
    db.commit()
    first = payroll.create_export(db, None, NOV_1, NOV_30)
    assert first.total_minutes == 480 and first.total_ore == 120000
    [invoice] = issue_run(db)
    credit.issue_credit_note(db, finance, invoice, None, True, "For mange timer")
    db.commit()
    employer_user = factories.user_for(Role.EMPLOYER, employer=employer)
    worker_user = factories.UserFactory(role=Role.WORKER)
    placement.worker.user = worker_user
    db.commit()
    entry, other = db.scalars(select(TimeEntry).order_by(TimeEntry.work_date)).all()
    shift = Shift(entry.work_date, time(8, 0), time(10, 0), 0, "Rettet efter kreditnota")
    hours_commands.edit_entry(db, employer_user, entry, shift)
    db.commit()
    hours_commands.confirm_entry(db, worker_user, entry)
    hours_commands.approve_entry(db, employer_user, other)  # unchanged: paid already
    db.commit()
    assert entry.approved and entry.minutes == 120

    correction = payroll.create_export(db, None, NOV_1, NOV_30)
    assert (correction.entry_count, correction.total_minutes) == (1, -120)
    assert correction.total_ore == -30000
    [row] = read_csv(correction.content)[1:-1]
    assert row[6:10] == ["-120", "-2,00", "150,00", "-300,00"]
    assert entry.payroll_export_id == first.id and entry.paid_minutes == 120
    with pytest.raises(Invalid, match="ingen godkendte timer"):
        payroll.create_export(db, None, NOV_1, NOV_30)  # nothing owed twice
