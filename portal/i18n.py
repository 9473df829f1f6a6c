"""Danish and English: locale choice and the Jinja filters for money, dates and hours."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, get_locale
from flask_login import current_user

from core.i18n import FORMAT_LOCALES, hours, money, ore_to_decimal, percent, quantity


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if request:
        # Danish is the default; only an explicit English preference changes it.
        best = request.accept_languages.best_match(languages)
        if best == "en" and request.accept_languages.quality("da") == 0:
            return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def format_locale() -> Locale:
    return FORMAT_LOCALES.get(str(get_locale() or "da"), FORMAT_LOCALES["da"])


# The request's language, as Jinja filters (money, hours and percent come from core.i18n).


def money_plain(ore: int | None) -> str:
    """1234550 -> '12.345,50' (for inputs and tables with the unit in the heading)."""
    if ore is None:
        return ""
    return format_decimal(ore_to_decimal(ore), format="#,##0.00", locale=format_locale())


def danish_date(value: date | datetime | None) -> str:
    """2026-11-22 -> '22-11-2026'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_tz()).date()
    return _day(value, format_locale())


@lru_cache(maxsize=4096)
def _day(value: date, locale: Locale) -> str:
    # Cached like core.i18n's amounts: a list shows the same days again and again.
    return format_date(value, "dd-MM-yyyy", locale=locale)


def danish_datetime(value: datetime | None) -> str:
    """An aware UTC datetime shown in Copenhagen time: '22-11-2026 14:05'."""
    if value is None:
        return ""
    return format_datetime(value, "dd-MM-yyyy HH:mm", tzinfo=_tz(), locale=format_locale())


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="../translations")
    app.jinja_env.filters.update(
        money=money,
        money_plain=money_plain,
        hours=hours,
        quantity=quantity,
        percent=percent,
        date=danish_date,
        datetime=danish_datetime,
    )
    app.jinja_env.globals["current_locale"] = lambda: str(get_locale() or "da")
