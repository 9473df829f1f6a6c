"""The business calendar: dates are Danish. An invoice's date, its series year and its due
date, a reminder's date and a shift's day follow Copenhagen, not the server's clock zone (at
23:30 UTC on New Year's Eve it is already next year in Copenhagen)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def today(now: datetime | None = None) -> date:
    """Today in Copenhagen (at `now`, an aware moment, when given)."""
    return (now or datetime.now(UTC)).astimezone(COPENHAGEN).date()
