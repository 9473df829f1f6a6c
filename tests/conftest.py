"""Fixtures: the app on SQLite (and PostgreSQL when TEST_DATABASE_URL is set), built through
the real migrations; each test inside a transaction that is rolled back; a real SMTP server."""

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
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from alembic import command
from alembic.config import Config
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from portal import create_app
from portal.security import limiter
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
# One prefix for the whole run: the limiter is a single object shared by both apps.
RATE_LIMIT_PREFIX = f"test-{os.getpid()}-{secrets.token_hex(3)}"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_collection_modifyitems(config, items):
    # Tests marked postgres_only run on the PostgreSQL instance of the app only.
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        if item.get_closest_marker("postgres_only") and on_sqlite:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))


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


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    _, box = smtp_server
    box.clear()
    return box


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        # CI sets TEST_DATABASE_URL: an unreachable server must fail the run, never skip.
        pytest.exit(f"PostgreSQL at {base!r} is unreachable: {error}", returncode=1)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class ClosingClient(FlaskClient):
    """A test client that closes every response as a server does once it has sent it (the
    request's upload files go with it), and returns once the e-mail a request committed has
    been sent (in the app it leaves beside the response, core.mail.Postbox)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        if kwargs["buffered"]:
            response.close()  # the body stays readable
        # Werkzeug closes the posted body (a temporary file for a large upload) only on
        # redirects it follows; close it here, as a server would.
        response.request.input_stream.close()
        self.application.extensions["postbox"].wait()
        return response


def alembic_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


@pytest.fixture(scope="session")
def app(database_url, smtp_server, tmp_path_factory):
    controller, _ = smtp_server
    app = create_app(
        {
            "ENV": "testing",
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("REDIS_URL"),
            "JOBS": "inline",  # tests of the RQ path switch it on and run a worker themselves
            # Our own keys in a shared Redis, so clearing them never touches another run's.
            "RATELIMIT_KEY_PREFIX": RATE_LIMIT_PREFIX,
            "SMTP_HOST": controller.hostname,
            "SMTP_PORT": controller.port,
            "BASE_URL": "http://localhost",
            "OUTBOX_DIR": str(tmp_path_factory.mktemp("outbox")),
        }
    )
    app.test_client_class = ClosingClient
    engine = app.extensions["db"].engine
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    yield app
    engine.dispose()


@pytest.fixture
def engine(app):
    return app.extensions["db"].engine


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


@pytest.fixture
def db(app):
    """The test's session; everything it and the app write is rolled back afterwards."""
    with rolled_back(app) as session:
        yield session


@pytest.fixture
def ctx(app, db):
    """A request context for tests that call services that read the request (locale, URLs)."""
    with app.test_request_context("/"):
        yield


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


@pytest.fixture
def client(app, db):
    reset_limits(app)
    with app.test_client() as client:
        yield client
    reset_limits(app)


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


@pytest.fixture
def as_role(client, db):
    """Log the test client in as a fresh user of the given role."""

    def _login(role, **kwargs):
        user = factories.user_for(role, **kwargs)
        db.commit()
        login(client, user)
        return user

    return _login


@pytest.fixture
def committed(app, engine):
    """Real commits on the real engine, for concurrency tests: a sessionmaker. Every table is
    emptied afterwards; the schema and its migrations stay."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    try:
        with app.app_context():
            yield factory
    finally:
        from core.models import Base

        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            else:
                # Issued invoices refuse DELETE by trigger (they are immutable): drop the
                # triggers for the clean-up, and put them back.
                triggers = connection.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                ).all()
                for name, _sql in triggers:
                    connection.execute(text(f'DROP TRIGGER "{name}"'))
                connection.execute(text("PRAGMA defer_foreign_keys = ON"))
                for table in reversed(Base.metadata.sorted_tables):
                    connection.execute(table.delete())
                for _name, sql in triggers:
                    connection.execute(text(sql))
