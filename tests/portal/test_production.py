"""Smoke test of the production stack: `make serve` (migrations, gunicorn, an RQ worker and
the outbox sender) on PostgreSQL and Redis, driven over real HTTP like a browser would
(tests/stack.py).

Runs when TEST_DATABASE_URL and REDIS_URL are set (CI sets both); with CI=true it fails
rather than skips when they are missing."""

from __future__ import annotations

import re
import time
import urllib.parse

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
    status, _url, preview = browser.get(f"/finance/invoicing?period_end={today}&cadence=")
    assert status == 200
    employer_ids = re.findall(rb'name="employer_ids" value="(\d+)"', preview)
    assert employer_ids, "the demo data has approved hours to invoice"
    status, run_url, run_page = browser.post(
        "/finance/invoicing/issue",
        [
            ("csrf_token", browser.csrf(preview)),
            ("period_end", today),
            ("cadence", ""),
            *[("employer_ids", i.decode()) for i in employer_ids],
        ],
    )
    assert status == 200 and "/finance/runs/" in run_url, run_url
    run_path = urllib.parse.urlsplit(run_url).path

    # The worker process issues the invoices; the run page refreshes itself until it is done.
    deadline = time.monotonic() + 180
    while b'http-equiv="refresh"' in run_page:
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(1)
        _status, _url, run_page = browser.get(run_path)
    assert b"form-errors" not in run_page, run_page.decode()
    invoice_ids = sorted(set(re.findall(rb'href="/finance/invoices/(\d+)"', run_page)))
    assert len(invoice_ids) == len(employer_ids), run_page.decode()

    status, _url, detail = browser.get(f"/finance/invoices/{invoice_ids[0].decode()}")
    number = re.search(rb"F-\d{4}-\d{4}", detail).group(0).decode()
    status, _url, pdf = browser.get(f"/invoices/{invoice_ids[0].decode()}/invoice.pdf")
    assert status == 200
    assert pdf.startswith(b"%PDF")
    text_of_pdf = pdf_text(pdf)
    assert number in text_of_pdf
    assert "Faktura" in text_of_pdf

    # The job really ran in the RQ worker, not inline in gunicorn.
    assert "portal: invoices.runs.run_job" in log_path.read_text()
