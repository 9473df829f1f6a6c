"""Reconciling the journal with the records it comes from, per period, to the øre.

Each check puts a figure computed from the records themselves (issued documents, payment
rows, sent reminders, summed in the database) beside the same figure from the journal's
accounts, with the difference. The records side also says what makes up the customers'
balance that the invoices alone do not show: payments not on an invoice, refunds,
over-payments, and fees, interest and compensation not yet paid."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from core import dates
from core import settings as settings_service
from core.models import Invoice, InvoiceKind, Payment, PaymentMethod, Reminder, WriteOff
from invoices.journal import Accounts, Kind, Role, day_start, journal, totals_by_role

LISTED = 50  # items listed per kind; the totals always count them all


@dataclass(frozen=True)
class Item:
    """A document or payment the finance user should look at, with its amount."""

    number: str  # the voucher number (bilag) or the invoice number
    date: date | None
    customer: str
    amount_ore: int
    invoice_id: int | None = None
    invoice_number: str = ""  # the invoice it belongs to, if any


@dataclass
class Items:
    """Some of a kind of item (at most LISTED), and the count and total of all of them."""

    listed: list[Item] = field(default_factory=list)
    count: int = 0
    total_ore: int = 0

    def add(self, item: Item) -> None:
        self.count += 1
        self.total_ore += item.amount_ore
        if len(self.listed) < LISTED:
            self.listed.append(item)


@dataclass
class Check:
    records_ore: int
    journal_ore: int

    @property
    def difference_ore(self) -> int:
        return self.records_ore - self.journal_ore


@dataclass
class SalesCheck(Check):
    """Invoiced − credited (the documents) = sales + output VAT (the journal)."""

    invoiced_ore: int
    invoices: int
    credited_ore: int
    credit_notes: int
    sales_ore: int
    vat_ore: int  # the output VAT account, write-offs' VAT taken back included
    write_off_vat_ore: int = 0  # VAT taken back on write-offs: not a sale, added back


@dataclass
class WriteOffCheck(Check):
    """Write-offs (the records) = bad debts + the VAT taken back (the journal)."""

    write_offs: Items
    journal_bad_debts_ore: int
    journal_vat_ore: int


@dataclass
class PaymentsCheck(Check):
    """Payments (the payment rows, by method) = bank + card clearing (the journal)."""

    card_ore: int  # card payments less card refunds
    bank_ore: int  # bank transfers and payments registered by hand, less refunds
    journal_card_ore: int
    journal_bank_ore: int
    refunds: Items
    unassigned: Items


@dataclass
class ChargesCheck(Check):
    """Fees, interest and compensation claimed on reminders = fee and interest income."""

    fees_ore: int  # fees and compensation
    interest_ore: int
    journal_fees_ore: int
    journal_interest_ore: int
    reminders: int


@dataclass
class ReceivablesCheck(Check):
    """At the period's end: invoices − credit notes − payments + charges (the records) = the
    debtors account's balance (the journal), and what that balance is made of."""

    invoiced_ore: int
    credited_ore: int
    paid_ore: int
    charges_ore: int
    written_off_ore: int
    open_on_invoices_ore: int  # what the invoices alone still ask for
    charges_open: Items  # fees, interest and compensation not yet paid
    overpaid: Items  # more than an invoice and its charges came in (negative)
    unassigned: Items  # payments not on an invoice (negative: money received)
    credits_without_invoice: Items  # credit notes that name no invoice (negative)

    @property
    def made_up_ore(self) -> int:
        """The parts added up: equal to records_ore, whatever the data."""
        return self.open_on_invoices_ore + sum(
            items.total_ore
            for items in (
                self.charges_open,
                self.overpaid,
                self.unassigned,
                self.credits_without_invoice,
            )
        )


@dataclass
class Reconciliation:
    date_from: date
    date_to: date
    accounts: Accounts
    sales: SalesCheck
    payments: PaymentsCheck
    charges: ChargesCheck
    write_offs: WriteOffCheck
    receivables: ReceivablesCheck

    @property
    def checks(self) -> list[Check]:
        return [self.sales, self.payments, self.charges, self.write_offs, self.receivables]

    @property
    def reconciles(self) -> bool:
        return all(check.difference_ore == 0 for check in self.checks)


def reconcile(session: Session, date_from: date, date_to: date) -> Reconciliation:
    """The checks for the period; the receivables as they stood at its end."""
    accounts = Accounts.of(settings_service.get(session))
    vouchers = journal(session, None, date_to, accounts)  # the balance needs all history
    in_period = totals_by_role(v for v in vouchers if v.date >= date_from)
    written = totals_by_role(
        v for v in vouchers if v.date >= date_from and v.kind == Kind.WRITE_OFF
    )
    to_date = totals_by_role(vouchers)
    return Reconciliation(
        date_from,
        date_to,
        accounts,
        _sales(session, date_from, date_to, in_period, written[Role.OUTPUT_VAT]),
        _payments(session, date_from, date_to, in_period),
        _charges(session, date_from, date_to, in_period),
        _write_offs(session, date_from, date_to, written),
        _receivables(session, date_to, to_date[Role.RECEIVABLES]),
    )


def _documents(session: Session, kind: InvoiceKind, *conditions) -> tuple[int, int]:
    """(count, total) of the issued documents of a kind that meet the conditions."""
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Invoice.total_ore), 0)).where(
            Invoice.number.is_not(None), Invoice.kind == kind, *conditions
        )
    ).one()
    return int(count), int(total)  # PostgreSQL sums are numeric


def _sales(
    session: Session, date_from: date, date_to: date, sums: dict, write_off_vat: int
) -> SalesCheck:
    period = (Invoice.issue_date >= date_from, Invoice.issue_date <= date_to)
    invoices, invoiced = _documents(session, InvoiceKind.INVOICE, *period)
    credit_notes, credited = _documents(session, InvoiceKind.CREDIT_NOTE, *period)
    sales, vat = -sums[Role.SALES], -sums[Role.OUTPUT_VAT]  # income is credit
    return SalesCheck(
        records_ore=invoiced - credited,
        journal_ore=sales + vat + write_off_vat,
        invoiced_ore=invoiced,
        invoices=invoices,
        credited_ore=credited,
        credit_notes=credit_notes,
        sales_ore=sales,
        vat_ore=vat,
        write_off_vat_ore=write_off_vat,
    )


def _write_offs(session: Session, date_from: date, date_to: date, sums: dict) -> WriteOffCheck:
    items = Items()
    for written in session.scalars(
        select(WriteOff)
        .where(WriteOff.written_on >= date_from, WriteOff.written_on <= date_to)
        .options(selectinload(WriteOff.invoice))
        .order_by(WriteOff.written_on, WriteOff.id)
    ):
        invoice = written.invoice
        items.add(
            Item(
                f"A-{written.id}",
                written.written_on,
                invoice.buyer_party.name,
                written.amount_ore,
                invoice.id,
                invoice.display_number,
            )
        )
    bad_debts, vat = sums[Role.BAD_DEBTS], sums[Role.OUTPUT_VAT]
    return WriteOffCheck(
        records_ore=items.total_ore,
        journal_ore=bad_debts + vat,
        write_offs=items,
        journal_bad_debts_ore=bad_debts,
        journal_vat_ore=vat,
    )


def _received_in(date_from: date, date_to: date) -> tuple:
    return (
        Payment.received_at >= day_start(date_from),
        Payment.received_at < day_start(date_to + timedelta(days=1)),
    )


def _payment_item(payment: Payment) -> Item:
    invoice = payment.invoice
    return Item(
        number=f"B-{payment.id}",
        date=dates.local_date(payment.received_at),
        customer=invoice.buyer_party.name if invoice is not None else "",
        amount_ore=payment.amount_ore,
        invoice_id=payment.invoice_id,
        invoice_number=invoice.display_number if invoice is not None else "",
    )


def _payment_items(session: Session, *conditions) -> Items:
    items = Items()
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(Payment.amount_ore), 0)).where(*conditions)
    ).one()
    for payment in session.scalars(
        select(Payment)
        .where(*conditions)
        .options(selectinload(Payment.invoice))
        .order_by(Payment.received_at, Payment.id)
        .limit(LISTED)
    ):
        items.listed.append(_payment_item(payment))
    items.count, items.total_ore = int(count), int(total)
    return items


def _payments(session: Session, date_from: date, date_to: date, sums: dict) -> PaymentsCheck:
    period = _received_in(date_from, date_to)
    by_method = dict.fromkeys(PaymentMethod, 0)
    for method, total in session.execute(
        select(Payment.method, func.sum(Payment.amount_ore)).where(*period).group_by(Payment.method)
    ):
        by_method[method] = int(total or 0)
    card = by_method[PaymentMethod.CARD]
    bank = by_method[PaymentMethod.BANK] + by_method[PaymentMethod.MANUAL]
    journal_card, journal_bank = sums[Role.CARD_CLEARING], sums[Role.BANK]
    return PaymentsCheck(
        records_ore=card + bank,
        journal_ore=journal_card + journal_bank,
        card_ore=card,
        bank_ore=bank,
        journal_card_ore=journal_card,
        journal_bank_ore=journal_bank,
        refunds=_payment_items(session, *period, Payment.amount_ore < 0),
        unassigned=_payment_items(session, *period, Payment.invoice_id.is_(None)),
    )


def _charges(session: Session, date_from: date, date_to: date, sums: dict) -> ChargesCheck:
    count, fees, interest = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(Reminder.fee_ore + Reminder.compensation_ore), 0),
            func.coalesce(func.sum(Reminder.interest_ore), 0),
        ).where(Reminder.delivered_on >= date_from, Reminder.delivered_on <= date_to)
    ).one()
    journal_fees, journal_interest = -sums[Role.FEE_INCOME], -sums[Role.INTEREST_INCOME]
    return ChargesCheck(
        records_ore=int(fees) + int(interest),
        journal_ore=journal_fees + journal_interest,
        fees_ore=int(fees),
        interest_ore=int(interest),
        journal_fees_ore=journal_fees,
        journal_interest_ore=journal_interest,
        reminders=int(count),
    )


def _receivables(session: Session, date_to: date, balance: int) -> ReceivablesCheck:
    """Each invoice's balance at the end of date_to, from its own records, split into what
    the invoice still asks for, charges not yet paid and over-payment."""
    end = day_start(date_to + timedelta(days=1))
    totals = dict(
        session.execute(
            select(Invoice.id, Invoice.total_ore).where(
                Invoice.number.is_not(None),
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.issue_date <= date_to,
            )
        ).all()
    )
    notes = (
        Invoice.number.is_not(None),
        Invoice.kind == InvoiceKind.CREDIT_NOTE,
        Invoice.issue_date <= date_to,
    )
    credited = _sums_by_invoice(
        session,
        select(Invoice.credited_invoice_id, func.sum(Invoice.total_ore))
        .where(*notes, Invoice.credited_invoice_id.is_not(None))
        .group_by(Invoice.credited_invoice_id),
    )
    credits_without_invoice = Items()
    for note in session.scalars(
        select(Invoice).where(*notes, Invoice.credited_invoice_id.is_(None)).order_by(Invoice.id)
    ):
        credits_without_invoice.add(
            Item(note.display_number, note.issue_date, note.buyer_party.name, -note.total_ore)
        )
    paid = _sums_by_invoice(
        session,
        select(Payment.invoice_id, func.sum(Payment.amount_ore))
        .where(Payment.invoice_id.is_not(None), Payment.received_at < end)
        .group_by(Payment.invoice_id),
    )
    charges = _sums_by_invoice(
        session,
        select(
            Reminder.invoice_id,
            func.sum(Reminder.fee_ore + Reminder.interest_ore + Reminder.compensation_ore),
        )
        .where(Reminder.delivered_on <= date_to)
        .group_by(Reminder.invoice_id),
    )

    written_off = _sums_by_invoice(
        session,
        select(WriteOff.invoice_id, func.sum(WriteOff.amount_ore))
        .where(WriteOff.written_on <= date_to)
        .group_by(WriteOff.invoice_id),
    )

    open_on_invoices = 0
    charges_open: dict[int, int] = {}
    overpaid: dict[int, int] = {}
    for invoice_id in totals.keys() | credited.keys() | paid.keys() | charges.keys():
        # A payment received before its invoice's date counts as over-paid until then.
        owed = (
            totals.get(invoice_id, 0)
            - paid.get(invoice_id, 0)
            - credited.get(invoice_id, 0)
            - written_off.get(invoice_id, 0)
        )
        claimed = charges.get(invoice_id, 0)
        settled = min(max(-owed, 0), claimed)  # money beyond the invoice settles charges first
        open_on_invoices += max(owed, 0)
        if claimed - settled:
            charges_open[invoice_id] = claimed - settled
        if max(-owed, 0) - settled:
            overpaid[invoice_id] = max(-owed, 0) - settled

    unassigned = _payment_items(session, Payment.invoice_id.is_(None), Payment.received_at < end)
    invoiced = sum(totals.values())
    credited_total = sum(credited.values()) - credits_without_invoice.total_ore
    paid_total = sum(paid.values()) + unassigned.total_ore
    charged = sum(charges.values())
    written_off_total = sum(written_off.values())
    return ReceivablesCheck(
        records_ore=invoiced - credited_total - paid_total + charged - written_off_total,
        journal_ore=balance,
        invoiced_ore=invoiced,
        credited_ore=credited_total,
        paid_ore=paid_total,
        charges_ore=charged,
        written_off_ore=written_off_total,
        open_on_invoices_ore=open_on_invoices,
        charges_open=_invoice_items(session, charges_open),
        overpaid=_invoice_items(session, {k: -v for k, v in overpaid.items()}),
        # Money received lowers what customers owe: listed as a negative amount.
        unassigned=Items(
            [replace(item, amount_ore=-item.amount_ore) for item in unassigned.listed],
            unassigned.count,
            -unassigned.total_ore,
        ),
        credits_without_invoice=credits_without_invoice,
    )


def _sums_by_invoice(session: Session, stmt) -> dict[int, int]:
    return {invoice_id: int(total or 0) for invoice_id, total in session.execute(stmt)}


def _invoice_items(session: Session, amounts: dict[int, int]) -> Items:
    """The invoices with their amounts, the largest first; only the listed ones are loaded."""
    ranked = sorted(amounts.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    shown = [invoice_id for invoice_id, _amount in ranked[:LISTED]]
    named = {
        invoice.id: invoice
        for invoice in session.scalars(select(Invoice).where(Invoice.id.in_(shown)))
    }
    items = Items(count=len(ranked), total_ore=sum(amounts.values()))
    for invoice_id in shown:
        invoice = named[invoice_id]
        items.listed.append(
            Item(
                invoice.display_number,
                invoice.issue_date,
                invoice.buyer_party.name,
                amounts[invoice_id],
                invoice_id,
                invoice.display_number,
            )
        )
    return items
