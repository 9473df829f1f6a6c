"""The typed snapshots of an invoice's buyer and seller, and the JSON they are stored as."""

from __future__ import annotations

from core.snapshots import BuyerSnapshot, SellerSnapshot
from tests.invoicing import employer_with_hours, issue_run, organisation

# The keys an issued invoice stores, in the order written: rows already in the database were
# written with them and are read back with them, so the shape must not drift.
BUYER_KEYS = [
    "name",
    "address_line",
    "postcode",
    "city",
    "cvr",
    "ean",
    "email",
    "order_reference",
    "person_reference",
]
SELLER_KEYS = [
    "legal_name",
    "cvr",
    "address_line",
    "postcode",
    "city",
    "email",
    "phone",
    "bank_reg",
    "bank_account",
    "iban",
    "bic",
    "fi_creditor_number",
    "late_interest_rate_bp",
    "payment_terms_days",
]


def test_an_issued_invoice_freezes_its_parties_in_the_stored_shape(app, db, ctx):
    org = organisation(db)
    employer_with_hours(db, weeks=1)
    [invoice] = issue_run(db)
    assert list(invoice.buyer) == BUYER_KEYS
    assert list(invoice.seller) == SELLER_KEYS
    assert invoice.buyer_party == BuyerSnapshot.from_json(invoice.buyer)
    assert invoice.buyer_party.name == invoice.employer.name
    assert invoice.seller_party == SellerSnapshot.of(org)
    assert invoice.seller_party.to_json() == invoice.seller


def test_snapshots_read_rows_with_keys_missing_or_unknown():
    # Early rows (and the test factories) have no order or person reference.
    old = {"name": "Lager ApS", "cvr": "12345678", "email": "faktura@lager.dk", "extra": 1}
    buyer = BuyerSnapshot.from_json(old)
    assert (buyer.name, buyer.cvr, buyer.email) == ("Lager ApS", "12345678", "faktura@lager.dk")
    assert (buyer.order_reference, buyer.person_reference, buyer.ean) == ("", "", "")
    assert list(buyer.to_json()) == BUYER_KEYS
    assert SellerSnapshot.from_json({}) == SellerSnapshot()
    assert SellerSnapshot.from_json(None).legal_name == ""
