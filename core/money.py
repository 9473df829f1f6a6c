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


def line_amount_ore(minutes: int, rate_ore_per_hour: int) -> int:
    """The amount for `minutes` at an hourly rate: round-half-up(minutes × rate / 60)."""
    return round_half_up_div(minutes * rate_ore_per_hour, 60)


# What minutes earn at an hourly rate (payroll): the same rounding as an invoice line.
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
