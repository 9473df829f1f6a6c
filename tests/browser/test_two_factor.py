"""Two-factor log-in in a real browser: finance enrols with the QR page (the key typed by
hand into pyotp, as an app would), sees the recovery codes once, and logs in again with the
password and then a code."""

from __future__ import annotations

import pyotp
import pytest

from core import dates
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def now_code(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(dates.now(), counter_offset=offset)


def test_finance_enrols_and_logs_in_with_a_code(browser, live_server):
    base, cast = live_server
    context = browser.new_context(base_url=base, locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/auth/login")
        page.fill('main [name="email"]', cast.finance)
        page.fill('main [name="password"]', cast.password)
        page.click("main form button[type=submit]")
        page.wait_for_url(base + "/")

        page.goto("/auth/two-factor/setup")
        qr = page.locator("img.two-factor-qr")
        assert qr.is_visible()
        assert page.evaluate("document.querySelector('img.two-factor-qr').naturalWidth") > 0
        secret = page.locator("code.two-factor-secret").inner_text().replace(" ", "")
        page.fill('main [name="code"]', now_code(secret, -1))
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        codes = page.locator(".two-factor-code-list code").all_inner_texts()
        assert len(codes) == 10
        page.reload()
        assert page.locator(".two-factor-code-list").count() == 0  # shown once

        with page.expect_navigation():
            page.click("nav form[action='/auth/logout'] button")
        page.goto("/auth/login")
        page.fill('main [name="email"]', cast.finance)
        page.fill('main [name="password"]', cast.password)
        page.click("main form button[type=submit]")
        page.wait_for_url(base + "/auth/two-factor")
        page.goto("/payroll/")
        assert page.url == base + "/auth/two-factor"  # nothing before the code
        page.fill('main [name="code"]', now_code(secret))
        page.click("main form[action='/auth/two-factor'] button[type=submit]")
        page.wait_for_url(base + "/")
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "two-factor.png"), full_page=True)
        raise
    finally:
        context.close()
