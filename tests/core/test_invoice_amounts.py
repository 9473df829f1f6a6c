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
        (720, 18900, 226800),  # 12 h × 189,00 kr.
        (1, 18900, 315),  # 189 / 60 = 3,15 kr.
        (1, 18950, 316),  # 3,1583… rounds to 3,16
        (1, 18930, 316),  # 3,155 exactly: half rounds up
        (7, 3, 0),  # 0,35 øre rounds down
        (10, 3, 1),  # 0,5 øre rounds up
        (0, 18900, 0),
    ],
)
def test_line_amount_rounds_half_up(minutes, rate, expected):
    assert amounts.line_amount_ore(minutes, rate) == expected


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
    # Each line is within half an øre of the exact value.
    for (minutes, rate), amount in zip(lines, line_amounts, strict=True):
        assert abs(amount * 60 - minutes * rate) <= 30
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
