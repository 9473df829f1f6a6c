"""Helpers the tests share: post forms like a browser (CSRF token and one-time key from the
page), log in, read e-mails, and the test infrastructure the fixtures in conftest.py use (the
SMTP mailbox, a client that closes responses as a server does, a rolled-back session)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import secrets
import socket
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

from alembic.config import Config
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core import dates
from portal.security import limiter
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def einvoice_rules_dir() -> str:
    """The published e-invoice rules the tests validate with (../shared/einvoice, or where
    PORTAL_EINVOICE_RULES_DIR points). Missing rules fail the run: they are never skipped."""
    candidates = [
        os.environ.get("PORTAL_EINVOICE_RULES_DIR"),
        ROOT.parent / "shared" / "einvoice",
        "/work/shared/einvoice",  # the workplace's copy, for a clone made elsewhere
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "ubl-2.1").is_dir():
            return str(candidate)
    raise RuntimeError(
        "The e-invoice rules are missing: put the UBL 2.1 schema and the Peppol rules in "
        "../shared/einvoice or set PORTAL_EINVOICE_RULES_DIR (see the README)."
    )


def _test_now() -> datetime:
    """The moment the tests run at: TEST_NOW as an ISO instant (e.g. 2026-12-31T23:30:00Z),
    or "real" for the moment the run starts; by default a fixed Wednesday morning in December
    2026 (the fixed dates of the tests, November 2026, lie behind it)."""
    chosen = os.environ.get("TEST_NOW", "").strip()
    if not chosen:
        return datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
    if chosen == "real":
        return dates.now()
    moment = datetime.fromisoformat(chosen.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"TEST_NOW={chosen!r} needs a zone, e.g. 2026-12-31T23:30:00Z")
    return moment.astimezone(UTC)


# Read once, when the run starts: every test of the run shares it.
TEST_NOW = _test_now()


def travelled_env(env: dict[str, str] | None = None, at: datetime | None = None) -> dict[str, str]:
    """The environment for a child process that should live at this test's moment (`at`, by
    default the test's own clock): it starts there and ticks on (tests/clock/sitecustomize.py
    moves its clock; time-machine cannot reach into another process)."""
    env = dict(os.environ if env is None else env)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests" / "clock"), *([path] if path else [])])
    env["TEST_TRAVEL_TO"] = (at or dates.now()).isoformat()
    return env


# One prefix for the whole run: the limiter is a single object shared by both apps.
RATE_LIMIT_PREFIX = f"test-{os.getpid()}-{secrets.token_hex(3)}"
# CI=true: tests that need PostgreSQL, Redis or Chromium fail instead of skipping.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


class Mailbox:
    """Collects what arrives at the test SMTP server."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._open = threading.Event()
        self._open.set()

    @contextmanager
    def stalled(self):
        """A mail server that accepts nothing until the block ends (a slow one)."""
        self._open.clear()
        try:
            yield
        finally:
            self._open.set()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        while not self._open.is_set():
            await asyncio.sleep(0.01)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    def clear(self) -> None:
        self.messages.clear()


def body(message: Message) -> str:
    """The text part of an e-mail, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


def link_in(message: Message) -> str:
    """The path of the first link to this site in an e-mail."""
    match = re.search(r"http://localhost(/\S+)", body(message))
    assert match, body(message)
    return match.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ClosingClient(FlaskClient):
    """A test client that closes every response as a server does once it has sent it (the
    request's upload files go with it, and what the app does after the response, such as
    sending the e-mail a request committed to the outbox, happens then)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        if kwargs["buffered"]:
            response.close()  # the body stays readable
        # Werkzeug closes the posted body (a temporary file for a large upload) only on
        # redirects it follows; close it here, as a server would.
        response.request.input_stream.close()
        return response


@contextmanager
def queue_unreachable(app):
    """The job queue's Redis cannot be reached (a port nothing listens on): wake-ups fail and
    are logged, nothing is sent in this process, and the outbox rows wait, as they would
    after a worker died or with Redis down in production."""
    jobs = app.extensions["jobs"]
    saved = jobs.mode, jobs.redis_url, jobs._queue
    jobs.mode, jobs.redis_url, jobs._queue = "rq", f"redis://127.0.0.1:{free_port()}/0", None
    try:
        yield
    finally:
        jobs.mode, jobs.redis_url, jobs._queue = saved


def alembic_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


@contextmanager
def rolled_back(app):
    """A session inside a transaction that is rolled back at the end; the app's own sessions
    join the same transaction (their commits become savepoints)."""
    database = app.extensions["db"]
    connection = database.engine.connect()
    transaction = connection.begin()
    original = database.sessionmaker
    database.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    factories.bind(session)
    try:
        # Services called directly need an app context; requests made meanwhile reuse it, so
        # the app clears its per-request state (session, user) at the end of each request.
        with app.app_context():
            yield session
    finally:
        factories.bind(None)
        session.close()
        database.sessionmaker = original
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def reset_limits(app) -> None:
    """Forget the rate-limit counters. The limiter is one object that every create_app()
    reconfigures (tests build several apps), so clear whatever storage it has now, and this
    run's keys in Redis as well."""
    limiter.reset()
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis

        with Redis.from_url(redis_url) as redis:
            keys = list(redis.scan_iter(f"LIMITS:LIMITER/{RATE_LIMIT_PREFIX}/*"))
            if keys:
                redis.delete(*keys)


def csrf_token_in(html: str) -> str | None:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    return match.group(1) if match else None


def one_time_key(html: str) -> str | None:
    """The first form's one-time key on a page (portal.forms.OnceForm)."""
    match = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html)
    return match.group(1) if match else None


def csrf_token(client, path: str) -> str:
    """Fetch a page and read the CSRF token from its form."""
    page = client.get(path)
    token = csrf_token_in(page.text)
    assert token, f"no CSRF token on {path} ({page.status_code})"
    return token


def post_form(client, path: str, data: dict, page: str | None = None, **kwargs):
    """Post like a browser: take the CSRF token (and the form's one-time key, unless the test
    gives one) from the page that shows the form."""
    shown = client.get(page or path)
    token = csrf_token_in(shown.text)
    assert token, f"no CSRF token on {page or path} ({shown.status_code})"
    hidden = {"csrf_token": token}
    key = one_time_key(shown.text)
    if key:
        hidden["idempotency_key"] = key
    return client.post(path, data={**hidden, **data}, **kwargs)


def login(client, user_or_email, password: str = factories.PASSWORD):
    address = getattr(user_or_email, "email", user_or_email)
    response = post_form(client, "/auth/login", {"email": address, "password": password})
    assert response.status_code == 302, response.text
    return response


@contextmanager
def statements(engine):
    """The SQL statements the engine runs inside the block (a list, filled as they run)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
