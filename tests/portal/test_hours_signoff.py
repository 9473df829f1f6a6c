"""The sign-off state machine, table-driven: each actor × each state × each action.

The expected table is written out here by hand, independently of portal.services.hours.RULES,
and every cell is also exercised through the service (allowed: it works; refused: it raises
and changes nothing).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from core.errors import Conflict, DomainError, NotAllowed, NotFound
from core.models import EntryChangeKind, Role, TimeEntryChange
from portal.services import hours
from portal.services.hours import Action
from tests import factories
from tests.helpers import login, post_form

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
DAY = date(2026, 11, 17)

ACTORS = ("worker", "employer", "consultant", "other_employer", "other_worker")
STATES = (
    "entered_by_worker",
    "entered_by_employer",
    "entered_by_consultant",
    "approved",
    "disputed",
    "invoiced",
)
E, C, A, D, X, R = (
    Action.EDIT,
    Action.CONFIRM,
    Action.APPROVE,
    Action.DISPUTE,
    Action.CORRECT,
    Action.RESOLVE,
)
EXPECTED = {
    ("worker", "entered_by_worker"): {E},
    ("worker", "entered_by_employer"): {C, D, E},
    ("worker", "entered_by_consultant"): {C, D, E},
    ("employer", "entered_by_worker"): {A, D, E},
    ("employer", "entered_by_employer"): {E},
    ("employer", "entered_by_consultant"): {A, D, E},
    ("consultant", "disputed"): {X, R},
}
OUTSIDERS = ("other_employer", "other_worker")


@pytest.fixture
def world(db):
    with time_machine.travel(NOW, tick=False), force_locale("da"):
        worker = factories.user_for(Role.WORKER, full_name="Anna Worker")
        employer = factories.user_for(Role.EMPLOYER, full_name="Erik Employer")
        consultant = factories.UserFactory(role=Role.CONSULTANT, full_name="Karen Consultant")
        placement = factories.placement_between(
            worker, employer, start_date=date(2026, 11, 2), consultant=consultant
        )
        other_worker = factories.user_for(Role.WORKER)
        other_employer = factories.user_for(Role.EMPLOYER)
        factories.placement_between(other_worker, other_employer, start_date=date(2026, 11, 2))
        actors = {
            "worker": worker,
            "employer": employer,
            "consultant": consultant,
            "other_employer": other_employer,
            "other_worker": other_worker,
        }
        yield actors, placement


def make_entry(db, actors, placement, state):
    shift = hours.Shift(DAY, time(8, 0), time(12, 0), 30)
    recorder = {
        "entered_by_employer": actors["employer"],
        "entered_by_consultant": actors["consultant"],
    }.get(state, actors["worker"])
    entry = hours.record_shift(db, recorder, placement, shift)
    if state in ("approved", "invoiced"):
        hours.approve_entry(db, actors["employer"], entry)
    if state == "disputed":
        hours.dispute_entry(db, actors["employer"], entry, "She left at 11")
    if state == "invoiced":
        entry.invoice_line_id = factories.InvoiceLineFactory(
            invoice=factories.InvoiceFactory(employer=placement.employer)
        ).id
    db.flush()
    return entry


def attempt(db, action, user, entry):
    other = hours.Shift(DAY, time(8, 0), time(12, 30), 30)
    if action == Action.EDIT:
        hours.edit_entry(db, user, entry, other)
    elif action == Action.CONFIRM:
        hours.confirm_entry(db, user, entry)
    elif action == Action.APPROVE:
        hours.approve_entry(db, user, entry)
    elif action == Action.DISPUTE:
        hours.dispute_entry(db, user, entry, "Wrong times")
    elif action == Action.CORRECT:
        hours.correct_entry(db, user, entry, other, "Checked with both")
    else:
        hours.resolve_dispute(db, user, entry, "The times stand")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("actor", ACTORS)
def test_sign_off_table(db, world, actor, state):
    actors, placement = world
    entry = make_entry(db, actors, placement, state)
    assert hours.state_of(entry).value == {
        "entered_by_worker": "waiting_for_employer",
        "entered_by_employer": "waiting_for_worker",
        "entered_by_consultant": "waiting_for_both",
    }.get(state, state)
    user = actors[actor]
    expected = EXPECTED.get((actor, state), set())
    assert set(hours.allowed_actions(entry, user)) == expected

    for action in Action:
        savepoint = db.begin_nested()
        before = hours.snapshot(entry), entry.worker_confirmed_at, entry.employer_approved_at
        try:
            if action in expected:
                attempt(db, action, user, entry)  # must not raise
            else:
                error = (
                    NotFound
                    if actor in OUTSIDERS
                    else Conflict
                    if state == "invoiced"
                    else (NotAllowed, Conflict)
                )
                with pytest.raises(error):
                    attempt(db, action, user, entry)
                after = (
                    hours.snapshot(entry),
                    entry.worker_confirmed_at,
                    entry.employer_approved_at,
                )
                assert after == before
        finally:
            savepoint.rollback()
        db.refresh(entry)


def test_invoiced_entries_refuse_every_change_with_conflict(db, world):
    actors, placement = world
    entry = make_entry(db, actors, placement, "invoiced")
    for who in ("worker", "employer", "consultant"):
        for action in Action:
            with pytest.raises(Conflict, match="faktureret"):
                attempt(db, action, actors[who], entry)


def test_approved_only_when_both_sides_signed(db, world):
    actors, placement = world
    entry = make_entry(db, actors, placement, "entered_by_consultant")
    assert not entry.approved
    hours.confirm_entry(db, actors["worker"], entry)
    assert not entry.approved
    hours.approve_entry(db, actors["employer"], entry)
    assert entry.approved and not entry.auto_approved


def test_a_worker_edit_clears_the_employers_approval(db, world):
    actors, placement = world
    entry = make_entry(db, actors, placement, "entered_by_employer")
    hours.edit_entry(
        db, actors["worker"], entry, hours.Shift(DAY, time(8, 0), time(13, 0), 30, "Stayed")
    )
    assert entry.employer_approved_at is None
    assert entry.worker_confirmed_by_id == actors["worker"].id
    assert entry.minutes == 270 and entry.note == "Stayed"


def test_consultant_correction_clears_both_signatures_and_records_before_and_after(
    db, world, mailbox
):
    actors, placement = world
    entry = make_entry(db, actors, placement, "disputed")
    assert entry.employer_approved_at is None and entry.worker_confirmed_at is not None
    hours.correct_entry(
        db,
        actors["consultant"],
        entry,
        hours.Shift(DAY, time(8, 0), time(11, 0), 30),
        "Checked the key log",
    )
    assert entry.worker_confirmed_at is None and entry.employer_approved_at is None
    assert entry.disputed_at is None and entry.minutes == 150
    change = db.scalar(
        select(TimeEntryChange).where(TimeEntryChange.kind == EntryChangeKind.CORRECTED)
    )
    assert change.before["end_time"] == "12:00" and change.after["end_time"] == "11:00"
    assert change.note == "Checked the key log"
    db.commit()
    # Both sides are told by e-mail, and must confirm again.
    assert mailbox.to(actors["worker"].email) and mailbox.to(actors["employer"].email)
    assert hours.state_of(entry) == hours.EntryState.WAITING_FOR_BOTH


def test_dispute_reaches_the_consultant_and_resolution_keeps_the_entry(db, world, mailbox):
    actors, placement = world
    entry = make_entry(db, actors, placement, "entered_by_worker")
    hours.dispute_entry(db, actors["employer"], entry, "She left at 11")
    db.commit()
    (message,) = mailbox.to(actors["consultant"].email)
    assert "She left at 11" in message.as_string() or "She left at 11" in str(message.get_payload())
    assert entry in hours.disputed_entries(db, actors["consultant"])
    hours.resolve_dispute(db, actors["consultant"], entry, "The key log shows 12:00")
    assert entry.disputed_at is None and entry.minutes == 210
    assert hours.state_of(entry) == hours.EntryState.WAITING_FOR_EMPLOYER
    assert entry not in hours.disputed_entries(db, actors["consultant"])


def test_dispute_needs_a_reason(db, world):
    actors, placement = world
    entry = make_entry(db, actors, placement, "entered_by_worker")
    with pytest.raises(DomainError, match="Fortæl konsulenten"):
        hours.dispute_entry(db, actors["employer"], entry, "  ")
    assert entry.disputed_at is None


def test_both_sides_see_what_the_consultant_changed(client, db, world):
    actors, placement = world
    entry = make_entry(db, actors, placement, "disputed")
    db.commit()
    with time_machine.travel(NOW, tick=False):
        login(client, actors["consultant"])
        queue = client.get("/hours/disputes")
        assert "She left at 11" in queue.text
        response = post_form(
            client,
            f"/hours/entries/{entry.id}/correct",
            {
                "work_date": "2026-11-17",
                "start_time": "08:00",
                "end_time": "11:00",
                "break_minutes": "30",
                "correction_note": "Checked the key log",
            },
        )
        assert response.status_code == 302
        post_form(client, "/auth/logout", {}, page="/")
        for side in ("worker", "employer"):
            login(client, actors[side])
            page = client.get(f"/hours/entries/{entry.id}")
            assert "Rettet af konsulenten" in page.text
            assert "12:00" in page.text and "11:00" in page.text
            assert "Checked the key log" in page.text
            week = client.get("/hours/week?week=2026-W47")
            assert "rettet" in week.text
            post_form(client, "/auth/logout", {}, page="/")


def test_consultant_resolves_through_the_page(client, db, world):
    actors, placement = world
    entry = make_entry(db, actors, placement, "disputed")
    db.commit()
    login(client, actors["consultant"])
    page = f"/hours/entries/{entry.id}"
    response = post_form(client, f"{page}/resolve", {"resolution": ""}, page=page)
    assert response.status_code == 400 and "Skriv en bemærkning" in response.text
    response = post_form(client, f"{page}/resolve", {"resolution": "Stands"}, page=page)
    assert response.status_code == 302
    db.expire_all()
    assert entry.disputed_at is None
