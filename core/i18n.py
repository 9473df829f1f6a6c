"""Words and numbers in Danish or English. The domains translate their messages with the
gettext functions here (Flask-Babel's, in the request's or the forced language) and format
money, hours and percentages with the pure functions, which need no request (PDFs, e-mails)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency, format_decimal
from flask_babel import force_locale, get_locale, gettext, lazy_gettext, ngettext

from core.money import hours_hundredths

__all__ = ["force_locale", "gettext", "lazy_gettext", "ngettext"]

# Babel locales used for formatting. English keeps Danish number and money conventions
# (en_DK) because every amount is in Danish kroner.
FORMAT_LOCALES = {"da": Locale.parse("da_DK"), "en": Locale.parse("en_DK")}


def ore_to_decimal(ore: int) -> Decimal:
    return Decimal(ore).scaleb(-2)


# Pure formatting for a given language (PDFs and e-mails use these without a request) ...


# Cached: a list page formats the same few amounts and hours hundreds of times, and babel
# takes some 60 µs an amount (a tenth of a list page's time before the cache).
@lru_cache(maxsize=8192)
def format_money(ore: int | None, language: str = "da") -> str:
    """1234550 -> '12.345,50 kr.' (Danish kroner, formatted by babel)."""
    if ore is None:
        return ""
    return format_currency(ore_to_decimal(ore), "DKK", locale=FORMAT_LOCALES[language])


@lru_cache(maxsize=8192)
def format_hours(minutes: int | None, language: str = "da") -> str:
    """750 -> '12,50' hours, exact to the hundredth (minutes / 60, rounded half up)."""
    if minutes is None:
        return ""
    return format_quantity(hours_hundredths(minutes), language)


@lru_cache(maxsize=8192)
def format_quantity(hundredths: int | None, language: str = "da") -> str:
    """708 -> '7,08': an invoice line's quantity as it is billed (core.money's rule)."""
    if hundredths is None:
        return ""
    return format_decimal(
        Decimal(hundredths).scaleb(-2), format="#,##0.00", locale=FORMAT_LOCALES[language]
    )


def format_percent(basis_points: int | None, language: str = "da") -> str:
    """2500 -> '25', 1025 -> '10,25' (basis points as a percentage)."""
    if basis_points is None:
        return ""
    return format_decimal(
        Decimal(basis_points).scaleb(-2), format="#,##0.##", locale=FORMAT_LOCALES[language]
    )


# ... and the same in the current language (the request's, or one forced for an e-mail).


def language() -> str:
    code = str(get_locale() or "da")
    return code if code in FORMAT_LOCALES else "da"


def money(ore: int | None) -> str:
    return format_money(ore, language())


def hours(minutes: int | None) -> str:
    return format_hours(minutes, language())


def quantity(hundredths: int | None) -> str:
    return format_quantity(hundredths, language())


def percent(basis_points: int | None) -> str:
    return format_percent(basis_points, language())
