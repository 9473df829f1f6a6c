"""Outcomes: what the placements of a period came to, for admins, consultants and the
municipality (the report at /reports/outcomes, its CSV and `flask reports outcomes`).

Definitions, for a period [date_from, date_to] (both days included) and optionally one work
area (the placement's order's), one consultant (the placement's) or one employer:

- A placement *in the period* was accepted (active or ended) and ran on at least one day of
  it: start_date <= date_to and no end_date or end_date >= date_from. Proposals and declined
  placements never count. Every figure below is over these placements unless it says not.
- *People placed*: distinct workers with a placement in the period.
- *Started*: placements with start_date in the period. *Ended*: ended placements with
  end_date in the period; *ended by reason* splits them by end reason, each with its share of
  the ended placements (percent, rounded half up).
- *Hours per week at start*: the placement's first agreed hours (the old hours of its earliest
  change, else its hours now); *at the end*: the hours in effect on its last day in the
  period (its end date, or date_to). Both are averages over the placements; *more hours*
  counts the placements whose hours at the end exceed those at the start.
- *Weeks in the job*: from start_date to the end date or date_to, whichever is first, / 7
  (the whole time in the job, also before the period), averaged over the placements.
- *Approved hours*: minutes of approved shifts (core.shifts.APPROVED) dated in the period.
- *Follow-ups*: consultant notes dated in the period; *per placement per month*: the notes
  divided by the placement-months in the period (the days each placement ran within the
  period, an average month being 365.25 / 12 days).
- *Employers*: distinct employers of the placements; *with a repeat order*: those of them
  with two or more orders created up to the end of date_to (Copenhagen time).

Five-person rule (`shown`): a figure about workers that counts or derives from fewer than
MIN_GROUP distinct people (none included) is withheld (None; the page shows "< 5", the CSV
an empty cell with a note). A share is withheld when its own reason's people are; a breakdown
row (work area, consultant) follows the same rule figure by figure. Employer counts describe
organisations, not people, and are always shown.

All arithmetic is in integers (averages and rates in hundredths, shares in percent), rounded
half up with core.money.round_half_up_div. The figures come from five queries, however many
placements there are; the rest is plain Python over their rows (date arithmetic differs
between SQLite and PostgreSQL, Python's is exact on both). Never commits."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.dates import COPENHAGEN
from core.models import (
    Employer,
    JobOrder,
    Placement,
    PlacementEndReason,
    PlacementHoursChange,
    PlacementNote,
    PlacementStatus,
    Role,
    TimeEntry,
    User,
    WorkArea,
)
from core.money import hours_hundredths, round_half_up_div
from core.shifts import APPROVED
from invoices.spreadsheet import Sheet

MIN_GROUP = 5  # fewer distinct people than this and a figure is withheld
REASONS = tuple(PlacementEndReason)
# An average month in days is 365.25 / 12 = 1461 / 48: kept as a fraction, exact.
MONTH_DAYS_NUMERATOR, MONTH_DAYS_DENOMINATOR = 1461, 48


def shown(value: int, people: int) -> int | None:
    """The figure, or None when it describes fewer than MIN_GROUP distinct people."""
    return value if people >= MIN_GROUP else None


@dataclass(frozen=True)
class Figures:
    """One group's outcomes with the five-person rule applied (None: "< 5")."""

    people_placed: int | None
    started: int | None
    ended: int | None
    ended_by_reason: dict[str, int | None]  # PlacementEndReason value -> placements
    share_by_reason: dict[str, int | None]  # ... -> percent of the ended placements
    hours_at_start: int | None  # average agreed hours per week, in hundredths
    hours_at_end: int | None
    more_hours: int | None  # placements with more hours at the end than at the start
    weeks_in_job: int | None  # average, in hundredths of a week
    approved_minutes: int | None
    follow_ups: int | None
    follow_ups_per_month: int | None  # per placement per month, in hundredths

    @property
    def withheld(self) -> bool:
        """Whether the rule hid any figure of the group."""
        values = [
            self.people_placed,
            self.started,
            self.ended,
            self.hours_at_start,
            self.hours_at_end,
            self.more_hours,
            self.weeks_in_job,
            self.approved_minutes,
            self.follow_ups,
            self.follow_ups_per_month,
            *self.ended_by_reason.values(),
            *self.share_by_reason.values(),
        ]
        return any(value is None for value in values)


@dataclass(frozen=True)
class Group:
    """A breakdown row: a work area or a consultant (id None: placements without one)."""

    id: int | None
    name: str
    name_en: str
    figures: Figures


@dataclass(frozen=True)
class Outcomes:
    date_from: date
    date_to: date
    work_area: str | None  # the filters' names, None when not filtered
    consultant: str | None
    employer: str | None
    total: Figures
    employers: int
    repeat_employers: int
    by_work_area: list[Group]
    by_consultant: list[Group]


@dataclass(frozen=True)
class _Row:
    """A placement in the period, with what its figures need."""

    id: int
    worker_id: int
    consultant_id: int | None
    work_area_id: int
    employer_id: int
    start_date: date
    end_date: date | None
    ended: bool
    end_reason: str
    hours_at_start: int
    hours_at_end: int
    approved_minutes: int
    notes: int


def outcomes(
    session: Session,
    date_from: date,
    date_to: date,
    work_area_id: int | None = None,
    consultant_id: int | None = None,
    employer_id: int | None = None,
) -> Outcomes:
    """The outcomes of the period (see the module's docstring for every definition)."""
    scope = select(Placement.id).join(JobOrder, JobOrder.id == Placement.job_order_id)
    scope = scope.where(
        Placement.status.in_([PlacementStatus.ACTIVE, PlacementStatus.ENDED]),
        Placement.start_date <= date_to,
        or_(Placement.end_date.is_(None), Placement.end_date >= date_from),
    )
    if work_area_id is not None:
        scope = scope.where(JobOrder.work_area_id == work_area_id)
    if consultant_id is not None:
        scope = scope.where(Placement.consultant_id == consultant_id)
    if employer_id is not None:
        scope = scope.where(Placement.employer_id == employer_id)
    ids = scope  # the placements' ids, a subquery in each query below

    placements = session.execute(
        select(
            Placement.id,
            Placement.worker_id,
            Placement.consultant_id,
            JobOrder.work_area_id,
            Placement.employer_id,
            Placement.start_date,
            Placement.end_date,
            Placement.status,
            Placement.end_reason,
            Placement.hours_per_week,
        )
        .join(JobOrder, JobOrder.id == Placement.job_order_id)
        .where(Placement.id.in_(ids))
        .order_by(Placement.id)
    ).all()
    changes = defaultdict(list)
    for placement_id, old, new, effective_from in session.execute(
        select(
            PlacementHoursChange.placement_id,
            PlacementHoursChange.old_hours_per_week,
            PlacementHoursChange.new_hours_per_week,
            PlacementHoursChange.effective_from,
        )
        .where(PlacementHoursChange.placement_id.in_(ids))
        .order_by(PlacementHoursChange.effective_from, PlacementHoursChange.id)
    ):
        changes[placement_id].append((old, new, effective_from))
    minutes = dict(
        session.execute(
            select(TimeEntry.placement_id, func.sum(TimeEntry.minutes))
            .where(
                APPROVED,
                TimeEntry.work_date.between(date_from, date_to),
                TimeEntry.placement_id.in_(ids),
            )
            .group_by(TimeEntry.placement_id)
        ).all()
    )
    notes = dict(
        session.execute(
            select(PlacementNote.placement_id, func.count())
            .where(
                PlacementNote.note_date.between(date_from, date_to),
                PlacementNote.placement_id.in_(ids),
            )
            .group_by(PlacementNote.placement_id)
        ).all()
    )

    rows = []
    for p in placements:
        last_day = min(p.end_date or date_to, date_to)
        history = changes.get(p.id, [])
        at_start = history[0][0] if history else p.hours_per_week
        at_end = at_start
        for _old, new, effective_from in history:
            if effective_from <= last_day:
                at_end = new
        rows.append(
            _Row(
                id=p.id,
                worker_id=p.worker_id,
                consultant_id=p.consultant_id,
                work_area_id=p.work_area_id,
                employer_id=p.employer_id,
                start_date=p.start_date,
                end_date=p.end_date,
                ended=p.status == PlacementStatus.ENDED,
                end_reason=p.end_reason,
                hours_at_start=at_start,
                hours_at_end=at_end,
                approved_minutes=int(minutes.get(p.id) or 0),
                notes=int(notes.get(p.id) or 0),
            )
        )

    employer_ids = {row.employer_id for row in rows}
    repeat = 0
    if employer_ids:
        # The end of date_to in Copenhagen, as the UTC moment orders are stamped with.
        until = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=COPENHAGEN)
        repeat = len(
            session.execute(
                select(JobOrder.employer_id)
                .where(
                    JobOrder.employer_id.in_(employer_ids),
                    JobOrder.created_at < until.astimezone(UTC),
                )
                .group_by(JobOrder.employer_id)
                .having(func.count() >= 2)
            ).all()
        )

    names = _names(session, rows, work_area_id, consultant_id, employer_id)
    return Outcomes(
        date_from=date_from,
        date_to=date_to,
        work_area=names["work_area"],
        consultant=names["consultant"],
        employer=names["employer"],
        total=figures(rows, date_from, date_to),
        employers=len(employer_ids),
        repeat_employers=repeat,
        by_work_area=[
            Group(area_id, name, name_en, figures(group, date_from, date_to))
            for (area_id, name, name_en), group in _grouped(rows, "work_area_id", names["areas"])
        ],
        by_consultant=[
            Group(user_id, name, name, figures(group, date_from, date_to))
            for (user_id, name, _), group in _grouped(rows, "consultant_id", names["users"])
        ],
    )


def figures(rows: list[_Row], date_from: date, date_to: date) -> Figures:
    """The figures of these placements, with the five-person rule applied."""
    placed = {row.worker_id for row in rows}
    started = [row for row in rows if date_from <= row.start_date <= date_to]
    ended = [row for row in rows if row.ended and row.end_date and row.end_date <= date_to]
    ended_by_reason, share_by_reason = {}, {}
    for reason in REASONS:
        these = [row for row in ended if row.end_reason == reason.value]
        people = len({row.worker_id for row in these})
        ended_by_reason[reason.value] = shown(len(these), people)
        share = round_half_up_div(len(these) * 100, len(ended)) if ended else 0
        share_by_reason[reason.value] = shown(share, people)
    grew = [row for row in rows if row.hours_at_end > row.hours_at_start]
    approved = [row for row in rows if row.approved_minutes]
    weeks_days, active_days = 0, 0
    for row in rows:
        last_day = min(row.end_date or date_to, date_to)
        weeks_days += (last_day - row.start_date).days
        active_days += (last_day - max(row.start_date, date_from)).days + 1
    count, people = len(rows), len(placed)
    notes = sum(row.notes for row in rows)

    def average(total: int, per: int = 1) -> int:
        return round_half_up_div(total * 100, count * per) if count else 0

    return Figures(
        people_placed=shown(len(placed), people),
        started=shown(len(started), len({row.worker_id for row in started})),
        ended=shown(len(ended), len({row.worker_id for row in ended})),
        ended_by_reason=ended_by_reason,
        share_by_reason=share_by_reason,
        hours_at_start=shown(average(sum(row.hours_at_start for row in rows)), people),
        hours_at_end=shown(average(sum(row.hours_at_end for row in rows)), people),
        more_hours=shown(len(grew), len({row.worker_id for row in grew})),
        weeks_in_job=shown(average(weeks_days, 7), people),
        approved_minutes=shown(
            sum(row.approved_minutes for row in approved), len({r.worker_id for r in approved})
        ),
        follow_ups=shown(notes, people),
        follow_ups_per_month=shown(
            round_half_up_div(
                notes * 100 * MONTH_DAYS_NUMERATOR, active_days * MONTH_DAYS_DENOMINATOR
            )
            if active_days
            else 0,
            people,
        ),
    )


def _grouped(rows: list[_Row], key: str, names: dict) -> list[tuple[tuple, list[_Row]]]:
    """The rows by work area or consultant, in the order of their names."""
    groups = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    labelled = [
        (names.get(group_id, (group_id, "", "")), these) for group_id, these in groups.items()
    ]
    return sorted(labelled, key=lambda item: (item[0][1] == "", item[0][1].lower()))


def _names(session, rows, work_area_id, consultant_id, employer_id) -> dict:
    """The names of the groups and of the filters (one query each)."""
    area_ids = ({row.work_area_id for row in rows} | {work_area_id}) - {None}
    user_ids = ({row.consultant_id for row in rows} | {consultant_id}) - {None}
    areas = {
        area_id: (area_id, name, name_en or name)
        for area_id, name, name_en in session.execute(
            select(WorkArea.id, WorkArea.name, WorkArea.name_en).where(WorkArea.id.in_(area_ids))
        )
    }
    users = {
        user_id: (user_id, name, name)
        for user_id, name in session.execute(
            select(User.id, User.full_name).where(User.id.in_(user_ids))
        )
    }
    employer = None
    if employer_id is not None:
        employer = session.scalar(select(Employer.name).where(Employer.id == employer_id))
    return {
        "areas": areas,
        "users": users,
        "work_area": areas[work_area_id][1] if work_area_id in areas else None,
        "consultant": users[consultant_id][1] if consultant_id in users else None,
        "employer": employer,
    }


@dataclass(frozen=True)
class Choices:
    """What the report can be narrowed to: (id, name) pairs in name order."""

    work_areas: list[tuple[int, str, str]]  # id, name, English name
    consultants: list[tuple[int, str]]
    employers: list[tuple[int, str]]


def choices(session: Session) -> Choices:
    """The work areas, the consultants (and anyone else who made a placement) and the
    employers with a placement, for the report's filters."""
    accepted = Placement.status.in_([PlacementStatus.ACTIVE, PlacementStatus.ENDED])
    areas = session.execute(
        select(WorkArea.id, WorkArea.name, WorkArea.name_en).order_by(WorkArea.name)
    ).all()
    consultants = session.execute(
        select(User.id, User.full_name)
        .where(
            or_(
                User.role == Role.CONSULTANT,
                User.id.in_(select(Placement.consultant_id).where(accepted)),
            )
        )
        .order_by(User.full_name, User.id)
    ).all()
    employers = session.execute(
        select(Employer.id, Employer.name)
        .where(Employer.id.in_(select(Placement.employer_id).where(accepted)))
        .order_by(Employer.name, Employer.id)
    ).all()
    return Choices(
        [(a, name, name_en or name) for a, name, name_en in areas],
        [(u, name) for u, name in consultants],
        [(e, name) for e, name in employers],
    )


# --- The CSV (the page's download and `flask reports outcomes`) -------------------------------

WITHHELD_NOTE = "Færre end 5 personer: tal udeladt"
REASON_COLUMNS = {
    PlacementEndReason.ORDINARY_JOB.value: "ordinaert_job",
    PlacementEndReason.MORE_HOURS.value: "flere_timer",
    PlacementEndReason.STOPPED.value: "stoppet",
    PlacementEndReason.OTHER.value: "andet",
}
HEADER = [
    "gruppe",
    "navn",
    "periode_fra",
    "periode_til",
    "personer_i_job",
    "forloeb_startet",
    "forloeb_afsluttet",
    *(f"{column}{suffix}" for column in REASON_COLUMNS.values() for suffix in ("", "_pct")),
    "timer_pr_uge_start",
    "timer_pr_uge_slut",
    "forloeb_med_flere_timer",
    "uger_i_job",
    "godkendte_timer",
    "opfoelgninger",
    "opfoelgninger_pr_forloeb_pr_maaned",
    "virksomheder",
    "virksomheder_gentaget_bestilling",
    "note",
]


def csv_text(result: Outcomes) -> str:
    """The outcomes as a CSV for a spreadsheet: UTF-8 with a byte-order mark, ';' between
    fields, a decimal comma; the total first, then one row per work area and per consultant.
    A withheld figure is an empty cell and its row says why in `note`."""
    sheet = Sheet()
    sheet.row(HEADER)
    scope = [
        f"Arbejdsområde: {result.work_area}" if result.work_area else "",
        f"Konsulent: {result.consultant}" if result.consultant else "",
        f"Virksomhed: {result.employer}" if result.employer else "",
    ]
    rows = [("i_alt", "; ".join(s for s in scope if s) or "Alle", result.total)]
    rows += [("arbejdsomraade", group.name, group.figures) for group in result.by_work_area]
    rows += [
        ("konsulent", group.name or "Ingen konsulent", group.figures)
        for group in result.by_consultant
    ]
    for kind, name, f in rows:
        total = kind == "i_alt"
        sheet.row(
            [
                kind,
                name,
                result.date_from.isoformat(),
                result.date_to.isoformat(),
                _cell(f.people_placed),
                _cell(f.started),
                _cell(f.ended),
                *(
                    _cell(by_reason[reason])
                    for reason in REASON_COLUMNS
                    for by_reason in (f.ended_by_reason, f.share_by_reason)
                ),
                _decimal(f.hours_at_start),
                _decimal(f.hours_at_end),
                _cell(f.more_hours),
                _decimal(f.weeks_in_job),
                _decimal(
                    None if f.approved_minutes is None else hours_hundredths(f.approved_minutes)
                ),
                _cell(f.follow_ups),
                _decimal(f.follow_ups_per_month),
                result.employers if total else "",
                result.repeat_employers if total else "",
                WITHHELD_NOTE if f.withheld else "",
            ]
        )
    return sheet.text(bom=True)


def _cell(value: int | None) -> object:
    return "" if value is None else value


def _decimal(hundredths: int | None) -> str:
    """12345 -> '123,45' (no thousands separator: a file for other programs)."""
    if hundredths is None:
        return ""
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100},{abs(hundredths) % 100:02d}"
