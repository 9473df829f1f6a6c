"""The payroll export (lønfil): approved hours per worker per placement, as a file for payroll.

Amounts are integer øre: each row's hours rounded half up to two decimals × the hourly rate,
rounded half up to the øre (core.money: the rule invoices follow, so timer × timesats =
beløb). Every exported entry points at the export it went into, so the next export never
repeats it unless a re-export of the period is asked for. See README.md, "Payroll export",
for the columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from core import audit
from core import settings as settings_service
from core.errors import Invalid
from core.i18n import gettext as _
from core.models import (
    PayrollExport,
    PayrollFormat,
    Placement,
    TimeEntry,
    User,
)
from core.money import hours_hundredths, pay_ore, plain_kroner
from core.shifts import APPROVED
from invoices.spreadsheet import Sheet, cell

CSV_HEADER = (
    "loennummer",
    "navn",
    "periode_fra",
    "periode_til",
    "ansaettelse",
    "virksomhed",
    "minutter",
    "timer",
    "timesats_kr",
    "beloeb_kr",
)
TOTAL_LABEL = "I alt"
MAX_PERIOD_DAYS = 366


@dataclass
class PayrollRow:
    payroll_number: str
    worker_name: str
    placement_id: int
    employer_name: str
    pay_rate_ore: int
    minutes: int = 0
    entry_ids: list[int] = field(default_factory=list)
    first_day: date | None = None  # the earliest shift in the row

    @property
    def amount_ore(self) -> int:
        return pay_ore(self.minutes, self.pay_rate_ore)


def hundredths_decimal(hundredths: int) -> str:
    """1250 -> '12,50', -50 -> '-0,50': hours in hundredths with a decimal comma."""
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100},{abs(hundredths) % 100:02d}"


def hours_decimal(minutes: int) -> str:
    """750 -> '12,50': decimal hours as billed and paid (core.money's rule)."""
    return hundredths_decimal(hours_hundredths(minutes))


kroner = plain_kroner


def exportable_entries(
    session: Session, start: date, end: date, *, reexport: bool = False
) -> list[TimeEntry]:
    """Approved entries up to `end` not yet exported; with re-export also those of the
    period that went into an earlier export."""
    approved = and_(APPROVED, TimeEntry.work_date <= end)
    not_exported = TimeEntry.payroll_export_id.is_(None)
    # Paid, then corrected (a credit note released it and the hours were put right): the
    # next file pays or takes back the difference.
    corrected = and_(
        TimeEntry.payroll_export_id.is_not(None), TimeEntry.paid_minutes != TimeEntry.minutes
    )
    wanted = or_(not_exported, corrected)
    if reexport:
        wanted = or_(wanted, TimeEntry.work_date >= start)
    # Lock the rows (PostgreSQL) so two exports running at once cannot both take an entry.
    stmt = (
        select(TimeEntry)
        .where(approved, wanted)
        .order_by(TimeEntry.placement_id, TimeEntry.work_date, TimeEntry.id)
        .with_for_update()
    )
    return list(session.scalars(stmt))


def owed_minutes(entry: TimeEntry, start: date, reexport: bool) -> int:
    """What a file pays for a shift: all of it the first time (and in a re-export of its
    period, which replaces the earlier file), else the correction since it was paid."""
    if entry.payroll_export_id is None or (reexport and entry.work_date >= start):
        return entry.minutes
    return entry.minutes - (entry.paid_minutes or 0)


def build_rows(
    session: Session, entries: list[TimeEntry], start: date | None = None, reexport: bool = False
) -> list[PayrollRow]:
    rows: dict[int, PayrollRow] = {}
    for entry in entries:
        row = rows.get(entry.placement_id)
        if row is None:
            placement: Placement = entry.placement
            worker = placement.worker
            row = rows[entry.placement_id] = PayrollRow(
                payroll_number=worker.payroll_number,
                worker_name=f"{worker.first_name} {worker.last_name}".strip(),
                placement_id=placement.id,
                employer_name=placement.employer.name,
                pay_rate_ore=placement.pay_rate_ore,
            )
        row.minutes += owed_minutes(entry, start or entry.work_date, reexport)
        row.entry_ids.append(entry.id)
        row.first_day = min(row.first_day or entry.work_date, entry.work_date)
    return sorted(rows.values(), key=lambda r: (r.payroll_number, r.placement_id))


def render_csv(rows: list[PayrollRow], start: date, end: date) -> str:
    """The documented CSV: ';'-separated, decimal commas, a totals row last, UTF-8 with BOM."""
    sheet = Sheet()
    sheet.row(CSV_HEADER)
    for row in rows:
        sheet.row(
            (
                row.payroll_number,
                row.worker_name,
                # From the row's earliest shift when it is older than the chosen period (an
                # approved shift that no earlier file paid): the column tells the truth.
                min(start, row.first_day or start).isoformat(),
                end.isoformat(),
                row.placement_id,
                row.employer_name,
                row.minutes,
                hours_decimal(row.minutes),
                kroner(row.pay_rate_ore),
                kroner(row.amount_ore),
            )
        )
    total_minutes = sum(r.minutes for r in rows)
    sheet.row(
        (
            "",
            TOTAL_LABEL,
            start.isoformat(),
            end.isoformat(),
            "",
            "",
            total_minutes,
            # The rows' hours added up (each row's hours × rate = its amount), not the total
            # minutes rounded again: the column sums as a reader checks it.
            hundredths_decimal(sum(hours_hundredths(r.minutes) for r in rows)),
            "",
            kroner(sum(r.amount_ore for r in rows)),
        )
    )
    # The BOM makes Excel read æ, ø and å right; csv readers take it with encoding utf-8-sig.
    return sheet.text(bom=True)


def render_danlon(rows: list[PayrollRow], cvr: str, wage_type: str) -> str:
    """Danløn's import lines: CVR;medarbejdernr;lønart;enheder;sats;beløb, numbers × 100."""
    lines = []
    for row in rows:
        units = hours_hundredths(row.minutes)  # hours × 100; units × sats ÷ 100 = beløb
        fields = (cvr, row.payroll_number, wage_type, units, row.pay_rate_ore, row.amount_ore)
        lines.append(";".join(str(cell(value)) for value in fields))
    return "".join(line + "\r\n" for line in lines)


def create_export(
    session: Session,
    by: User | None,
    start: date,
    end: date,
    *,
    reexport: bool = False,
    fmt: PayrollFormat = PayrollFormat.CSV,
) -> PayrollExport:
    """Export the approved hours, mark the entries with the export, and keep the file."""
    if start > end:
        raise Invalid(_("The end date must not be before the start date."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise Invalid(_("Choose a period of at most one year."))
    entries = exportable_entries(session, start, end, reexport=reexport)
    if not entries:
        raise Invalid(_("There are no approved hours to export for this period."))
    rows = build_rows(session, entries, start, reexport)
    if fmt == PayrollFormat.DANLON:
        org = settings_service.get(session)
        if not org.cvr:
            raise Invalid(_("Set the organisation's CVR number before exporting for Danløn."))
        content = render_danlon(rows, org.cvr, org.payroll_wage_type or "1")
    else:
        content = render_csv(rows, start, end)
    export = PayrollExport(
        period_start=start,
        period_end=end,
        format=fmt,
        reexport=reexport,
        entry_count=len(entries),
        total_minutes=sum(r.minutes for r in rows),
        total_ore=sum(r.amount_ore for r in rows),
        content=content,
        created_by_id=by.id if by is not None else None,
    )
    session.add(export)
    session.flush()
    for entry in entries:
        # A re-export repeats shifts in a new file, but each stays marked with the export
        # that first paid it.
        if entry.payroll_export_id is None:
            entry.payroll_export_id = export.id
        entry.paid_minutes = entry.minutes
    audit.record(
        session,
        by,
        "payroll.exported",
        export,
        period=f"{start.isoformat()}..{end.isoformat()}",
        entries=len(entries),
        total_ore=export.total_ore,
        reexport=reexport,
        format=fmt.value,
    )
    return export


def filename(export: PayrollExport) -> str:
    suffix = "txt" if export.format == PayrollFormat.DANLON else "csv"
    return (
        f"loenfil-{export.period_start.isoformat()}-{export.period_end.isoformat()}"
        f"-{export.id}.{suffix}"
    )


def exports(session: Session, limit: int = 50) -> list[PayrollExport]:
    return list(
        session.scalars(select(PayrollExport).order_by(PayrollExport.id.desc()).limit(limit))
    )
