"""The bookkeeping journal: every issued invoice and credit note, every payment and refund and
every reminder's charges as a voucher of balanced postings on the accounts an admin has set.

Nothing is stored: the vouchers are derived at export time from records that never change
(issued documents, payments, sent reminders), so the same period always gives the same
journal. A voucher's number (bilag) is stable and unique: the document's own number for
invoices and credit notes ("F-2026-0001", "K-2026-0001"), "B-" and the payment's id for a
payment or refund ("B-12"), "R-" and the reminder's id for a reminder's charges ("R-3"), "A-"
and the write-off's id for a write-off ("A-2").

Postings are signed øre, debit positive and credit negative, and every voucher sums to zero.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core import dates
from core import settings as settings_service
from core.models import (
    Invoice,
    InvoiceKind,
    OrganisationSettings,
    Payment,
    PaymentMethod,
    Reminder,
    WriteOff,
)
from core.money import plain_kroner
from invoices.spreadsheet import Sheet


class Role(enum.StrEnum):
    """What an account is for; each is one admin setting (OrganisationSettings.account_*)."""

    RECEIVABLES = "receivables"  # debitorer
    SALES = "sales"  # salg
    OUTPUT_VAT = "output_vat"  # salgsmoms
    BANK = "bank"
    CARD_CLEARING = "card_clearing"  # Stripe, until it pays out to the bank
    FEE_INCOME = "fee_income"  # reminder fees and compensation
    INTEREST_INCOME = "interest_income"  # late interest
    BAD_DEBTS = "bad_debts"  # konstaterede tab på debitorer (write-offs, net of VAT)


class Kind(enum.StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    REMINDER = "reminder"
    PAYMENT = "payment"
    REFUND = "refund"
    WRITE_OFF = "write_off"


# Documents first on a day, then the reminders' charges, then the money.
KIND_ORDER = {kind: n for n, kind in enumerate(Kind)}
METHOD_TEXT = {
    PaymentMethod.CARD: "kort (Stripe)",
    PaymentMethod.BANK: "bankoverførsel",
    PaymentMethod.MANUAL: "registreret manuelt",
}


@dataclass(frozen=True)
class Accounts:
    """The account number of each role."""

    numbers: dict[Role, str]

    @classmethod
    def of(cls, org: OrganisationSettings) -> Accounts:
        return cls({role: getattr(org, f"account_{role.value}") for role in Role})

    def __getitem__(self, role: Role) -> str:
        return self.numbers[role]


@dataclass(frozen=True)
class Posting:
    """One line of a voucher: an amount on an account, debit positive and credit negative."""

    account: str
    amount_ore: int
    role: Role

    @property
    def debit_ore(self) -> int:
        return max(self.amount_ore, 0)

    @property
    def credit_ore(self) -> int:
        return max(-self.amount_ore, 0)


class Unbalanced(AssertionError):
    """A voucher whose debits and credits differ: a bug, never something to export."""


@dataclass
class Voucher:
    date: date
    number: str  # the bilag: stable and unique (see the module's docstring)
    text: str
    kind: Kind
    lines: list[Posting] = field(default_factory=list)
    invoice_id: int | None = None  # the invoice it belongs to (a credit note: the credited one)
    method: PaymentMethod | None = None  # payments and refunds

    @property
    def debit_ore(self) -> int:
        return sum(line.debit_ore for line in self.lines)

    @property
    def credit_ore(self) -> int:
        return sum(line.credit_ore for line in self.lines)

    @property
    def balanced(self) -> bool:
        return self.debit_ore == self.credit_ore


def _voucher(
    accounts: Accounts, amounts: Iterable[tuple[Role, int]], **values: object
) -> Voucher | None:
    """A voucher of the non-zero amounts, checked to balance; None when every amount is 0."""
    lines = [Posting(accounts[role], amount, role) for role, amount in amounts if amount]
    if not lines:
        return None
    voucher = Voucher(lines=lines, **values)
    if not voucher.balanced:
        raise Unbalanced(f"voucher {voucher.number} does not balance: {voucher.lines}")
    return voucher


def _document(accounts: Accounts, document: Invoice) -> Voucher | None:
    buyer = document.buyer_party.name
    if document.kind == InvoiceKind.CREDIT_NOTE:
        sign = -1
        credited = document.credited_invoice
        text = f"Kreditnota {document.display_number}"
        if credited is not None:
            text += f" til {credited.display_number}"
        text += f", {buyer}"
        kind = Kind.CREDIT_NOTE
        invoice_id = document.credited_invoice_id
    else:
        sign, kind, invoice_id = 1, Kind.INVOICE, document.id
        text = f"Faktura {document.display_number}, {buyer}"
    return _voucher(
        accounts,
        [
            (Role.RECEIVABLES, sign * document.total_ore),
            (Role.SALES, -sign * document.subtotal_ore),
            (Role.OUTPUT_VAT, -sign * document.vat_ore),
        ],
        date=document.issue_date,
        number=document.display_number,
        text=text,
        kind=kind,
        invoice_id=invoice_id,
    )


def _payment(accounts: Accounts, payment: Payment) -> Voucher | None:
    # Money in: the bank (or Stripe, until it pays out) up, the customer's debt down. A refund
    # is a negative payment: the same lines reversed, from the account the money left.
    cash = Role.CARD_CLEARING if payment.method == PaymentMethod.CARD else Role.BANK
    refund = payment.amount_ore < 0
    text = f"{'Tilbagebetaling' if refund else 'Indbetaling'} {METHOD_TEXT[payment.method]}"
    invoice = payment.invoice
    if invoice is not None:
        text += f" {'fra' if refund else 'på'} {invoice.display_number}, {invoice.buyer_party.name}"
    else:
        text += ", ikke placeret på en faktura"
    return _voucher(
        accounts,
        [(cash, payment.amount_ore), (Role.RECEIVABLES, -payment.amount_ore)],
        date=dates.local_date(payment.received_at),
        number=f"B-{payment.id}",
        text=text,
        kind=Kind.REFUND if refund else Kind.PAYMENT,
        invoice_id=payment.invoice_id,
        method=payment.method,
    )


def _reminder(accounts: Accounts, reminder: Reminder) -> Voucher | None:
    # Fees, interest and compensation are a claim of their own on the customer, without VAT.
    invoice = reminder.invoice
    return _voucher(
        accounts,
        [
            (
                Role.RECEIVABLES,
                reminder.fee_ore + reminder.compensation_ore + reminder.interest_ore,
            ),
            (Role.FEE_INCOME, -(reminder.fee_ore + reminder.compensation_ore)),
            (Role.INTEREST_INCOME, -reminder.interest_ore),
        ],
        date=reminder.delivered_on,  # it claims its charges from the day it went out
        number=f"R-{reminder.id}",
        text=(
            f"Rykker {reminder.level} på {invoice.display_number}, {invoice.buyer_party.name}: "
            "gebyr, renter og kompensation"
        ),
        kind=Kind.REMINDER,
        invoice_id=reminder.invoice_id,
    )


def _write_off(accounts: Accounts, written: WriteOff) -> Voucher | None:
    # The loss net of VAT, and the VAT back off the output VAT (momsloven § 27, stk. 6); the
    # customer's debt goes down by all that was open.
    invoice = written.invoice
    return _voucher(
        accounts,
        [
            (Role.BAD_DEBTS, written.amount_ore - written.vat_ore),
            (Role.OUTPUT_VAT, written.vat_ore),
            (Role.RECEIVABLES, -written.amount_ore),
        ],
        date=written.written_on,
        number=f"A-{written.id}",
        text=f"Afskrevet tab på {invoice.display_number}, {invoice.buyer_party.name}",
        kind=Kind.WRITE_OFF,
        invoice_id=written.invoice_id,
    )


def day_start(day: date) -> datetime:
    """The first moment of a Danish business day, in UTC (payments are stored in UTC)."""
    return datetime.combine(day, time(0), tzinfo=dates.COPENHAGEN).astimezone(UTC)


def journal(
    session: Session,
    date_from: date | None,
    date_to: date,
    accounts: Accounts | None = None,
) -> list[Voucher]:
    """Every voucher dated in the period (from the beginning when date_from is None), in
    date order; each one balances."""
    accounts = accounts or Accounts.of(settings_service.get(session))
    documents = (
        select(Invoice)
        .where(Invoice.number.is_not(None), Invoice.issue_date <= date_to)
        .options(selectinload(Invoice.credited_invoice))
    )
    payments = (
        select(Payment)
        .where(Payment.received_at < day_start(date_to + timedelta(days=1)))
        .options(selectinload(Payment.invoice))
    )
    reminders = (
        select(Reminder)
        .where(Reminder.delivered_on <= date_to)
        .options(selectinload(Reminder.invoice))
    )
    write_offs = (
        select(WriteOff)
        .where(WriteOff.written_on <= date_to)
        .options(selectinload(WriteOff.invoice))
    )
    if date_from is not None:
        write_offs = write_offs.where(WriteOff.written_on >= date_from)
        documents = documents.where(Invoice.issue_date >= date_from)
        payments = payments.where(Payment.received_at >= day_start(date_from))
        reminders = reminders.where(Reminder.delivered_on >= date_from)
    vouchers = [
        *(_document(accounts, document) for document in session.scalars(documents)),
        *(_payment(accounts, payment) for payment in session.scalars(payments)),
        *(_reminder(accounts, reminder) for reminder in session.scalars(reminders)),
        *(_write_off(accounts, written) for written in session.scalars(write_offs)),
    ]
    return sorted(
        (voucher for voucher in vouchers if voucher is not None),
        key=lambda v: (v.date, KIND_ORDER[v.kind], _number_key(v.number)),
    )


def _number_key(number: str) -> tuple[str, int]:
    """'B-9' before 'B-10'; document numbers are zero-padded already."""
    prefix, _, rest = number.rpartition("-")
    return (prefix, int(rest)) if rest.isdigit() else (number, 0)


def totals_by_role(vouchers: Iterable[Voucher]) -> dict[Role, int]:
    """The net amount (debit positive) on each role's account over the vouchers."""
    sums = dict.fromkeys(Role, 0)
    for voucher in vouchers:
        for line in voucher.lines:
            sums[line.role] += line.amount_ore
    return sums


# --- The file ----------------------------------------------------------------------------------

# One row per posting. Beløb is signed (debit positive, credit negative) and a voucher's rows
# sum to zero; Debet and Kredit repeat it unsigned for a reader (or an import that wants two
# columns). No Modkonto: each row posts one side, so a counter-account would post it twice.
COLUMNS = ["Dato", "Bilag", "Konto", "Tekst", "Beløb", "Debet", "Kredit"]


def journal_csv(session: Session, date_from: date, date_to: date, *, bom: bool = True) -> str:
    """The period's journal as ';'-separated rows (README: "Bookkeeping journal")."""
    sheet = Sheet()
    sheet.row(COLUMNS)
    for voucher in journal(session, date_from, date_to):
        for line in voucher.lines:
            sheet.row(
                [
                    voucher.date.strftime("%d-%m-%Y"),
                    voucher.number,
                    line.account,
                    voucher.text,
                    plain_kroner(line.amount_ore),
                    plain_kroner(line.debit_ore) if line.debit_ore else "",
                    plain_kroner(line.credit_ore) if line.credit_ore else "",
                ]
            )
    return sheet.text(bom=bom)
