"""Money, exactly: integer øre and minutes, rounding half up, VAT once per invoice, and kroner
as people type them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


# The billing rule for hours, one for every document (pages, PDFs, the e-invoice, payroll):
# a line's minutes become hours rounded half up to two decimals, and its amount is those
# printed hours × the hourly rate, rounded half up to the øre. So a customer recomputes every
# line from what is printed (7,08 timer × 187,00 kr. = 1.323,96 kr.), and the worker's pay
# follows the same rule per payroll row (at most 18 seconds either way per row).


def hours_hundredths(minutes: int) -> int:
    """Minutes as hours in hundredths, rounded half up: 425 -> 708 (7,08 hours)."""
    return round_half_up_div(minutes * 100, 60)


def amount_for(quantity_hundredths: int, rate_ore: int) -> int:
    """quantity (in hundredths) × rate, rounded half up to the øre: 708 × 18700 -> 132396."""
    return round_half_up_div(quantity_hundredths * rate_ore, 100)


def line_amount_ore(minutes: int, rate_ore_per_hour: int) -> int:
    """What `minutes` bill at an hourly rate: the printed hours (two decimals) × the rate."""
    return amount_for(hours_hundredths(minutes), rate_ore_per_hour)


# What minutes earn at an hourly rate (payroll): the same rule as an invoice line.
pay_ore = line_amount_ore


def vat_ore(subtotal_ore: int, vat_rate_bp: int) -> int:
    """VAT on the whole subtotal (basis points: 2500 = 25 %), rounded once."""
    return round_half_up_div(subtotal_ore * vat_rate_bp, 10_000)


def totals(line_amounts: list[int], vat_rate_bp: int) -> tuple[int, int, int]:
    """(subtotal, VAT, total) for the given line amounts."""
    subtotal = sum(line_amounts)
    vat = vat_ore(subtotal, vat_rate_bp)
    return subtotal, vat, subtotal + vat


def plain_kroner(ore: int) -> str:
    """123450 -> '1234,50': for files other systems import (no thousands separator)."""
    sign = "-" if ore < 0 else ""
    ore = abs(ore)
    return f"{sign}{ore // 100},{ore % 100:02d}"


def parse_kroner(text: str) -> int:
    """Parse '1.234,50', '1234,5', '1234.50' or '1234' kroner into exact øre."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    cleaned = re.sub(r"(kr\.?|dkk)$", "", cleaned, flags=re.IGNORECASE)
    if "," in cleaned:
        # Danish: dots group thousands, the comma marks the decimals.
        if not re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{1,2}|-?\d+,\d{1,2}", cleaned):
            raise ValueError(text)
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")  # '1.234' is a thousand-separated whole number
    elif not re.fullmatch(r"-?\d+(\.\d{1,2})?", cleaned):
        raise ValueError(text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError(text) from error
    return int(value.scaleb(2))
