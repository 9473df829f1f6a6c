"""Gapless invoice numbers per series and year, and the FI (+71) payment line."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import InvoiceNumberCounter

CREDITOR_PATTERN = re.compile(r"^8\d{7}$")


def next_number(session: Session, series: str, year: int) -> int:
    """Take the next number in the series for the year.

    Gapless numbers: the UPDATE locks the counter row until this transaction commits, so a
    concurrent issuer waits, and a rollback gives the number back. A database sequence
    would skip a number whenever an issuing transaction rolls back."""
    key = (InvoiceNumberCounter.series == series, InvoiceNumberCounter.year == year)
    if session.scalar(select(InvoiceNumberCounter.year).where(*key)) is None:
        try:
            with session.begin_nested():  # a concurrent issuer may insert it first
                session.add(InvoiceNumberCounter(series=series, year=year, last_number=0))
        except IntegrityError:
            pass
    return session.execute(
        update(InvoiceNumberCounter)
        .where(*key)
        .values(last_number=InvoiceNumberCounter.last_number + 1)
        .returning(InvoiceNumberCounter.last_number)
    ).scalar_one()


def display_number(series: str, year: int, number: int) -> str:
    """'F-2026-0017': series, year and the gapless number."""
    return f"{series}-{year}-{number:04d}"


def luhn_check_digit(digits: str) -> str:
    """Modulus 10 with weights 2,1,2,1… from the right (the FI card printers' rule)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def payment_id(year: int, number: int) -> str:
    """The 15-digit FI payment id: year and number in 14 digits plus the check digit."""
    payload = f"{year}{number:06d}".zfill(14)
    return payload + luhn_check_digit(payload)


def is_valid_payment_id(value: str) -> bool:
    return bool(re.fullmatch(r"\d{15}", value)) and luhn_check_digit(value[:-1]) == value[-1]


def fi_line(payment_id_15: str, creditor_number: str) -> str | None:
    """'+71<000000000012340+81234567<', or None without a valid creditor number."""
    if not CREDITOR_PATTERN.fullmatch(creditor_number or ""):
        return None
    return f"+71<{payment_id_15}+{creditor_number}<"
