"""Smoke test of the production stack: `make serve` (migrations, gunicorn and an RQ worker) on
PostgreSQL and Redis, driven over real HTTP like a browser would.

Runs when TEST_DATABASE_URL and REDIS_URL are set (CI sets both); with CI=true it fails
rather than skips when they are missing. The session cookie: production marks cookies Secure,
and a well-behaved client (like urllib's cookie jar here, or any browser) never sends a Secure
cookie over plain http, so log-in could not work on a TLS-less loopback port. The stack is
therefore started with PORTAL_SESSION_COOKIE_SECURE=false, the documented switch for exactly
this local use; everything else is production configuration.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core import dates
from tests.helpers import IN_CI, ROOT, free_port, travelled_env
from tests.invoicing import pdf_text

pytestmark = pytest.mark.production

DATABASE = os.environ.get("TEST_DATABASE_URL")
REDIS = os.environ.get("REDIS_URL")


def _require_services() -> None:
    if DATABASE and REDIS:
        return
    message = "the production smoke test needs TEST_DATABASE_URL (PostgreSQL) and REDIS_URL"
    if IN_CI:
        pytest.fail(message + " (CI=true: not skipping)")
    pytest.skip(message)


def _separate_redis_db(url: str) -> str:
    """Another Redis database number than the test suite's, so that no other worker on the
    same server (another test run) takes this stack's jobs, and this one takes none of theirs."""
    parts = urllib.parse.urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{(number + 7) % 16}"))


@pytest.fixture
def smoke_database():
    _require_services()
    base = make_url(DATABASE)
    name = f"portal_smoke_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def stack(smoke_database, tmp_path):
    """`make serve` on a free loopback port; yields (base url, environment, log path)."""
    port = free_port()
    env = travelled_env(
        {
            **os.environ,
            "PORTAL_DATABASE_URL": smoke_database,
            "REDIS_URL": _separate_redis_db(REDIS),
            "PORTAL_SECRET_KEY": secrets.token_hex(32),
            "PORTAL_SESSION_COOKIE_SECURE": "false",
            "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
            "PORTAL_OUTBOX_DIR": str(tmp_path / "outbox"),
            "WEB_CONCURRENCY": "2",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
    )
    env.pop("PORTAL_REDIS_URL", None)
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log_path)
        yield base, env, log_path
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _wait_until_up(base: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"make serve exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(base + "/auth/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"make serve did not answer within 2 minutes:\n{log_path.read_text()}")


class Browser:
    """A real HTTP client with a cookie jar: GET pages, POST forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[int, str, bytes]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.url, response.read()

    def post(self, path: str, fields: list[tuple[str, str]]) -> tuple[int, str, bytes]:
        data = urllib.parse.urlencode(fields).encode()
        with self.opener.open(self.base + path, data=data, timeout=60) as response:
            return response.status, response.url, response.read()

    @staticmethod
    def csrf(page: bytes) -> str:
        match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1).decode()


def test_production_stack_logs_in_runs_invoicing_through_the_queue_and_serves_the_pdf(stack):
    base, env, log_path = stack
    seeded = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "demo"],
        cwd=ROOT,
        env={**env, "PORTAL_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=120,
    )
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
