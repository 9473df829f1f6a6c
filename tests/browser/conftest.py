"""Browser fixtures: Debian's Chromium driven by Playwright's sync API, and the portal in a
real HTTP server on loopback over a fresh, migrated SQLite file (committed data, not the
rolled-back test transaction), with jobs inline and e-mail to the test SMTP server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from core import models as m
from portal import create_app
from tests import factories
from tests.helpers import IN_CI, ROOT, alembic_config, free_port
from tests.invoicing import organisation
from tests.stripe_server import WEBHOOK_SECRET, localstripe_server

__all__ = ["localstripe_server"]  # a fixture used below

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (make test installs it as root)"
        if IN_CI:
            pytest.fail(message + "; CI=true: a missing browser fails the run")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Cast:
    """The seeded people: just what an intermediary has before its first customer."""

    consultant = "mette@smajob.dk"
    worker = "jonas@example.dk"
    finance = "bogholder@smajob.dk"
    password = factories.PASSWORD
    area_id: int
    worker_payroll_number: str
    stripe_config: dict


@pytest.fixture
def live_server(smtp_server, localstripe_server, tmp_path):
    """The portal on http://127.0.0.1:<free port>, with Stripe pointed at localstripe, whose
    webhooks reach this server over HTTP; yields (base url, Cast)."""
    controller, _ = smtp_server
    port = free_port()
    localstripe_server.register_webhook(
        f"http://127.0.0.1:{port}/stripe/webhook", WEBHOOK_SECRET, name=f"browser{port}"
    )
    app = create_app(
        {
            "STRIPE_SECRET_KEY": "sk_test_browser",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_browser",
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": localstripe_server.base,
            "STRIPE_JS_URL": localstripe_server.js_url,
            "ENV": "testing",
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
            "REDIS_URL": None,
            "JOBS": "inline",
            "SMTP_HOST": controller.hostname,
            "SMTP_PORT": controller.port,
            "BASE_URL": f"http://127.0.0.1:{port}",
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    engine = app.extensions["db"].engine
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    cast = Cast()
    cast.stripe_config = {k: v for k, v in app.config.items() if k.startswith("STRIPE_")}
    with app.app_context(), Session(engine) as session:
        factories.bind(session)
        try:
            organisation(session)
            area = factories.WorkAreaFactory(
                name="Lager", name_en="Warehouse", bill_rate_ore=18900, pay_rate_ore=13500
            )
            factories.UserFactory(
                role=m.Role.CONSULTANT, email=cast.consultant, full_name="Mette Madsen"
            )
            factories.UserFactory(role=m.Role.FINANCE, email=cast.finance, full_name="Bo Holm")
            worker_user = factories.UserFactory(
                role=m.Role.WORKER, email=cast.worker, full_name="Jonas Jensen"
            )
            worker = factories.WorkerFactory(
                user=worker_user,
                email=cast.worker,
                first_name="Jonas",
                last_name="Jensen",
                postcode="5000",
                phone="+45 99 88 77 66",
            )
            worker.work_areas = [area]
            session.commit()
            cast.area_id, cast.worker_payroll_number = area.id, worker.payroll_number
        finally:
            factories.bind(None)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", cast
    finally:
        server.shutdown()
        thread.join(timeout=10)
        engine.dispose()
