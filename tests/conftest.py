"""Fixtures: the app on SQLite (and PostgreSQL when TEST_DATABASE_URL is set), built through
the real migrations; each test inside a transaction that is rolled back; a real SMTP server;
and every test at a moment it chose (the `clock` fixture)."""

from __future__ import annotations

import os
import secrets

import pytest
import time_machine
from aiosmtpd.controller import Controller
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from portal import create_app
from tests import factories
from tests.helpers import (
    RATE_LIMIT_PREFIX,
    TEST_NOW,
    ClosingClient,
    Mailbox,
    alembic_config,
    einvoice_rules_dir,
    free_port,
    login,
    reset_limits,
    rolled_back,
)

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def pytest_collection_modifyitems(config, items):
    # Tests marked postgres_only run on the PostgreSQL instance of the app only.
    for item in items:
        # A browser test waits for pages, scripts and webhooks as they happen: its clock
        # starts at the chosen moment and ticks. (Chromium itself keeps the machine's clock;
        # the portal's cookies carry no expiry date, so its cookie jar never disagrees.)
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.ticking)
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        if item.get_closest_marker("postgres_only") and on_sqlite:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL"))


@pytest.fixture(autouse=True)
def clock(request):
    """Every test runs at one chosen moment, frozen: TEST_NOW (tests/helpers.py), which
    `make test-clock` moves to the awkward ones. A test that needs another moment travels
    from here (`clock.move_to(...)`, or its own `time_machine.travel`); one marked `ticking`
    starts at the moment and lets time pass. A peer in its own process is started at the
    same moment (tests.helpers.travelled_env)."""
    tick = request.node.get_closest_marker("ticking") is not None
    with time_machine.travel(TEST_NOW, tick=tick) as traveller:
        yield traveller


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
            "EINVOICE_RULES_DIR": einvoice_rules_dir(),
            "EINVOICE_FOLDER": str(tmp_path_factory.mktemp("einvoices")),
        }
    )
    assert "einvoice_rules" in app.extensions, "the e-invoice rules did not load"
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


@pytest.fixture
def client(app, db):
    reset_limits(app)
    with app.test_client() as client:
        yield client
    reset_limits(app)


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
