"""What the billing pages show: runs, the invoice list with its filters and totals, an
invoice's credit notes and lines, an employer's invoices. Reads only; each takes the session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core.models import (
    BankImport,
    BankLine,
    BankLineStatus,
    EinvoiceState,
    Employer,
    Invoice,
    InvoiceFlags,
    InvoiceKind,
    InvoiceLine,
    InvoiceRun,
    InvoiceStatus,
    Payment,
    Reminder,
)
from core.pages import PAGE_SIZE, Page, page_number, paginate
from invoices import reminders
from invoices.bank_import import INVOICE_NUMBER

MAX_ID = 2**31 - 1  # the largest value of an integer column


def recent_runs(session: Session, limit: int = 10) -> list[InvoiceRun]:
    return list(session.scalars(select(InvoiceRun).order_by(InvoiceRun.id.desc()).limit(limit)))


def run_history(session: Session, limit: int = 100) -> list:
    """(run, number of invoices, their total) for the latest runs."""
    return list(
        session.execute(
            select(
                InvoiceRun, func.count(Invoice.id), func.coalesce(func.sum(Invoice.total_ore), 0)
            )
            .outerjoin(Invoice, Invoice.run_id == InvoiceRun.id)
            .group_by(InvoiceRun.id)
            .order_by(InvoiceRun.id.desc())
            .limit(limit)
        )
    )


def run_invoices(session: Session, run_id: int, number: int = 1) -> Page:
    """A page of the invoices a run has issued so far (a run may invoice thousands)."""
    stmt = select(Invoice).where(Invoice.run_id == run_id).order_by(Invoice.number, Invoice.id)
    return paginate(session, stmt, number)


def issued(
    session: Session,
    invoice_id: int,
    *,
    employer_id: int | None = None,
    kind: InvoiceKind | None = None,
) -> Invoice | None:
    """An issued invoice or credit note (of this employer, of this kind, when given)."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.number is None:
        return None
    if employer_id is not None and invoice.employer_id != employer_id:
        return None
    if kind is not None and invoice.kind != kind:
        return None
    return invoice


@dataclass
class InvoiceList:
    """One page of the finance invoice list and the totals of everything the filters match."""

    invoices: list[Invoice]
    count: int
    subtotal_ore: int
    vat_ore: int
    total_ore: int
    paid_ore: int
    page: int

    @property
    def pages(self) -> int:
        return max((self.count + PAGE_SIZE - 1) // PAGE_SIZE, 1)


def _filters(args: Mapping[str, str], today: date) -> list:
    """The list's filters from the query string (values that make no sense are ignored)."""
    conditions = [Invoice.number.is_not(None)]
    status = args.get("status", "")
    if status in {s.value for s in InvoiceStatus}:
        conditions.append(Invoice.status == InvoiceStatus(status))
    kind = args.get("kind", "")
    if kind in {k.value for k in InvoiceKind}:
        conditions.append(Invoice.kind == InvoiceKind(kind))
    employer = args.get("employer", "")
    if employer.isdigit() and 0 < int(employer) <= MAX_ID:
        conditions.append(Invoice.employer_id == int(employer))
    for name, op in (("from", "__ge__"), ("to", "__le__")):
        try:
            value = date.fromisoformat(args.get(name, ""))
        except ValueError:
            continue
        conditions.append(getattr(Invoice.issue_date, op)(value))
    if args.get("overdue"):
        conditions += [
            Invoice.due_date < today,
            Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTLY_PAID]),
        ]
    return conditions


def invoice_list(session: Session, args: Mapping[str, str], today: date) -> InvoiceList:
    """The page the query string asks for, newest first, with the totals of all it matches."""
    conditions = _filters(args, today)
    count, subtotal, vat, total, paid = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Invoice.subtotal_ore), 0),
            func.coalesce(func.sum(Invoice.vat_ore), 0),
            func.coalesce(func.sum(Invoice.total_ore), 0),
            func.coalesce(func.sum(Invoice.paid_ore), 0),
        ).where(*conditions)
    ).one()
    page = page_number(args.get("page"))
    invoices = session.scalars(
        select(Invoice)
        .where(*conditions)
        .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return InvoiceList(list(invoices), count, subtotal, vat, total, paid, page)


def employer_names(session: Session) -> list:
    """(id, name) of every employer, for the list's filter."""
    return list(session.execute(select(Employer.id, Employer.name).order_by(Employer.name)))


def credit_notes_of(session: Session, invoice: Invoice) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(Invoice.credited_invoice_id == invoice.id).order_by(Invoice.id)
        )
    )


def employer_invoices(session: Session, employer_id: int, limit: int = 200) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice)
            .where(Invoice.employer_id == employer_id, Invoice.number.is_not(None))
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(limit)
        )
    )


def lines_with_shifts(session: Session, invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines with the shifts each billed (the employer sees the hours behind)."""
    return list(
        session.scalars(
            select(InvoiceLine)
            .where(InvoiceLine.invoice_id == invoice.id)
            .options(selectinload(InvoiceLine.entries))
            .order_by(InvoiceLine.position)
        )
    )


# --- payments, bank imports, reminders ---------------------------------------------------------


def einvoices_not_accepted(session: Session, number: int = 1) -> Page:
    """E-invoices on their way or stuck (queued, sent, rejected, failed), newest first."""
    stmt = (
        select(Invoice)
        .where(
            Invoice.einvoice_state.is_not(None), Invoice.einvoice_state != EinvoiceState.ACCEPTED
        )
        .order_by(Invoice.issued_at.desc(), Invoice.id.desc())
    )
    return paginate(session, stmt, number)


def invoice_by_number(
    session: Session, text: str, kinds: tuple[InvoiceKind, ...] = (InvoiceKind.INVOICE,)
) -> Invoice | None:
    """An issued invoice (or, when asked, a credit note) by its number as printed
    ('F-2026-0001'), or an invoice by its FI payment id."""
    text = (text or "").strip()
    match = INVOICE_NUMBER.fullmatch(text)
    if match:
        series, year, number = match.groups()
        if int(number) > MAX_ID:
            return None
        return session.scalar(
            select(Invoice).where(
                Invoice.series == series.upper(),
                Invoice.year == int(year),
                Invoice.number == int(number),
                Invoice.kind.in_(kinds),
            )
        )
    if text.isdigit() and len(text) == 15:
        return session.scalar(
            select(Invoice).where(Invoice.payment_id == text, Invoice.kind == InvoiceKind.INVOICE)
        )
    return None


@dataclass
class PaymentsOverview:
    recent: list[Payment]  # the latest payments, newest first
    unassigned: list[Payment]  # card payments we could not place on an invoice
    prompts: list[InvoiceFlags]  # refunds that ask for a credit note


def payments_overview(session: Session, limit: int = 100) -> PaymentsOverview:
    recent = session.scalars(
        select(Payment)
        .options(selectinload(Payment.invoice))
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .limit(limit)
    ).all()
    unassigned = session.scalars(
        select(Payment).where(Payment.invoice_id.is_(None)).order_by(Payment.received_at)
    ).all()
    prompts = session.scalars(
        select(InvoiceFlags)
        .where(InvoiceFlags.credit_note_prompt_at.is_not(None))
        .options(selectinload(InvoiceFlags.invoice))
    ).all()
    return PaymentsOverview(list(recent), list(unassigned), list(prompts))


def recent_bank_imports(session: Session, limit: int = 20) -> list[BankImport]:
    return list(session.scalars(select(BankImport).order_by(BankImport.id.desc()).limit(limit)))


@dataclass
class BankStatement:
    """An imported statement's lines by result, and a page each of the unmatched and of all
    (a statement may hold 20,000 lines)."""

    counts: dict[BankLineStatus, int]
    unmatched: Page  # of BankLine
    lines: Page  # of BankLine


def bank_statement(session: Session, batch: BankImport, args: Mapping[str, str]) -> BankStatement:
    counts = dict.fromkeys(BankLineStatus, 0)
    counts.update(
        session.execute(
            select(BankLine.status, func.count())
            .where(BankLine.import_id == batch.id)
            .group_by(BankLine.status)
        ).all()
    )
    lines = (
        select(BankLine)
        .where(BankLine.import_id == batch.id)
        .options(selectinload(BankLine.invoice), selectinload(BankLine.suggested_invoice))
        .order_by(BankLine.line_number)
    )
    unmatched = lines.where(BankLine.status == BankLineStatus.UNMATCHED)
    return BankStatement(
        counts,
        paginate(session, unmatched, page_number(args.get("unmatched_page"))),
        paginate(session, lines, page_number(args.get("page"))),
    )


@dataclass
class ReminderOverview:
    """Overdue invoices sorted for finance, a page of each: a reminder due today, one that
    must wait for its ten days, or none because the claim is disputed; and the reminders
    sent lately."""

    due: Page  # of ReminderPlan
    waiting: Page  # of ReminderPlan
    disputed: Page  # of Invoice
    sent: list[Reminder]


def reminder_overview(
    session: Session, today: date, args: Mapping[str, str] | None = None, limit: int = 50
) -> ReminderOverview:
    """The page of each list the query string asks for (due_page, waiting_page,
    disputed_page); a fixed number of queries however many invoices are overdue."""
    args = args or {}

    def stage(name: reminders.Stage) -> Page:
        return paginate(
            session,
            reminders.overdue(today, name),
            page_number(args.get(f"{name.value}_page")),
        )

    due, waiting = stage(reminders.Stage.DUE), stage(reminders.Stage.WAITING)
    due.items = reminders.plans(session, due.items, today)
    waiting.items = reminders.plans(session, waiting.items, today)
    sent = session.scalars(
        select(Reminder)
        .options(selectinload(Reminder.invoice))
        .order_by(Reminder.created_at.desc(), Reminder.id.desc())
        .limit(limit)
    )
    return ReminderOverview(due, waiting, stage(reminders.Stage.DISPUTED), list(sent))
