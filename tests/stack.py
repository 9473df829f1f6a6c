"""The production stack for tests: `make serve` (migrations, then gunicorn, the RQ worker and
the outbox sender under supervisord) on PostgreSQL and Redis, on a free loopback port, driven
over real HTTP by a client with a cookie jar.

Production marks cookies Secure, and a well-behaved client (like urllib's cookie jar here, or
any browser) never sends a Secure cookie over plain http, so log-in could not work on a
TLS-less loopback port: the stack is started with PORTAL_SESSION_COOKIE_SECURE=false, the
documented switch for exactly this local use; everything else is production configuration."""

from __future__ import annotations

import contextlib
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
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers import IN_CI, ROOT, free_port, travelled_env

DATABASE = os.environ.get("TEST_DATABASE_URL")
REDIS = os.environ.get("REDIS_URL")


def require_services(what: str) -> None:
    if DATABASE and REDIS:
        return
    message = f"{what} needs TEST_DATABASE_URL (PostgreSQL) and REDIS_URL"
    if IN_CI:
        pytest.fail(message + " (CI=true: not skipping)")
    pytest.skip(message)


def separate_redis_db(url: str, offset: int = 7) -> str:
    """Another Redis database number than the test suite's, so that no other worker on the
    same server (another test run) takes this stack's jobs, and this one takes none of theirs."""
    parts = urllib.parse.urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{(number + offset) % 16}"))


@contextlib.contextmanager
def fresh_database(prefix: str):
    """A PostgreSQL database of the test's own; its URL."""
    base = make_url(DATABASE)
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Stack:
    """`make serve` in a process group of its own, at the test's moment."""

    def __init__(self, database_url: str, redis_url: str, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(workdir) / "serve.log"
        self.env = travelled_env(
            {
                **os.environ,
                "PORTAL_DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "PORTAL_SECRET_KEY": secrets.token_hex(32),
                "PORTAL_SESSION_COOKIE_SECURE": "false",
                "PORTAL_BASE_URL": self.base,
                "PORTAL_OUTBOX_DIR": str(Path(workdir) / "outbox"),
                "WEB_CONCURRENCY": "2",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                **env,
            }
        )
        self.env.pop("PORTAL_REDIS_URL", None)
        self.process: subprocess.Popen | None = None

    def start(self) -> Stack:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "serve"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole below
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"make serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base + "/auth/login", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        pytest.fail(f"make serve did not answer within 2 minutes:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def flask(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """A `flask --app wsgi ...` command against the stack's database, as an operator."""
        return subprocess.run(
            [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env={**self.env, "PORTAL_ENV": "production"},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def pids(self, command: str) -> list[int]:
        """The stack's processes whose command line contains `command`."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.getsid(int(entry.name)) != self.process.pid:
                    continue
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if command in line:
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """SIGTERM to the whole stack, then wait until every process of it has gone (the
        worker finishes its job first); SIGKILL what is left after a minute."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        deadline = time.monotonic() + 60
        while self.pids("") and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in self.pids(""):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


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

    def log_in(self, email: str, password: str) -> tuple[int, str, bytes]:
        _status, _url, page = self.get("/auth/login")
        fields = [("csrf_token", self.csrf(page)), ("email", email), ("password", password)]
        return self.post("/auth/login", fields)

    @staticmethod
    def csrf(page: bytes) -> str:
        match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1).decode()

    def invoice_everyone(self, period_end: str, log: Callable[[], str]) -> tuple[int, bytes]:
        """As finance: preview a run up to `period_end`, issue it for every employer listed,
        and wait (up to 3 minutes) until the worker has finished it; (employers, run page)."""
        _status, _url, preview = self.get(f"/finance/invoicing?period_end={period_end}&cadence=")
        employer_ids = re.findall(rb'name="employer_ids" value="(\d+)"', preview)
        assert employer_ids, "nothing to invoice"
        status, run_url, run_page = self.post(
            "/finance/invoicing/issue",
            [
                ("csrf_token", self.csrf(preview)),
                ("period_end", period_end),
                ("cadence", ""),
                *[("employer_ids", i.decode()) for i in employer_ids],
            ],
        )
        assert status == 200 and "/finance/runs/" in run_url, run_url
        run_path = urllib.parse.urlsplit(run_url).path
        # The worker issues the invoices; the run page refreshes itself until it is done.
        deadline = time.monotonic() + 180
        while b'http-equiv="refresh"' in run_page:
            assert time.monotonic() < deadline, log()
            time.sleep(1)
            _status, _url, run_page = self.get(run_path)
        assert b"form-errors" not in run_page, run_page.decode()
        return len(employer_ids), run_page

    @staticmethod
    def invoice_ids(run_page: bytes) -> list[str]:
        return sorted(
            {i.decode() for i in re.findall(rb'href="/finance/invoices/(\d+)"', run_page)}
        )
