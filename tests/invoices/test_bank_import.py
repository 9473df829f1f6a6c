"""Bank statement import: Danish formats, matching rules, part/over-payments, duplicates."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from core.errors import Invalid
from core.models import (
    BankLine,
    BankLineStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Role,
)
from invoices import bank_import
from tests import factories
from tests.helpers import post_form


def test_parses_danish_semicolon_files_with_bom_and_thousands():
    content = (
        "\ufeffDato;Tekst;Beløb;Saldo\n"
        "22-11-2026;Indbetaling F-2026-0001;1.234,50;10.000,00\n"
        "23.11.2026;Gebyr;-25,00;9.975,00\n"
        "2026-11-24;Overførsel;+12,5;9.987,50\n"
    ).encode()
    lines, errors = bank_import.parse_statement(content)
    assert errors == []
    assert [(line.booking_date, line.amount_ore, line.text) for line in lines] == [
        (date(2026, 11, 22), 123450, "Indbetaling F-2026-0001"),
        (date(2026, 11, 23), -2500, "Gebyr"),
        (date(2026, 11, 24), 1250, "Overførsel"),
    ]


def test_parses_comma_separated_english_files_and_windows_1252():
    content = (
        "Booking date,Amount,Text,Reference\n"
        '2026-11-22,"1.234,50",Betaling,Jørgen\n'
        "22/11/2026,1234.50,Betaling,Ærø\n"
    ).encode("cp1252")
    lines, errors = bank_import.parse_statement(content)
    assert errors == []
    assert [line.amount_ore for line in lines] == [123450, 123450]
    assert lines[0].text == "Betaling Jørgen" and lines[1].text == "Betaling Ærø"


def test_unreadable_lines_are_reported_and_the_rest_kept():
    content = b"Dato;Tekst;Bel\xc3\xb8b\n32-13-2026;x;1,00\n01-12-2026;y;abc\n01-12-2026;z;5,00\n"
    lines, errors = bank_import.parse_statement(content)
    assert [line.text for line in lines] == ["z"]
    assert len(errors) == 2
    assert " 2" in errors[0] and " 3" in errors[1]


def test_a_file_without_the_needed_columns_is_refused(app, ctx):
    with pytest.raises(Invalid):
        bank_import.parse_statement(b"foo;bar\n1;2\n")
    with pytest.raises(Invalid):
        bank_import.parse_statement(b"")


def test_identical_lines_in_one_file_get_different_fingerprints():
    content = b"Dato;Tekst;Bel\xc3\xb8b\n01-12-2026;Kontant;100,00\n01-12-2026;Kontant;100,00\n"
    first, second = bank_import.parse_statement(content)[0]
    assert (first.occurrence, second.occurrence) == (0, 1)
    assert first.fingerprint != second.fingerprint


def statement(*rows: tuple[str, str, str]) -> bytes:
    return ("Dato;Tekst;Beløb\n" + "".join(f"{d};{t};{a}\n" for d, t, a in rows)).encode()


def test_matching_rules_payment_id_first_then_number_with_exact_amount(app, db, ctx):
    by_id = factories.issued_invoice(total_ore=100000)
    by_number = factories.issued_invoice(total_ore=50000)
    wrong_amount = factories.issued_invoice(total_ore=70000)
    db.flush()
    content = statement(
        ("01-12-2026", f"Betaling {by_id.payment_id} tak", "400,00"),  # part payment by FI id
        ("01-12-2026", f"Faktura {by_number.display_number}", "500,00"),
        ("02-12-2026", f"Faktura {wrong_amount.display_number}", "600,00"),
        ("02-12-2026", "Ukendt indbetaling", "42,00"),
        ("02-12-2026", "Husleje", "-9.000,00"),
        # a 15-digit number with a bad check digit is not a payment id
        ("03-12-2026", "Ref 000000000000019", "1,00"),
    )
    batch, errors = bank_import.import_statement(db, None, "dec.csv", content)
    assert errors == []
    statuses = [line.status for line in batch.lines]
    assert statuses == [
        BankLineStatus.MATCHED,
        BankLineStatus.MATCHED,
        BankLineStatus.UNMATCHED,
        BankLineStatus.UNMATCHED,
        BankLineStatus.OUTGOING,
        BankLineStatus.UNMATCHED,
    ]
    assert batch.lines[2].suggested_invoice_id == wrong_amount.id
    assert (by_id.paid_ore, by_id.status) == (40000, InvoiceStatus.PARTLY_PAID)
    assert (by_number.paid_ore, by_number.status) == (50000, InvoiceStatus.PAID)
    assert wrong_amount.paid_ore == 0
    payment = db.scalar(select(Payment).where(Payment.invoice_id == by_id.id))
    assert payment.method == PaymentMethod.BANK
    assert payment.external_id == batch.lines[0].fingerprint


def test_an_over_payment_by_payment_id_is_recorded_in_full(app, db, ctx):
    invoice = factories.issued_invoice(total_ore=100000)
    db.flush()
    bank_import.import_statement(
        db, None, "x.csv", statement(("01-12-2026", invoice.payment_id, "1.100,00"))
    )
    assert (invoice.paid_ore, invoice.status) == (110000, InvoiceStatus.PAID)
    from invoices.payments import overpaid_ore

    assert overpaid_ore(invoice) == 10000


def test_importing_the_same_file_twice_records_nothing_twice(app, db, ctx):
    invoice = factories.issued_invoice(total_ore=20000)
    db.flush()
    content = statement(
        ("01-12-2026", f"FI {invoice.payment_id}", "100,00"),
        ("01-12-2026", f"FI {invoice.payment_id}", "100,00"),  # really paid twice
    )
    bank_import.import_statement(db, None, "a.csv", content)
    assert invoice.paid_ore == 20000
    second, _ = bank_import.import_statement(db, None, "a-again.csv", content)
    assert [line.status for line in second.lines] == [BankLineStatus.DUPLICATE] * 2
    assert invoice.paid_ore == 20000
    assert db.scalar(select(func.count()).select_from(Payment)) == 2


def test_finance_uploads_a_statement_and_matches_a_line_by_hand(client, db, as_role):
    invoice = factories.issued_invoice(total_ore=30000)
    db.commit()
    as_role(Role.FINANCE)
    content = statement(
        ("01-12-2026", f"Faktura {invoice.display_number}", "100,00"),
        ("01-12-2026", "Fra Virksomhed", "50,00"),
    )
    response = post_form(
        client,
        "/finance/bank-import",
        {"statement": (io.BytesIO(content), "kontoudtog.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.text
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Fra Virksomhed" in page.text and invoice.display_number in page.text
    line = db.scalar(select(BankLine).where(BankLine.text.like("Faktura%")))
    assert line.status == BankLineStatus.UNMATCHED  # amount differs from the open amount
    result = post_form(
        client,
        f"/finance/bank-import/lines/{line.id}/match",
        {"invoice_number": invoice.display_number},
        page=response.headers["Location"],
    )
    assert result.status_code == 302
    db.expire_all()
    assert db.get(BankLine, line.id).status == BankLineStatus.MANUAL
    invoice = db.get(Invoice, invoice.id)
    assert (invoice.paid_ore, invoice.status) == (10000, InvoiceStatus.PARTLY_PAID)
    page = client.get(response.headers["Location"])
    assert "200,00" in page.text  # still open, shown as a part payment
    # The other line still waits on the upload page.
    assert "Fra Virksomhed" in client.get("/finance/bank-import").text


def test_a_bad_upload_shows_a_message_and_changes_nothing(client, db, as_role):
    as_role(Role.FINANCE)
    response = post_form(
        client,
        "/finance/bank-import",
        {"statement": (io.BytesIO(b"nothing useful here"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Dato" in response.text
    assert db.scalar(select(func.count()).select_from(BankLine)) == 0


def test_only_finance_imports_statements(client, db, as_role):
    as_role(Role.EMPLOYER)
    assert client.get("/finance/bank-import").status_code == 403


def upload(client, content: bytes, filename: str = "kontoudtog.csv"):
    return post_form(
        client,
        "/finance/bank-import",
        {"statement": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (statement(("01-12-2026", "Ind\x00betaling", "100,00")), "kontoudtog.csv"),
        (statement(("01-12-2026", "Indbetaling", "100,00")), "konto\x00udtog.csv"),
    ],
    ids=["nul-in-a-line", "nul-in-the-file-name"],
)
def test_a_nul_byte_in_a_statement_is_refused_with_a_message(
    client, db, as_role, content, filename
):
    as_role(Role.FINANCE)
    response = upload(client, content, filename)
    assert response.status_code == 400
    assert "NUL" in response.text
    assert db.scalar(select(func.count()).select_from(BankLine)) == 0


@pytest.mark.parametrize("amount", ["100000000000000000000,00", "92233720368547758,08"])
def test_amounts_beyond_any_column_are_reported_not_stored(client, db, as_role, amount):
    as_role(Role.FINANCE)
    content = statement(("01-12-2026", "Kæmpe", amount), ("01-12-2026", "Normal", "10,00"))
    response = upload(client, content)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Linje 2" in page.text  # the unreadable line is named
    assert db.scalar(select(func.count()).select_from(BankLine)) == 1  # the other is kept


def test_the_documented_maximum_of_lines_is_imported_in_one_request(client, db, as_role):
    """20,000 lines (README) in one post: no line queries the database on its own, so the
    import fits well within a web worker's timeout (make bench times it)."""
    invoices = [factories.issued_invoice(total_ore=10000) for _ in range(50)]
    db.commit()
    as_role(Role.FINANCE)
    rows = [
        (
            "01-12-2026",
            f"Betaling {invoices[n % 50].payment_id}" if n < 50 else f"Ukendt {n}",
            "100,00",
        )
        for n in range(bank_import.MAX_LINES)
    ]
    response = upload(client, statement(*rows))
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(BankLine)) == bank_import.MAX_LINES
    assert db.scalar(select(func.count()).select_from(Payment)) == 50
    assert (
        db.scalar(select(func.count()).select_from(Invoice).where(Invoice.paid_ore == 10000)) == 50
    )
