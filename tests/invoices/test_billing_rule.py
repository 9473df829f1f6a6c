"""One billing rule for hours (issue 14, item 4): printed quantity × printed price = printed
amount, to the øre, on the page, in the PDF, in the e-invoice and in the payroll file."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from core.models import Role
from invoices import payroll, ubl
from invoices.einvoice import rules
from tests.invoicing import approved_entry, employer_with_hours, issue_run, organisation, pdf_text

NS = {"cbc": ubl.CBC, "cac": ubl.CAC}
TWO = Decimal("0.01")


def number(text: str) -> Decimal:
    """'1.323,96' -> Decimal('1323.96')."""
    return Decimal(text.replace(".", "").replace(",", "."))


def recomputes(quantity: str, price: str, amount: str) -> bool:
    """As a customer checks a line with a pocket calculator."""
    return (number(quantity) * number(price)).quantize(TWO, ROUND_HALF_UP) == number(amount)


def test_the_issue_example_recomputes_everywhere(app, db, client, as_role):
    """425 minutes at 187,00 kr.: 7,08 timer × 187,00 kr. = 1.323,96 kr. (not 1.324,58)."""
    organisation(db)
    employer, [placement] = employer_with_hours(db, weeks=0)
    placement.bill_rate_ore, placement.pay_rate_ore = 18700, 13333
    approved_entry(placement, date(2026, 11, 24), minutes=425)
    db.commit()
    with app.test_request_context("/"):
        [invoice] = issue_run(db)
    [line] = invoice.lines
    assert (line.minutes, line.quantity_hundredths, line.unit_code) == (425, 708, "HUR")
    assert line.amount_ore == 132396 and invoice.subtotal_ore == 132396

    as_role(Role.EMPLOYER, employer=employer)
    page = client.get(f"/invoices/{invoice.id}").text.replace("\xa0", " ")
    assert "7,08 timer × 187,00 kr. = 1.323,96 kr." in page

    text = pdf_text(invoice.pdf)
    assert re.search(r"7,08 timer 187,00 kr\. 1\.323,96 kr\.", text), text
    assert "Timer afregnes med to decimaler pr. linje" in text

    tree = etree.fromstring(invoice.ubl_xml)
    element = tree.find("cac:InvoiceLine", NS)
    quantity = element.find("cbc:InvoicedQuantity", NS)
    assert (quantity.text, quantity.get("unitCode")) == ("7.08", "HUR")
    assert element.findtext("cac:Price/cbc:PriceAmount", namespaces=NS) == "187.00"
    assert element.findtext("cbc:LineExtensionAmount", namespaces=NS) == "1323.96"
    assert rules().check(invoice.ubl_xml).ok

    # The worker is paid by the same rule: 7,08 timer × 133,33 kr. = 943,98 kr.
    export = payroll.create_export(db, None, date(2026, 11, 1), date(2026, 11, 30))
    [row] = list(csv.reader(io.StringIO(export.content.lstrip("\ufeff")), delimiter=";"))[1:-1]
    assert row[6:10] == ["425", "7,08", "133,33", "943,98"]


def test_every_line_of_a_run_recomputes_on_page_and_pdf(app, db, client, as_role):
    """Odd minutes and rates with øre: each printed line recomputes to the øre."""
    organisation(db)
    employer, placements = employer_with_hours(db, weeks=1, placements=3)
    for n, placement in enumerate(placements):
        placement.bill_rate_ore = 18733 + n * 1111
        for day, minutes in ((23, 97 + n), (25, 425 + 7 * n), (26, 1)):
            approved_entry(placement, date(2026, 11, day), minutes=minutes)
    db.commit()
    with app.test_request_context("/"):
        [invoice] = issue_run(db)
    as_role(Role.FINANCE)
    page = client.get(f"/finance/invoices/{invoice.id}").text.replace("\xa0", " ")
    rows = re.findall(
        r'<td class="num">([\d.,]+) timer?</td><td class="num">([\d.,]+) kr\.</td>'
        r'<td class="num">([\d.,]+) kr\.</td>',
        page,
    )
    assert len(rows) == len(invoice.lines) == 6
    assert all(recomputes(*row) for row in rows), rows
    # The PDF prints the same rows (its text runs the period's last date into the hours, so
    # look for each row the page showed).
    text = pdf_text(invoice.pdf)
    for quantity, price, amount in rows:
        assert f"{quantity} timer {price} kr. {amount} kr." in text
