"""Planned shifts: a placement's weekly pattern, the week's planned shifts on both sides' week
pages, the worker's one-tap confirmation (once, however often it is sent), the "Adjust" link
into the record form, and the secret calendar (ICS) address with its revocation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import func, select

from core import dates
from core import models as m
from core.errors import Conflict, Invalid, NotAllowed, NotFound
from portal.blueprints.calendar import fold, ics_text
from portal.services import hours
from portal.services.hours import planned
from tests import factories
from tests.helpers import csrf_token, login, post_form
from tests.racing import Browser, post_many, race

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # Wednesday 18 November, ISO week 47
TODAY = date(2026, 11, 18)
MONDAY = date(2026, 11, 16)
WEEK = "2026-W47"
Role = m.Role
MON_WED_FRI = [planned.Slot(day, time(8, 0), time(12, 0), 30) for day in (0, 2, 4)]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ctx(app, db):
    with force_locale("en"):
        yield


@pytest.fixture
def job(db, clock, ctx):
    """A worker and an employer user on one active placement planned Mon, Wed, Fri 8-12."""
    worker_user = factories.user_for(Role.WORKER, full_name="Anna Worker")
    employer_user = factories.user_for(
        Role.EMPLOYER,
        full_name="Erik Employer",
        employer=factories.EmployerFactory(name="Frugt & Grønt ApS"),
    )
    consultant = factories.UserFactory(role=Role.CONSULTANT, full_name="Karen Consultant")
    placement = factories.placement_between(
        worker_user, employer_user, start_date=date(2026, 11, 2), consultant=consultant
    )
    placement.job_order.work_area.name = "Lager"
    placement.job_order.work_area.name_en = "Warehouse"
    placement.worker.first_name = "Anna"
    planned.set_pattern(db, consultant, placement, MON_WED_FRI)
    db.commit()
    return worker_user, employer_user, consultant, placement


def entries(db, **where) -> list[m.TimeEntry]:
    return list(db.scalars(select(m.TimeEntry).filter_by(**where).order_by(m.TimeEntry.id)))


def count_entries(db) -> int:
    return db.scalar(select(func.count()).select_from(m.TimeEntry))


def planned_forms(html: str) -> list[tuple[str, dict[str, str]]]:
    """The one-tap forms on a week page: (action, hidden fields), in page order."""
    forms = []
    pattern = r'<form method="post" action="(/hours/planned/\d+/confirm)">(.*?)</form>'
    for match in re.finditer(pattern, html, re.S):
        fields = re.findall(r'<input name="([^"]+)" type="hidden" value="([^"]*)"', match[2])
        forms.append((match[1], dict(fields)))
    return forms


def form_for(html: str, day: date) -> tuple[str, dict[str, str]]:
    [found] = [f for f in planned_forms(html) if f[1]["work_date"] == day.isoformat()]
    return found


def switch(client, user) -> None:
    """Log out, as a person would, and log in as someone else."""
    assert post_form(client, "/auth/logout", {}, page="/").status_code == 302
    login(client, user)


def english(client) -> None:
    assert post_form(client, "/language/en", {"next": "/"}, page="/").status_code == 302


# --- The pattern ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slots", "message"),
    [
        ([planned.Slot(0, time(8), time(8))], "different time"),
        ([planned.Slot(0, time(8), time(8, 10))], "15 minutes"),
        ([planned.Slot(0, time(8), time(21))], "12 hours"),
        ([planned.Slot(0, time(8), time(9), 60)], "break"),
        ([planned.Slot(7, time(8), time(9))], "day of the week"),
        ([planned.Slot(1, time(8), time(12)), planned.Slot(1, time(11), time(13))], "overlap"),
        # A night shift late on Sunday runs into Monday morning.
        ([planned.Slot(6, time(22), time(4)), planned.Slot(0, time(3), time(6))], "overlap"),
    ],
)
def test_a_pattern_that_breaks_a_rule_is_refused(job, db, slots, message):
    _worker, _employer, consultant, placement = job
    with pytest.raises(Invalid, match=message):
        planned.set_pattern(db, consultant, placement, slots)


def test_the_pattern_is_replaced_as_a_whole_and_audited(job, db):
    _worker, employer_user, _consultant, placement = job
    night = [planned.Slot(2, time(8), time(12), 30), planned.Slot(5, time(22), time(2), 0)]
    planned.set_pattern(db, employer_user, placement, night)
    db.commit()
    db.refresh(placement)
    stored = [(s.weekday, s.start_time, s.end_time) for s in placement.planned_slots]
    assert stored == [(2, time(8), time(12)), (5, time(22), time(2))]
    assert planned.pattern_minutes(placement) == 210 + 240
    event = db.scalar(
        select(m.AuditEvent)
        .where(m.AuditEvent.action == "placement.pattern_set")
        .order_by(m.AuditEvent.id.desc())
    )
    assert event.actor_id == employer_user.id
    assert event.details["after"] == ["2 08:00-12:00 30", "5 22:00-02:00 0"]


def test_only_the_placements_employer_or_staff_set_the_pattern(job, db):
    worker_user, _employer, _consultant, placement = job
    stranger = factories.user_for(Role.EMPLOYER)
    with pytest.raises(NotFound):
        planned.set_pattern(db, stranger, placement, MON_WED_FRI)
    with pytest.raises(NotAllowed):
        planned.set_pattern(db, worker_user, placement, MON_WED_FRI)
    placement.status = m.PlacementStatus.ENDED
    with pytest.raises(Conflict):
        planned.set_pattern(db, factories.UserFactory(role=Role.ADMIN), placement, [])


# --- Planned shifts --------------------------------------------------------------------------


def test_planned_shifts_follow_the_pattern_the_dates_and_what_is_recorded(job, db):
    worker_user, employer_user, _consultant, placement = job
    recorded = factories.TimeEntryFactory(
        placement=placement, work_date=MONDAY, start_time=time(9), end_time=time(12)
    )
    placement.end_date = date(2026, 11, 19)
    db.flush()
    week = planned.planned_shifts(db, worker_user, MONDAY, MONDAY + timedelta(days=6))
    assert [(p.work_date, p.recorded) for p in week] == [(MONDAY, True), (TODAY, False)]
    assert week[0].entry.id == recorded.id  # the worker adjusted the times: still recorded
    assert week[1].minutes == 210
    # The employer sees the same; another employer and another worker see nothing of it.
    assert len(planned.planned_shifts(db, employer_user, MONDAY, TODAY)) == 2
    for stranger in (factories.user_for(Role.EMPLOYER), factories.user_for(Role.WORKER)):
        assert planned.planned_shifts(db, stranger, MONDAY, TODAY) == []
    # Before its start date and once it is not active, a placement plans nothing.
    assert planned.planned_shifts(db, worker_user, date(2026, 10, 26), date(2026, 11, 1)) == []
    placement.status = m.PlacementStatus.ENDED
    assert planned.planned_shifts(db, worker_user, MONDAY, TODAY) == []


def test_two_shifts_on_one_day_are_matched_by_their_times(job, db):
    worker_user, _employer, consultant, placement = job
    split = [planned.Slot(0, time(8), time(10)), planned.Slot(0, time(16), time(18))]
    planned.set_pattern(db, consultant, placement, split)
    factories.TimeEntryFactory(
        placement=placement, work_date=MONDAY, start_time=time(16), end_time=time(18), minutes=120
    )
    week = planned.planned_shifts(db, worker_user, MONDAY, MONDAY)
    assert [(p.start_time, p.recorded) for p in week] == [(time(8), False), (time(16), True)]
    assert week[0].uid == f"planned-{placement.id}-20261116@smajob"
    assert week[1].uid == f"planned-{placement.id}-20261116-1600@smajob"


def test_planned_times_become_utc_across_daylight_saving_and_midnight(job, db):
    _worker, _employer, _consultant, placement = job
    summer = planned.PlannedShift(placement, date(2026, 10, 23), time(22), time(2), 0)
    winter = planned.PlannedShift(placement, date(2026, 10, 26), time(8), time(12), 30)
    assert summer.starts_at == datetime(2026, 10, 23, 20, 0, tzinfo=UTC)  # CEST, UTC+2
    assert summer.ends_at == datetime(2026, 10, 24, 0, 0, tzinfo=UTC)
    assert winter.starts_at == datetime(2026, 10, 26, 7, 0, tzinfo=UTC)  # CET, UTC+1
    assert summer.minutes == 240 and winter.minutes == 210


# --- The week pages ----------------------------------------------------------------------------


def test_the_worker_sees_the_weeks_planned_shifts_with_one_tap_and_adjust(job, client):
    worker_user, _employer, _consultant, placement = job
    login(client, worker_user)
    english(client)
    page = client.get(f"/hours/week?week={WEEK}").text
    assert "Did you work your planned shifts?" in page
    # Monday and today can be confirmed; Friday is still ahead.
    forms = planned_forms(page)
    assert [f[1]["work_date"] for f in forms] == ["2026-11-16", "2026-11-18"]
    assert {f[0] for f in forms} == {f"/hours/planned/{placement.id}/confirm"}
    assert len({f[1]["idempotency_key"] for f in forms}) == 2  # one key per shift
    assert "Confirm as worked" in page
    assert "Coming up" in page and "Friday 20-11-2026, 08:00–12:00" in page
    adjust = (
        f"/hours/record?placement_id={placement.id}&amp;work_date=2026-11-18&amp;"
        "start_time=08:00&amp;end_time=12:00&amp;break_minutes=30"
    )
    assert adjust in page
    assert 'href="/calendar"' in page


def test_the_worker_confirms_todays_planned_shift_from_home(job, client, db):
    """The home tile counts the planned shifts waiting (it said 0), and today's is confirmed
    right there in one tap (issue 23)."""
    worker_user, _employer, _consultant, placement = job
    login(client, worker_user)
    english(client)
    home = client.get("/").text
    assert "Did you work your planned shifts?" in home
    assert [f[1]["work_date"] for f in planned_forms(home)] == ["2026-11-16", "2026-11-18"]
    tile = home.split("Shifts waiting for your confirmation")[1].split("</li>")[0]
    assert '<p class="figure">2</p>' in tile
    assert f'href="/hours/week?week={WEEK}"' in home and 'href="/hours/mine"' in home
    # The calendar address is found from home and from the worker's own hours page.
    assert 'href="/calendar"' in home and 'href="/calendar"' in client.get("/hours/mine").text
    action, fields = form_for(home, TODAY)
    assert client.post(action, data=fields).status_code == 302
    [entry] = entries(db)
    assert (entry.placement_id, entry.work_date) == (placement.id, TODAY)
    after = client.get("/").text
    assert [f[1]["work_date"] for f in planned_forms(after)] == ["2026-11-16"]


def test_one_tap_records_the_shift_exactly_as_planned(job, client, db):
    worker_user, _employer, _consultant, placement = job
    login(client, worker_user)
    page = client.get(f"/hours/week?week={WEEK}").text
    action, fields = form_for(page, TODAY)

    response = client.post(action, data=fields)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/hours/week?week={WEEK}"
    [entry] = entries(db)
    assert (entry.placement_id, entry.work_date) == (placement.id, TODAY)
    assert (entry.start_time, entry.end_time, entry.break_minutes) == (time(8), time(12), 30)
    assert entry.minutes == 210
    assert entry.entered_by_id == worker_user.id
    assert entry.worker_confirmed_by_id == worker_user.id and entry.employer_approved_at is None
    # The planned shift is now a recorded one: no form for it any more.
    after = client.get(response.headers["Location"]).text
    assert [f[1]["work_date"] for f in planned_forms(after)] == ["2026-11-16"]
    assert f"/hours/entries/{entry.id}" in after


def test_one_tap_sent_twice_or_from_two_tabs_records_once(job, client, db):
    worker_user, _employer, _consultant, _placement = job
    login(client, worker_user)
    english(client)
    first_tab = client.get(f"/hours/week?week={WEEK}").text
    second_tab = client.get(f"/hours/week?week={WEEK}").text
    action, fields = form_for(first_tab, MONDAY)

    assert client.post(action, data=fields).status_code == 302
    again = client.post(action, data=fields, follow_redirects=True)
    assert "took effect once" in again.text
    action, other = form_for(second_tab, MONDAY)
    refused = client.post(action, data=other, follow_redirects=True)
    assert "already recorded" in refused.text

    assert count_entries(db) == 1


@pytest.mark.parametrize(
    ("day", "start", "message"),
    [
        (date(2026, 11, 20), "08:00", "on its day"),  # Friday: ahead
        (date(2026, 11, 17), "08:00", "No shift is planned"),  # Tuesday: none planned
        (MONDAY, "09:00", "No shift is planned"),  # not the planned start
        (date(2026, 10, 26), "08:00", "No shift is planned"),  # before the job started
    ],
)
def test_one_tap_only_confirms_a_planned_shift_on_or_after_its_day(
    job, client, db, day, start, message
):
    worker_user, _employer, _consultant, placement = job
    login(client, worker_user)
    english(client)
    action, fields = form_for(client.get(f"/hours/week?week={WEEK}").text, MONDAY)
    data = {**fields, "work_date": day.isoformat(), "start_time": start}
    response = client.post(action, data=data, follow_redirects=True)
    assert message in response.text
    assert count_entries(db) == 0


def test_one_tap_keeps_every_rule_of_a_recorded_shift(job, client, db):
    """An overlapping shift on another job of the worker's refuses the planned one."""
    worker_user, _employer, _consultant, placement = job
    other = factories.PlacementFactory(worker=placement.worker, start_date=date(2026, 11, 1))
    factories.TimeEntryFactory(
        placement=other, work_date=TODAY, start_time=time(11), end_time=time(13), minutes=90
    )
    db.commit()
    login(client, worker_user)
    english(client)
    action, fields = form_for(client.get(f"/hours/week?week={WEEK}").text, TODAY)
    response = client.post(action, data=fields, follow_redirects=True)
    assert "overlaps" in response.text
    assert entries(db, placement_id=placement.id) == []


def test_nobody_else_confirms_the_workers_planned_shift(job, client, db):
    worker_user, employer_user, _consultant, placement = job
    login(client, worker_user)
    action, fields = form_for(client.get(f"/hours/week?week={WEEK}").text, TODAY)
    stranger = factories.user_for(Role.WORKER)
    db.commit()
    switch(client, stranger)
    data = {**fields, "csrf_token": csrf_token(client, "/hours/week")}
    assert client.post(action, data=data).status_code == 404
    switch(client, employer_user)
    data = {**fields, "csrf_token": csrf_token(client, "/hours/week")}
    assert client.post(action, data=data).status_code == 403
    assert count_entries(db) == 0


def test_adjust_opens_the_record_form_with_the_planned_times(job, client):
    worker_user, _employer, _consultant, placement = job
    login(client, worker_user)
    query = (
        f"placement_id={placement.id}&work_date=2026-11-16&start_time=08:00"
        "&end_time=12:00&break_minutes=30"
    )
    page = client.get(f"/hours/record?{query}").text
    assert 'name="work_date" required type="date" value="2026-11-16"' in page
    assert 'name="start_time" required type="time" value="08:00"' in page
    assert 'name="end_time" required type="time" value="12:00"' in page
    assert re.search(r'name="break_minutes"[^>]*value="30"', page)
    # Anything unreadable keeps the defaults: today, no times, no break.
    junk = "work_date=2026-13-45&start_time=25:99&end_time=x&break_minutes=-5"
    page = client.get(f"/hours/record?placement_id={placement.id}&{junk}").text
    assert 'value="2026-11-18"' in page and 'value="25:99"' not in page
    assert re.search(r'name="break_minutes"[^>]*value="0"', page)


def test_the_employer_sees_planned_shifts_read_only(job, client, db):
    _worker, employer_user, _consultant, placement = job
    login(client, employer_user)
    english(client)
    page = client.get(f"/hours/week?week={WEEK}").text
    assert "Planned, not yet recorded" in page
    assert page.count('class="planned-shift"') == 3
    assert "Anna J." in page
    assert planned_forms(page) == []
    # Another employer's week shows none of them.
    stranger = factories.user_for(Role.EMPLOYER)
    db.commit()
    switch(client, stranger)
    assert "planned-shift" not in client.get(f"/hours/week?week={WEEK}").text


# --- The pattern on the placement page ---------------------------------------------------------


def pattern_post(**days) -> dict:
    data = {}
    for day, (start, end, pause) in days.items():
        data |= {f"{day}-start_time": start, f"{day}-end_time": end, f"{day}-break_minutes": pause}
    return data


def test_the_employer_plans_the_week_on_the_placement_page(job, client, db):
    worker_user, employer_user, _consultant, placement = job
    login(client, employer_user)
    path = f"/placements/{placement.id}"
    assert f'action="{path}/pattern"' in client.get(path).text
    data = pattern_post(tuesday=("07:30", "11:30", "15"), saturday=("22:00", "02:00", "0"))
    response = post_form(client, f"{path}/pattern", data, page=path)
    assert response.status_code == 302
    db.expire_all()
    slots = db.scalars(select(m.PlannedSlot).where(m.PlannedSlot.placement_id == placement.id))
    assert sorted((s.weekday, s.start_time, s.break_minutes) for s in slots) == [
        (1, time(7, 30), 15),
        (5, time(22), 0),
    ]
    # A day with a start and no end is refused and nothing changes.
    response = post_form(
        client, f"{path}/pattern", pattern_post(monday=("08:00", "", "")), page=path
    )
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(m.PlannedSlot)) == 2
    # The worker sees the pattern, not the form.
    switch(client, worker_user)
    page = client.get(path).text
    assert "07:30–11:30" in page and f'action="{path}/pattern"' not in page


def test_the_consultant_clears_the_pattern(job, client, db):
    _worker, _employer, consultant, placement = job
    login(client, consultant)
    path = f"/placements/{placement.id}"
    assert post_form(client, f"{path}/pattern", {}, page=path).status_code == 302
    assert db.scalar(select(func.count()).select_from(m.PlannedSlot)) == 0


# --- The calendar feed -----------------------------------------------------------------------


def unfold(body: str) -> list[str]:
    """The content lines of an ICS body, after checking CRLF ends and the 75-octet limit."""
    assert body.endswith("\r\n")
    physical = body[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in physical)
    assert all(len(line.encode()) <= 75 for line in physical), "a line is not folded"
    lines: list[str] = []
    for line in physical:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def vevents(body: str) -> list[dict[str, str]]:
    events, current = [], None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            events.append(current)
            current = None
        elif current is not None:
            name, value = line.split(":", 1)
            current[name] = value
    return events


def feed_address(client) -> str:
    """Make a calendar address on the calendar page and read it there (shown once)."""
    response = post_form(client, "/calendar/new", {}, page="/calendar")
    assert response.status_code == 302
    page = client.get("/calendar").text
    match = re.search(r'value="http://localhost(/calendar/[A-Za-z0-9_-]+\.ics)"', page)
    assert match, page
    assert "webcal://localhost/calendar/" in page
    assert match[1] not in client.get("/calendar").text  # only this once
    return match[1]


def test_the_workers_calendar_lists_the_planned_shifts(job, app, client, db):
    worker_user, _employer, _consultant, placement = job
    login(client, worker_user)
    address = feed_address(client)
    with app.test_client() as anonymous:  # no log-in: the secret is the key
        response = anonymous.get(address)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    events = vevents(body)
    # Mon, Wed, Fri from the week the pattern was saved (this one: the feed's two weeks back
    # were never planned) to eight weeks ahead, public holidays left out (Friday 25 December,
    # Friday 1 January): issue 23.
    first, last = MONDAY, TODAY + timedelta(days=56)
    days = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() in (0, 2, 4)
    ]
    days = [d for d in days if d not in (date(2026, 12, 25), date(2027, 1, 1))]
    assert [e["UID"] for e in events] == [f"planned-{placement.id}-{d:%Y%m%d}@smajob" for d in days]
    assert "X-WR-CALNAME:Småjob: planlagte vagter" in body  # in the worker's language
    monday = next(e for e in events if e["UID"].endswith("20261116@smajob"))
    assert monday["DTSTART"] == "20261116T070000Z" and monday["DTEND"] == "20261116T110000Z"
    assert monday["SUMMARY"] == "Småjob: Frugt & Grønt ApS (Lager)"
    assert "30" in monday["DESCRIPTION"]


def test_a_pattern_planned_on_holidays_keeps_them(job, db):
    worker_user, _employer, consultant, placement = job
    planned.set_pattern(db, consultant, placement, MON_WED_FRI, on_holidays=True)
    db.commit()
    shifts = planned.planned_shifts(db, worker_user, date(2026, 12, 21), date(2027, 1, 3))
    assert [s.work_date for s in shifts] == [
        date(2026, 12, 21),
        date(2026, 12, 23),
        date(2026, 12, 25),  # Christmas Day: the pattern says holidays too
        date(2026, 12, 28),
        date(2026, 12, 30),
        date(2027, 1, 1),
    ]
    planned.set_pattern(db, consultant, placement, MON_WED_FRI)
    db.commit()
    shifts = planned.planned_shifts(db, worker_user, date(2026, 12, 21), date(2027, 1, 3))
    assert date(2026, 12, 25) not in [s.work_date for s in shifts]
    # And nothing in the weeks before the pattern was saved (18 November).
    assert planned.planned_shifts(db, worker_user, date(2026, 11, 2), date(2026, 11, 15)) == []


def test_the_employers_calendar_names_the_worker_and_never_another_organisation(job, client, db):
    _worker, employer_user, consultant, placement = job
    other_worker = factories.user_for(Role.WORKER)
    other_employer = factories.user_for(Role.EMPLOYER)
    foreign = factories.placement_between(
        other_worker, other_employer, start_date=date(2026, 11, 2)
    )
    planned.set_pattern(db, consultant, foreign, MON_WED_FRI)
    db.commit()

    login(client, employer_user)
    events = vevents(client.get(feed_address(client)).get_data(as_text=True))
    assert events and all(e["UID"].startswith(f"planned-{placement.id}-") for e in events)
    assert events[0]["SUMMARY"] == "Anna – Lager"

    switch(client, other_employer)
    events = vevents(client.get(feed_address(client)).get_data(as_text=True))
    assert events and all(e["UID"].startswith(f"planned-{foreign.id}-") for e in events)


def test_a_revoked_or_replaced_address_answers_404(job, client):
    worker_user, _employer, _consultant, _placement = job
    login(client, worker_user)
    first = feed_address(client)
    second = feed_address(client)  # a new address stops the old one
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert post_form(client, "/calendar/revoke", {}, page="/calendar").status_code == 302
    assert client.get(second).status_code == 404
    assert client.get("/calendar/not-a-real-secret.ics").status_code == 404
    english(client)
    assert "You have no calendar address" in client.get("/calendar").text


def test_a_deactivated_users_address_answers_404(job, client, db):
    worker_user, _employer, _consultant, _placement = job
    login(client, worker_user)
    address = feed_address(client)
    worker_user.active = False
    db.commit()
    assert client.get(address).status_code == 404


def test_only_the_hash_of_the_secret_is_stored(job, client, db):
    worker_user, _employer, _consultant, _placement = job
    login(client, worker_user)
    secret = feed_address(client).removeprefix("/calendar/").removesuffix(".ics")
    feed = db.scalar(select(m.CalendarFeed).where(m.CalendarFeed.user_id == worker_user.id))
    assert secret not in feed.token_hash and len(feed.token_hash) == 64


def test_ics_text_is_escaped_and_folded_without_splitting_a_character():
    assert ics_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    line = "SUMMARY:" + "Småjob: Ærø Øster Ålegård " * 6
    folded = fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line


# --- Racing -----------------------------------------------------------------------------------


def racing_world(committed):
    from tests.portal.test_nothing_twice import seeding

    yesterday = dates.today() - timedelta(days=1)
    with seeding(committed) as session:
        worker_user = factories.user_for(Role.WORKER)
        employer_user = factories.user_for(Role.EMPLOYER)
        placement = factories.placement_between(
            worker_user, employer_user, start_date=yesterday - timedelta(days=30)
        )
        every_day = [planned.Slot(day, time(8), time(12), 30) for day in range(7)]
        placement.planned_on_holidays = True  # every day, whatever today is
        placement.planned_slots.extend(
            m.PlannedSlot(
                weekday=s.weekday,
                start_time=s.start_time,
                end_time=s.end_time,
                break_minutes=s.break_minutes,
                planned_from=placement.start_date,
            )
            for s in every_day
        )
        session.commit()
        return worker_user, yesterday


def week_page(day: date) -> str:
    return f"/hours/week?week={hours.week_label(hours.week_start(day))}"


def test_a_tap_sent_six_times_at_once_records_the_shift_once(app, committed):
    worker_user, yesterday = racing_world(committed)
    worker = Browser(app, worker_user)
    action, fields = form_for(worker.client.get(week_page(yesterday)).text, yesterday)

    responses = post_many(worker.tabs(6), action, fields)

    assert {r.status_code for r in responses} == {302}
    assert len({r.headers["Location"] for r in responses}) == 1
    with committed() as session:
        assert session.scalar(select(func.count()).select_from(m.TimeEntry)) == 1


def test_two_tabs_tapping_the_same_planned_shift_at_once_record_it_once(app, committed):
    """Two keys, so both get past the one-time key: the overlap rule (PostgreSQL: the exclusion
    constraint; SQLite: the write lock every post takes) lets one through."""
    worker_user, yesterday = racing_world(committed)
    worker = Browser(app, worker_user)
    tabs = worker.tabs(2)
    forms = [form_for(tab.get(week_page(yesterday)).text, yesterday) for tab in tabs]
    assert forms[0][1]["idempotency_key"] != forms[1][1]["idempotency_key"]

    responses = race(
        [
            lambda tab=tab, form=form: tab.post(form[0], data=form[1])
            for tab, form in zip(tabs, forms, strict=True)
        ]
    )

    assert {r.status_code for r in responses} == {302}
    with committed() as session:
        [entry] = session.scalars(select(m.TimeEntry)).all()
        assert (entry.work_date, entry.minutes) == (yesterday, 210)
