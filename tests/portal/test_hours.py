"""Recording shifts: every validation rule, the phone form, week views and tenancy."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import func, select

from core.errors import Invalid, NotFound
from core.models import PlacementStatus, Role, TimeEntry, TimeEntryChange
from portal.services import hours
from tests import factories
from tests.helpers import login, post_form

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # Wednesday in ISO week 47
TODAY = date(2026, 11, 18)
MONDAY = date(2026, 11, 16)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ctx(app, db):
    """Services translate their messages; outside a request the language must be chosen."""
    with force_locale("da"):
        yield


@pytest.fixture
def job(db, clock, ctx):
    """A worker and an employer user on one active placement, with a consultant."""
    worker_user = factories.user_for(Role.WORKER, full_name="Anna Worker")
    employer_user = factories.user_for(Role.EMPLOYER, full_name="Erik Employer")
    consultant = factories.UserFactory(role=Role.CONSULTANT, full_name="Karen Consultant")
    placement = factories.placement_between(
        worker_user, employer_user, start_date=date(2026, 11, 2), consultant=consultant
    )
    db.commit()
    return worker_user, employer_user, consultant, placement


def switch_user(client, user):
    """Log out (through the form, as a person would) and log in as someone else."""
    assert post_form(client, "/auth/logout", {}, page="/").status_code == 302
    if user is not None:
        login(client, user)


def shift(day=TODAY, start=(8, 0), end=(12, 0), pause=30, note=""):
    return hours.Shift(day, time(*start), time(*end), pause, note)


def count_entries(db) -> int:
    return db.scalar(select(func.count()).select_from(TimeEntry))


# --- Validation: each rule refuses with a clear message and changes nothing ---------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (shift(start=(8, 0), end=(8, 0)), "slutte på et andet tidspunkt"),
        (shift(start=(8, 0), end=(8, 10), pause=0), "mindst 15 minutter"),
        (shift(start=(8, 0), end=(20, 1), pause=0), "højst vare 12 timer"),
        (shift(pause=-5), "kan ikke være negativ"),
        (shift(start=(8, 0), end=(9, 0), pause=60), "kortere end vagten"),
        (shift(day=date(2026, 11, 19)), "ikke for en dag, der ikke er kommet"),  # tomorrow
        (shift(day=date(2026, 11, 1)), "begynder den 02-11-2026"),
        (shift(note="x" * 501), "højst være 500 tegn"),
    ],
)
def test_invalid_shifts_are_refused_and_change_nothing(db, job, given, message):
    worker_user, *_rest, placement = job
    with pytest.raises(Invalid, match=message):
        hours.record_shift(db, worker_user, placement, given)
    assert count_entries(db) == 0


def test_shift_after_the_placement_end_is_refused(db, job):
    worker_user, *_rest, placement = job
    placement.end_date = date(2026, 11, 10)
    with pytest.raises(Invalid, match="sluttede den 10-11-2026"):
        hours.record_shift(db, worker_user, placement, shift(day=date(2026, 11, 11)))
    assert count_entries(db) == 0


def test_only_active_placements_take_hours(db, job):
    worker_user, *_rest, placement = job
    placement.status = PlacementStatus.ENDED
    with pytest.raises(Invalid, match="aktivt job"):
        hours.record_shift(db, worker_user, placement, shift())


def test_boundaries_are_allowed(db, job):
    worker_user, *_rest, placement = job
    # Exactly 15 minutes, exactly 12 hours, yesterday, and the placement's first day.
    hours.record_shift(db, worker_user, placement, shift(start=(6, 0), end=(6, 15), pause=0))
    hours.record_shift(
        db, worker_user, placement, shift(day=date(2026, 11, 17), start=(7, 0), end=(19, 0))
    )
    hours.record_shift(db, worker_user, placement, shift(day=date(2026, 11, 2)))
    assert count_entries(db) == 3


def test_a_shift_past_midnight_ends_the_next_day(db, job):
    worker_user, *_rest, placement = job
    entry = hours.record_shift(
        db, worker_user, placement, shift(day=date(2026, 11, 17), start=(22, 0), end=(2, 0))
    )
    assert entry.minutes == 4 * 60 - 30
    # 01:00-03:00 on the 18th overlaps the night shift that started on the 17th.
    overlap = "overlapper en anden vagt den 17-11-2026 fra 22:00 til 02:00"
    with pytest.raises(Invalid, match=overlap):
        hours.record_shift(db, worker_user, placement, shift(start=(1, 0), end=(3, 0), pause=0))
    # ... and a shift ending at 02:00 is followed by one starting at 02:00 (touching is fine).
    hours.record_shift(db, worker_user, placement, shift(start=(2, 0), end=(5, 0), pause=0))
    assert count_entries(db) == 2


def test_overlap_is_checked_across_all_the_workers_placements(db, job):
    worker_user, employer_user, _consultant, placement = job
    other_employer = factories.user_for(Role.EMPLOYER)
    second = factories.placement_between(worker_user, other_employer, start_date=date(2026, 11, 1))
    hours.record_shift(db, worker_user, placement, shift(start=(8, 0), end=(12, 0)))
    with pytest.raises(Invalid, match="overlapper"):
        hours.record_shift(db, other_employer, second, shift(start=(11, 0), end=(14, 0)))
    hours.record_shift(db, other_employer, second, shift(start=(12, 0), end=(14, 0), pause=0))
    # Another worker may of course work at the same time.
    someone = factories.user_for(Role.WORKER)
    third = factories.placement_between(someone, employer_user, start_date=date(2026, 11, 1))
    hours.record_shift(db, someone, third, shift(start=(8, 0), end=(12, 0)))
    assert count_entries(db) == 3


def test_editing_does_not_overlap_with_itself(db, job):
    worker_user, *_rest, placement = job
    entry = hours.record_shift(db, worker_user, placement, shift())
    hours.edit_entry(db, worker_user, entry, shift(end=(12, 30)))
    assert entry.minutes == 240


def test_the_recorder_signs_their_own_side(db, job):
    worker_user, employer_user, consultant, placement = job
    by_worker = hours.record_shift(db, worker_user, placement, shift(start=(6, 0), end=(7, 0)))
    assert by_worker.worker_confirmed_by_id == worker_user.id
    assert by_worker.employer_approved_at is None
    by_employer = hours.record_shift(db, employer_user, placement, shift(start=(8, 0), end=(9, 0)))
    assert by_employer.employer_approved_by_id == employer_user.id
    assert by_employer.worker_confirmed_at is None
    by_consultant = hours.record_shift(db, consultant, placement, shift(start=(10, 0), end=(11, 0)))
    assert by_consultant.worker_confirmed_at is None and by_consultant.employer_approved_at is None
    assert hours.state_of(by_consultant) == hours.EntryState.WAITING_FOR_BOTH


def test_a_foreign_placement_looks_missing(db, job):
    *_rest, placement = job
    stranger = factories.user_for(Role.EMPLOYER)
    with pytest.raises(NotFound):
        hours.record_shift(db, stranger, placement, shift())


# --- The phone form ---------------------------------------------------------------------------


def test_phone_form_has_today_and_the_placement_preselected(client, db, job):
    worker_user, *_rest, placement = job
    login(client, worker_user)
    page = client.get("/hours/record")
    assert page.status_code == 200
    assert 'name="viewport"' in page.text
    assert 'type="date"' in page.text and 'value="2026-11-18"' in page.text
    assert page.text.count('type="time"') == 2
    # The note's limit is shown and enforced by the browser too (issue 23).
    assert 'maxlength="500"' in page.text and "Højst 500 tegn." in page.text
    assert f'name="placement_id" value="{placement.id}"' in page.text
    response = post_form(
        client,
        "/hours/record",
        {
            "placement_id": placement.id,
            "work_date": "2026-11-18",
            "start_time": "08:00",
            "end_time": "12:15",
            "break_minutes": "15",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/hours/week?week=2026-W47")
    entry = db.scalar(select(TimeEntry))
    assert entry.minutes == 240 and entry.worker_confirmed_by_id == worker_user.id
    week = client.get("/hours/week?week=2026-W47")
    assert "4,00" in week.text and "Venter på virksomheden" in week.text
    assert '<td class="num">15 min.</td>' in week.text  # the break with its unit (issue 23)


def test_phone_form_shows_the_rule_it_broke_and_saves_nothing(client, db, job):
    worker_user, *_rest, placement = job
    login(client, worker_user)
    base = {"placement_id": placement.id, "work_date": "2026-11-18", "note": ""}
    response = post_form(
        client,
        "/hours/record",
        {**base, "start_time": "08:00", "end_time": "09:00", "break_minutes": "60"},
    )
    assert response.status_code == 400
    assert "Pausen skal være kortere end vagten." in response.text
    response = post_form(
        client,
        "/hours/record",
        {**base, "start_time": "08:00", "end_time": "09:00", "break_minutes": "-1"},
    )
    assert response.status_code == 400 and "0–720" in response.text
    response = post_form(client, "/hours/record", {**base, "start_time": "", "end_time": "09:00"})
    assert response.status_code == 400
    assert count_entries(db) == 0


def test_employer_and_consultant_can_record_too(client, db, job):
    _worker_user, employer_user, consultant, placement = job
    data = {
        "placement_id": placement.id,
        "work_date": "2026-11-17",
        "start_time": "08:00",
        "end_time": "10:00",
        "break_minutes": "0",
    }
    login(client, employer_user)
    assert post_form(client, "/hours/record", data).status_code == 302
    switch_user(client, consultant)
    page = client.get("/hours/record")
    assert placement.employer.name in page.text
    data["start_time"], data["end_time"] = "10:00", "11:00"
    assert post_form(client, "/hours/record", data).status_code == 302
    assert count_entries(db) == 2


def test_employer_cannot_record_on_a_foreign_placement(client, db, job):
    *_rest, placement = job
    login(client, factories.user_for(Role.EMPLOYER))
    factories.placement_between(factories.user_for(Role.WORKER), factories.user_for(Role.EMPLOYER))
    db.commit()
    response = post_form(
        client,
        "/hours/record",
        {
            "placement_id": placement.id,
            "work_date": "2026-11-17",
            "start_time": "08:00",
            "end_time": "10:00",
            "break_minutes": "0",
        },
    )
    assert response.status_code in (200, 400)
    assert count_entries(db) == 0


# --- Weeks ---------------------------------------------------------------------------------------


def test_employer_approves_a_whole_week_in_one_click(client, db, job):
    worker_user, employer_user, consultant, placement = job
    mine = [
        hours.record_shift(db, worker_user, placement, shift(day=d))
        for d in (date(2026, 11, 16), date(2026, 11, 17))
    ]
    by_me = hours.record_shift(db, employer_user, placement, shift(day=date(2026, 11, 18)))
    disputed = hours.record_shift(
        db, worker_user, placement, shift(day=date(2026, 11, 18), start=(13, 0), end=(15, 0))
    )
    hours.dispute_entry(db, employer_user, disputed, "Not here that day")
    last_week = hours.record_shift(db, worker_user, placement, shift(day=date(2026, 11, 13)))
    # Another employer's worker in the same week is untouched.
    other = factories.placement_between(
        factories.user_for(Role.WORKER), factories.user_for(Role.EMPLOYER)
    )
    foreign = factories.TimeEntryFactory(
        placement=other, work_date=date(2026, 11, 17), worker_confirmed_at=NOW
    )
    db.commit()

    login(client, employer_user)
    page = client.get("/hours/week?week=2026-W47")
    assert page.status_code == 200
    assert "Timer uge 47" in page.text
    assert placement.worker.display_name in page.text
    assert "Godkend alle ventende (2)" in page.text
    assert "12,00" in page.text  # 3.5 + 3.5 + 3.5 + 1.5 hours recorded
    week = "/hours/week?week=2026-W47"
    response = post_form(client, "/hours/week", {"week": "2026-W47"}, page=week)
    assert response.status_code == 302
    db.expire_all()
    assert all(e.approved for e in mine)
    assert by_me.worker_confirmed_at is None  # still waiting for the worker
    assert disputed.employer_approved_at is None and disputed.disputed_at is not None
    assert last_week.employer_approved_at is None
    assert foreign.employer_approved_at is None
    assert "Godkend alle ventende" not in client.get("/hours/week?week=2026-W47").text


def test_worker_confirms_a_whole_week(client, db, job):
    worker_user, employer_user, _consultant, placement = job
    entries = [
        hours.record_shift(db, employer_user, placement, shift(day=d))
        for d in (date(2026, 11, 16), date(2026, 11, 17))
    ]
    db.commit()
    login(client, worker_user)
    page = client.get("/hours/week")
    assert "Bekræft alle ventende (2)" in page.text
    assert post_form(client, "/hours/week", {"week": "2026-W47"}).status_code == 302
    db.expire_all()
    assert all(e.approved for e in entries)


def test_an_employer_edit_clears_the_workers_signature_and_shows_what_changed(client, db, job):
    worker_user, employer_user, _consultant, placement = job
    entry = hours.record_shift(db, worker_user, placement, shift())
    db.commit()
    login(client, employer_user)
    response = post_form(
        client,
        f"/hours/entries/{entry.id}/edit",
        {"work_date": "2026-11-18", "start_time": "08:00", "end_time": "11:00", "break_minutes": 0},
    )
    assert response.status_code == 302
    db.expire_all()
    assert entry.worker_confirmed_at is None and entry.employer_approved_by_id == employer_user.id
    change = db.scalar(select(TimeEntryChange))
    assert change.before["end_time"] == "12:00" and change.after["end_time"] == "11:00"
    switch_user(client, worker_user)
    page = client.get(f"/hours/entries/{entry.id}")
    assert "12:00" in page.text and "11:00" in page.text and "Bekræft vagt" in page.text


# --- Tenancy on every route ----------------------------------------------------------------


def test_every_route_answers_404_for_foreign_entries_and_placements(client, db, job):
    worker_user, employer_user, _consultant, placement = job
    entry = hours.record_shift(db, worker_user, placement, shift())
    outsiders = (factories.user_for(Role.EMPLOYER), factories.user_for(Role.WORKER))
    db.commit()  # all data first: the app's sessions share this test's connection
    week = "/hours/week?week=2026-W47"
    login(client, outsiders[0])
    for outsider in outsiders:
        if outsider is not outsiders[0]:
            switch_user(client, outsider)
        assert client.get(f"/hours/entries/{entry.id}").status_code == 404
        assert client.get(f"/hours/entries/{entry.id}/edit").status_code == 404
        assert client.get(f"/hours/entries/{entry.id}/dispute").status_code == 404
        response = post_form(client, f"/hours/entries/{entry.id}/sign", {}, page=week)
        assert response.status_code == 404
        response = post_form(
            client, f"/hours/entries/{entry.id}/dispute", {"reason": "x"}, page=week
        )
        assert response.status_code == 404
        timesheet = f"/hours/timesheet?placement_id={placement.id}&start=2026-11-01&end=2026-11-30"
        assert client.get(timesheet).status_code == 404
        assert client.get("/hours/entries/999999").status_code == 404
        assert "4,00" not in client.get(week).text
    db.expire_all()
    assert entry.employer_approved_at is None and entry.disputed_at is None


def test_roles_are_kept_to_their_pages(client, db, job):
    worker_user, employer_user, _consultant, placement = job
    entry = hours.record_shift(db, worker_user, placement, shift())
    db.commit()
    login(client, worker_user)
    assert client.get("/hours/disputes").status_code == 403
    assert client.get(f"/hours/entries/{entry.id}/correct").status_code == 403
    assert client.get("/payroll/").status_code == 403
    switch_user(client, employer_user)
    assert client.get("/hours/mine").status_code == 403
    assert client.get("/hours/statement.pdf?start=2026-11-01&end=2026-11-30").status_code == 403
    switch_user(client, None)
    assert client.get("/hours/week").status_code == 302  # to the log-in page
