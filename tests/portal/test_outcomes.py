"""Issue 16, "Outcomes": the report's figures, recomputed here in plain Python from the rows
(not the service's queries), the five-person rule, the filters, the page, the CSV and the CLI,
and the demo's story."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fractions import Fraction

import flask_babel
import pytest
from sqlalchemy import select

from core import dates
from core.dates import COPENHAGEN
from core.models import (
    JobOrder,
    Placement,
    PlacementEndReason,
    PlacementStatus,
    Role,
    TimeEntry,
)
from portal import demo
from portal.services import outcomes
from tests import factories
from tests.helpers import login, post_form, statements

FROM, TO = date(2026, 1, 1), date(2026, 6, 30)
REASONS = [reason.value for reason in PlacementEndReason]


# --- The figures, recomputed from the objects ---------------------------------------------------


def hidden(value, people: set):
    """The five-person rule as the README states it: fewer than five people, no figure."""
    return value if len(people) >= 5 else None


def half_up(fraction: Fraction) -> int:
    return int(fraction + Fraction(1, 2))


@dataclass
class Expected:
    people_placed: int | None
    started: int | None
    ended: int | None
    ended_by_reason: dict
    share_by_reason: dict
    hours_at_start: int | None
    hours_at_end: int | None
    more_hours: int | None
    weeks_in_job: int | None
    approved_minutes: int | None
    follow_ups: int | None
    follow_ups_per_month: int | None


def in_period(placement: Placement, date_from: date, date_to: date) -> bool:
    return (
        placement.status in (PlacementStatus.ACTIVE, PlacementStatus.ENDED)
        and placement.start_date <= date_to
        and (placement.end_date is None or placement.end_date >= date_from)
    )


def placements_in(db, date_from, date_to, work_area_id=None, consultant_id=None, employer_id=None):
    return [
        p
        for p in db.scalars(select(Placement)).all()
        if in_period(p, date_from, date_to)
        and work_area_id in (None, p.job_order.work_area_id)
        and consultant_id in (None, p.consultant_id)
        and employer_id in (None, p.employer_id)
    ]


def expected(db, placements: list[Placement], date_from: date, date_to: date) -> Expected:
    """Every figure of the README's definitions, from the ORM objects."""
    db.expire_all()
    entries = db.scalars(select(TimeEntry)).all()
    workers = {p.worker_id for p in placements}
    started = [p for p in placements if date_from <= p.start_date <= date_to]
    ended = [p for p in placements if p.status == PlacementStatus.ENDED and p.end_date <= date_to]

    def hours_on(p: Placement, day: date) -> int:
        hours = p.hours_changes[0].old_hours_per_week if p.hours_changes else p.hours_per_week
        for change in p.hours_changes:  # in effective order
            if change.effective_from <= day:
                hours = change.new_hours_per_week
        return hours

    def last_day(p: Placement) -> date:
        return min(p.end_date or date_to, date_to)

    start_hours = [hours_on(p, date.min) for p in placements]
    end_hours = [hours_on(p, last_day(p)) for p in placements]
    grew = [p for p, a, b in zip(placements, start_hours, end_hours, strict=True) if b > a]
    ids = {p.id for p in placements}
    approved = [
        e
        for e in entries
        if e.placement_id in ids
        and e.approved
        and e.disputed_at is None
        and date_from <= e.work_date <= date_to
    ]
    notes = [n for p in placements for n in p.notes if date_from <= n.note_date <= date_to]
    active_days = sum((last_day(p) - max(p.start_date, date_from)).days + 1 for p in placements)
    n = len(placements)
    by_reason = {r: [p for p in ended if p.end_reason == r] for r in REASONS}
    return Expected(
        people_placed=hidden(len(workers), workers),
        started=hidden(len(started), {p.worker_id for p in started}),
        ended=hidden(len(ended), {p.worker_id for p in ended}),
        ended_by_reason={
            r: hidden(len(these), {p.worker_id for p in these}) for r, these in by_reason.items()
        },
        share_by_reason={
            r: hidden(
                half_up(Fraction(100 * len(these), len(ended))) if ended else 0,
                {p.worker_id for p in these},
            )
            for r, these in by_reason.items()
        },
        hours_at_start=hidden(half_up(Fraction(100 * sum(start_hours), n)) if n else 0, workers),
        hours_at_end=hidden(half_up(Fraction(100 * sum(end_hours), n)) if n else 0, workers),
        more_hours=hidden(len(grew), {p.worker_id for p in grew}),
        weeks_in_job=hidden(
            half_up(
                Fraction(100 * sum((last_day(p) - p.start_date).days for p in placements)) / 7 / n
            )
            if n
            else 0,
            workers,
        ),
        approved_minutes=hidden(sum(e.minutes for e in approved), {e.worker_id for e in approved}),
        follow_ups=hidden(len(notes), workers),
        follow_ups_per_month=hidden(
            half_up(Fraction(100 * len(notes)) * Fraction(36525, 1200) / active_days)
            if active_days
            else 0,
            workers,
        ),
    )


def repeat_employers(db, placements: list[Placement], date_to: date) -> int:
    employers = {p.employer_id for p in placements}
    orders = db.scalars(select(JobOrder)).all()
    return sum(
        1
        for employer_id in employers
        if sum(
            1
            for o in orders
            if o.employer_id == employer_id
            and o.created_at.astimezone(COPENHAGEN).date() <= date_to
        )
        >= 2
    )


def figures_of(f: outcomes.Figures) -> Expected:
    return Expected(**{name: getattr(f, name) for name in Expected.__dataclass_fields__})


# --- Rows to count -------------------------------------------------------------------------------


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


@pytest.fixture
def world(db):
    """Two work areas, two consultants, two employers; placements in, before, after and
    across the period; hours changes, shifts and notes in and out of it."""
    f = factories
    lager, cafe = f.WorkAreaFactory(name="Lager X"), f.WorkAreaFactory(name="Café X")
    mette = f.UserFactory(role=Role.CONSULTANT, full_name="Mette X")
    kasper = f.UserFactory(role=Role.CONSULTANT, full_name="Kasper X")
    fruit, bistro = f.EmployerFactory(name="Frugt X"), f.EmployerFactory(name="Bistro X")
    fruit_orders = [
        f.JobOrderFactory(employer=fruit, work_area=lager, created_at=at(date(2025, 12, 1))),
        f.JobOrderFactory(employer=fruit, work_area=lager, created_at=at(date(2026, 3, 1))),
    ]
    bistro_orders = [
        f.JobOrderFactory(employer=bistro, work_area=cafe, created_at=at(date(2026, 1, 10))),
        # After the period: not a repeat order yet on 30 June.
        f.JobOrderFactory(employer=bistro, work_area=cafe, created_at=at(date(2026, 7, 2))),
    ]

    def placed(order, start, end=None, reason="", status=None, hours=10, consultant=mette, **kw):
        status = status or (PlacementStatus.ENDED if end else PlacementStatus.ACTIVE)
        return f.PlacementFactory(
            job_order=order,
            worker=kw.pop("worker", None) or f.WorkerFactory(),
            consultant_id=consultant.id,
            start_date=start,
            end_date=end,
            status=status,
            end_reason=reason,
            hours_per_week=hours,
            **kw,
        )

    ordinary = PlacementEndReason.ORDINARY_JOB.value
    ended = [
        placed(
            fruit_orders[0],
            date(2026, 1, 5) + (i * (date(2026, 1, 12) - date(2026, 1, 5))),
            date(2026, 5, 1 + i),
            ordinary,
        )
        for i in range(6)
    ]
    grown = placed(
        bistro_orders[0],
        date(2026, 2, 2),
        date(2026, 6, 20),
        PlacementEndReason.MORE_HOURS.value,
        hours=20,
        consultant=kasper,
    )
    f.PlacementHoursChangeFactory(
        placement=grown,
        old_hours_per_week=12,
        new_hours_per_week=20,
        effective_from=date(2026, 4, 1),
    )
    placed(  # ends after the period: not ended in it
        bistro_orders[0],
        date(2026, 3, 2),
        date(2026, 7, 15),
        PlacementEndReason.STOPPED.value,
        consultant=kasper,
    )
    long_running = placed(fruit_orders[1], date(2025, 10, 1), hours=15)
    f.PlacementHoursChangeFactory(
        placement=long_running,
        old_hours_per_week=10,
        new_hours_per_week=12,
        effective_from=date(2026, 3, 1),
    )
    f.PlacementHoursChangeFactory(
        placement=long_running,
        old_hours_per_week=12,
        new_hours_per_week=15,
        effective_from=date(2026, 8, 1),
    )
    # The same worker twice in the period: one person placed, two placements.
    twice = placed(fruit_orders[1], date(2026, 5, 10), worker=ended[0].worker, hours=8)
    # Never counted: after, before, proposed, declined.
    placed(fruit_orders[1], date(2026, 7, 1))
    placed(fruit_orders[1], date(2025, 3, 1), date(2025, 12, 31), ordinary)
    placed(fruit_orders[1], date(2026, 2, 1), status=PlacementStatus.PROPOSED)
    placed(fruit_orders[1], date(2026, 2, 1), status=PlacementStatus.DECLINED)

    def shift(placement, day, approved=True, disputed=False, minutes=210):
        f.TimeEntryFactory(
            placement=placement,
            work_date=day,
            minutes=minutes,
            worker_confirmed_at=at(day),
            employer_approved_at=at(day) if approved else None,
            disputed_at=at(day) if disputed else None,
        )

    for i, p in enumerate(ended):
        shift(p, date(2026, 2, 2 + i), minutes=200 + i)
    shift(grown, date(2026, 4, 7), minutes=300)
    shift(long_running, date(2025, 12, 1))  # before the period
    shift(long_running, date(2026, 6, 1), approved=False)  # waiting for the employer
    shift(long_running, date(2026, 6, 2), disputed=True)  # approved, then disputed
    shift(twice, date(2026, 6, 3), minutes=120)
    for day in (date(2026, 1, 20), date(2026, 3, 3), date(2026, 7, 7)):
        f.PlacementNoteFactory(placement=ended[1], note_date=day)
    f.PlacementNoteFactory(placement=long_running, note_date=date(2026, 2, 14))
    db.flush()
    return {
        "areas": (lager, cafe),
        "consultants": (mette, kasper),
        "employers": (fruit, bistro),
    }


# --- The rule ------------------------------------------------------------------------------------


def test_the_five_person_rule():
    assert outcomes.MIN_GROUP == 5
    assert outcomes.shown(7, 5) == 7
    assert outcomes.shown(12, 4) is None  # counts fewer than five people
    assert outcomes.shown(0, 0) is None  # nobody is a group smaller than five too
    assert outcomes.shown(0, 9) == 0  # none of nine people is a figure about nine


def test_the_figures_equal_a_recomputation_from_the_rows(db, world):
    result = outcomes.outcomes(db, FROM, TO)
    placements = placements_in(db, FROM, TO)
    assert len(placements) == 10  # 6 ended, grown, late stop, long running, twice
    want = expected(db, placements, FROM, TO)
    assert figures_of(result.total) == want
    # What the rows were built to show, so the recomputation is not vacuous:
    assert want.people_placed == 9 and want.started == 9 and want.ended == 7
    assert want.ended_by_reason[PlacementEndReason.ORDINARY_JOB] == 6
    assert want.share_by_reason[PlacementEndReason.ORDINARY_JOB] == 86  # 6 of 7
    assert want.ended_by_reason[PlacementEndReason.MORE_HOURS] is None  # one person
    assert want.share_by_reason[PlacementEndReason.MORE_HOURS] is None
    assert want.more_hours is None  # 12 -> 20 and 10 -> 12: two people
    assert want.approved_minutes == sum(200 + i for i in range(6)) + 300 + 120
    assert want.follow_ups == 3
    assert result.employers == 2
    assert result.repeat_employers == repeat_employers(db, placements, TO) == 1


def test_the_breakdowns_and_filters_equal_a_recomputation(db, world):
    lager, cafe = world["areas"]
    mette, kasper = world["consultants"]
    fruit, bistro = world["employers"]
    result = outcomes.outcomes(db, FROM, TO)
    by_area = {g.id: figures_of(g.figures) for g in result.by_work_area}
    assert by_area == {
        lager.id: expected(db, placements_in(db, FROM, TO, work_area_id=lager.id), FROM, TO),
        cafe.id: expected(db, placements_in(db, FROM, TO, work_area_id=cafe.id), FROM, TO),
    }
    assert by_area[lager.id].people_placed == 7
    assert by_area[cafe.id].people_placed is None  # two people: the whole row is withheld
    assert all(v is None for v in by_area[cafe.id].ended_by_reason.values())
    by_consultant = {g.id: figures_of(g.figures) for g in result.by_consultant}
    assert set(by_consultant) == {mette.id, kasper.id}
    for filters in (
        {"work_area_id": lager.id},
        {"consultant_id": kasper.id},
        {"employer_id": bistro.id},
        {"employer_id": fruit.id, "consultant_id": mette.id},
    ):
        narrowed = outcomes.outcomes(db, FROM, TO, **filters)
        scope = placements_in(db, FROM, TO, **filters)
        assert figures_of(narrowed.total) == expected(db, scope, FROM, TO), filters
        assert narrowed.repeat_employers == repeat_employers(db, scope, TO)
    assert outcomes.outcomes(db, FROM, TO, employer_id=bistro.id).employer == "Bistro X"
    # Another period: the same definitions.
    other = outcomes.outcomes(db, date(2026, 3, 1), date(2026, 12, 31))
    scope = placements_in(db, date(2026, 3, 1), date(2026, 12, 31))
    assert figures_of(other.total) == expected(db, scope, date(2026, 3, 1), date(2026, 12, 31))
    assert other.repeat_employers == 2  # the bistro came back in July


def test_the_query_count_does_not_grow_with_the_placements(db, engine, world):
    def queries() -> int:
        db.expire_all()
        with statements(engine) as seen:
            outcomes.outcomes(db, FROM, TO)
        return len(seen)

    before = queries()
    lager, _cafe = world["areas"]
    for _ in range(6):
        placement = factories.PlacementFactory(
            job_order=factories.JobOrderFactory(work_area=lager, start_date=date(2026, 2, 1))
        )
        factories.PlacementNoteFactory(placement=placement, note_date=date(2026, 3, 1))
        factories.PlacementHoursChangeFactory(placement=placement, effective_from=date(2026, 3, 1))
    db.flush()
    assert queries() == before <= 8


# --- The page, the CSV and the CLI ----------------------------------------------------------------


def english(client) -> None:
    assert post_form(client, "/language/en", {"next": "/"}, page="/").status_code == 302
    flask_babel.refresh()


def fact(page: str, label: str) -> str:
    """The text of a definition list's value."""
    match = re.search(rf"<dt>{re.escape(label)}</dt><dd>(.*?)</dd>", page)
    assert match, label
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("&lt;", "<")


def quantity(hundredths: int | None) -> str:
    if hundredths is None:
        return "< 5"
    return f"{hundredths // 100},{hundredths % 100:02d}"


def hours_text(minutes: int | None) -> str:
    return "< 5" if minutes is None else quantity(half_up(Fraction(minutes * 100, 60)))


def count_text(value: int | None) -> str:
    return "< 5" if value is None else str(value)


def assert_page_shows(page: str, want: Expected) -> None:
    assert fact(page, "People placed") == count_text(want.people_placed)
    assert fact(page, "Placements started") == count_text(want.started)
    assert fact(page, "Placements ended") == count_text(want.ended)
    assert fact(page, "Weeks in the job, on average") == quantity(want.weeks_in_job)
    assert fact(page, "Approved hours").replace(".", "") == hours_text(want.approved_minutes)
    assert fact(page, "At start, on average") == quantity(want.hours_at_start)
    assert fact(page, "At the end, on average") == quantity(want.hours_at_end)
    assert fact(page, "Placements with more hours than at start") == count_text(want.more_hours)
    assert fact(page, "Consultant follow-ups") == count_text(want.follow_ups)
    assert fact(page, "Follow-ups per placement per month") == quantity(want.follow_ups_per_month)
    ordinary = want.ended_by_reason[PlacementEndReason.ORDINARY_JOB]
    share = want.share_by_reason[PlacementEndReason.ORDINARY_JOB]
    row = re.search(r'<th scope="row">An ordinary job</th>(.*?)</tr>', page).group(1)
    cells = [
        re.sub(r"<[^>]+>", "", c).replace("&lt;", "<")
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row)
    ]
    assert cells == [count_text(ordinary), "< 5" if share is None else f"{share} %"]


def csv_rows(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


def assert_csv_row(row: dict, want: Expected) -> None:
    def cell(value):
        return "" if value is None else str(value)

    def decimal(value):
        return "" if value is None else quantity(value)

    assert row["personer_i_job"] == cell(want.people_placed)
    assert row["forloeb_startet"] == cell(want.started)
    assert row["forloeb_afsluttet"] == cell(want.ended)
    assert row["ordinaert_job"] == cell(want.ended_by_reason["ordinary_job"])
    assert row["ordinaert_job_pct"] == cell(want.share_by_reason["ordinary_job"])
    assert row["flere_timer"] == cell(want.ended_by_reason["more_hours"])
    assert row["stoppet"] == cell(want.ended_by_reason["stopped"])
    assert row["timer_pr_uge_start"] == decimal(want.hours_at_start)
    assert row["timer_pr_uge_slut"] == decimal(want.hours_at_end)
    assert row["forloeb_med_flere_timer"] == cell(want.more_hours)
    assert row["uger_i_job"] == decimal(want.weeks_in_job)
    assert row["godkendte_timer"] == (
        "" if want.approved_minutes is None else hours_text(want.approved_minutes)
    )
    assert row["opfoelgninger"] == cell(want.follow_ups)
    assert row["opfoelgninger_pr_forloeb_pr_maaned"] == decimal(want.follow_ups_per_month)
    withheld = any(v is None for v in vars(want).values() if not isinstance(v, dict)) or any(
        v is None for d in (want.ended_by_reason, want.share_by_reason) for v in d.values()
    )
    assert row["note"] == ("Færre end 5 personer: tal udeladt" if withheld else "")


@pytest.mark.parametrize("role", [Role.CONSULTANT, Role.ADMIN])
def test_the_page_shows_the_figures(app, client, db, world, as_role, role):
    as_role(role)
    english(client)
    page = client.get(f"/reports/outcomes?date_from={FROM}&date_to={TO}")
    assert page.status_code == 200
    text = page.text
    assert_page_shows(text, expected(db, placements_in(db, FROM, TO), FROM, TO))
    assert fact(text, "Employers with a placement") == "2"
    assert fact(text, "Of them with a repeat order") == "1"
    assert "Period 01-01-2026 to 30-06-2026." in text
    assert "Work area: all." in text and "Employer: all." in text
    # Two charts, each with a title and a description for screen readers.
    assert text.count('<svg viewBox="0 0 480') == 2
    assert '<title id="reasons-chart-title">Placements ended, by reason</title>' in text
    assert '<desc id="hours-chart-desc">' in text
    # Filtered by a work area: the scope names it and the CSV link carries the filter.
    lager, cafe = world["areas"]
    narrowed = client.get(
        f"/reports/outcomes?date_from={FROM}&date_to={TO}&work_area={cafe.id}"
    ).text
    # The scope names the chosen area in the page's language.
    assert f"Work area: {cafe.name_en}." in narrowed
    assert (
        f"/reports/outcomes.csv?date_from={FROM}&amp;date_to={TO}&amp;work_area={cafe.id}"
        in narrowed
    )
    assert fact(narrowed, "People placed") == "< 5"


def test_the_page_defaults_to_this_year_so_far(client, db, world, as_role):
    as_role(Role.CONSULTANT)
    english(client)
    page = client.get("/reports/outcomes")
    assert page.status_code == 200
    today = dates.today()
    first = date(today.year, 1, 1).isoformat()
    assert f'name="date_from" type="date" value="{first}"' in page.text
    assert f'name="date_to" type="date" value="{today.isoformat()}"' in page.text
    assert f"date_from={first}&amp;date_to={today.isoformat()}" in page.text


@pytest.mark.parametrize(
    "query",
    [
        "date_from=2026-07-01&date_to=2026-06-01",  # the end before the start
        "date_from=not-a-date",
        "work_area=99999",  # no such work area
        "consultant=abc",
        "employer=99999999999999999999",
    ],
)
def test_bad_filters_answer_400(client, db, world, as_role, query):
    as_role(Role.ADMIN)
    assert client.get(f"/reports/outcomes?{query}").status_code == 400
    assert client.get(f"/reports/outcomes.csv?{query}").status_code == 400


def test_the_csv_and_the_cli_print_the_same_figures(app, client, db, world, as_role):
    as_role(Role.ADMIN)
    response = client.get(f"/reports/outcomes.csv?date_from={FROM}&date_to={TO}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "resultater-2026-01-01-2026-06-30.csv" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    rows = csv_rows(text)
    total = rows[0]
    assert (total["gruppe"], total["navn"]) == ("i_alt", "Alle")
    assert (total["periode_fra"], total["periode_til"]) == ("2026-01-01", "2026-06-30")
    assert_csv_row(total, expected(db, placements_in(db, FROM, TO), FROM, TO))
    assert (total["virksomheder"], total["virksomheder_gentaget_bestilling"]) == ("2", "1")
    lager, cafe = world["areas"]
    areas = {r["navn"]: r for r in rows if r["gruppe"] == "arbejdsomraade"}
    assert set(areas) == {"Lager X", "Café X"}
    assert_csv_row(
        areas["Café X"], expected(db, placements_in(db, FROM, TO, work_area_id=cafe.id), FROM, TO)
    )
    assert areas["Café X"]["personer_i_job"] == ""  # withheld, and the row says so
    assert {r["navn"] for r in rows if r["gruppe"] == "konsulent"} == {"Mette X", "Kasper X"}
    assert "\r\n" in text and ";" in text

    runner = app.test_cli_runner()
    printed = runner.invoke(args=["reports", "outcomes", "--from", str(FROM), "--to", str(TO)])
    assert printed.exit_code == 0, printed.output
    # (Result.output turns CRLF into LF; the bytes are what a redirect writes to a file.)
    assert printed.stdout_bytes.decode("utf-8") == text
    # Filtered the same way on both.
    mette, _kasper = world["consultants"]
    filtered = client.get(
        f"/reports/outcomes.csv?date_from={FROM}&date_to={TO}&consultant={mette.id}"
    ).data.decode("utf-8")
    printed = runner.invoke(
        args=[
            "reports",
            "outcomes",
            "--from",
            str(FROM),
            "--to",
            str(TO),
            "--consultant",
            str(mette.id),
        ]
    )
    assert printed.stdout_bytes.decode("utf-8") == filtered
    assert csv_rows(filtered)[0]["navn"] == "Konsulent: Mette X"
    refused = runner.invoke(
        args=["reports", "outcomes", "--from", "2026-02-01", "--to", "2026-01-01"]
    )
    assert refused.exit_code != 0


@pytest.mark.parametrize("role", [Role.EMPLOYER, Role.WORKER, Role.FINANCE])
def test_employers_workers_and_finance_are_refused(client, db, as_role, role):
    as_role(role)
    assert client.get("/reports/outcomes").status_code == 403
    assert client.get("/reports/outcomes.csv").status_code == 403


def test_the_nav_links_to_the_report(client, db, as_role):
    as_role(Role.CONSULTANT)
    assert 'href="/reports/outcomes"' in client.get("/").text


# --- The demo's story -------------------------------------------------------------------------


def test_the_demo_tells_its_story_on_the_page_and_in_the_csv(app, client, db):
    with app.test_request_context("/"):
        demo.load(db)
    db.commit()
    today = dates.today()
    start = date(today.year - 1, today.month, 1)  # wide enough for the whole story
    placements = placements_in(db, start, today)
    want = expected(db, placements, start, today)
    # The story: 14 people placed, 10 placements ended, 7 of them into an ordinary job.
    assert want.people_placed == 14
    assert want.ended == 10
    assert want.ended_by_reason["ordinary_job"] == 7
    assert want.share_by_reason["ordinary_job"] == 70
    assert want.ended_by_reason["more_hours"] is None  # two people: withheld
    assert want.hours_at_end > want.hours_at_start  # Birthe's 12 -> 15
    assert want.approved_minutes and want.follow_ups
    result = outcomes.outcomes(db, start, today)
    assert figures_of(result.total) == want
    assert result.repeat_employers == repeat_employers(db, placements, today) == 3

    login(client, "admin@demo.dk", demo.PASSWORD)
    english(client)
    query = f"date_from={start}&date_to={today}"
    page = client.get(f"/reports/outcomes?{query}")
    assert page.status_code == 200
    assert_page_shows(page.text, want)
    rows = csv_rows(client.get(f"/reports/outcomes.csv?{query}").data.decode("utf-8"))
    assert_csv_row(rows[0], want)
    assert (rows[0]["virksomheder"], rows[0]["virksomheder_gentaget_bestilling"]) == ("3", "3")
    by_consultant = {r["navn"]: r for r in rows if r["gruppe"] == "konsulent"}
    assert set(by_consultant) == {"Mette Madsen", "Kasper Kjær"}
    lager = next(r for r in rows if r["navn"] == "Lager")
    assert lager["personer_i_job"] == "5"
