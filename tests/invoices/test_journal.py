"""The bookkeeping journal: balanced vouchers on the accounts an admin sets, the CSV that
bookkeeping systems import, fees and interest as a receivable of their own, and the
reconciliation page, on the demo data too."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from core import dates
from core.db import database
from core.models import (
    Invoice,
    InvoiceKind,
    OrganisationSettings,
    Payment,
    PaymentMethod,
    Reminder,
    Role,
)
from invoices import credit, journal, payments, reconciliation, runs
from invoices.journal import Kind
from portal import demo
from tests import factories
from tests.helpers import post_form
from tests.invoicing import issue_run, organisation

NOV_2 = date(2026, 11, 2)
PERIOD = (date(2026, 11, 1), date(2026, 11, 30))


def on(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def ore(text: str) -> int:
    """'-1250,00' -> -125000 (the file's plain kroner)."""
    return int(text.replace(",", "")) if text else 0


def csv_rows(text: str) -> list[list[str]]:
    return [line.split(";") for line in text.lstrip("\ufeff").strip().split("\r\n")]


@pytest.fixture
def books(app, db):
    """One of every kind of voucher in November 2026, on the default accounts."""
    organisation(db)
    employer = factories.EmployerFactory(name="Frugtlageret Fyn ApS")
    invoice = factories.issued_invoice(employer, total_ore=125000, issue_date=NOV_2)
    other = factories.issued_invoice(employer, total_ore=50000, issue_date=NOV_2)
    note = factories.issued_invoice(
        employer,
        total_ore=25000,
        issue_date=date(2026, 11, 5),
        kind=InvoiceKind.CREDIT_NOTE,
        credited_invoice=invoice,
        pdf=None,
        timesheet_pdf=None,
    )
    invoice.credited_ore = 25000
    reminder = factories.ReminderFactory(
        invoice=other,
        sent_on=date(2026, 11, 20),
        fee_ore=10000,
        interest_ore=274,
        compensation_ore=31000,
    )
    record = payments.record_payment
    bank = record(db, invoice, 60000, PaymentMethod.BANK, "bank:1", on(date(2026, 11, 10)))
    card = record(db, invoice, 40000, PaymentMethod.CARD, "pi_1", on(date(2026, 11, 11)))
    manual = record(db, other, 91274, PaymentMethod.MANUAL, "manual:1", on(date(2026, 11, 21)))
    refund = payments.record_refund(
        db, invoice, 5000, PaymentMethod.BANK, "manual:r", on(date(2026, 11, 25))
    )
    card_refund = record(
        db, invoice, -1000, PaymentMethod.CARD, "pi_1:refund:1000", on(date(2026, 11, 26))
    )
    unassigned = record(db, None, 7000, PaymentMethod.BANK, "bank:2", on(date(2026, 11, 27)))
    db.flush()
    return {
        "invoice": invoice,
        "other": other,
        "note": note,
        "reminder": reminder,
        "bank": bank,
        "card": card,
        "manual": manual,
        "refund": refund,
        "card_refund": card_refund,
        "unassigned": unassigned,
    }


def lines(voucher) -> list[tuple[str, int]]:
    return [(line.account, line.amount_ore) for line in voucher.lines]


def test_every_kind_of_voucher_balances_on_its_accounts(app, db, books):
    vouchers = {v.number: v for v in journal.journal(db, *PERIOD)}
    assert all(v.balanced and v.debit_ore > 0 for v in vouchers.values())
    invoice, note, reminder = books["invoice"], books["note"], books["reminder"]
    assert lines(vouchers[invoice.display_number]) == [
        ("6190", 125000),  # debitorer
        ("1010", -100000),  # salg
        ("7680", -25000),  # salgsmoms
    ]
    assert vouchers[invoice.display_number].date == NOV_2
    assert vouchers[note.display_number].kind == Kind.CREDIT_NOTE
    assert lines(vouchers[note.display_number]) == [
        ("6190", -25000),
        ("1010", 20000),
        ("7680", 5000),
    ]
    assert invoice.display_number in vouchers[note.display_number].text
    # Fees and compensation are fee income, interest is interest income; no VAT on either.
    assert lines(vouchers[f"R-{reminder.id}"]) == [
        ("6190", 41274),
        ("1550", -41000),
        ("3490", -274),
    ]
    bank, card, manual = books["bank"], books["card"], books["manual"]
    assert lines(vouchers[f"B-{bank.id}"]) == [("6480", 60000), ("6190", -60000)]
    assert lines(vouchers[f"B-{card.id}"]) == [("6330", 40000), ("6190", -40000)]  # Stripe
    assert lines(vouchers[f"B-{manual.id}"]) == [("6480", 91274), ("6190", -91274)]
    # Refunds: the reverse, from the account the money went back from.
    refund, card_refund = books["refund"], books["card_refund"]
    assert vouchers[f"B-{refund.id}"].kind == Kind.REFUND
    assert lines(vouchers[f"B-{refund.id}"]) == [("6480", -5000), ("6190", 5000)]
    assert lines(vouchers[f"B-{card_refund.id}"]) == [("6330", -1000), ("6190", 1000)]
    unassigned = vouchers[f"B-{books['unassigned'].id}"]
    assert lines(unassigned) == [("6480", 7000), ("6190", -7000)]
    assert "ikke placeret på en faktura" in unassigned.text
    # In date order, and nothing outside the period.
    assert [v.date for v in vouchers.values()] == sorted(v.date for v in vouchers.values())
    assert journal.journal(db, date(2026, 12, 1), date(2026, 12, 31)) == []


def test_an_unbalanced_voucher_is_never_exported(app, db):
    organisation(db)
    factories.InvoiceFactory(  # subtotal + VAT is not the total
        year=2026,
        number=9999,
        issue_date=NOV_2,
        subtotal_ore=8000,
        vat_ore=2001,
        total_ore=10000,
        buyer={"name": "Skæv ApS"},
    )
    with pytest.raises(journal.Unbalanced):
        journal.journal(db, *PERIOD)


def test_the_csv_is_one_row_per_posting_in_the_import_layout(client, db, as_role, books):
    as_role(Role.FINANCE)
    response = client.get("/finance/journal.csv?date_from=2026-11-01&date_to=2026-11-30")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.text.startswith("\ufeff")  # Excel then reads æ, ø and å
    assert "kassekladde-2026-11-01-2026-11-30.csv" in response.headers["Content-Disposition"]
    rows = csv_rows(response.text)
    assert rows[0] == ["Dato", "Bilag", "Konto", "Tekst", "Beløb", "Debet", "Kredit"]
    body = rows[1:]
    invoice = books["invoice"]
    assert [
        "02-11-2026",
        invoice.display_number,
        "6190",
        f"Faktura {invoice.display_number}, Frugtlageret Fyn ApS",
        "1250,00",
        "1250,00",
        "",
    ] in body
    assert ["1010", "-1000,00", "", "1000,00"] in [[r[2], *r[4:]] for r in body]
    # Every voucher sums to zero, and Debet/Kredit say the same as the signed amount.
    by_voucher: dict[str, int] = {}
    for _day, number, _account, _text, amount, debit, credit_ in body:
        by_voucher[number] = by_voucher.get(number, 0) + ore(amount)
        assert ore(amount) == ore(debit) - ore(credit_)
    assert set(by_voucher.values()) == {0}
    assert len(by_voucher) == 10  # 3 documents, a reminder, 6 payments and refunds
    # The refund and the payment not on an invoice are in it.
    refund, unassigned = books["refund"], books["unassigned"]
    assert [r[2:5] for r in body if r[1] == f"B-{refund.id}"] == [
        [
            "6480",
            f"Tilbagebetaling bankoverførsel fra {invoice.display_number}, Frugtlageret Fyn ApS",
            "-50,00",
        ],
        [
            "6190",
            f"Tilbagebetaling bankoverførsel fra {invoice.display_number}, Frugtlageret Fyn ApS",
            "50,00",
        ],
    ]
    assert [r[4] for r in body if r[1] == f"B-{unassigned.id}"] == ["70,00", "-70,00"]
    # A period that makes no sense is refused.
    bad = client.get("/finance/journal.csv?date_from=2026-12-01&date_to=2026-11-01")
    assert bad.status_code == 400


def test_the_cli_prints_the_journal(app, db, books):
    db.commit()
    runner = app.test_cli_runner()

    def invoke(*args):
        with app.app_context():  # each command in its own context, as from a shell
            return runner.invoke(args=["invoices", "journal", *args])

    result = invoke("--from", "2026-11-01", "--to", "2026-11-30")
    assert result.exit_code == 0, result.output
    # (the runner shows the file's CRLF line ends as LF)
    assert result.output.startswith("Dato;Bilag;Konto;Tekst;Beløb;Debet;Kredit\n")
    assert f";{books['note'].display_number};6190;" in result.output
    assert invoke("--from", "2026-11-30", "--to", "2026-11-01").exit_code != 0
    assert invoke("--from", "1. november", "--to", "2026-11-01").exit_code != 0


def test_the_admin_sets_an_account_and_the_export_uses_it(client, db, as_role, books):
    as_role(Role.ADMIN)
    page = client.get("/admin/settings").text
    assert 'name="account_sales"' in page and 'value="1010"' in page
    settings = {
        "legal_name": "Småjob Fyn",
        "cvr": "13585628",
        "address_line": "Kongensgade 40",
        "postcode": "5000",
        "city": "Odense C",
        "email": "kontakt@smajob.dk",
        "bank_reg": "1234",
        "bank_account": "0012345678",
        "vat_rate_bp": "25",
        "payment_terms_days": "14",
        "invoice_series": "F",
        "credit_note_series": "K",
        "reminder_fee_ore": "100",
        "late_interest_rate_bp": "10",
        "compensation_ore": "310",
        "auto_approve_days": "3",
        "payroll_wage_type": "1",
        "account_receivables": "5600",
        "account_sales": "1000",
        "account_output_vat": "14260",
        "account_bank": "5820",
        "account_card_clearing": "5830",
        "account_fee_income": "1100",
        "account_interest_income": "8100",
    }
    for bad in ("12a", "12345678901", ""):
        refused = post_form(client, "/admin/settings", {**settings, "account_sales": bad})
        assert refused.status_code == 400 and 'aria-invalid="true"' in refused.text
    assert post_form(client, "/admin/settings", settings).status_code == 302
    org = db.get(OrganisationSettings, 1)
    db.refresh(org)
    assert (org.account_sales, org.account_output_vat) == ("1000", "14260")

    body = csv_rows(client.get("/finance/journal.csv?date_from=2026-11-01&date_to=2026-11-30").text)
    invoice = books["invoice"].display_number
    assert [r[2] for r in body if r[1] == invoice] == ["5600", "1000", "14260"]
    assert [r[2] for r in body if r[1] == f"B-{books['card'].id}"] == ["5830", "5600"]
    assert [r[2] for r in body if r[1] == f"R-{books['reminder'].id}"] == ["5600", "1100", "8100"]


def test_fees_interest_and_compensation_paid_are_not_over_payment(app, db):
    organisation(db)
    invoice = factories.issued_invoice(total_ore=100000)
    factories.ReminderFactory(invoice=invoice, fee_ore=10000, interest_ore=274)
    payments.record_payment(db, invoice, 110274, PaymentMethod.BANK, "bank:a")
    assert payments.charges_ore(db, invoice) == 10274
    assert payments.overpaid_ore(invoice) == 0  # the invoice and its reminder's charges
    payments.record_payment(db, invoice, 500, PaymentMethod.BANK, "bank:b")
    assert payments.overpaid_ore(invoice) == 500  # only what is beyond both
    # Without reminders nothing changes: everything beyond the total is over-paid.
    plain = factories.issued_invoice(total_ore=100000)
    payments.record_payment(db, plain, 110274, PaymentMethod.BANK, "bank:c")
    assert payments.overpaid_ore(plain) == 10274


def test_the_bank_import_page_says_over_paid_only_beyond_the_charges(client, db, as_role):
    organisation(db)
    invoice = factories.issued_invoice(total_ore=100000)
    factories.ReminderFactory(invoice=invoice, fee_ore=10000, interest_ore=0)
    payment = payments.record_payment(db, invoice, 110000, PaymentMethod.BANK, "bank:x")
    line = factories.BankLineFactory(
        amount_ore=110000,
        status=factories.m.BankLineStatus.MATCHED,
        invoice_id=invoice.id,
        payment_id=payment.id,
    )
    db.commit()
    as_role(Role.FINANCE)
    page = client.get(f"/finance/bank-import/{line.import_id}").text
    assert invoice.display_number in page and "overbetalt" not in page
    payments.record_payment(db, invoice, 2500, PaymentMethod.BANK, "bank:y")
    db.commit()
    page = client.get(f"/finance/bank-import/{line.import_id}").text
    assert "overbetalt med 25,00\xa0kr." in page


def test_the_reconciliation_page_shows_both_sides_and_what_explains_them(
    client, db, as_role, books
):
    as_role(Role.FINANCE)
    response = client.get("/finance/reconciliation?date_from=2026-11-01&date_to=2026-11-30")
    assert response.status_code == 200
    page = response.text
    # Invoiced − credited = sales + VAT: 1.750 − 250 = 1.500 kr.; 1.200 + 300 kr.
    for figure in ("1.750,00", "-250,00", "1.500,00", "1.200,00", "300,00"):
        assert f"{figure}\xa0kr." in page, figure
    # Payments: card 400 − 10, bank 600 + 912,74 − 50 + 70 = 1.532,74; in all 1.922,74.
    for figure in ("390,00", "1.532,74", "1.922,74"):
        assert f"{figure}\xa0kr." in page, figure
    # Charges 410 + 2,74; the debtors: 1.750 − 250 − 1.922,74 + 412,74 = -10,00 kr.
    for figure in ("410,00", "2,74", "412,74", "-10,00"):
        assert f"{figure}\xa0kr." in page, figure
    # The payment not on an invoice and the refunds are listed with their vouchers.
    for payment in ("unassigned", "refund", "card_refund"):
        assert f"B-{books[payment].id}" in page
    # Over-paid: none. The invoice got 1.000 − 50 − 10 on 1.250 less 250 credited, 60 kr.
    # short; the other invoice's 912,74 paid its 500 and all of its 412,74 charges exactly.
    assert books["invoice"].display_number in page
    assert "0,00\xa0kr." in page  # the differences
    assert 'class="badge warn"' not in page  # everything reconciles
    assert (
        client.get("/finance/reconciliation?date_from=2026-12-01&date_to=2026-11-01").status_code
        == 400
    )
    assert client.get("/finance/reconciliation?date_from=nonsense").status_code == 400


def test_the_reconciliation_explains_the_debtors_balance_to_the_ore(app, db, books):
    result = reconciliation.reconcile(db, *PERIOD)
    assert result.reconciles
    sales, paid, charges, debtors = (
        result.sales,
        result.payments,
        result.charges,
        result.receivables,
    )
    assert (sales.invoiced_ore, sales.credited_ore) == (175000, 25000)
    assert (sales.sales_ore, sales.vat_ore) == (120000, 30000)
    assert (paid.card_ore, paid.bank_ore) == (39000, 153274)
    assert (paid.journal_card_ore, paid.journal_bank_ore) == (39000, 153274)
    assert paid.unassigned.count == 1 and paid.unassigned.total_ore == 7000
    assert paid.refunds.count == 2 and paid.refunds.total_ore == -6000
    assert (charges.fees_ore, charges.interest_ore) == (41000, 274)
    # 1.750 − 250 − 1.922,74 + 412,74 = −10,00: the invoice still owes 40, the payment not on
    # an invoice (70) is money received; the other invoice and its charges are paid exactly.
    assert debtors.records_ore == debtors.journal_ore == -1000
    assert debtors.open_on_invoices_ore == 6000
    assert debtors.unassigned.total_ore == -7000
    assert debtors.overpaid.count == 0 and debtors.charges_open.count == 0
    assert debtors.made_up_ore == debtors.records_ore
    # A month later a customer over-pays and a reminder is left unpaid.
    later = date(2026, 12, 15)
    other = books["other"]
    payments.record_payment(db, other, 1500, PaymentMethod.BANK, "bank:z", on(later))
    open_charge = factories.ReminderFactory(
        invoice=books["invoice"], level=1, sent_on=later, fee_ore=10000, interest_ore=0
    )
    result = reconciliation.reconcile(db, date(2026, 12, 1), date(2026, 12, 31))
    assert result.reconciles
    debtors = result.receivables
    assert [(i.number, i.amount_ore) for i in debtors.overpaid.listed] == [
        (other.display_number, -1500)
    ]
    assert [(i.number, i.amount_ore) for i in debtors.charges_open.listed] == [
        (books["invoice"].display_number, 10000)
    ]
    assert open_charge.invoice_id == books["invoice"].id
    assert debtors.made_up_ore == debtors.records_ore == debtors.journal_ore == -1000 - 1500 + 10000
    # A credit note that names no invoice still lowers the balance, and is listed.
    stray = factories.issued_invoice(total_ore=2000, issue_date=later, kind=InvoiceKind.CREDIT_NOTE)
    debtors = reconciliation.reconcile(db, date(2026, 12, 1), date(2026, 12, 31)).receivables
    assert [(i.number, i.amount_ore) for i in debtors.credits_without_invoice.listed] == [
        (stray.display_number, -2000)
    ]
    assert debtors.made_up_ore == debtors.records_ore == debtors.journal_ore == 7500 - 2000


@pytest.mark.parametrize("role", [Role.EMPLOYER, Role.WORKER, Role.CONSULTANT])
def test_only_finance_and_admin_see_the_books(client, db, as_role, role):
    as_role(role)
    for path in ("/finance/journal.csv", "/finance/reconciliation"):
        assert client.get(path).status_code == 403


def test_the_books_need_a_login(client, db):
    for path in ("/finance/journal.csv", "/finance/reconciliation"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_demo_journal_balances_and_reconciles_to_the_ore(app, db, ctx, mailbox):
    """The demo's invoices (its history, then the demo invoice run), plus what finance does
    next: payments by bank, card and hand, a part payment, a refund, a payment not on an
    invoice, a credit note and a reminder's charges."""
    demo.load(db)
    db.commit()
    demo.invoice_history(database().sessionmaker)
    today = dates.today()
    # The demo as `make run` leaves it: its invoices and the payments on them, journalled and
    # reconciled to the øre.
    db.expire_all()
    as_loaded = journal.journal(db, date(2000, 1, 1), today)
    assert as_loaded and all(v.balanced for v in as_loaded)
    assert {v.kind for v in as_loaded} >= {Kind.INVOICE, Kind.PAYMENT}
    loaded = reconciliation.reconcile(db, date(2000, 1, 1), today)
    assert loaded.reconciles and loaded.payments.records_ore > 0
    assert loaded.payments.records_ore == sum(p.amount_ore for p in db.scalars(select(Payment)))
    if runs.billable_employer_ids(db, today):
        issue_run(db, today)
    db.expire_all()
    invoices = db.scalars(
        select(Invoice).where(Invoice.kind == InvoiceKind.INVOICE).order_by(Invoice.id)
    ).all()
    assert invoices, "the demo issues invoices"
    first, second, third = (invoices[n % len(invoices)] for n in range(3))
    finance = factories.UserFactory(role=Role.FINANCE)
    day = max(i.issue_date for i in invoices)
    record = payments.record_payment
    record(db, first, first.total_ore, PaymentMethod.BANK, "demo:bank", on(day))
    record(db, second, second.total_ore // 3, PaymentMethod.CARD, "demo:card", on(day))
    payments.record_refund(db, first, 1000, PaymentMethod.BANK, "demo:refund", on(day))
    record(db, None, 12345, PaymentMethod.BANK, "demo:unassigned", on(day))
    note = credit.issue_credit_note(db, finance, third, [third.lines[0].id], False, "Rettelse")
    db.commit()
    factories.ReminderFactory(
        invoice=second,
        sent_on=day,
        principal_ore=second.open_ore,
        fee_ore=10000,
        interest_ore=123,
        compensation_ore=31000,
    )
    record(db, third, third.open_ore + 777, PaymentMethod.MANUAL, "demo:manual", on(day))
    db.commit()

    start = min(i.issue_date for i in invoices).replace(day=1)
    end = max(day, note.issue_date)
    vouchers = journal.journal(db, start, end)
    assert vouchers and all(v.balanced for v in vouchers)
    assert len({v.number for v in vouchers}) == len(vouchers)  # bilag numbers are unique
    sums = journal.totals_by_role(vouchers)
    assert sum(sums.values()) == 0

    documents = db.scalars(select(Invoice).where(Invoice.number.is_not(None))).all()
    invoiced = sum(d.total_ore for d in documents if d.kind == InvoiceKind.INVOICE)
    credited = sum(d.total_ore for d in documents if d.kind == InvoiceKind.CREDIT_NOTE)
    received = sum(p.amount_ore for p in db.scalars(select(Payment)))
    charged = sum(
        r.fee_ore + r.interest_ore + r.compensation_ore for r in db.scalars(select(Reminder))
    )
    assert credited == note.total_ore > 0
    assert charged == 41123
    assert -(sums[journal.Role.SALES] + sums[journal.Role.OUTPUT_VAT]) == invoiced - credited
    assert sums[journal.Role.BANK] + sums[journal.Role.CARD_CLEARING] == received
    assert -(sums[journal.Role.FEE_INCOME] + sums[journal.Role.INTEREST_INCOME]) == charged
    assert sums[journal.Role.RECEIVABLES] == invoiced - credited - received + charged

    result = reconciliation.reconcile(db, start, end)
    assert result.reconciles
    assert result.receivables.made_up_ore == result.receivables.journal_ore
    assert result.payments.unassigned.total_ore == 12345
    assert result.payments.refunds.total_ore == -1000
    assert result.sales.records_ore == invoiced - credited


def test_a_period_at_the_end_of_time_is_refused_not_a_500(client, db, as_role):
    """9999-12-31 has no next day: found by the hostile query strings, kept here for good."""
    as_role(Role.FINANCE)
    for path in ("/finance/journal.csv", "/finance/reconciliation", "/finance/bookkeeping.csv"):
        for query in ("date_to=9999-12-31", "date_from=0001-01-01&date_to=0001-01-02"):
            assert client.get(f"{path}?{query}").status_code == 400, (path, query)
