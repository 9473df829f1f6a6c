"""One tap on a phone: the worker opens the week at 375 px, sees today's planned shift, taps
"Bekræft som arbejdet" once, and the shift is recorded exactly as planned."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from core import dates
from core import models as m
from tests import factories
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def seed_planned_job(database: str, worker_email: str) -> int:
    """An employer and an active job for the cast's worker, planned every day 8-12 (30 min.
    break), in the live server's database; returns the placement's id."""
    engine = create_engine(database)
    try:
        with Session(engine) as session:
            factories.bind(session)
            try:
                worker = session.scalar(select(m.Worker).where(m.Worker.email == worker_email))
                employer = factories.user_for(
                    m.Role.EMPLOYER, employer=factories.EmployerFactory(name="Frugtlageret ApS")
                )
                placement = factories.placement_between(
                    worker.user, employer, start_date=dates.today() - timedelta(days=30)
                )
                placement.planned_on_holidays = True  # every day, whatever today is
                placement.planned_slots.extend(
                    m.PlannedSlot(
                        weekday=day,
                        start_time=time(8),
                        end_time=time(12),
                        break_minutes=30,
                        planned_from=placement.start_date,
                    )
                    for day in range(7)
                )
                session.commit()
                return placement.id
            finally:
                factories.bind(None)
    finally:
        engine.dispose()


def recorded(database: str) -> list[tuple]:
    engine = create_engine(database)
    try:
        with Session(engine) as session:
            return [
                (e.work_date, e.start_time, e.end_time, e.break_minutes, e.minutes)
                for e in session.scalars(select(m.TimeEntry))
            ]
    finally:
        engine.dispose()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways ({width} px)"


def test_a_planned_shift_is_confirmed_with_one_tap_on_a_phone(browser, live_server, tmp_path):
    base, cast = live_server
    database = f"sqlite:///{tmp_path / 'portal.db'}"  # the live server's database
    placement_id = seed_planned_job(database, cast.worker)
    today = dates.today()

    context = browser.new_context(base_url=base, locale="da-DK", viewport=PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/auth/login")
        page.fill('main [name="email"]', cast.worker)
        page.fill('main [name="password"]', cast.password)
        page.click("main form button[type=submit]")
        page.wait_for_url(base + "/")

        page.goto("/hours/week")
        card = page.locator(
            f'li.planned-shift[data-placement="{placement_id}"][data-date="{today.isoformat()}"]'
        )
        assert card.is_visible()
        assert "08:00–12:00" in card.inner_text()
        no_sideways_scroll(page)

        button = card.locator(f'form[action="/hours/planned/{placement_id}/confirm"] button')
        with page.expect_navigation():
            button.click()  # one tap

        assert page.locator(".flash-success").is_visible()
        assert card.count() == 0, "the planned shift is now a recorded one"
        no_sideways_scroll(page)
        assert recorded(database) == [(today, time(8), time(12), 30, 210)]
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "planned-shift-one-tap.png"), full_page=True)
        raise
    finally:
        context.close()
