"""Rank candidate workers for a job order: a pure function over plain data, no database.

The score is a whole number from 0 to 100, built from four parts whose reasons are returned
with it so the consultant sees *why* a worker ranks where it does:

| part          | points | rule                                                           |
|---------------|--------|----------------------------------------------------------------|
| work area     | 40     | the worker has the order's work area, else 0                   |
| hours         | 30     | already placed + the order's hours within the worker's min–max |
|               | 20     | … below the worker's minimum (fewer hours than wanted)         |
|               | 0      | … above the worker's maximum                                   |
| weekdays      | 0–20   | 20 × share of the order's preferred days the worker is free;   |
|               |        | an order without preferred days gives all 20                   |
| distance      | 0–10   | by Danish postcode, see `distance_band`                        |

Ties are broken by fewer hours already placed (spread the work), then by name, then id, so
the order of the list never depends on the order the candidates came in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

WEEKDAYS = 7
AREA_POINTS = 40
HOURS_FIT_POINTS, HOURS_BELOW_MIN_POINTS = 30, 20
DAYS_POINTS = 20
NEARBY_SPAN = 300  # postcodes in one region closer than this count as nearby


class Distance(enum.StrEnum):
    SAME_POSTCODE = "same_postcode"
    NEARBY = "nearby"  # same region and less than 300 apart: the same town or its neighbours
    SAME_REGION = "same_region"  # same first digit (Copenhagen 1xxx and 2xxx count as one)
    FAR = "far"
    UNKNOWN = "unknown"  # a postcode is missing


DISTANCE_POINTS = {
    Distance.SAME_POSTCODE: 10,
    Distance.NEARBY: 7,
    Distance.SAME_REGION: 3,
    Distance.FAR: 0,
    Distance.UNKNOWN: 0,
}


class HoursFit(enum.StrEnum):
    FITS = "fits"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"


@dataclass(frozen=True)
class OrderNeeds:
    work_area_id: int
    hours_per_week: int
    preferred_days: int  # bit 0 = Monday … bit 6 = Sunday; 0 = no preference
    postcode: str


@dataclass(frozen=True)
class Candidate:
    worker_id: int
    name: str
    work_area_ids: frozenset[int]
    hours_min: int
    hours_max: int
    available_days: int  # bit 0 = Monday
    postcode: str
    placed_hours: int = 0  # hours per week in active placements and open proposals


@dataclass(frozen=True)
class Match:
    candidate: Candidate
    score: int
    area_match: bool
    hours_fit: HoursFit
    hours_total: int  # placed_hours + the order's hours
    days_matched: int
    days_wanted: int
    distance: Distance


def day_count(mask: int) -> int:
    return bin(mask & 0b1111111).count("1")


def region(postcode: str) -> str:
    """The first digit, with Copenhagen's two ranges (1xxx, 2xxx) as one region."""
    return "1" if postcode[0] in "12" else postcode[0]


def distance_band(a: str, b: str) -> Distance:
    """A rough distance from two Danish postcodes.

    Danish postcodes are handed out by area: the first digit is the part of the country
    (1–2 Copenhagen, 3 North Zealand and Bornholm, 4 the rest of Zealand and the southern
    islands, 5 Funen, 6 South Jutland, 7 Mid/West Jutland, 8 East Jutland, 9 North Jutland)
    and numbers close together are usually close on the map (Odense C 5000 and Odense NV
    5210, Aarhus C 8000 and Aarhus N 8200). Good enough to sort a short list; it is not a
    travel time.
    """
    a, b = (a or "").strip(), (b or "").strip()
    if len(a) != 4 or len(b) != 4 or not (a.isdigit() and b.isdigit()):
        return Distance.UNKNOWN
    if a == b:
        return Distance.SAME_POSTCODE
    if region(a) == region(b):
        return Distance.NEARBY if abs(int(a) - int(b)) < NEARBY_SPAN else Distance.SAME_REGION
    return Distance.FAR


def hours_fit(candidate: Candidate, order_hours: int) -> HoursFit:
    total = candidate.placed_hours + order_hours
    if total > candidate.hours_max:
        return HoursFit.ABOVE_MAX
    if total < candidate.hours_min:
        return HoursFit.BELOW_MIN
    return HoursFit.FITS


def score(order: OrderNeeds, candidate: Candidate) -> Match:
    """Score one candidate for one order, with the reasons."""
    area_match = order.work_area_id in candidate.work_area_ids
    fit = hours_fit(candidate, order.hours_per_week)
    wanted = day_count(order.preferred_days)
    matched = day_count(order.preferred_days & candidate.available_days)
    distance = distance_band(order.postcode, candidate.postcode)
    points = AREA_POINTS if area_match else 0
    points += {HoursFit.FITS: HOURS_FIT_POINTS, HoursFit.BELOW_MIN: HOURS_BELOW_MIN_POINTS}.get(
        fit, 0
    )
    points += DAYS_POINTS if wanted == 0 else DAYS_POINTS * matched // wanted
    points += DISTANCE_POINTS[distance]
    return Match(
        candidate=candidate,
        score=points,
        area_match=area_match,
        hours_fit=fit,
        hours_total=candidate.placed_hours + order.hours_per_week,
        days_matched=matched,
        days_wanted=wanted,
        distance=distance,
    )


def rank(order: OrderNeeds, candidates: Iterable[Candidate]) -> list[Match]:
    """Return every candidate scored, best first."""
    matches = [score(order, c) for c in candidates]
    matches.sort(
        key=lambda m: (-m.score, m.candidate.placed_hours, m.candidate.name, m.candidate.worker_id)
    )
    return matches
