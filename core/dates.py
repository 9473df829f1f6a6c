"""The one clock: every moment and every business date the portal uses comes from here.

Moments are aware and stored in UTC; business dates are Danish. An invoice's date, its series
year and its due date, a reminder's date and a shift's day follow Copenhagen, not the server's
clock zone (at 23:30 UTC on New Year's Eve it is already next year in Copenhagen).

Nothing else reads the machine clock for a business purpose (ruff's banned-API rule TID251
in pyproject.toml keeps it so), which is what lets the tests choose their moment: they move
this clock with time-machine, and the whole portal moves with it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def now() -> datetime:
    """The current moment, aware, in UTC (as the database stores it)."""
    return datetime.now(UTC)  # noqa: TID251 (the one place that reads the clock)


def today() -> date:
    """Today in Copenhagen."""
    return local_date(now())


def local_date(moment: datetime) -> date:
    """The Copenhagen date of an aware moment."""
    return moment.astimezone(COPENHAGEN).date()


def days_off(year: int) -> dict[date, str]:
    """Denmark's public holidays (helligdage) of a year, with Christmas Eve and New Year's Eve,
    by their Danish names: the days a weekly pattern of shifts leaves out unless it says not
    to (python-holidays keeps the rules, Easter's included)."""
    return _days_off(year)


@lru_cache(maxsize=32)
def _days_off(year: int) -> dict[date, str]:
    import holidays

    found = dict(holidays.country_holidays("DK", years=year, language="da"))
    extra = holidays.country_holidays("DK", years=year, categories=("optional",), language="da")
    found.update({day: name for day, name in extra.items() if day.month == 12})
    return found
