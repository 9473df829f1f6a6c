"""A worker's personal data: the access export, erasure, and the retention purge (issue 16).

Three rules (README "Personal data"):
- A worker (or staff for them) can have everything the portal holds about them as JSON.
- Erasure removes at once what no law requires (contact data, wishes, notes, free texts, the
  log-in) and restricts the rest to bookkeeping: the name and payroll number on shifts that
  were billed or paid stay, because the invoices and payroll files (vouchers, bogføringsloven
  § 10: five years from the end of the financial year) name them.
- After that retention, the remaining name is anonymised and so are the names in the payroll
  files. Issued invoices are not touched: the database refuses any change to them (see
  README "Personal data" for the archive step after retention).
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from core import audit, dates
from core.errors import Conflict, Invalid
from core.models import (
    AuditEvent,
    CalendarFeed,
    HoursReminder,
    Invoice,
    InvoiceLine,
    PayrollExport,
    PayrollFormat,
    Placement,
    PlacementNote,
    PlacementStatus,
    RecoveryCode,
    Submission,
    TimeEntry,
    User,
    UserToken,
    Worker,
    WorkerStatus,
    invoice_line_entries,
)
from core.shifts import APPROVED
from portal.services import orders

EXPORT_FORMAT = "portal-personal-data/1"
# Two years without a placement or a shift: long-term unemployed people often pause for
# illness, courses or a jobcenter activation and come back; two years covers such a pause
# without collecting everything again, and after it a new profile is quickly made.
INACTIVE_MONTHS = 24
# bogføringsloven § 10: vouchers are kept five years from the end of the financial year
# (calendar years here) they belong to.
RETENTION_YEARS = 5
ANONYMOUS_NAME = "Slettet medarbejder"
ERASED_EMAIL_DOMAIN = "slettet.invalid"  # RFC 2606: never delivered
CSV_NUMBER, CSV_NAME = 0, 1  # the payroll CSV's columns loennummer and navn
DANLON_COLUMNS = ("cvr", "medarbejdernr", "loenart", "enheder", "sats", "beloeb")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- Dates -------------------------------------------------------------------------------------


def retention_cutoff_year(today: date) -> int:
    """The last financial year whose vouchers are past retention on `today` (2032-01-01: 2026)."""
    return today.year - RETENTION_YEARS - 1


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day when it is shorter)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


def _day(moment: datetime | None) -> date | None:
    return None if moment is None else dates.local_date(moment)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def anonymous_name(payroll_number: str) -> str:
    return f"{ANONYMOUS_NAME} {payroll_number}"


# --- Payroll files -----------------------------------------------------------------------------


def export_year(export: PayrollExport) -> int:
    """The financial year a payroll file belongs to: its period's, or the year it was made
    when later (a December file made in January is kept by the later year: the safe side)."""
    made = _day(export.created_at) or export.period_end
    return max(export.period_end.year, made.year)


def _csv_rows(content: str) -> list[list[str]]:
    body = content.removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(body, newline=""), delimiter=";"))


def payroll_rows(export: PayrollExport, payroll_number: str) -> list[dict]:
    """The rows of a payroll file that pay this payroll number, as column -> text."""
    rows = _csv_rows(export.content)
    if export.format == PayrollFormat.DANLON:
        header, body = list(DANLON_COLUMNS), rows
        number_column = 1
    else:
        header, body = (rows[0], rows[1:]) if rows else ([], [])
        number_column = CSV_NUMBER
    return [
        dict(zip(header, row, strict=False))
        for row in body
        if len(row) > number_column and row[number_column] == payroll_number
    ]


def exports_naming(session: Session, payroll_number: str) -> list[PayrollExport]:
    """The payroll files with a row for this payroll number (a re-export repeats rows whose
    shifts point at the first file, so the files are read, not the shifts)."""
    candidates = session.scalars(
        select(PayrollExport)
        .where(PayrollExport.content.contains(payroll_number, autoescape=True))
        .order_by(PayrollExport.id)
    )
    return [e for e in candidates if payroll_rows(e, payroll_number)]


def anonymised_content(export: PayrollExport) -> str | None:
    """The CSV with every worker's name replaced by 'Slettet medarbejder <payroll no.>', the
    rest byte for byte as written; None when nothing changes (Danløn lines name nobody)."""
    if export.format != PayrollFormat.CSV or not export.content:
        return None
    rows = _csv_rows(export.content)
    changed = False
    for row in rows[1:]:
        if len(row) > CSV_NAME and row[CSV_NUMBER]:
            name = anonymous_name(row[CSV_NUMBER])
            changed = changed or row[CSV_NAME] != name
            row[CSV_NAME] = name
    if not changed:
        return None
    out = io.StringIO()
    # The writer invoices.spreadsheet.Sheet uses: the unchanged cells come out as they were.
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    bom = "\ufeff" if export.content.startswith("\ufeff") else ""
    return bom + out.getvalue()


# --- The export (GDPR art. 15 and 20) ----------------------------------------------------------


def _placement_ids(session: Session, worker: Worker) -> list[int]:
    return list(session.scalars(select(Placement.id).where(Placement.worker_id == worker.id)))


def _name(user: User | None) -> str | None:
    return None if user is None else (user.full_name or user.role.value)


def _invoice_lines(session: Session, worker: Worker, placement_ids: list[int]) -> list[dict]:
    """The lines of issued invoices and credit notes that billed this worker's shifts."""
    billed_entries = select(invoice_line_entries.c.invoice_line_id).join(
        TimeEntry, TimeEntry.id == invoice_line_entries.c.time_entry_id
    )
    rows = session.execute(
        select(InvoiceLine, Invoice)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(
            Invoice.number.is_not(None),
            or_(
                InvoiceLine.placement_id.in_(placement_ids),
                InvoiceLine.id.in_(billed_entries.where(TimeEntry.worker_id == worker.id)),
            ),
        )
        .order_by(Invoice.issue_date, Invoice.id, InvoiceLine.position)
    )
    return [
        {
            "invoice_number": invoice.display_number,
            "kind": invoice.kind.value,
            "issue_date": _iso(invoice.issue_date),
            "placement_id": line.placement_id,
            "description": line.description,
            "period_start": _iso(line.period_start),
            "period_end": _iso(line.period_end),
            "minutes": line.minutes,
        }
        for line, invoice in rows
    ]


def _audit_events(session: Session, worker: Worker, placement_ids: list[int]) -> list[dict]:
    about = [(AuditEvent.object_type == "Worker") & (AuditEvent.object_id == worker.id)]
    if placement_ids:
        about.append(
            (AuditEvent.object_type == "Placement") & AuditEvent.object_id.in_(placement_ids)
        )
        entry_ids = select(TimeEntry.id).where(TimeEntry.worker_id == worker.id)
        about.append((AuditEvent.object_type == "TimeEntry") & AuditEvent.object_id.in_(entry_ids))
    if worker.user_id is not None:
        about.append((AuditEvent.object_type == "User") & (AuditEvent.object_id == worker.user_id))
        about.append(AuditEvent.actor_id == worker.user_id)
    events = session.scalars(select(AuditEvent).where(or_(*about)).order_by(AuditEvent.id))
    return [
        {
            "at": _iso(e.created_at),
            "action": e.action,
            "by": _name(e.actor),
            "object": e.object_type,
            "object_id": e.object_id,
            "details": e.details,
        }
        for e in events
    ]


def _shift(entry: TimeEntry) -> dict:
    return {
        "id": entry.id,
        "placement_id": entry.placement_id,
        "work_date": _iso(entry.work_date),
        "start_time": entry.start_time.strftime("%H:%M"),
        "end_time": entry.end_time.strftime("%H:%M"),
        "break_minutes": entry.break_minutes,
        "minutes": entry.minutes,
        "note": entry.note,
        "entered_by": _name(entry.entered_by),
        "worker_confirmed_at": _iso(entry.worker_confirmed_at),
        "employer_approved_at": _iso(entry.employer_approved_at),
        "employer_approved_by": _name(entry.employer_approved_by),
        "auto_approved": entry.auto_approved,
        "disputed_at": _iso(entry.disputed_at),
        "dispute_reason": entry.dispute_reason,
        "resolved_at": _iso(entry.resolved_at),
        "invoiced": entry.invoice_line_id is not None,
        "payroll_export_id": entry.payroll_export_id,
        "paid_minutes": entry.paid_minutes,
        "changes": [
            {
                "at": _iso(c.created_at),
                "kind": c.kind.value,
                "by": _name(c.changed_by),
                "before": c.before,
                "after": c.after,
                "note": c.note,
            }
            for c in entry.changes
        ],
    }


def _placement(placement: Placement) -> dict:
    # The pay rate is the worker's; the bill rate is the intermediary's price to the employer
    # (business data about the employer's contract, not about the worker), so it stays out.
    return {
        "id": placement.id,
        "employer": placement.employer.name,
        "job": placement.job_order.title,
        "work_area": placement.job_order.work_area.name,
        "status": placement.status.value,
        "pay_rate_ore": placement.pay_rate_ore,
        "hours_per_week": placement.hours_per_week,
        "start_date": _iso(placement.start_date),
        "end_date": _iso(placement.end_date),
        "consultant": _name(placement.consultant),
        "worker_accepted_at": _iso(placement.worker_accepted_at),
        "employer_accepted_at": _iso(placement.employer_accepted_at),
        "declined_at": _iso(placement.declined_at),
        "declined_reason": placement.declined_reason,
        "end_reason": placement.end_reason,
        "end_note": placement.end_note,
        # Staff's follow-up notes: never shown in the portal to the worker, but the right of
        # access (GDPR art. 15) covers them.
        "consultant_notes": [
            {
                "date": _iso(n.note_date),
                "kind": n.kind.value,
                "text": n.text,
                "by": _name(n.author),
            }
            for n in placement.notes
        ],
        "hours_changes": [
            {
                "effective_from": _iso(c.effective_from),
                "from_hours_per_week": c.old_hours_per_week,
                "to_hours_per_week": c.new_hours_per_week,
                "by": _name(c.changed_by),
            }
            for c in placement.hours_changes
        ],
        "planned_shifts": [
            {
                "weekday": WEEKDAYS[s.weekday],
                "start_time": s.start_time.strftime("%H:%M"),
                "end_time": s.end_time.strftime("%H:%M"),
                "break_minutes": s.break_minutes,
            }
            for s in placement.planned_slots
        ],
    }


def export(session: Session, worker: Worker) -> dict:
    """Everything the portal holds about the worker, as JSON-able data (no password hash, no
    token hashes, nothing about other workers)."""
    user = worker.user
    placements = list(
        session.scalars(
            select(Placement).where(Placement.worker_id == worker.id).order_by(Placement.id)
        )
    )
    placement_ids = [p.id for p in placements]
    entries = session.scalars(
        select(TimeEntry)
        .where(TimeEntry.worker_id == worker.id)
        .order_by(TimeEntry.work_date, TimeEntry.start_time, TimeEntry.id)
    )
    payroll = [
        {
            "export_id": e.id,
            "period_start": _iso(e.period_start),
            "period_end": _iso(e.period_end),
            "created_at": _iso(e.created_at),
            "format": e.format.value,
            "row": row,
        }
        for e in exports_naming(session, worker.payroll_number)
        for row in payroll_rows(e, worker.payroll_number)
    ]
    account = None
    feeds: list[dict] = []
    if user is not None:
        account = {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "role": user.role.value,
            "locale": user.locale,
            "active": user.active,
            "password_set": user.password_hash is not None,
            "created_at": _iso(user.created_at),
            "last_login_at": _iso(user.last_login_at),
            "hours_reminder_last_sent_at": _iso(
                session.scalar(
                    select(HoursReminder.last_sent_at).where(HoursReminder.user_id == user.id)
                )
            ),
        }
        own_feeds = select(CalendarFeed).where(CalendarFeed.user_id == user.id)
        feeds = [
            {"created_at": _iso(f.created_at), "revoked_at": _iso(f.revoked_at)}
            for f in session.scalars(own_feeds.order_by(CalendarFeed.id))
        ]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(dates.now()),
        "worker": {
            "id": worker.id,
            "payroll_number": worker.payroll_number,
            "first_name": worker.first_name,
            "last_name": worker.last_name,
            "email": worker.email,
            "phone": worker.phone,
            "postcode": worker.postcode,
            "hours_per_week_wanted": [worker.hours_min, worker.hours_max],
            "available_days": [d for n, d in enumerate(WEEKDAYS) if worker.available_days >> n & 1],
            "work_areas": sorted(a.name for a in worker.work_areas),
            "consultant": _name(worker.consultant),
            "status": worker.status.value,
            "created_at": _iso(worker.created_at),
            "erased_at": _iso(worker.erased_at),
            "erasure_reason": worker.erasure_reason,
            "anonymised_at": _iso(worker.anonymised_at),
        },
        "account": account,
        "calendar_feeds": feeds,
        "placements": [_placement(p) for p in placements],
        "shifts": [_shift(e) for e in entries],
        "invoice_lines": _invoice_lines(session, worker, placement_ids),
        "payroll_rows": payroll,
        "audit_events": _audit_events(session, worker, placement_ids),
    }


# --- Erasure (GDPR art. 17, restricted by art. 17(3)(b) to what bookkeeping needs) -------------


def last_bookkeeping_year(session: Session, worker: Worker) -> int | None:
    """The latest financial year of an invoice, credit note or payroll file naming the worker."""
    placement_ids = select(Placement.id).where(Placement.worker_id == worker.id)
    billed_entries = select(invoice_line_entries.c.invoice_line_id).join(
        TimeEntry, TimeEntry.id == invoice_line_entries.c.time_entry_id
    )
    invoiced = session.scalar(
        select(func.max(Invoice.year))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(
            Invoice.number.is_not(None),
            or_(
                InvoiceLine.placement_id.in_(placement_ids),
                InvoiceLine.id.in_(billed_entries.where(TimeEntry.worker_id == worker.id)),
            ),
        )
    )
    paid = [export_year(e) for e in exports_naming(session, worker.payroll_number)]
    years = [y for y in (invoiced, *paid) if y is not None]
    return max(years) if years else None


def _unsettled(session: Session, worker: Worker) -> bool:
    """Whether an approved shift still waits for an invoice or a payroll file (which will
    name the worker)."""
    waiting = session.scalar(
        select(TimeEntry.id)
        .where(
            TimeEntry.worker_id == worker.id,
            APPROVED,
            or_(TimeEntry.invoice_line_id.is_(None), TimeEntry.payroll_export_id.is_(None)),
        )
        .limit(1)
    )
    return waiting is not None


def may_anonymise(session: Session, worker: Worker, today: date) -> bool:
    """Whether no voucher within retention (and none still to come) names the worker."""
    if _unsettled(session, worker):
        return False
    year = last_bookkeeping_year(session, worker)
    return year is None or year <= retention_cutoff_year(today)


def _anonymise(session: Session, worker: Worker) -> None:
    worker.first_name, worker.last_name = "Slettet", f"medarbejder {worker.payroll_number}"
    worker.anonymised_at = dates.now()
    if worker.user is not None:
        worker.user.full_name = anonymous_name(worker.payroll_number)


def _check_erasable(session: Session, worker: Worker, reason: str) -> None:
    if worker.erased_at is not None:
        raise Conflict(_("The worker's personal data has already been erased."))
    if not reason:
        raise Invalid(_("Give the reason for the erasure."))
    active = session.scalar(
        select(func.count())
        .select_from(Placement)
        .where(Placement.worker_id == worker.id, Placement.status == PlacementStatus.ACTIVE)
    )
    if active:
        raise Conflict(_("End the worker's active placements first (with their last day)."))


def erase(
    session: Session, worker: Worker, by: User | None, reason: str, today: date | None = None
) -> None:
    """Erase the worker's personal data that no law requires and restrict the rest to
    bookkeeping; the caller commits. Shifts and placements stay: invoices and payroll files
    rest on them."""
    reason = (reason or "").strip()
    _check_erasable(session, worker, reason)
    today = today or dates.today()
    now = dates.now()
    placements = list(session.scalars(select(Placement).where(Placement.worker_id == worker.id)))
    for placement in placements:
        if placement.status == PlacementStatus.PROPOSED:
            # Withdrawn for the worker: no one can answer it any more.
            placement.status = PlacementStatus.DECLINED
            placement.declined_at, placement.declined_by_id = now, by.id if by else None
            audit.record(session, by, "placement.withdrawn", placement, reason="erasure")
            session.flush()
            orders.refresh_status(session, placement.job_order, by)
        placement.declined_reason, placement.end_note = "", ""
    placement_ids = [p.id for p in placements]
    if placement_ids:
        session.execute(delete(PlacementNote).where(PlacementNote.placement_id.in_(placement_ids)))
    for entry in session.scalars(select(TimeEntry).where(TimeEntry.worker_id == worker.id)):
        entry.note, entry.dispute_reason = "", ""
        for change in entry.changes:
            change.note = ""
            change.before = {k: v for k, v in change.before.items() if k != "note"}
            change.after = {k: v for k, v in change.after.items() if k != "note"}

    worker.email, worker.phone, worker.postcode = "", "", ""
    worker.hours_min = worker.hours_max = worker.available_days = 0
    worker.work_areas = []
    worker.status = WorkerStatus.LEFT
    worker.erased_at, worker.erasure_reason = now, reason

    user = worker.user
    if user is not None:
        # No log-in is possible: no password, no link, no calendar address, no second factor,
        # and every running session ends (the session version changes).
        user.active = False
        user.session_version += 1
        user.password_hash = None
        user.email = f"slettet-{user.id}@{ERASED_EMAIL_DOMAIN}"
        user.full_name, user.phone = "", ""
        user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
        for table in (UserToken, CalendarFeed, RecoveryCode, HoursReminder, Submission):
            session.execute(delete(table).where(table.user_id == user.id))
    # The name stays as long as a voucher within retention (or one still to come) names the
    # worker; with none, nothing requires it.
    session.flush()
    if may_anonymise(session, worker, today):
        _anonymise(session, worker)
    audit.record(
        session,
        by,
        "worker.erased",
        worker,
        reason=reason,
        anonymised=worker.anonymised_at is not None,
    )


# --- The purge ---------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    """What a purge did (or, in a dry run, would do)."""

    today: date
    dry_run: bool
    inactive_since: date
    cutoff_year: int
    erased: list[int] = field(default_factory=list)  # worker ids, for inactivity
    anonymised: list[int] = field(default_factory=list)  # worker ids, past retention
    payroll_exports: list[int] = field(default_factory=list)  # names anonymised
    invoices_past_retention: int = 0  # kept: issued invoices never change (see README)

    def counts(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "today": self.today.isoformat(),
            "inactive_since": self.inactive_since.isoformat(),
            "retention_cutoff_year": self.cutoff_year,
            "erased_workers": len(self.erased),
            "anonymised_workers": len(self.anonymised),
            "anonymised_payroll_exports": len(self.payroll_exports),
            "invoices_past_retention": self.invoices_past_retention,
        }

    def lines(self) -> list[str]:
        would = "would be " if self.dry_run else ""
        return [
            f"Personal data purge on {self.today.isoformat()}"
            + (" (dry run: nothing changed)" if self.dry_run else ""),
            f"Workers inactive since {self.inactive_since.isoformat()} {would}erased: "
            f"{len(self.erased)} {_ids(self.erased)}",
            f"Workers {would}anonymised (bookkeeping up to {self.cutoff_year} is past "
            f"retention): {len(self.anonymised)} {_ids(self.anonymised)}",
            f"Payroll files whose names {would}anonymised: {len(self.payroll_exports)} "
            f"{_ids(self.payroll_exports)}",
            f"Issued invoices up to {self.cutoff_year} (past retention, kept unchanged: see "
            f"README 'Personal data'): {self.invoices_past_retention}",
        ]


def _ids(ids: list[int]) -> str:
    return f"(ids {', '.join(map(str, ids))})" if ids else ""


def inactive_workers(session: Session, since: date) -> list[Worker]:
    """Workers not erased, with no open placement, and nothing since `since`: no shift, no
    placement start or end, no log-in, not created."""
    open_ids = set(
        session.scalars(
            select(Placement.worker_id).where(
                Placement.status.in_((PlacementStatus.PROPOSED, PlacementStatus.ACTIVE))
            )
        )
    )
    latest: dict[int, date] = {}

    def seen(worker_id: int, day: date | None) -> None:
        if day is not None and day > latest.get(worker_id, date.min):
            latest[worker_id] = day

    for worker_id, day in session.execute(
        select(TimeEntry.worker_id, func.max(TimeEntry.work_date)).group_by(TimeEntry.worker_id)
    ):
        seen(worker_id, day)
    for worker_id, start, end, created in session.execute(
        select(
            Placement.worker_id,
            func.max(Placement.start_date),
            func.max(Placement.end_date),
            func.max(Placement.created_at),
        ).group_by(Placement.worker_id)
    ):
        seen(worker_id, start)
        seen(worker_id, end)
        seen(worker_id, _day(created))
    workers = session.scalars(
        select(Worker)
        .where(Worker.erased_at.is_(None))
        .options(selectinload(Worker.user))
        .order_by(Worker.id)
    ).all()
    found = []
    for worker in workers:
        if worker.id in open_ids:
            continue
        seen(worker.id, _day(worker.created_at))
        if worker.user is not None:
            seen(worker.id, _day(worker.user.last_login_at))
        if latest[worker.id] < since:
            found.append(worker)
    return found


def purge(
    session: Session, today: date, *, dry_run: bool = False, inactive_months: int = INACTIVE_MONTHS
) -> PurgeReport:
    """Erase inactive workers, anonymise what is past bookkeeping retention, and record it in
    the audit log (a dry run changes nothing and records nothing); the caller commits."""
    report = PurgeReport(
        today=today,
        dry_run=dry_run,
        inactive_since=months_before(today, inactive_months),
        cutoff_year=retention_cutoff_year(today),
    )
    inactive = inactive_workers(session, report.inactive_since)
    report.erased = [w.id for w in inactive]
    reason = f"inactive since {report.inactive_since.isoformat()} (automatic purge)"
    if not dry_run:
        for worker in inactive:
            erase(session, worker, None, reason, today)
            if worker.anonymised_at is not None:  # nothing within retention names them
                report.anonymised.append(worker.id)
    # Erased workers whose name is still kept for bookkeeping; in a dry run also those the
    # run would erase.
    restricted = session.scalars(
        select(Worker)
        .where(
            Worker.anonymised_at.is_(None),
            or_(Worker.erased_at.is_not(None), Worker.id.in_(report.erased)),
        )
        .order_by(Worker.id)
    ).all()
    for worker in restricted:
        if may_anonymise(session, worker, today):
            report.anonymised.append(worker.id)
            if not dry_run:
                _anonymise(session, worker)
                audit.record(session, None, "worker.anonymised", worker)
    for export_row in session.scalars(select(PayrollExport).order_by(PayrollExport.id)).all():
        if export_year(export_row) > report.cutoff_year:
            continue
        content = anonymised_content(export_row)
        if content is not None:
            report.payroll_exports.append(export_row.id)
            if not dry_run:
                export_row.content = content
                audit.record(session, None, "payroll.anonymised", export_row)
    report.invoices_past_retention = session.scalar(
        select(func.count())
        .select_from(Invoice)
        .where(Invoice.number.is_not(None), Invoice.year <= report.cutoff_year)
    )
    if not dry_run:
        audit.record(session, None, "privacy.purged", None, **report.counts())
    return report
