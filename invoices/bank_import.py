"""Bank statement import: parse a Danish bank's CSV export and match the lines to invoices.

Accepted: `;`, `,` or tab separated; UTF-8 (with or without BOM) or Windows-1252; a header
line naming the booking date, amount and text columns (Danish or English names, see the
README); amounts like `1.234,50`, `-1234,50` or `1234.50`; dates `dd-mm-yyyy`, `dd.mm.yyyy`,
`dd/mm/yyyy` or `yyyy-mm-dd`.

Matching, in order: a valid FI payment id (15 digits, modulus 10) in the text names the
invoice, whatever the amount (part and over-payments are recorded as such); else an
invoice number (`F-2026-0001`) in the text with exactly the open amount; else the line is
left for finance to match by hand. A line's fingerprint (date, amount, text and how many
identical lines came before it in the file) is its payment's external id, so importing the
same statement twice records nothing twice."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from core import audit
from core.db import lock
from core.errors import Conflict, Invalid, NotFound
from core.i18n import gettext as _
from core.models import (
    BankImport,
    BankLine,
    BankLineStatus,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentMethod,
    User,
)
from core.money import parse_kroner
from invoices import numbering, payments

MAX_BYTES = 5 * 1024 * 1024
MAX_LINES = 20_000
MAX_AMOUNT_ORE = payments.MAX_PAYMENT_ORE  # 100 million kr.: larger is a misread column
MAX_INVOICE_NUMBER = 2**31 - 1  # what an integer column holds

DATE_HEADERS = {
    "dato",
    "bogføringsdato",
    "bogfoeringsdato",
    "bogført",
    "bogfort",
    "posteringsdato",
    "transaktionsdato",
    "booking date",
    "bookingdate",
    "date",
    "rentedato",
    "valørdato",
}
AMOUNT_HEADERS = {"beløb", "beloeb", "belob", "beløb i dkk", "amount", "beløb dkk"}
TEXT_HEADERS = {
    "tekst",
    "text",
    "reference",
    "beskrivelse",
    "description",
    "posteringstekst",
    "meddelelse",
    "besked",
    "afsender",
    "navn",
    "name",
    "modtager",
    "betalingsid",
    "betalings-id",
    "message",
}

PAYMENT_ID = re.compile(r"(?<!\d)(\d{15})(?!\d)")
INVOICE_NUMBER = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{1,10})-(\d{4})-(\d{1,6})(?!\d)")


@dataclass(frozen=True)
class StatementLine:
    line_number: int  # in the file, counting the header as 1
    booking_date: date
    amount_ore: int
    text: str
    occurrence: int  # 0 for the first line with this date, amount and text; 1 for the next

    @property
    def fingerprint(self) -> str:
        key = "|".join(
            [
                self.booking_date.isoformat(),
                str(self.amount_ore),
                _fold(self.text),
                str(self.occurrence),
            ]
        )
        return "bank:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def decode(content: bytes) -> str:
    """UTF-8 (a BOM is dropped) or, failing that, Windows-1252 as older bank exports use."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def parse_amount(text: str) -> int:
    """'1.234,50', '-1.234,50', '+1234,50', '1234.50', '1 234,50 kr.' -> øre."""
    cleaned = (text or "").strip().replace("\u2212", "-")
    if cleaned.startswith("+"):
        cleaned = cleaned[1:]
    return parse_kroner(cleaned)


def parse_date(text: str) -> date:
    """'22-11-2026', '22.11.2026', '22/11/2026', '2026-11-22' -> a date."""
    text = (text or "").strip()
    for pattern in ("%d-%m-%Y", "%d.%m.%Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%y", "%d.%m.%y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (";", "\t", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def parse_statement(content: bytes) -> tuple[list[StatementLine], list[str]]:
    """The statement's lines and a readable error for each line that could not be read."""
    if len(content) > MAX_BYTES:
        raise Invalid(_("The file is larger than 5 MB."))
    text = decode(content)
    if "\x00" in text:
        raise Invalid(
            _(
                "The file contains a NUL character, so it is not a bank's CSV export. Export the "
                "statement again and upload that file."
            )
        )
    rows_text = text.splitlines()
    while rows_text and not rows_text[0].strip():
        rows_text.pop(0)
    if not rows_text:
        raise Invalid(_("The file is empty."))
    reader = csv.reader(io.StringIO("\n".join(rows_text)), delimiter=_delimiter(rows_text[0]))
    try:
        rows = list(reader)
    except csv.Error as error:
        raise Invalid(_("The file is not a readable CSV file.")) from error
    header = [_fold(cell).strip('"') for cell in rows[0]]
    date_col = next((i for i, h in enumerate(header) if h in DATE_HEADERS), None)
    amount_col = next((i for i, h in enumerate(header) if h in AMOUNT_HEADERS), None)
    text_cols = [i for i, h in enumerate(header) if h in TEXT_HEADERS]
    if date_col is None or amount_col is None or not text_cols:
        raise Invalid(
            _(
                "The first line must name the columns: a date (Dato), an amount (Beløb) and a "
                "text (Tekst). See the README for the accepted names."
            )
        )
    if len(rows) - 1 > MAX_LINES:
        raise Invalid(_("The file has more than %(n)d lines.", n=MAX_LINES))
    lines: list[StatementLine] = []
    errors: list[str] = []
    seen: Counter = Counter()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            booking_date = parse_date(row[date_col])
        except (ValueError, IndexError):
            errors.append(_("Line %(n)d: the date cannot be read.", n=number))
            continue
        try:
            amount = parse_amount(row[amount_col])
        except (ValueError, IndexError):
            errors.append(_("Line %(n)d: the amount cannot be read.", n=number))
            continue
        if abs(amount) > MAX_AMOUNT_ORE:
            errors.append(_("Line %(n)d: the amount is larger than any payment can be.", n=number))
            continue
        line_text = " ".join(row[i].strip() for i in text_cols if i < len(row) and row[i].strip())
        key = (booking_date, amount, _fold(line_text))
        lines.append(StatementLine(number, booking_date, amount, line_text[:1000], seen[key]))
        seen[key] += 1
    return lines, errors


class InvoiceIndex:
    """The invoices a statement's lines name (by FI payment id or by number), looked up with
    a few queries for the whole file: a 20,000-line statement never queries line by line."""

    CHUNK = 1000  # values per IN (...): well within every database's limit

    def __init__(self, session: Session, lines: list[StatementLine]) -> None:
        payment_ids = {
            candidate
            for line in lines
            for candidate in PAYMENT_ID.findall(line.text)
            if numbering.is_valid_payment_id(candidate)
        }
        numbers = {
            (series.upper(), int(year), int(number))
            for line in lines
            for series, year, number in INVOICE_NUMBER.findall(line.text)
            if int(number) <= MAX_INVOICE_NUMBER
        }
        invoice = Invoice.kind == InvoiceKind.INVOICE
        self.by_payment_id: dict[str, Invoice] = {}
        for chunk in _chunks(sorted(payment_ids), self.CHUNK):
            for row in session.scalars(
                select(Invoice).where(invoice, Invoice.payment_id.in_(chunk))
            ):
                self.by_payment_id[row.payment_id] = row
        self.by_number: dict[tuple[str, int, int], Invoice] = {}
        key = tuple_(Invoice.series, Invoice.year, Invoice.number)
        for chunk in _chunks(sorted(numbers), self.CHUNK):
            for row in session.scalars(select(Invoice).where(invoice, key.in_(chunk))):
                self.by_number[(row.series, row.year, row.number)] = row

    def match(self, line: StatementLine) -> tuple[Invoice | None, Invoice | None]:
        """(the invoice the line pays, an invoice its text names but whose amount differs)."""
        for candidate in PAYMENT_ID.findall(line.text):
            if candidate in self.by_payment_id:
                return self.by_payment_id[candidate], None
        suggestion = None
        for series, year, number in INVOICE_NUMBER.findall(line.text):
            invoice = self.by_number.get((series.upper(), int(year), int(number)))
            if invoice is None:
                continue
            # The open amount as it is now: an earlier line of this file may have paid it.
            if payments.payable(invoice) and invoice.open_ore == line.amount_ore:
                return invoice, None
            suggestion = suggestion or invoice
        return None, suggestion


def _chunks(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def recorded_payments(session: Session, fingerprints: list[str]) -> dict[str, tuple[int, int]]:
    """Fingerprint -> (payment id, invoice id) for the lines recorded by earlier imports."""
    found = {}
    for chunk in _chunks(sorted(set(fingerprints)), InvoiceIndex.CHUNK):
        rows = session.execute(
            select(Payment.external_id, Payment.id, Payment.invoice_id).where(
                Payment.external_id.in_(chunk)
            )
        )
        found.update({external_id: (pid, iid) for external_id, pid, iid in rows})
    return found


def import_statement(
    session: Session, by: User | None, filename: str, content: bytes
) -> tuple[BankImport, list[str]]:
    """Parse, match and record a statement; returns the import and the unreadable lines."""
    lines, errors = parse_statement(content)
    if not lines:
        raise Invalid(errors[0] if errors else _("The file has no statement lines."))
    batch = BankImport(
        filename=_printable(filename)[:200],
        sha256=hashlib.sha256(content).hexdigest(),
        line_count=len(lines),
        created_by_id=by.id if by is not None and by.is_authenticated else None,
    )
    session.add(batch)
    session.flush()
    recorded = recorded_payments(session, [line.fingerprint for line in lines])
    index = InvoiceIndex(session, lines)
    rows = []
    for line in lines:
        row = {
            "import_id": batch.id,
            "line_number": line.line_number,
            "booking_date": line.booking_date,
            "amount_ore": line.amount_ore,
            "text": line.text,
            "fingerprint": line.fingerprint,
            "status": BankLineStatus.UNMATCHED,
            "invoice_id": None,
            "suggested_invoice_id": None,
            "payment_id": None,
        }
        rows.append(row)
        if line.fingerprint in recorded:
            payment_id, invoice_id = recorded[line.fingerprint]
            row.update(
                status=BankLineStatus.DUPLICATE, payment_id=payment_id, invoice_id=invoice_id
            )
            continue
        if line.amount_ore < 0:
            row["status"] = BankLineStatus.OUTGOING
            continue
        invoice, suggestion = index.match(line)
        if invoice is None:
            row["suggested_invoice_id"] = suggestion.id if suggestion is not None else None
            continue
        payment = payments.record_payment(
            session,
            invoice,
            line.amount_ore,
            PaymentMethod.BANK,
            line.fingerprint,
            received_at=received_at(line.booking_date),
            by=by,
            note=line.text[:500],
        )
        row.update(
            status=BankLineStatus.MATCHED,
            invoice_id=invoice.id,
            payment_id=payment.id if payment is not None else None,
        )
    session.execute(insert(BankLine), rows)
    counts = Counter(row["status"].value for row in rows)
    audit.record(session, by, "bank_import.imported", batch, filename=batch.filename, **counts)
    return batch, errors


def _printable(text: str) -> str:
    return "".join(c for c in (text or "") if c.isprintable())


def match_by_hand(session: Session, line: BankLine, invoice: Invoice, by: User):
    """Record an unmatched line on the invoice finance chose."""
    lock(session, line)  # two people matching it: one wins
    if line.status != BankLineStatus.UNMATCHED:
        raise Conflict(_("This line has already been dealt with."))
    if invoice.kind != InvoiceKind.INVOICE or invoice.number is None:
        raise NotFound(_("No invoice with that number."))
    payment = payments.record_payment(
        session,
        invoice,
        line.amount_ore,
        PaymentMethod.BANK,
        line.fingerprint,
        received_at=received_at(line.booking_date),
        by=by,
        note=line.text[:500],
    )
    if payment is None:  # the same line from another import was matched meanwhile
        line.status = BankLineStatus.DUPLICATE
        line.payment_id = payments.find_by_external_id(session, line.fingerprint).id
    else:
        line.status, line.payment_id = BankLineStatus.MANUAL, payment.id
    line.invoice_id = invoice.id
    session.flush()
    return payment


def received_at(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def open_lines(session: Session) -> list[BankLine]:
    """Unmatched incoming lines of every import whose money is not recorded yet."""
    rows = session.scalars(
        select(BankLine)
        .where(BankLine.status == BankLineStatus.UNMATCHED)
        .order_by(BankLine.booking_date, BankLine.id)
    ).all()
    recorded = set(
        session.scalars(select(BankLine.fingerprint).where(BankLine.payment_id.is_not(None)))
    )
    unique: dict[str, BankLine] = {}
    for row in rows:
        if row.fingerprint not in recorded:
            unique.setdefault(row.fingerprint, row)
    return list(unique.values())
