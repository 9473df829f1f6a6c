"""Exact invoice arithmetic: integer øre and minutes, rounding half up, VAT once per invoice."""

from __future__ import annotations


def round_half_up_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def line_amount_ore(minutes: int, rate_ore_per_hour: int) -> int:
    """The amount for `minutes` at an hourly rate: round-half-up(minutes × rate / 60)."""
    return round_half_up_div(minutes * rate_ore_per_hour, 60)


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
