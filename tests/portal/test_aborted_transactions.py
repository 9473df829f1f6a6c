"""A transaction the database aborts for another's sake is tried again: PostgreSQL breaks a
deadlock by aborting one of the two transactions (40P01), and the portal serves that request
(or runs that job step) again, so the user sees its result, never an error page.

The deadlock here is real: two requests lock the same two rows in opposite order, each
waiting at a barrier until the other holds its first row."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from flask import Blueprint
from sqlalchemy import text

from core import db as core_db
from core.db import get_session, writing
from core.models import WorkArea
from portal import create_app
from portal.security import csrf
from tests.racing import race

pytestmark = pytest.mark.postgres_only


def _two_rows(committed) -> tuple[int, int]:
    with committed() as session:
        areas = [WorkArea(name=f"Lås {n}", bill_rate_ore=100, pay_rate_ore=100) for n in (1, 2)]
        session.add_all(areas)
        session.commit()
        return areas[0].id, areas[1].id


def _lock(session, area_id: int) -> None:
    session.execute(text("SELECT id FROM work_areas WHERE id = :id FOR UPDATE"), {"id": area_id})


def test_a_request_aborted_as_a_deadlock_is_served_again(app, committed):
    first, second = _two_rows(committed)
    barrier = threading.Barrier(2)
    served = Counter()
    bp = Blueprint("deadlock", __name__)

    @bp.post("/test/lock/<int:one>/<int:other>")
    def lock(one: int, other: int):
        served[one] += 1
        session = get_session()
        _lock(session, one)
        if served[one] == 1:
            barrier.wait(timeout=10)  # both hold their first row now
        _lock(session, other)
        session.commit()
        return "locked both"

    csrf.exempt(bp)
    deadlocking = create_app({key: app.config[key] for key in _CONFIG if key in app.config})
    deadlocking.register_blueprint(bp)
    clients = [deadlocking.test_client() for _ in range(2)]
    responses = race(
        [
            lambda: clients[0].post(f"/test/lock/{first}/{second}"),
            lambda: clients[1].post(f"/test/lock/{second}/{first}"),
        ]
    )
    assert [r.status_code for r in responses] == [200, 200]
    assert all(r.text == "locked both" for r in responses)
    assert sorted(served.values()) == [1, 2]  # PostgreSQL aborted one; it was served again
    deadlocking.extensions["db"].engine.dispose()


_CONFIG = (
    "ENV",
    "TESTING",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "JOBS",
    "RATELIMIT_KEY_PREFIX",
    "SMTP_HOST",
    "SMTP_PORT",
    "BASE_URL",
    "OUTBOX_DIR",
    "EINVOICE_RULES_DIR",
    "EINVOICE_FOLDER",
)


def test_a_job_step_aborted_as_a_deadlock_is_run_again(app, committed):
    first, second = _two_rows(committed)
    barrier = threading.Barrier(2)
    runs = Counter()

    def step(one: int, other: int) -> str:
        runs[one] += 1
        with writing(committed) as session:
            _lock(session, one)
            if runs[one] == 1:
                barrier.wait(timeout=10)
            _lock(session, other)
        return "done"

    results = race(
        [
            lambda: core_db.retrying(lambda: step(first, second)),
            lambda: core_db.retrying(lambda: step(second, first)),
        ]
    )
    assert results == ["done", "done"]
    assert sorted(runs.values()) == [1, 2]
