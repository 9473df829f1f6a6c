"""The invoice run: approved, uninvoiced hours up to a period end become one invoice per
employer, with lines per placement and ISO week, a gapless number and archived PDFs."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from core import audit, dates, outbox
from core import money as amounts
from core import settings as settings_service
from core.db import database, retrying, writing
from core.errors import Invalid, NotFound
from core.i18n import gettext as _
from core.jobs import job
from core.models import (
    BillingCadence,
    EinvoiceState,
    Employer,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    JobOrder,
    Placement,
    RunStatus,
    TimeEntry,
    User,
    invoice_line_entries,
)
from core.pages import PAGE_SIZE, Page
from core.shifts import APPROVED
from core.snapshots import BuyerSnapshot, SellerSnapshot
from invoices import einvoice, issuer

log = logging.getLogger(__name__)


@dataclass
class DraftLine:
    placement: Placement
    iso_year: int
    iso_week: int
    entries: list[TimeEntry]
    description: str = ""
    minutes: int = 0
    rate_ore: int = 0
    amount_ore: int = 0

    @property
    def period_start(self) -> date:
        return min(e.work_date for e in self.entries)

    @property
    def period_end(self) -> date:
        return max(e.work_date for e in self.entries)


@dataclass
class Draft:
    employer: Employer
    lines: list[DraftLine]
    vat_rate_bp: int
    subtotal_ore: int = 0
    vat_ore: int = 0
    total_ore: int = 0

    @property
    def period_start(self) -> date:
        return min(line.period_start for line in self.lines)

    @property
    def period_end(self) -> date:
        return max(line.period_end for line in self.lines)

    @property
    def minutes(self) -> int:
        return sum(line.minutes for line in self.lines)


@dataclass
class Preview:
    period_end: date
    drafts: list[Draft] = field(default_factory=list)
    left_out: list[TimeEntry] = field(default_factory=list)

    @property
    def total_ore(self) -> int:
        return sum(d.total_ore for d in self.drafts)


@dataclass
class EmployerSummary:
    """What a run would bill one employer, and how many of its shifts it would leave out."""

    employer_id: int
    name: str
    shifts: int = 0
    minutes: int = 0
    lines: int = 0
    period_start: date | None = None
    period_end: date | None = None
    subtotal_ore: int = 0
    vat_ore: int = 0
    total_ore: int = 0
    left_out: int = 0
    problems: list[str] = field(default_factory=list)  # why a run would leave it out


@dataclass
class Summary:
    """The run preview: a page of employers, and the counts of them all."""

    period_end: date
    employers: Page  # of EmployerSummary, billable or with shifts left out, by name
    billable: int = 0  # employers a run would invoice
    shifts: int = 0
    minutes: int = 0
    left_out: int = 0


def summarise(
    session: Session, period_end: date, cadence: BillingCadence | None = None, number: int = 1
) -> Summary:
    """What a run up to `period_end` would bill, per employer, whatever the number of
    shifts: the counts of every employer in one grouped query, and the amounts (the same
    lines per placement and ISO week, and the same rounding, as build_draft) for the page's
    employers only."""
    approved = case((APPROVED, 1), else_=0)
    grouped = session.execute(
        _scope(
            select(
                Placement.employer_id,
                Employer.name,
                func.sum(approved),
                func.sum(case((APPROVED, TimeEntry.minutes), else_=0)),
                func.count(),
                func.min(case((APPROVED, TimeEntry.work_date))),
                func.max(case((APPROVED, TimeEntry.work_date))),
            )
            .select_from(TimeEntry)
            .join(Placement, TimeEntry.placement_id == Placement.id)
            .join(Employer, Placement.employer_id == Employer.id),
            period_end,
            cadence,
            None,
        )
        .group_by(Placement.employer_id, Employer.name)
        .order_by(Employer.name, Placement.employer_id)
    ).all()
    everyone = [
        EmployerSummary(
            employer_id=employer_id,
            name=name,
            shifts=shifts,
            minutes=minutes,
            left_out=count - shifts,
            period_start=first,
            period_end=last,
        )
        for employer_id, name, shifts, minutes, count, first, last in grouped
    ]
    page = Page(everyone[(number - 1) * PAGE_SIZE : number * PAGE_SIZE], len(everyone), number)
    _amounts(session, [row for row in page.items if row.shifts], period_end)
    return Summary(
        period_end,
        page,
        billable=sum(1 for row in everyone if row.shifts),
        shifts=sum(row.shifts for row in everyone),
        minutes=sum(row.minutes for row in everyone),
        left_out=sum(row.left_out for row in everyone),
    )


def _amounts(session: Session, rows: list[EmployerSummary], period_end: date) -> None:
    """Fill in the lines and totals of these employers' drafts from plain rows."""
    if not rows:
        return
    vat_rate_bp = settings_service.get(session).vat_rate_bp
    lines: dict[int, dict[tuple[int, int, int], list[int]]] = defaultdict(dict)
    order_ids: dict[int, set[int]] = defaultdict(set)
    for employer_id, placement_id, order_id, rate_ore, work_date, minutes in session.execute(
        _scope(
            select(
                Placement.employer_id,
                TimeEntry.placement_id,
                Placement.job_order_id,
                Placement.bill_rate_ore,
                TimeEntry.work_date,
                TimeEntry.minutes,
            )
            .select_from(TimeEntry)
            .join(Placement, TimeEntry.placement_id == Placement.id)
            .join(Employer, Placement.employer_id == Employer.id)
            .where(APPROVED),
            period_end,
            None,
            [row.employer_id for row in rows],
        )
    ):
        line = lines[employer_id].setdefault(line_key(placement_id, work_date), [0, rate_ore])
        line[0] += minutes
        order_ids[employer_id].add(order_id)
    _check_buyers(session, rows, order_ids)
    for row in rows:
        grouped = lines[row.employer_id]
        row.lines = len(grouped)
        line_amounts = [amounts.line_amount_ore(m, rate) for m, rate in grouped.values()]
        row.subtotal_ore, row.vat_ore, row.total_ore = amounts.totals(line_amounts, vat_rate_bp)


def _check_buyers(
    session: Session, rows: list[EmployerSummary], order_ids: dict[int, set[int]]
) -> None:
    """What would stop each employer's invoice (einvoice.problems), as the run will check it:
    the employer's numbers and the references of the orders whose hours it bills."""
    wanted = set().union(*order_ids.values())
    orders = {o.id: o for o in session.scalars(select(JobOrder).where(JobOrder.id.in_(wanted)))}
    by_id = {row.employer_id: row for row in rows}
    for employer in session.scalars(select(Employer).where(Employer.id.in_(by_id))):
        billed = [orders[i] for i in order_ids[employer.id]]
        by_id[employer.id].problems = einvoice.problems(BuyerSnapshot.of(employer, billed))


def cadence_end(cadence: BillingCadence, until: date) -> date:
    """The last day of the employer's last billing period that ends on or before `until`:
    weekly, a Sunday; every second week, the Sunday of an even ISO week; monthly, the
    month's last day: what the run page suggests billing up to for a cadence, so a run never
    cuts into a period still going."""
    if cadence == BillingCadence.MONTHLY:
        return (
            until
            if (until + timedelta(days=1)).day == 1
            else until.replace(day=1) - timedelta(days=1)
        )
    sunday = until - timedelta(days=until.isoweekday() % 7)
    if cadence == BillingCadence.FORTNIGHTLY and sunday.isocalendar().week % 2:
        sunday -= timedelta(weeks=1)
    return sunday


def _scope(stmt, period_end: date, cadence: BillingCadence | None, employer_ids):
    stmt = stmt.where(TimeEntry.invoice_line_id.is_(None), TimeEntry.work_date <= period_end)
    if cadence is not None:
        stmt = stmt.where(Employer.billing_cadence == cadence)
    if employer_ids:
        stmt = stmt.where(Placement.employer_id.in_(employer_ids))
    return stmt


def _entries_query(period_end, cadence=None, employer_ids=None, approved=True):
    stmt = (
        select(TimeEntry)
        .join(Placement, TimeEntry.placement_id == Placement.id)
        .join(Employer, Placement.employer_id == Employer.id)
        .options(
            joinedload(TimeEntry.placement).joinedload(Placement.worker),
            joinedload(TimeEntry.placement)
            .joinedload(Placement.job_order)
            .joinedload(JobOrder.work_area),
        )
        .order_by(Placement.employer_id, Placement.id, TimeEntry.work_date, TimeEntry.start_time)
    )
    stmt = stmt.where(APPROVED if approved else ~APPROVED)
    return _scope(stmt, period_end, cadence, employer_ids)


def describe(placement: Placement, iso_year: int, iso_week: int, period_end: date) -> str:
    """'Lager – Jørgen H. – uge 46' (the year is added when it is not the period's)."""
    week = f"uge {iso_week}" if iso_year == period_end.year else f"uge {iso_week} {iso_year}"
    return f"{placement.job_order.work_area.name} – {placement.worker.display_name} – {week}"


def line_key(placement_id: int, work_date: date) -> tuple[int, int, int]:
    """The invoice line a shift belongs to: its placement and ISO week."""
    iso = work_date.isocalendar()
    return placement_id, iso.year, iso.week


def build_draft(employer: Employer, entries: Iterable[TimeEntry], vat_rate_bp: int, period_end):
    """Group an employer's entries into lines per placement and ISO week, with amounts."""
    groups: dict[tuple[int, int, int], list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        groups[line_key(entry.placement_id, entry.work_date)].append(entry)
    lines = []
    for (_placement_id, iso_year, iso_week), group in sorted(groups.items()):
        placement = group[0].placement
        minutes = sum(e.minutes for e in group)
        lines.append(
            DraftLine(
                placement=placement,
                iso_year=iso_year,
                iso_week=iso_week,
                entries=group,
                description=describe(placement, iso_year, iso_week, period_end),
                minutes=minutes,
                rate_ore=placement.bill_rate_ore,
                amount_ore=amounts.line_amount_ore(minutes, placement.bill_rate_ore),
            )
        )
    subtotal, vat, total = amounts.totals([line.amount_ore for line in lines], vat_rate_bp)
    return Draft(employer, lines, vat_rate_bp, subtotal, vat, total)


def preview(
    session: Session,
    period_end: date,
    cadence: BillingCadence | None = None,
    employer_ids: list[int] | None = None,
) -> Preview:
    """What a run would bill, and the entries left out because they are not approved."""
    vat_rate_bp = settings_service.get(session).vat_rate_bp
    entries = session.scalars(_entries_query(period_end, cadence, employer_ids)).unique().all()
    by_employer: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        by_employer[entry.placement.employer_id].append(entry)
    employers = {
        e.id: e for e in session.scalars(select(Employer).where(Employer.id.in_(by_employer)))
    }
    result = Preview(period_end)
    for employer_id in sorted(by_employer, key=lambda i: employers[i].name):
        result.drafts.append(
            build_draft(employers[employer_id], by_employer[employer_id], vat_rate_bp, period_end)
        )
    result.left_out = list(
        session.scalars(_entries_query(period_end, cadence, employer_ids, approved=False)).unique()
    )
    return result


@dataclass
class EmployerDraft:
    draft: Draft | None  # None without approved, unbilled hours
    left_out: list[TimeEntry]


def employer_draft(
    session: Session, employer: Employer, period_end: date, cadence: BillingCadence | None
) -> EmployerDraft:
    """One employer's draft up to `period_end` and its shifts a run would leave out."""
    found = preview(session, period_end, cadence, employer_ids=[employer.id])
    return EmployerDraft(found.drafts[0] if found.drafts else None, found.left_out)


def start_run(
    session: Session,
    by: User | None,
    period_end: date,
    cadence: BillingCadence | None = None,
    employer_ids: list[int] | None = None,
) -> InvoiceRun:
    """Record a run for the chosen employers (all with billable hours when none are chosen)."""
    if period_end > dates.today():
        # Hours are billed once they are worked: a shift dated tomorrow waits for its day.
        raise Invalid(_("The period end cannot be later than today."))
    billable = billable_employer_ids(session, period_end, cadence, employer_ids)
    if not billable:
        raise Invalid(_("There are no approved, uninvoiced hours to bill up to that date."))
    run = InvoiceRun(
        period_end=period_end,
        created_by_id=by.id if by is not None else None,
        cadence=cadence,
        employer_ids=sorted(employer_ids) if employer_ids else None,
        total=len(billable),
        status=RunStatus.QUEUED,
        errors=[],
    )
    session.add(run)
    session.flush()
    audit.record(session, by, "invoice_run.started", run, period_end=period_end, total=run.total)
    return run


def billable_employer_ids(session, period_end, cadence=None, employer_ids=None) -> list[int]:
    stmt = (
        select(Placement.employer_id)
        .join(TimeEntry, TimeEntry.placement_id == Placement.id)
        .join(Employer, Placement.employer_id == Employer.id)
        .where(APPROVED)
        .distinct()
    )
    return sorted(session.scalars(_scope(stmt, period_end, cadence, employer_ids)))


def issue_for_employer(session: Session, run: InvoiceRun, employer_id: int) -> Invoice | None:
    """Number and freeze one employer's invoice in the caller's transaction, or None if
    nothing is left. Its documents are rendered after the commit (issuer.render_missing).

    Concurrent runs over the same employer serialize on the employer row; the second finds
    every entry already billed and issues nothing."""
    employer = session.scalar(select(Employer).where(Employer.id == employer_id).with_for_update())
    if employer is None:
        raise NotFound()
    entries = (
        session.scalars(
            _entries_query(run.period_end, None, [employer_id]).with_for_update(of=TimeEntry)
        )
        .unique()
        .all()
    )
    if not entries:
        return None
    buyer = BuyerSnapshot.of(employer, (e.placement.job_order for e in entries))
    wrong = einvoice.problems(buyer)
    if wrong:  # left out with the reason, rather than a document that will bounce
        raise Invalid(
            _(
                "%(name)s is not invoiced: %(reasons)s.",
                name=employer.name,
                reasons="; ".join(wrong),
            )
        )
    org = settings_service.get(session)
    draft = build_draft(employer, entries, org.vat_rate_bp, run.period_end)
    invoice = Invoice(
        kind=InvoiceKind.INVOICE,
        series=org.invoice_series,
        employer=employer,
        run_id=run.id,
        period_start=draft.period_start,
        period_end=draft.period_end,
        subtotal_ore=draft.subtotal_ore,
        vat_rate_bp=draft.vat_rate_bp,
        vat_ore=draft.vat_ore,
        total_ore=draft.total_ore,
        buyer=buyer.to_json(),
        # A public body's e-invoice is on its way from the moment of issue (finance sees it
        # queued until the access point has it).
        einvoice_state=EinvoiceState.QUEUED if buyer.ean else None,
        seller=SellerSnapshot.of(org).to_json(),
        status=InvoiceStatus.DRAFT,
    )
    session.add(invoice)
    for position, line in enumerate(draft.lines, start=1):
        row = InvoiceLine(
            invoice=invoice,
            placement_id=line.placement.id,
            position=position,
            description=line.description,
            period_start=line.period_start,
            period_end=line.period_end,
            minutes=line.minutes,
            quantity_hundredths=amounts.hours_hundredths(line.minutes),
            unit_code="HUR",
            rate_ore=line.rate_ore,
            amount_ore=line.amount_ore,
        )
        session.add(row)
        session.flush()
        session.execute(
            invoice_line_entries.insert(),
            [{"invoice_line_id": row.id, "time_entry_id": e.id} for e in line.entries],
        )
        session.execute(
            update(TimeEntry)
            .where(TimeEntry.id.in_([e.id for e in line.entries]))
            .values(invoice_line_id=row.id)
            .execution_options(synchronize_session=False)
        )
    by = None if run.created_by_id is None else session.get(User, run.created_by_id)
    # Number last, just before the commit: the counter row stays locked from here until then,
    # for milliseconds (nothing is rendered in this transaction, only the audit row written).
    today = dates.today()  # the Danish date: it also picks the number series' year
    terms = employer.payment_terms_days or org.payment_terms_days
    issuer.take_number(session, invoice, today, due_date=today + timedelta(days=terms))
    audit.record(
        session,
        by,
        "invoice.issued",
        invoice,
        number=invoice.display_number,
        total_ore=invoice.total_ore,
        run_id=run.id,
    )
    return invoice


def process_run(
    factory: sessionmaker, run_id: int, employer_ids: list[int] | None = None
) -> list[int]:
    """Issue the run's invoices, one employer per transaction; returns the invoice ids.

    A crash leaves whole invoices or none; running it again continues where it stopped,
    because billed entries are no longer billable."""
    with writing(factory) as session:
        run = session.get(InvoiceRun, run_id)
        if run is None:
            raise NotFound()
        if run.status == RunStatus.QUEUED:
            run.status, run.started_at = RunStatus.RUNNING, dates.now()
        run.heartbeat_at = dates.now()
        todo = employer_ids or billable_employer_ids(
            session, run.period_end, run.cadence, run.employer_ids
        )
    # Whatever starts a run first completes what a killed one left: invoices numbered but
    # never rendered, of this run or any other (their messages wait in the outbox already).
    own = set(issuer.unrendered(factory, run_id))
    rendered = [i for i in issuer.unrendered(factory) if _render(factory, run_id, i)]
    issued = [i for i in rendered if i in own]
    for employer_id in todo:
        try:
            invoice_id = retrying(partial(_issue_one, factory, run_id, employer_id))
        except Exception as error:  # one employer's failure must not stop the others
            log.exception("invoice run %s: employer %s failed", run_id, employer_id)
            with writing(factory) as session:
                _step(session, run_id, error=f"{employer_id}: {error}")
            continue
        if invoice_id is None:
            continue
        issued.append(invoice_id)
        _render(factory, run_id, invoice_id)  # phase two, outside any lock
    with writing(factory) as session:
        _finish_if_done(session, run_id)
    return issued


def _issue_one(factory: sessionmaker, run_id: int, employer_id: int) -> int | None:
    """One employer's invoice in one transaction (tried again if the database aborts it)."""
    with writing(factory) as session:
        run = session.get(InvoiceRun, run_id)
        invoice = issue_for_employer(session, run, employer_id)
        _step(session, run_id)
        return invoice.id if invoice is not None else None


def _render(factory: sessionmaker, run_id: int, invoice_id: int) -> bool:
    """Render an issued invoice's documents from the committed invoice, then wake the outbox
    (its messages can go now). A failure leaves it numbered and "being prepared" for the
    sender, `invoices render-missing` or the next worker start."""
    try:
        stored = issuer.render_missing(factory, invoice_id)
    except Exception:
        log.exception("invoice run %s: documents of invoice %s failed", run_id, invoice_id)
        return False
    outbox.wake()
    return stored


def _step(session: Session, run_id: int, error: str | None = None) -> None:
    """Count one employer as done (atomically: several workers may share a run)."""
    session.execute(
        update(InvoiceRun)
        .where(InvoiceRun.id == run_id)
        # Never past the total: a job re-run after a crash walks the employers again.
        .values(
            done=case(
                (InvoiceRun.done < InvoiceRun.total, InvoiceRun.done + 1), else_=InvoiceRun.done
            ),
            heartbeat_at=dates.now(),
        )
        .execution_options(synchronize_session=False)
    )
    if error:
        run = session.get(InvoiceRun, run_id, with_for_update=True)
        run.errors = [*(run.errors or []), error]


def _finish_if_done(session: Session, run_id: int) -> None:
    run = session.get(InvoiceRun, run_id, with_for_update=True)
    session.refresh(run)
    if run.done >= run.total and run.status in (RunStatus.QUEUED, RunStatus.RUNNING):
        run.status = RunStatus.FAILED if run.errors else RunStatus.DONE
        run.finished_at = dates.now()


# A run's worker touches its heartbeat at every employer (well under a minute each); a run
# still queued or running with no heartbeat for this long was left by a worker that died.
STALLED_AFTER = timedelta(minutes=5)


def is_stalled(run: InvoiceRun, now: datetime | None = None) -> bool:
    """Whether the run is unfinished and nothing has worked on it for STALLED_AFTER."""
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return False
    last = run.heartbeat_at or run.created_at
    return last is not None and last < (now or dates.now()) - STALLED_AFTER


def stalled_runs(session: Session, now: datetime | None = None) -> list[InvoiceRun]:
    cutoff = (now or dates.now()) - STALLED_AFTER
    return list(
        session.scalars(
            select(InvoiceRun)
            .where(
                InvoiceRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
                func.coalesce(InvoiceRun.heartbeat_at, InvoiceRun.created_at) < cutoff,
            )
            .order_by(InvoiceRun.id)
        )
    )


def claim_resume(session: Session, run_id: int, by: User | None, now: datetime | None = None):
    """Take over a stalled run for a new worker; False when it is not stalled (any more).

    One conditional update decides: when two people (or cron and a person) resume the same run
    at once, exactly one of them gets it."""
    now = now or dates.now()
    claimed = session.execute(
        update(InvoiceRun)
        .where(
            InvoiceRun.id == run_id,
            InvoiceRun.status.in_((RunStatus.QUEUED, RunStatus.RUNNING)),
            func.coalesce(InvoiceRun.heartbeat_at, InvoiceRun.created_at) < now - STALLED_AFTER,
        )
        .values(heartbeat_at=now, resumed_count=InvoiceRun.resumed_count + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        audit.record(session, by, "invoice_run.resumed", session.get(InvoiceRun, run_id))
    return bool(claimed)


def runs_in_progress(session: Session) -> list[InvoiceRun]:
    return list(
        session.scalars(
            select(InvoiceRun).where(
                or_(InvoiceRun.status == RunStatus.QUEUED, InvoiceRun.status == RunStatus.RUNNING)
            )
        )
    )


@job
def run_job(run_id: int) -> None:
    """The background job: issue the run's invoices (their messages leave through the
    outbox, written with each number)."""
    process_run(database().sessionmaker, run_id)


@job
def resume_waiting_job() -> int:
    """A worker's first job after it (re)connects: runs still queued whose job never reached
    Redis (it was down when they were started), and runs a dead worker left stalled. Safe to
    run beside another worker on the same run: billed shifts are no longer billable."""
    factory = database().sessionmaker
    with writing(factory) as session:
        waiting = list(
            session.scalars(select(InvoiceRun.id).where(InvoiceRun.status == RunStatus.QUEUED))
        )
        stalled = [
            run.id
            for run in stalled_runs(session)
            if run.id not in waiting and claim_resume(session, run.id, None)
        ]
    for run_id in waiting + stalled:
        process_run(factory, run_id)
    return len(waiting) + len(stalled)
