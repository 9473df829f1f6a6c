"""E-invoices: building and validating our documents (UBL schema plus both Peppol rule sets)
against validating the Danish Business Authority's own example invoice with the same rules,
and what compiling the rules once per process costs."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench import Row, benchmark, paired_median_ms, sqlite_database

INVOICES = 20
EXAMPLE = "examples-dk/BIS3_Invoice_Example_DK_Supplier_Master.xml"


@benchmark
def einvoice() -> list[Row]:
    from bench.invoice_run import run
    from core.models import Invoice
    from invoices import einvoice_rules, ubl
    from portal.config import Defaults

    directory = Path(Defaults.EINVOICE_RULES_DIR or "")
    if not (directory / "ubl-2.1").is_dir():
        return [Row("e-invoice", 0.0, f"skipped: no rules in {directory}")]
    # Real documents: a run over INVOICES employers × 48 shifts (a 4-sheet timesheet inside).
    from bench.invoice_run import make_app

    url = sqlite_database("einvoice")
    run(url, INVOICES, 1)
    app = make_app(url)
    with app.app_context(), app.extensions["db"].sessionmaker() as session:
        invoices = session.query(Invoice).order_by(Invoice.id).all()
        ours = [invoice.ubl_xml for invoice in invoices]
        documents = [ubl.Document(i, None, i.timesheet_pdf) for i in invoices]
        build_ms = []
        for document in documents:
            start = time.perf_counter()
            ubl.build(document)
            build_ms.append((time.perf_counter() - start) * 1000)
    # The rules compiled here, after the run's processes forked (Saxon does not survive a fork).
    started = time.perf_counter()
    rules = einvoice_rules.EinvoiceRules(directory)
    example = (directory / EXAMPLE).read_bytes()
    assert rules.check(example).ok
    compile_ms = (time.perf_counter() - started) * 1000
    assert all(ours) and all(rules.check(xml).ok for xml in ours)
    index = iter(range(10**9))
    check_ours, check_example = paired_median_ms(
        lambda: rules.check(ours[next(index) % len(ours)]), lambda: rules.check(example)
    )
    size = statistics.median(len(xml) for xml in ours) / 1024
    return [
        Row(
            f"e-invoice: validate one of ours ({size:.0f} KB with its timesheet)",
            check_ours,
            f"{check_ours / check_example:.2f}× the official DK example; all {len(ours)} pass",
        ),
        Row("e-invoice: validate the official DK example (same rules)", check_example, "baseline"),
        Row("e-invoice: build one (UBL from the frozen invoice)", statistics.median(build_ms)),
        Row(
            "e-invoice: load and compile the rules",
            compile_ms,
            "once per process, before the first document",
        ),
    ]
