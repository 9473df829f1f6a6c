"""Auto-approval after N days (frozen clock), the daily reminders and the cron command."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from flask_babel import force_locale

from core import settings as settings_service
from core.models import Role
from portal.services import hours
from tests import factories
from tests.helpers import body, login

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday, week 47


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller, force_locale("da"):
        yield traveller


@pytest.fixture
def job(db, clock):
    worker = factories.user_for(Role.WORKER, full_name="Anna Worker")
    employer = factories.user_for(Role.EMPLOYER, full_name="Erik Employer")
    colleague = factories.UserFactory(
        role=Role.EMPLOYER, employer=employer.employer, full_name="Eva Colleague", locale="en"
    )
    consultant = factories.UserFactory(role=Role.CONSULTANT)
    placement = factories.placement_between(
        worker, employer, start_date=date(2026, 11, 2), consultant=consultant
    )
    db.commit()
    return worker, employer, colleague, consultant, placement


def record(db, user, placement, day=date(2026, 11, 16), start=8):
    return hours.record_shift(
        db, user, placement, hours.Shift(day, time(start, 0), time(start + 4, 0), 30)
    )


def test_entries_auto_approve_after_the_configured_days(db, clock, job):
    worker, employer, _colleague, _consultant, placement = job
    by_worker = record(db, worker, placement)
    by_employer = record(db, employer, placement, start=13)
    by_consultant = record(db, _consultant, placement, day=date(2026, 11, 15))
    disputed = record(db, worker, placement, day=date(2026, 11, 14))
    hours.dispute_entry(db, employer, disputed, "Not that day")

    clock.move_to(T0 + timedelta(days=3) - timedelta(seconds=1))
    assert hours.auto_approve(db) == 0
    assert not by_worker.approved

    clock.move_to(T0 + timedelta(days=3))
    assert hours.auto_approve(db) == 2
    assert by_worker.approved and by_worker.auto_approved
    assert by_worker.employer_approved_by_id is None
    assert by_worker.employer_approved_at == T0 + timedelta(days=3)
    assert by_employer.approved and by_employer.auto_approved
    assert by_employer.worker_confirmed_by_id is None
    # Nobody signed a consultant's entry, and disputes wait for the consultant.
    assert not by_consultant.approved and not disputed.approved
    # Idempotent: a second run finds nothing.
    assert hours.auto_approve(db) == 0


def test_the_number_of_days_is_the_admin_setting(db, clock, job):
    worker, *_rest, placement = job
    settings_service.get(db).auto_approve_days = 1
    entry = record(db, worker, placement)
    clock.move_to(T0 + timedelta(days=1))
    assert hours.auto_approve(db) == 1 and entry.auto_approved


def test_the_clock_restarts_when_a_dispute_is_resolved(db, clock, job):
    worker, employer, _colleague, consultant, placement = job
    entry = record(db, worker, placement)
    clock.move_to(T0 + timedelta(days=1))
    hours.dispute_entry(db, employer, entry, "Check it")
    clock.move_to(T0 + timedelta(days=5))
    hours.resolve_dispute(db, consultant, entry, "It stands")
    assert hours.auto_approve(db) == 0
    clock.move_to(T0 + timedelta(days=8))
    assert hours.auto_approve(db) == 1 and entry.auto_approved


def test_auto_approved_mark_shows_on_the_week_view(client, db, clock, job):
    worker, employer, *_rest, placement = job
    record(db, worker, placement)
    clock.move_to(T0 + timedelta(days=4))
    hours.auto_approve(db)
    db.commit()
    login(client, employer)
    page = client.get("/hours/week?week=2026-W47")
    assert "auto-godkendt" in page.text and "Godkendt" in page.text
    assert "Godkend alle ventende" not in page.text


def test_reminders_go_to_the_waiting_side_once_a_day(db, clock, job, mailbox):
    worker, employer, colleague, _consultant, placement = job
    record(db, worker, placement)  # waits for the employer side: both employer users
    record(db, employer, placement, start=13)  # waits for the worker
    db.commit()
    assert hours.send_reminders(db) == 3
    db.commit()
    (to_employer,) = mailbox.to(employer.email)
    assert "1 vagt venter på din godkendelse" in body(to_employer)
    assert "http://localhost/hours/week" in body(to_employer)
    (to_colleague,) = mailbox.to(colleague.email)
    assert "waiting for your approval" in body(to_colleague)  # her own language
    (to_worker,) = mailbox.to(worker.email)
    assert "venter på din bekræftelse" in body(to_worker)

    clock.move_to(T0 + timedelta(hours=10))  # 20:00 in Copenhagen, the same day
    assert hours.send_reminders(db) == 0
    db.commit()
    assert len(mailbox.messages) == 3

    clock.move_to(T0 + timedelta(days=1))
    assert hours.send_reminders(db) == 3


def test_no_reminders_when_nothing_waits(db, clock, job, mailbox):
    worker, employer, *_rest, placement = job
    entry = record(db, worker, placement)
    hours.approve_entry(db, employer, entry)
    db.commit()
    assert hours.send_reminders(db) == 0


def test_cron_command_auto_approves_and_reminds_idempotently(app, db, clock, job, mailbox):
    worker, employer, *_rest, placement = job
    entry = record(db, worker, placement)
    db.commit()
    clock.move_to(T0 + timedelta(days=3, hours=1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["hours", "auto-approve"])
    assert result.exit_code == 0, result.output
    assert "Auto-approved 1 shift;" in result.output
    db.expire_all()
    assert entry.approved and entry.auto_approved
    result = runner.invoke(args=["hours", "auto-approve"])
    assert "Auto-approved 0 shifts; sent 0 reminders." in result.output
