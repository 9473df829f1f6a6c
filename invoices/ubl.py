"""E-invoices: an issued invoice or credit note as a UBL 2.1 document (DOMAIN-DK.md § 5).

Built from the frozen invoice only (its lines, totals, buyer and seller snapshots, payment
id, moment of issue) plus the archived timesheet PDF, so building it again gives the same
bytes. The format sits behind a small seam, `Profile`: today Peppol BIS Billing 3.0 with the
Danish rules (`PeppolBis3`); Denmark's NemHandel BIS 4, expected from 2028, becomes a second
profile. Pure: no database, no Flask; validation is `invoices.einvoice_rules`."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from lxml import etree

from core.models import Invoice
from core.snapshots import BuyerSnapshot, SellerSnapshot
from invoices.numbering import CREDITOR_PATTERN

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
ROOTS = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
CVR_SCHEME, GLN_SCHEME = "0184", "0088"  # Danish CVR number; GS1 location number (EAN)


class Profile(Protocol):
    """One e-invoice format: what it is called, and how it writes an issued document."""

    name: str

    def build(self, document: Document) -> bytes: ...


@dataclass(frozen=True)
class Document:
    """What an e-invoice is made of: the issued invoice or credit note, the invoice a credit
    note corrects, and the approved timesheet PDF to carry inside (an invoice's own)."""

    invoice: Invoice
    credited: Invoice | None = None
    timesheet_pdf: bytes | None = None


def kroner(ore: int) -> str:
    """12345 -> '123.45' (UBL amounts: a dot, two decimals)."""
    return str((Decimal(ore) / 100).quantize(Decimal("0.01")))


def percent(basis_points: int) -> str:
    """2500 -> '25', 1025 -> '10.25'."""
    value = Decimal(basis_points) / 100
    return str(value.quantize(Decimal(1)) if value == value.to_integral() else value)


class _Writer:
    """Appends UBL elements in document order, leaving out empty values (PEPPOL-R008)."""

    def __init__(self, root: str) -> None:
        self.root = etree.Element(
            f"{{{ROOTS[root]}}}{root}", nsmap={None: ROOTS[root], "cac": CAC, "cbc": CBC}
        )

    @staticmethod
    def cbc(parent, name: str, value: str | None, **attributes: str):
        if value is None or value == "":
            return None
        element = etree.SubElement(parent, f"{{{CBC}}}{name}", attributes)
        element.text = value
        return element

    @staticmethod
    def cac(parent, name: str):
        return etree.SubElement(parent, f"{{{CAC}}}{name}")

    def amount(self, parent, name: str, ore: int):
        return self.cbc(parent, name, kroner(ore), currencyID="DKK")


class PeppolBis3:
    """Peppol BIS Billing 3.0 (UBL 2.1 Invoice and CreditNote) with the Danish DK-R rules,
    checked against rule release 2026.5 (BIS 3.0.21)."""

    name = "Peppol BIS Billing 3.0"
    customization = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    process = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

    def build(self, document: Document) -> bytes:
        invoice = document.invoice
        credit = invoice.is_credit_note
        seller = SellerSnapshot.from_json(invoice.seller)
        buyer = BuyerSnapshot.from_json(invoice.buyer)
        out = _Writer("CreditNote" if credit else "Invoice")
        root = out.root
        out.cbc(root, "CustomizationID", self.customization)
        out.cbc(root, "ProfileID", self.process)
        out.cbc(root, "ID", invoice.display_number)
        out.cbc(root, "IssueDate", _iso(invoice.issue_date))
        if not credit:
            out.cbc(root, "DueDate", _iso(invoice.due_date))
        out.cbc(
            root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380"
        )
        out.cbc(root, "Note", invoice.reason or None)  # a credit note's reason; one note at most
        out.cbc(root, "DocumentCurrencyCode", "DKK")
        # PEPPOL-EN16931-R003: a buyer reference or an order reference. A public body gives
        # its person reference (and the run refuses an EAN customer without either); a
        # company without one is referred to by its own CVR number.
        out.cbc(root, "BuyerReference", buyer.person_reference or buyer.cvr or buyer.name)
        period = out.cac(root, "InvoicePeriod")
        out.cbc(period, "StartDate", _iso(invoice.period_start))
        out.cbc(period, "EndDate", _iso(invoice.period_end))
        if buyer.order_reference:
            out.cbc(out.cac(root, "OrderReference"), "ID", buyer.order_reference)
        if credit and document.credited is not None:
            reference = out.cac(out.cac(root, "BillingReference"), "InvoiceDocumentReference")
            out.cbc(reference, "ID", document.credited.display_number)
            out.cbc(reference, "IssueDate", _iso(document.credited.issue_date))
        if document.timesheet_pdf:
            self._attachment(out, invoice, document.timesheet_pdf)
        self._supplier(out, seller)
        self._customer(out, buyer)
        if not credit:
            self._payment_means(out, invoice, seller)
        self._totals(out, invoice)
        for line in invoice.lines:
            self._line(out, invoice, line, credit)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def _attachment(self, out: _Writer, invoice: Invoice, pdf: bytes) -> None:
        """The approved timesheet inside: the approver sees who confirmed and approved each
        shift, and when (Peppol allows PDF attachments, DOMAIN-DK.md § 5)."""
        reference = out.cac(out.root, "AdditionalDocumentReference")
        out.cbc(reference, "ID", f"Timeseddel {invoice.display_number}")
        out.cbc(reference, "DocumentDescription", "Godkendt timeseddel")
        attachment = out.cac(reference, "Attachment")
        out.cbc(
            attachment,
            "EmbeddedDocumentBinaryObject",
            base64.b64encode(pdf).decode("ascii"),
            mimeCode="application/pdf",
            filename=f"timeseddel-{invoice.display_number}.pdf",
        )

    def _address(self, out: _Writer, party, line: str, postcode: str, city: str) -> None:
        address = out.cac(party, "PostalAddress")
        out.cbc(address, "StreetName", line)
        out.cbc(address, "CityName", city)
        out.cbc(address, "PostalZone", postcode)
        out.cbc(out.cac(address, "Country"), "IdentificationCode", "DK")

    def _tax_scheme(self, out: _Writer, party, cvr: str) -> None:
        scheme = out.cac(party, "PartyTaxScheme")
        out.cbc(scheme, "CompanyID", f"DK{cvr}")
        out.cbc(out.cac(scheme, "TaxScheme"), "ID", "VAT")

    def _supplier(self, out: _Writer, seller: SellerSnapshot) -> None:
        party = out.cac(out.cac(out.root, "AccountingSupplierParty"), "Party")
        out.cbc(party, "EndpointID", seller.cvr, schemeID=CVR_SCHEME)
        out.cbc(out.cac(party, "PartyName"), "Name", seller.legal_name)
        self._address(out, party, seller.address_line, seller.postcode, seller.city)
        self._tax_scheme(out, party, seller.cvr)
        legal = out.cac(party, "PartyLegalEntity")
        out.cbc(legal, "RegistrationName", seller.legal_name)
        out.cbc(legal, "CompanyID", seller.cvr, schemeID=CVR_SCHEME)  # DK-R-014
        if seller.phone or seller.email:
            contact = out.cac(party, "Contact")
            out.cbc(contact, "Telephone", seller.phone)
            out.cbc(contact, "ElectronicMail", seller.email)

    def _customer(self, out: _Writer, buyer: BuyerSnapshot) -> None:
        party = out.cac(out.cac(out.root, "AccountingCustomerParty"), "Party")
        # A public body receives by its EAN location number; a company by its CVR number.
        if buyer.ean:
            out.cbc(party, "EndpointID", buyer.ean, schemeID=GLN_SCHEME)
        else:
            out.cbc(party, "EndpointID", buyer.cvr, schemeID=CVR_SCHEME)
        out.cbc(out.cac(party, "PartyName"), "Name", buyer.name)
        self._address(out, party, buyer.address_line, buyer.postcode, buyer.city)
        legal = out.cac(party, "PartyLegalEntity")
        out.cbc(legal, "RegistrationName", buyer.name)
        out.cbc(legal, "CompanyID", buyer.cvr, schemeID=CVR_SCHEME)  # DK-R-017
        if buyer.person_reference or buyer.email:
            contact = out.cac(party, "Contact")
            out.cbc(contact, "Name", buyer.person_reference)
            out.cbc(contact, "ElectronicMail", buyer.email)

    def _payment_means(self, out: _Writer, invoice: Invoice, seller: SellerSnapshot) -> None:
        """The one way the seller is paid (UBL-SR-47 allows one payment means code): the
        FI-kort +71 line (DK-R-010, DK-R-011) when the seller has a creditor number, else
        the Danish bank account with its reg. no. (DK-R-006), else the IBAN."""
        means = out.cac(out.root, "PaymentMeans")
        if invoice.payment_id and CREDITOR_PATTERN.fullmatch(seller.fi_creditor_number or ""):
            out.cbc(means, "PaymentMeansCode", "93")
            out.cbc(means, "PaymentID", f"71#{invoice.payment_id}")
            out.cbc(out.cac(means, "PayeeFinancialAccount"), "ID", seller.fi_creditor_number)
            return
        reference = invoice.payment_id or invoice.display_number
        if seller.bank_reg and seller.bank_account:
            out.cbc(means, "PaymentMeansCode", "42")
            out.cbc(means, "PaymentID", reference)
            account = out.cac(means, "PayeeFinancialAccount")
            out.cbc(account, "ID", seller.bank_account)
            out.cbc(out.cac(account, "FinancialInstitutionBranch"), "ID", seller.bank_reg)
        elif seller.iban:
            out.cbc(means, "PaymentMeansCode", "58")
            out.cbc(means, "PaymentID", reference)
            account = out.cac(means, "PayeeFinancialAccount")
            out.cbc(account, "ID", seller.iban.replace(" ", ""))
            if seller.bic:
                out.cbc(out.cac(account, "FinancialInstitutionBranch"), "ID", seller.bic)
        else:
            out.root.remove(means)  # no way to pay given: the rules then say what is missing

    def _tax_category(self, out: _Writer, parent, name: str, rate_bp: int) -> None:
        category = out.cac(parent, name)
        out.cbc(category, "ID", "S")
        out.cbc(category, "Percent", percent(rate_bp))
        out.cbc(out.cac(category, "TaxScheme"), "ID", "VAT")

    def _totals(self, out: _Writer, invoice: Invoice) -> None:
        tax = out.cac(out.root, "TaxTotal")
        out.amount(tax, "TaxAmount", invoice.vat_ore)
        subtotal = out.cac(tax, "TaxSubtotal")
        out.amount(subtotal, "TaxableAmount", invoice.subtotal_ore)
        out.amount(subtotal, "TaxAmount", invoice.vat_ore)
        self._tax_category(out, subtotal, "TaxCategory", invoice.vat_rate_bp)
        money = out.cac(out.root, "LegalMonetaryTotal")
        out.amount(money, "LineExtensionAmount", invoice.subtotal_ore)
        out.amount(money, "TaxExclusiveAmount", invoice.subtotal_ore)
        out.amount(money, "TaxInclusiveAmount", invoice.total_ore)
        out.amount(money, "PayableAmount", invoice.total_ore)

    def _line(self, out: _Writer, invoice: Invoice, line, credit: bool) -> None:
        element = out.cac(out.root, "CreditNoteLine" if credit else "InvoiceLine")
        out.cbc(element, "ID", str(line.position))
        # The quantity as printed on the PDF (hours to two decimals, or pieces), priced per
        # unit: quantity × price is the line amount to the øre (PEPPOL-EN16931-R120), the same
        # rule the customer recomputes on paper (core.money).
        out.cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            _decimal(line.quantity_hundredths),
            unitCode=line.unit_code,
        )
        out.amount(element, "LineExtensionAmount", line.amount_ore)
        if line.period_start and line.period_end:
            period = out.cac(element, "InvoicePeriod")
            out.cbc(period, "StartDate", _iso(line.period_start))
            out.cbc(period, "EndDate", _iso(line.period_end))
        item = out.cac(element, "Item")
        out.cbc(item, "Name", line.description)
        self._tax_category(out, item, "ClassifiedTaxCategory", invoice.vat_rate_bp)
        price = out.cac(element, "Price")
        out.amount(price, "PriceAmount", line.rate_ore)


def _decimal(hundredths: int) -> str:
    """708 -> '7.08' (UBL decimals: a point, no grouping)."""
    sign = "-" if hundredths < 0 else ""
    hundredths = abs(hundredths)
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


PROFILE: Profile = PeppolBis3()


def build(document: Document) -> bytes:
    """The document in today's profile."""
    return PROFILE.build(document)
