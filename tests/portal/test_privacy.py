"""Personal data: the worker's export, erasure on request, the retention purge and its command;
issued invoices and payroll files stay intact through all of it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from core.errors import Conflict
from core.models import (
    AuditEvent,
    CalendarFeed,
    Invoice,
    PayrollExport,
    PlacementNote,
    PlacementStatus,
    Role,
    TimeEntry,
    User,
    UserToken,
    Worker,
    WorkerStatus,
)
from invoices import payroll
from portal.services import privacy, workers
from tests import factories
from tests.helpers import login, post_form
from tests.invoicing import employer_with_hours, issue_run, organisation

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def billed(db, travel):
    """Two workers with approved November shifts, invoiced and in a payroll file; the first
    has a log-in, contact data, notes, a dispute and a calendar feed."""
    organisation(db)
    employer, (first, second) = employer_with_hours(db, weeks=1, placements=2)
    anna, bo = first.worker, second.worker
    user = factories.UserFactory(role=Role.WORKER, email=anna.email, full_name="Jørgen0 Hansen")
    anna.user, anna.phone = user, "+45 20 30 40 50"
    anna.work_areas = [first.job_order.work_area]
    factories.PlacementNoteFactory(placement=first, text="Ringede: trives på lageret")
    factories.PlacementHoursChangeFactory(placement=first)
    entry = db.scalars(select(TimeEntry).where(TimeEntry.worker_id == anna.id)).first()
    entry.note = "Gik tidligt pga. tandlæge"
    factories.TimeEntryFactory(
        placement=first,
        work_date=date(2026, 11, 20),
        note="Uenig om pausen",
        disputed_at=NOW,
        dispute_reason="Pausen var kun 10 minutter",
    )
    db.add(CalendarFeed(user_id=user.id, token_hash="a" * 64))
    db.add(UserToken(user_id=user.id, purpose="reset", token_hash="b" * 64, expires_at=NOW))
    db.flush()
    invoices = issue_run(db)
    export = payroll.create_export(db, None, NOV_1, NOV_30)
    for placement in (first, second):
        placement.status, placement.end_date = PlacementStatus.ENDED, NOV_30
    db.commit()
    return {
        "anna": anna,
        "bo": bo,
        "user": user,
        "placements": (first, second),
        "invoices": invoices,
        "export": export,
    }


def _documents(db) -> dict:
    """Every issued invoice's archived bytes and lines, and every payroll file, as stored."""
    db.expire_all()
    invoices = db.scalars(select(Invoice).where(Invoice.number.is_not(None))).all()
    return {
        "invoices": {
            i.id: (
                i.pdf_sha256,
                hashlib.sha256(i.pdf).hexdigest(),
                i.timesheet_sha256,
                hashlib.sha256(i.timesheet_pdf).hexdigest(),
                i.total_ore,
                [(line.description, line.minutes, line.amount_ore) for line in i.lines],
            )
            for i in invoices
        },
        "payroll": {e.id: e.content.encode() for e in db.scalars(select(PayrollExport))},
    }


def _events(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# --- the export --------------------------------------------------------------------------------


def test_the_export_holds_what_the_worker_has_and_nothing_of_another(db, billed):
    anna, bo = billed["anna"], billed["bo"]
    data = privacy.export(db, anna)
    text = json.dumps(data, ensure_ascii=False)

    assert data["worker"]["payroll_number"] == anna.payroll_number
    assert data["worker"]["phone"] == "+45 20 30 40 50"
    assert data["account"]["email"] == anna.email and data["account"]["password_set"]
    assert len(data["calendar_feeds"]) == 1
    (placement,) = data["placements"]
    assert placement["pay_rate_ore"] == 13500 and placement["start_date"] == "2026-11-02"
    assert placement["consultant_notes"][0]["text"] == "Ringede: trives på lageret"
    assert placement["hours_changes"][0]["to_hours_per_week"] == 12
    assert len(data["shifts"]) == 3
    assert {s["note"] for s in data["shifts"]} >= {"Gik tidligt pga. tandlæge", "Uenig om pausen"}
    assert any(s["dispute_reason"] == "Pausen var kun 10 minutter" for s in data["shifts"])
    assert data["invoice_lines"], "the invoice lines that billed the shifts"
    assert all("Jørgen0 H." in line["description"] for line in data["invoice_lines"])
    assert data["invoice_lines"][0]["invoice_number"].startswith("F-2026-")
    (row,) = data["payroll_rows"]
    assert row["row"]["navn"] == "Jørgen0 Hansen" and row["export_id"] == billed["export"].id
    assert row["row"]["loennummer"] == anna.payroll_number
    # Nothing of the other worker, no secrets.
    assert "Jørgen1" not in text and bo.payroll_number not in text
    assert factories.PASSWORD_HASH not in text and "a" * 64 not in text


def test_the_worker_downloads_their_own_data_only(client, db, billed):
    anna, bo = billed["anna"], billed["bo"]
    login(client, billed["user"])
    response = client.get("/me/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.get_json()
    assert data["worker"]["id"] == anna.id and "Jørgen1" not in response.text
    # Another worker's data is staff's route: a worker is refused.
    assert client.get(f"/workers/{bo.id}/data.json").status_code == 403
    (event,) = _events(db, "worker.data_exported")
    assert event.actor_id == billed["user"].id and event.object_id == anna.id
    assert "/me/data.json" in client.get("/hours/mine").text


def test_staff_downloads_and_profile_views_are_audited(client, db, billed, as_role):
    anna = billed["anna"]
    consultant = as_role(Role.CONSULTANT)
    page = client.get(f"/workers/{anna.id}")
    assert page.status_code == 200
    assert f"/workers/{anna.id}/data.json" in page.text
    assert "Erase the worker" in page.text or "Slet medarbejderens" in page.text
    client.get(f"/workers/{anna.id}")
    views = _events(db, "worker.viewed")
    assert len(views) == 2 and {(e.actor_id, e.object_id) for e in views} == {
        (consultant.id, anna.id)
    }
    response = client.get(f"/workers/{anna.id}/data.json")
    assert response.status_code == 200 and response.get_json()["worker"]["id"] == anna.id
    (event,) = _events(db, "worker.data_exported")
    assert event.actor_id == consultant.id and event.object_id == anna.id


# --- erasure -----------------------------------------------------------------------------------


def test_erasure_removes_personal_data_and_keeps_invoices_and_payroll_files(
    client, db, billed, as_role
):
    anna, user = billed["anna"], billed["user"]
    before = _documents(db)
    old_email = anna.email
    as_role(Role.CONSULTANT)
    response = post_form(
        client,
        f"/workers/{anna.id}/erase",
        {"reason": "Medarbejderens ønske, mail 30-11-2026", "confirm": "y"},
        page=f"/workers/{anna.id}",
    )
    assert response.status_code == 302, response.text

    db.expire_all()
    anna, user = db.get(Worker, anna.id), db.get(User, user.id)
    assert anna.erased_at is not None and anna.status == WorkerStatus.LEFT
    assert (anna.email, anna.phone, anna.postcode, anna.work_areas) == ("", "", "", [])
    assert anna.available_days == 0
    # Invoiced and paid within retention: the name stays, for the vouchers only.
    assert (anna.first_name, anna.last_name) == ("Jørgen0", "Hansen")
    assert anna.anonymised_at is None
    assert not user.active and user.password_hash is None and user.email != old_email
    assert user.full_name == "" and user.phone == ""
    assert db.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id)).all() == []
    assert db.scalars(select(UserToken).where(UserToken.user_id == user.id)).all() == []
    placement = billed["placements"][0]
    notes = select(PlacementNote).where(PlacementNote.placement_id == placement.id)
    assert db.scalars(notes).all() == []
    shifts = db.scalars(select(TimeEntry).where(TimeEntry.worker_id == anna.id)).all()
    assert len(shifts) == 3  # the shifts stay: invoices and payroll rest on them
    assert {(s.note, s.dispute_reason) for s in shifts} == {("", "")}
    (event,) = _events(db, "worker.erased")
    assert event.details["reason"] == "Medarbejderens ønske, mail 30-11-2026"

    # The documents are byte for byte what they were.
    assert _documents(db) == before

    # Gone from lists and matching; the profile shows what is kept and cannot be edited.
    assert "Jørgen0" not in client.get("/workers").text
    order = factories.JobOrderFactory(work_area=placement.job_order.work_area, postcode="5000")
    assert anna.id not in {m.candidate.worker_id for m in workers.candidates(db, order)}
    page = client.get(f"/workers/{anna.id}")
    assert page.status_code == 200 and "+45 20 30 40 50" not in page.text
    assert client.post(f"/workers/{anna.id}", data={}).status_code in (400, 409)

    # No log-in with the old address or the old password.
    with client.session_transaction() as session:
        session.clear()
    failed = post_form(client, "/auth/login", {"email": old_email, "password": factories.PASSWORD})
    assert failed.status_code == 401


def test_erasure_ends_the_workers_sessions(client, db, billed):
    login(client, billed["user"])
    assert client.get("/hours/mine").status_code == 200
    privacy.erase(db, billed["anna"], None, "Ønske")
    db.commit()
    response = client.get("/hours/mine")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_erasure_waits_for_active_placements_and_happens_once(db, billed):
    anna = billed["anna"]
    billed["placements"][0].status = PlacementStatus.ACTIVE
    with pytest.raises(Conflict):
        privacy.erase(db, anna, None, "Ønske")
    billed["placements"][0].status = PlacementStatus.ENDED
    privacy.erase(db, anna, None, "Ønske")
    with pytest.raises(Conflict):
        privacy.erase(db, anna, None, "Ønske")


def test_erasure_without_bookkeeping_anonymises_the_name_at_once(db, travel):
    worker = factories.WorkerFactory(first_name="Karen", last_name="Blixen", phone="12345678")
    proposal = factories.PlacementFactory(worker=worker, status=PlacementStatus.PROPOSED)
    privacy.erase(db, worker, None, "Ønske")
    name = f"{worker.first_name} {worker.last_name}"
    assert name == f"Slettet medarbejder {worker.payroll_number}"
    assert worker.anonymised_at is not None and worker.phone == ""
    assert proposal.status == PlacementStatus.DECLINED  # withdrawn: no one can answer it


def test_the_erase_form_needs_a_reason_and_the_tick(client, db, billed, as_role):
    anna = billed["anna"]
    as_role(Role.ADMIN)
    page = f"/workers/{anna.id}"
    response = post_form(client, f"{page}/erase", {"reason": "Ønske"}, page=page)
    assert response.status_code == 302 and response.headers["Location"] == page
    db.expire_all()
    assert db.get(Worker, anna.id).erased_at is None


# --- the purge ---------------------------------------------------------------------------------


def test_a_dry_run_changes_nothing_and_reports(db, billed):
    before = _documents(db)
    report = privacy.purge(db, date(2032, 1, 1), dry_run=True)
    assert {billed["anna"].id, billed["bo"].id} <= set(report.erased) <= set(report.anonymised)
    assert billed["export"].id in report.payroll_exports
    assert report.invoices_past_retention >= len(billed["invoices"])
    db.expire_all()
    assert db.get(Worker, billed["anna"].id).erased_at is None
    assert _documents(db) == before
    assert _events(db, "privacy.purged") == []
    assert "dry run" in report.lines()[0]


def test_purge_erases_workers_inactive_for_two_years_and_keeps_the_vouchers(db, billed):
    anna, bo = billed["anna"], billed["bo"]
    before = _documents(db)
    # Last shift 2026-11-11, placements ended 2026-11-30, the profile and placement were
    # made 2026-12-02: not two years yet on 2028-12-02.
    assert privacy.purge(db, date(2028, 12, 2)).erased == []
    report = privacy.purge(db, date(2028, 12, 3))
    assert {anna.id, bo.id} <= set(report.erased) and report.anonymised == []
    assert anna.erased_at is not None and bo.erased_at is not None and anna.user.active is False
    # Invoiced and paid in 2026: kept until the end of 2031.
    assert (anna.first_name, bo.first_name) == ("Jørgen0", "Jørgen1")
    db.commit()
    assert _documents(db) == before
    first, event = _events(db, "privacy.purged")
    assert first.details["erased_workers"] == 0
    assert event.details["erased_workers"] == len(report.erased)


def test_purge_after_retention_anonymises_names_and_payroll_rows(db, billed):
    anna, bo, export = billed["anna"], billed["bo"], billed["export"]
    privacy.erase(db, anna, None, "Ønske")
    before = _documents(db)
    original = export.content
    # 2026's vouchers are kept to the end of 2031.
    report = privacy.purge(db, date(2031, 12, 31))
    assert report.anonymised == [] and report.payroll_exports == []
    report = privacy.purge(db, date(2032, 1, 1))
    assert anna.id in report.anonymised and bo.id in report.anonymised
    assert export.id in report.payroll_exports
    assert anna.first_name == "Slettet" and anna.last_name == f"medarbejder {anna.payroll_number}"
    db.commit()
    after = _documents(db)
    # The payroll file: only the names changed, byte for byte otherwise.
    expected = original.replace(
        "Jørgen0 Hansen", f"Slettet medarbejder {anna.payroll_number}"
    ).replace("Jørgen1 Hansen", f"Slettet medarbejder {bo.payroll_number}")
    assert after["payroll"][export.id] == expected.encode()
    assert "Jørgen" not in after["payroll"][export.id].decode()
    # Issued invoices never change, past retention too (README "Personal data").
    assert after["invoices"] == before["invoices"]
    # A second run finds nothing left to do.
    again = privacy.purge(db, date(2032, 1, 2))
    assert (again.erased, again.anonymised, again.payroll_exports) == ([], [], [])


def test_payroll_anonymisation_keeps_an_unchanged_file_byte_for_byte(db, billed):
    export = billed["export"]
    export.content = privacy.anonymised_content(export)
    assert privacy.anonymised_content(export) is None  # nothing left to change


def test_the_purge_command_prints_and_records(app, db, billed):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "purge", "--dry-run", "--today", "2032-01-01"])
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output and "Payroll files" in result.output
    db.expire_all()
    assert _events(db, "privacy.purged") == []
    assert db.get(Worker, billed["anna"].id).erased_at is None

    result = runner.invoke(args=["privacy", "purge", "--today", "2032-01-01"])
    assert result.exit_code == 0, result.output
    assert "inactive since 2030-01-01 erased: 2" in result.output
    db.expire_all()
    (event,) = _events(db, "privacy.purged")
    assert event.details["dry_run"] is False and event.details["erased_workers"] >= 2
    assert event.details["anonymised_payroll_exports"] == 1
    assert db.get(Worker, billed["anna"].id).anonymised_at is not None


def test_months_before_and_the_retention_year():
    assert privacy.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert privacy.months_before(date(2028, 12, 1), 24) == date(2026, 12, 1)
    assert privacy.retention_cutoff_year(date(2032, 1, 1)) == 2026
    assert privacy.retention_cutoff_year(date(2031, 12, 31)) == 2025


def test_export_of_a_worker_without_login(db):
    worker = factories.WorkerFactory()
    data = privacy.export(db, worker)
    assert data["account"] is None and data["shifts"] == [] and data["payroll_rows"] == []
