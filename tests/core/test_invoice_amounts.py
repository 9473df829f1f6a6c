"""Exact invoice arithmetic and the FI payment line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import money as amounts
from invoices import numbering


@pytest.mark.parametrize(
    ("minutes", "rate", "expected"),
    [
        (720, 18900, 226800),  # 12,00 h × 189,00 kr.
        (425, 18700, 132396),  # 7,08 h × 187,00 kr. = 1.323,96 kr. (issue 14's example)
        (1, 18900, 378),  # 0,02 h (1/60 = 0,0167 rounds up) × 189,00 kr. = 3,78 kr.
        (3, 18930, 947),  # 0,05 h × 189,30 kr. = 9,465 kr.: half an øre rounds up
        (10, 3, 1),  # 0,17 h × 0,03 kr. = 0,51 øre rounds up
        (2, 3, 0),  # 0,03 h × 0,03 kr. = 0,09 øre rounds down
        (0, 18900, 0),
    ],
)
def test_line_amount_is_printed_hours_times_rate(minutes, rate, expected):
    assert amounts.line_amount_ore(minutes, rate) == expected


@pytest.mark.parametrize(
    ("minutes", "hundredths"), [(425, 708), (750, 1250), (1, 2), (3, 5), (0, 0), (59, 98)]
)
def test_hours_are_billed_to_two_decimals_rounded_half_up(minutes, hundredths):
    assert amounts.hours_hundredths(minutes) == hundredths


def test_vat_is_computed_once_on_the_subtotal():
    # Three lines of 0,02 kr.: per-line VAT would give 3 × 0,01 = 0,03; on the sum it is 0,02.
    subtotal, vat, total = amounts.totals([2, 2, 2], 2500)
    assert (subtotal, vat, total) == (6, 2, 8)
    assert amounts.vat_ore(226800, 2500) == 56700


def test_negative_amounts_round_symmetrically():
    assert amounts.round_half_up_div(-5, 10) == -1
    assert amounts.round_half_up_div(-4, 10) == 0


@given(
    st.lists(
        st.tuples(st.integers(0, 60 * 60), st.integers(1, 100_000_00)), min_size=1, max_size=40
    ),
    st.integers(0, 10_000),
)
def test_lines_sum_to_subtotal_and_subtotal_plus_vat_is_total(lines, vat_rate_bp):
    line_amounts = [amounts.line_amount_ore(m, r) for m, r in lines]
    subtotal, vat, total = amounts.totals(line_amounts, vat_rate_bp)
    assert subtotal == sum(line_amounts)
    assert subtotal + vat == total
    # Each line is its printed hours × the rate, within half an øre; the hours within half a
    # hundredth of the minutes.
    for (minutes, rate), amount in zip(lines, line_amounts, strict=True):
        hundredths = amounts.hours_hundredths(minutes)
        assert abs(hundredths * 60 - minutes * 100) <= 30
        assert abs(amount * 100 - hundredths * rate) <= 50
    assert abs(vat * 10_000 - subtotal * vat_rate_bp) <= 5_000


@pytest.mark.parametrize("payment_id", ["000000000000018", "026840149965328", "000000067097535"])
def test_documented_payment_ids_pass_the_check(payment_id):
    assert numbering.is_valid_payment_id(payment_id)


def test_payment_id_check_digit_vectors():
    assert numbering.luhn_check_digit("1".zfill(14)) == "8"
    assert numbering.luhn_check_digit("2".zfill(14)) == "6"
    assert numbering.payment_id(2026, 17) == "00002026000017" + numbering.luhn_check_digit(
        "00002026000017"
    )
    assert numbering.is_valid_payment_id(numbering.payment_id(2026, 17))
    assert not numbering.is_valid_payment_id("000000000000019")


def test_fi_line_needs_a_creditor_number_starting_with_8():
    assert numbering.fi_line("000000000000018", "81234567") == "+71<000000000000018+81234567<"
    assert numbering.fi_line("000000000000018", "") is None
    assert numbering.fi_line("000000000000018", "71234567") is None
    assert numbering.display_number("F", 2026, 17) == "F-2026-0017"
