"""An issued invoice's e-invoice: built from the frozen invoice (invoices.ubl), checked with
the loaded rules (invoices.einvoice_rules) and refused when any rule fails fatally, so that
nothing is stored or sent that a receiving access point would reject."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import extensions
from core.errors import Conflict
from core.models import Invoice
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
