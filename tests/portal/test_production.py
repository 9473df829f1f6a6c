"""Smoke test of the production stack: `make serve` (migrations, gunicorn, an RQ worker and
the outbox sender) on PostgreSQL and Redis, driven over real HTTP like a browser would
(tests/stack.py).

Runs when TEST_DATABASE_URL and REDIS_URL are set (CI sets both); with CI=true it fails
rather than skips when they are missing."""

from __future__ import annotations

import re

import pytest

from core import dates
from tests.invoicing import pdf_text
from tests.stack import REDIS, Browser, Stack, fresh_database, require_services, separate_redis_db

pytestmark = pytest.mark.production


@pytest.fixture
def stack(tmp_path):
    require_services("the production smoke test")
    with fresh_database("portal_smoke") as url:
        running = Stack(url, separate_redis_db(REDIS), tmp_path).start()
        try:
            yield running
        finally:
            running.stop()


def test_production_stack_logs_in_runs_invoicing_through_the_queue_and_serves_the_pdf(stack):
    base, log_path = stack.base, stack.log_path
    seeded = stack.flask("demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "finance@demo.dk" in seeded.stdout

    browser = Browser(base)
    status, _url, page = browser.get("/auth/login")
    assert status == 200
    status, url, page = browser.post(
        "/auth/login",
        [
            ("csrf_token", browser.csrf(page)),
            ("email", "finance@demo.dk"),
            ("password", "demo-password"),
        ],
    )
    assert status == 200 and url == base + "/", url
    assert b"finance@demo.dk" in page or "Økonomi".encode() in page

    today = dates.today().isoformat()
    employers, run_page = browser.invoice_everyone(today, stack.log)
    invoice_ids = browser.invoice_ids(run_page)
    assert len(invoice_ids) == employers, run_page.decode()

    status, _url, detail = browser.get(f"/finance/invoices/{invoice_ids[0]}")
    number = re.search(rb"F-\d{4}-\d{4}", detail).group(0).decode()
    status, _url, pdf = browser.get(f"/invoices/{invoice_ids[0]}/invoice.pdf")
    assert status == 200
    assert pdf.startswith(b"%PDF")
    text_of_pdf = pdf_text(pdf)
    assert number in text_of_pdf
    assert "Faktura" in text_of_pdf

    # The job really ran in the RQ worker, not inline in gunicorn.
    assert "portal: invoices.runs.run_job" in log_path.read_text()
