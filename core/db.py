"""Engine and the per-request session."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

# PostgreSQL aborts one of two transactions that deadlock (40P01) or that serializable
# isolation cannot order (40001). Nothing of the aborted one was kept: doing it again is safe,
# and it then meets the other's committed work (and the invariant that refuses it, if any).
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 4


@dataclass
class Database:
    engine: Engine
    sessionmaker: sessionmaker[Session]


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; SQLite gets foreign keys and real SAVEPOINT support."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        # pysqlite opens transactions itself and breaks SAVEPOINT; let SQLAlchemy do it.
        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection):
            # Writers that read first ask for IMMEDIATE: in WAL mode a deferred transaction
            # whose snapshot went stale cannot upgrade to a write lock and fails at once. Every
            # POST is such a writer: taking the lock before its first read also makes its checks
            # (no overlapping shift, nothing credited twice, a form's key unused) hold against
            # a second request racing it.
            mode = connection.get_execution_options().get("sqlite_begin") or _request_mode()
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    # expire_on_commit=False: a route may still read what it just saved (ids for the redirect,
    # the logged-in user) without opening a new transaction after its commit.
    app.extensions["db"] = Database(engine, sessionmaker(engine, expire_on_commit=False))
    # Close after every request, and after CLI/job app contexts. (A test may hold one app
    # context across several requests; the session must still end with each request.)
    app.teardown_request(_close_session)
    app.teardown_appcontext(_close_session)


def _request_mode() -> str:
    if has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS"):
        return "IMMEDIATE"
    return ""


WRITE_TRANSACTION = {"sqlite_begin": "IMMEDIATE"}
"""Execution options for a transaction that will write (no effect on PostgreSQL)."""


def lock(session: Session, obj: object) -> None:
    """Lock the object's row until the transaction ends and read it afresh, so a check that
    follows sees every change that committed before it (PostgreSQL: SELECT ... FOR UPDATE;
    SQLite: a writing transaction holds the database's write lock already). Pending changes
    are flushed first, so nothing of this transaction's own is lost."""
    session.flush()
    session.refresh(obj, with_for_update=True)


@contextmanager
def writing(factory: sessionmaker):
    """A transaction that will write, committed at the end: on SQLite it takes the write lock
    at once (a deferred one could not upgrade after reading), on PostgreSQL it is plain."""
    with factory.begin() as session:
        session.connection(execution_options=WRITE_TRANSACTION)
        yield session


def database() -> Database:
    return current_app.extensions["db"]


def get_session() -> Session:
    """Return this request's (or app context's) session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = database().sessionmaker()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def is_transient(error: BaseException) -> bool:
    """Whether the database aborted the transaction for another's sake, or the connection
    was lost under it (a server restart): nothing of it was kept, so try it again."""
    if not isinstance(error, DBAPIError):
        return False
    original = getattr(error, "orig", None)
    return error.connection_invalidated or (
        getattr(original, "sqlstate", None) in TRANSIENT_SQLSTATES
    )


def pause(attempt: int, error: BaseException | None = None) -> None:
    """A short jittered wait before trying again; longer when the server itself went away
    (a restart takes seconds: 1, 2, 4 s)."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        time.sleep(2 ** (attempt - 1))
        return
    time.sleep(random.uniform(0.02, 0.1) * attempt)


def retrying(work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run `work` (which opens and commits its own transaction) again when the database
    aborted it (a deadlock, a serialization failure) or lost the connection, a bounded
    number of times."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if not is_transient(error) or attempt == attempts:
                raise
            log.warning("transaction aborted by the database (%s); trying again", error.orig)
            pause(attempt, error)
    raise AssertionError("unreachable")
