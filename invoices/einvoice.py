"""An issued invoice's e-invoice: built from the frozen invoice (invoices.ubl), checked with
the loaded rules (invoices.einvoice_rules) and refused when any rule fails fatally, so that
nothing is stored or sent that a receiving access point would reject."""

from __future__ import annotations

from sqlalchemy.orm import Session
from stdnum import ean as gln
from stdnum.dk import cvr as cvr_number

from core import extensions
from core.errors import Conflict
from core.i18n import gettext as _
from core.models import Invoice
from core.snapshots import BuyerSnapshot
from invoices import ubl
from invoices.einvoice_rules import EinvoiceRules, Finding


class EinvoiceRejected(Conflict):
    """The e-invoice breaks a rule (the findings say which, by rule id)."""

    def __init__(self, number: str, findings: list[Finding]) -> None:
        self.findings = findings
        listed = "; ".join(str(f) for f in findings[:5])
        super().__init__(f"E-invoice {number} fails the rules: {listed}")


def rules() -> EinvoiceRules | None:
    """The app's rules (invoices.init_app loads them from EINVOICE_RULES_DIR), or None."""
    return extensions.get("einvoice_rules") if extensions.has("einvoice_rules") else None


def enabled() -> bool:
    return rules() is not None


def xml(session: Session, invoice: Invoice, timesheet_pdf: bytes | None) -> bytes:
    """The invoice's validated e-invoice; EinvoiceRejected when a rule fails fatally."""
    credited = (
        session.get(Invoice, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
    )
    content = ubl.build(ubl.Document(invoice, credited, timesheet_pdf))
    checker = rules()
    if checker is not None:
        report = checker.check(content)
        if not report.ok:
            raise EinvoiceRejected(invoice.display_number, report.fatal)
    return content


def problems(buyer: BuyerSnapshot) -> list[str]:
    """Why an invoice to this buyer would bounce, checked before a number is taken: a public
    body (EAN) needs a valid location number and an order number or a person reference
    (PEPPOL-EN16931-R003; a municipality holds payment without them), and every customer a
    valid CVR number (DK-R-017)."""
    found = []
    if not cvr_number.is_valid(buyer.cvr or ""):
        found.append(_("the CVR number is missing or wrong"))
    if buyer.ean:
        if not gln.is_valid(buyer.ean) or len(buyer.ean) != 13:
            found.append(_("the EAN number %(ean)s has a wrong check digit", ean=buyer.ean))
        if not (buyer.order_reference or buyer.person_reference):
            found.append(
                _("a public body (EAN) needs an order number or a person reference on the order")
            )
    return found
