"""E-invoices (Peppol BIS Billing 3.0 with the Danish rules, release 2026.5): every kind of
document the portal issues passes the UBL 2.1 schema and both rule sets with no fatal
assert, carries what a Danish receiver needs, and agrees with the PDF and the database."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from lxml import etree

from core.models import Role
from core.money import hours_hundredths
from invoices import credit, issuer, ubl
from invoices.einvoice import EinvoiceRejected, rules
from tests import factories
from tests.invoicing import (
    approved_entry,
    employer_with_hours,
    issue_run,
    organisation,
    pdf_text,
)

NS = {"cbc": ubl.CBC, "cac": ubl.CAC}


def parsed(xml: bytes):
    return etree.fromstring(xml)


def text(tree, path: str) -> str:
    return tree.findtext(path, namespaces=NS)


def assert_valid(xml: bytes) -> None:
    report = rules().check(xml)
    assert report.ok, [str(f) for f in report.fatal]


def issued(db, **kwargs):
    employer_with_hours(db, **kwargs)
    [invoice] = issue_run(db)
    return invoice


def test_an_invoice_to_a_company_without_ean(app, db, ctx):
    organisation(db)
    invoice = issued(db, weeks=2, cvr="13748136")
    assert invoice.ubl_xml and invoice.ubl_sha256 == hashlib.sha256(invoice.ubl_xml).hexdigest()
    assert_valid(invoice.ubl_xml)
    tree = parsed(invoice.ubl_xml)
    assert etree.QName(tree).localname == "Invoice"
    assert text(tree, "cbc:ID") == invoice.display_number
    endpoint = tree.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("0184", "13748136")
    supplier = tree.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert supplier.find("cbc:EndpointID", NS).get("schemeID") == "0184"
    assert text(supplier, "cac:PartyTaxScheme/cbc:CompanyID") == "DK13585628"
    # Amounts equal the database and the PDF to the øre.
    money = tree.find("cac:LegalMonetaryTotal", NS)
    assert Decimal(text(money, "cbc:PayableAmount")) * 100 == invoice.total_ore
    assert Decimal(text(money, "cbc:TaxExclusiveAmount")) * 100 == invoice.subtotal_ore
    assert Decimal(text(tree, "cac:TaxTotal/cbc:TaxAmount")) * 100 == invoice.vat_ore
    assert "3.780,00" in pdf_text(invoice.pdf) and text(money, "cbc:PayableAmount") == "3780.00"
    # The archived timesheet travels inside, byte for byte.
    embedded = tree.find(".//cbc:EmbeddedDocumentBinaryObject", NS)
    assert embedded.get("mimeCode") == "application/pdf"
    assert base64.b64decode(embedded.text) == invoice.timesheet_pdf
    # FI-kort +71 with the creditor number (the one payment means UBL-SR-47 allows).
    [means] = tree.findall("cac:PaymentMeans", NS)
    assert text(means, "cbc:PaymentMeansCode") == "93"
    assert text(means, "cbc:PaymentID") == f"71#{invoice.payment_id}"
    assert text(means, "cac:PayeeFinancialAccount/cbc:ID") == "81234567"


def test_an_invoice_to_a_municipality_by_ean_with_its_references(app, db, ctx):
    organisation(db)
    employer, [placement] = employer_with_hours(
        db, weeks=2, name="Odense Kommune", ean="5798000554504", cvr="29189579"
    )
    placement.job_order.order_reference = "PO-117"
    placement.job_order.person_reference = "Karen Park"
    [invoice] = issue_run(db)
    assert_valid(invoice.ubl_xml)
    tree = parsed(invoice.ubl_xml)
    endpoint = tree.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("0088", "5798000554504")
    assert text(tree, "cbc:BuyerReference") == "Karen Park"
    assert text(tree, "cac:OrderReference/cbc:ID") == "PO-117"
    legal = tree.find(
        "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID", NS
    )
    assert (legal.get("schemeID"), legal.text) == ("0184", "29189579")
    assert tree.find(".//cbc:EmbeddedDocumentBinaryObject", NS) is not None


@pytest.mark.parametrize("ways", ["fi", "bank", "iban"])
def test_fi_kort_else_the_bank_account_else_iban(app, db, ctx, ways):
    org = organisation(db)
    if ways != "fi":
        org.fi_creditor_number = ""
    if ways == "iban":
        org.bank_reg = org.bank_account = ""
    invoice = issued(db, weeks=1)
    assert_valid(invoice.ubl_xml)
    [means] = parsed(invoice.ubl_xml).findall("cac:PaymentMeans", NS)
    assert text(means, "cbc:PaymentMeansCode") == {"fi": "93", "bank": "42", "iban": "58"}[ways]
    account = means.find("cac:PayeeFinancialAccount", NS)
    if ways == "bank":
        assert text(account, "cbc:ID") == "0012345678"
        assert text(account, "cac:FinancialInstitutionBranch/cbc:ID") == "1234"
    if ways == "iban":
        assert text(account, "cbc:ID") == "DK5912340012345678"


def test_a_multi_week_invoice_with_several_workers_and_odd_minutes(app, db, ctx):
    """Line amount = quantity × price as the customer reads it, to the øre, even when the
    minutes make no whole hundredth of an hour (hours billed to two decimals per line)."""
    organisation(db)
    employer, placements = employer_with_hours(db, weeks=3, placements=3)
    for n, placement in enumerate(placements):
        placement.bill_rate_ore = 18700 + n * 37
        approved_entry(placement, date(2026, 11, 24), minutes=425 + n * 7)
    [invoice] = issue_run(db)
    assert_valid(invoice.ubl_xml)
    tree = parsed(invoice.ubl_xml)
    lines = tree.findall("cac:InvoiceLine", NS)
    assert len(lines) == len(invoice.lines) == 3 * 4  # three workers, four weeks
    for element, line in zip(lines, invoice.lines, strict=True):
        quantity = Decimal(text(element, "cbc:InvoicedQuantity"))
        price = Decimal(text(element, "cac:Price/cbc:PriceAmount"))
        amount = Decimal(text(element, "cbc:LineExtensionAmount"))
        assert element.find("cac:Price/cbc:BaseQuantity", NS) is None
        assert amount * 100 == line.amount_ore
        assert quantity * 100 == line.quantity_hundredths == hours_hundredths(line.minutes)
        # As the customer reads it: 7,32 hours × 187,74 kr. = 1.374,26 kr.
        assert (quantity * price).quantize(Decimal("0.01"), ROUND_HALF_UP) == amount
        assert element.find("cbc:InvoicedQuantity", NS).get("unitCode") == "HUR"
        period = element.find("cac:InvoicePeriod", NS)
        assert text(period, "cbc:StartDate") >= text(tree, "cac:InvoicePeriod/cbc:StartDate")
        assert text(period, "cbc:EndDate") <= text(tree, "cac:InvoicePeriod/cbc:EndDate")


@pytest.mark.parametrize("whole", [True, False], ids=["full", "partial"])
def test_credit_notes_reference_their_invoice(app, db, ctx, whole):
    organisation(db)
    finance = factories.UserFactory(role=Role.FINANCE)
    invoice = issued(db, weeks=2)
    lines = None if whole else [invoice.lines[0].id]
    note = credit.issue_credit_note(db, finance, invoice, lines, whole, "Forkerte timer")
    db.commit()
    issuer.complete(db, note)
    db.commit()
    assert_valid(note.ubl_xml)
    tree = parsed(note.ubl_xml)
    assert etree.QName(tree).localname == "CreditNote"
    assert text(tree, "cbc:CreditNoteTypeCode") == "381"
    assert (
        text(tree, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
        == invoice.display_number
    )
    assert text(tree, "cbc:Note") == "Forkerte timer"
    assert Decimal(text(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount")) * 100 == note.total_ore
    assert len(tree.findall("cac:CreditNoteLine", NS)) == (2 if whole else 1)


def test_the_rules_bite(app, db, ctx):
    """A wrong scheme for the supplier's CVR fails DK-R-014 by name, and such a document is
    refused before it is stored."""
    organisation(db)
    invoice = issued(db, weeks=1)
    broken = invoice.ubl_xml.replace(
        b'<cbc:CompanyID schemeID="0184">13585628', b'<cbc:CompanyID schemeID="0088">13585628'
    )
    assert {f.rule for f in rules().check(broken).fatal} >= {"DK-R-014"}
    assert [f.rule for f in rules().check(b"<Invoice/>").fatal] == ["XSD"]


def test_a_document_that_fails_the_rules_is_not_stored(app, db, ctx):
    """Without the seller's CVR the e-invoice breaks DK-R-002: the invoice keeps its number
    and stays "being prepared" (nothing stored, nothing sent) until the data is put right."""
    org = organisation(db)
    org.cvr = ""
    employer_with_hours(db, weeks=1)
    [invoice] = issue_run(db)
    assert invoice.number is not None and invoice.ubl_xml is None
    assert not invoice.documents_ready
    with pytest.raises(EinvoiceRejected, match="DK-R-002"):
        issuer.complete(db, invoice)


def test_finance_and_the_employer_download_it_and_the_cli_prints_it(app, client, db, as_role):
    organisation(db)
    employer, _ = employer_with_hours(db, weeks=1)
    [invoice] = issue_run(db)
    employer_user = factories.user_for(Role.EMPLOYER, employer=employer)
    db.commit()
    from tests.helpers import login

    login(client, employer_user)
    page = client.get(f"/invoices/{invoice.id}")
    assert "Hent e-faktura (XML)" in page.text
    response = client.get(f"/invoices/{invoice.id}/einvoice.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.data == invoice.ubl_xml
    assert f'filename="{invoice.display_number}.xml"' in response.headers["Content-Disposition"]
    other = factories.issued_invoice(number=9001)  # another employer's
    db.commit()
    assert client.get(f"/invoices/{other.id}/einvoice.xml").status_code == 404

    runner = app.test_cli_runner()
    result = runner.invoke(args=["invoices", "ubl", invoice.display_number])
    assert result.exit_code == 0, result.output
    assert result.output.encode() == invoice.ubl_xml
    missing = runner.invoke(args=["invoices", "ubl", "F-1999-0001"])
    assert missing.exit_code != 0 and "No issued invoice or credit note" in missing.output


def test_the_admin_sees_which_rule_release_is_loaded(client, db, as_role):
    as_role(Role.ADMIN)
    page = client.get("/admin/settings").text
    assert "E-fakturaer" in page and "regelsæt 2026.5" in page


def test_a_public_body_without_references_is_left_out_with_the_reason(client, db, as_role):
    """Caught before the run, not after: the preview says why, the run leaves the employer
    out with that reason (no number taken), and the others are invoiced."""
    from sqlalchemy import select

    from core.models import Invoice, InvoiceRun
    from tests.helpers import post_form
    from tests.invoicing import PERIOD_END

    organisation(db)
    employer_with_hours(db, weeks=1, name="Odense Kommune", ean="5798000554504", cvr="29189579")
    employer_with_hours(db, weeks=1, name="Bad EAN", ean="5798000554505", cvr="29189579")
    fine, _ = employer_with_hours(db, weeks=1, name="Frugt ApS")
    as_role(Role.FINANCE)
    path = f"/finance/invoicing?period_end={PERIOD_END.isoformat()}&cadence="
    page = client.get(path).text
    assert page.count('name="employer_ids"') == 1  # only Frugt ApS can be chosen
    assert "Udelades: en offentlig myndighed (EAN) skal have et ordrenummer" in page
    assert "EAN-nummeret 5798000554505 har et forkert kontrolciffer" in page
    response = post_form(
        client,
        "/finance/invoicing/issue",
        {"period_end": PERIOD_END.isoformat(), "cadence": "", "everyone": "y"},
        page=path,
    )
    assert response.status_code == 302
    db.expire_all()
    [invoice] = db.scalars(select(Invoice)).all()
    assert invoice.employer_id == fine.id and invoice.number == 1
    [run] = db.scalars(select(InvoiceRun)).all()
    assert len(run.errors) == 2
    assert any("Odense Kommune faktureres ikke" in error for error in run.errors)
    run_page = client.get(f"/finance/runs/{run.id}").text
    assert "Odense Kommune faktureres ikke" in run_page


def test_the_checks(app, ctx):
    from core.snapshots import BuyerSnapshot
    from invoices.einvoice import problems

    assert problems(BuyerSnapshot(cvr="13585628")) == []
    assert problems(BuyerSnapshot(cvr="13585628", ean="5798000554504", person_reference="KP")) == []
    assert len(problems(BuyerSnapshot(cvr="13585627"))) == 1
    assert len(problems(BuyerSnapshot(cvr="13585628", ean="5798000554504"))) == 1
    assert len(problems(BuyerSnapshot(cvr="", ean="579800055450", order_reference="PO"))) == 2


def test_the_employer_sets_its_ean_for_invoices_from_now_on(client, db, as_role):
    from sqlalchemy import select

    from core.models import AuditEvent, Employer
    from tests.helpers import post_form

    user = as_role(Role.EMPLOYER)
    page = client.get("/company/invoicing")
    assert page.status_code == 200 and "Faktureringsoplysninger" in page.text
    wrong = post_form(
        client,
        "/company/invoicing",
        {"invoice_email": "bogholderi@kommune.dk", "ean": "5798000554505"},
    )
    assert wrong.status_code == 400 and "Ikke et gyldigt EAN-nummer" in wrong.text
    db.expire_all()
    assert db.get(Employer, user.employer_id).ean is None  # nothing changed
    saved = post_form(
        client,
        "/company/invoicing",
        {"invoice_email": "bogholderi@kommune.dk", "ean": "5798000554504"},
    )
    assert saved.status_code == 302
    db.expire_all()
    employer = db.get(Employer, user.employer_id)
    assert (employer.ean, employer.invoice_email) == ("5798000554504", "bogholderi@kommune.dk")
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == employer.id))
    assert "employer.invoicing_changed" in list(actions)
