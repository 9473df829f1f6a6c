"""The ranking of candidate workers: a pure function, tested on plain data."""

from __future__ import annotations

import pytest

from portal.services.matching import (
    Candidate,
    Distance,
    HoursFit,
    OrderNeeds,
    distance_band,
    rank,
    score,
)

MON, TUE, WED, THU, FRI, SAT, SUN = (1 << d for d in range(7))
WAREHOUSE, CLEANING = 1, 2

ORDER = OrderNeeds(
    work_area_id=WAREHOUSE, hours_per_week=10, preferred_days=MON | WED | FRI, postcode="5000"
)


def candidate(worker_id=1, name="Anna", **changes) -> Candidate:
    values = {
        "work_area_ids": frozenset({WAREHOUSE}),
        "hours_min": 5,
        "hours_max": 15,
        "available_days": MON | TUE | WED | THU | FRI,
        "postcode": "5000",
        "placed_hours": 0,
    }
    values.update(changes)
    return Candidate(worker_id=worker_id, name=name, **values)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("5000", "5000", Distance.SAME_POSTCODE),
        ("5000", "5210", Distance.NEARBY),  # Odense C and Odense NV
        ("8000", "8200", Distance.NEARBY),  # Aarhus C and Aarhus N
        ("2300", "2100", Distance.NEARBY),  # Amager and Østerbro
        ("5000", "5700", Distance.SAME_REGION),  # Odense and Svendborg: both on Funen
        ("1050", "2300", Distance.SAME_REGION),  # Copenhagen K and Amager: 1xxx and 2xxx
        ("5000", "8000", Distance.FAR),  # Odense and Aarhus
        ("5000", "", Distance.UNKNOWN),
        ("5000", "50a0", Distance.UNKNOWN),
    ],
)
def test_distance_band_by_postcode(a, b, expected):
    assert distance_band(a, b) == expected
    assert distance_band(b, a) == expected


@pytest.mark.parametrize(
    ("changes", "points", "area", "fit", "days", "distance"),
    [
        # the perfect match: area, hours within 5–15, all 3 days, same postcode
        ({}, 100, True, HoursFit.FITS, 3, Distance.SAME_POSTCODE),
        # another work area costs the 40 area points
        ({"work_area_ids": frozenset({CLEANING})}, 60, False, HoursFit.FITS, 3, None),
        # no work area at all
        ({"work_area_ids": frozenset()}, 60, False, HoursFit.FITS, 3, None),
        # 10 hours is below a minimum of 12: still useful, 20 instead of 30
        ({"hours_min": 12}, 90, True, HoursFit.BELOW_MIN, 3, None),
        # already placed 8 hours: 8 + 10 = 18 > 15, no hours points
        ({"placed_hours": 8}, 70, True, HoursFit.ABOVE_MAX, 3, None),
        # placed 5 hours: 5 + 10 = 15, exactly the maximum, still fits
        ({"placed_hours": 5}, 100, True, HoursFit.FITS, 3, None),
        # free on Monday and Wednesday only: 2 of 3 days, 20 * 2 // 3 = 13
        ({"available_days": MON | WED}, 93, True, HoursFit.FITS, 2, None),
        # free on weekends only: no day points
        ({"available_days": SAT | SUN}, 80, True, HoursFit.FITS, 0, None),
        # lives in Odense M: nearby, 7 of 10 distance points
        ({"postcode": "5230"}, 97, True, HoursFit.FITS, 3, Distance.NEARBY),
        # lives in Aarhus: far, no distance points
        ({"postcode": "8000"}, 90, True, HoursFit.FITS, 3, Distance.FAR),
        # no postcode on the profile
        ({"postcode": ""}, 90, True, HoursFit.FITS, 3, Distance.UNKNOWN),
    ],
)
def test_score_and_reasons(changes, points, area, fit, days, distance):
    match = score(ORDER, candidate(**changes))
    assert match.score == points
    assert match.area_match is area
    assert match.hours_fit == fit
    assert (match.days_matched, match.days_wanted) == (days, 3)
    if distance is not None:
        assert match.distance == distance


def test_order_without_preferred_days_gives_every_worker_the_day_points():
    order = OrderNeeds(WAREHOUSE, 10, 0, "5000")
    match = score(order, candidate(available_days=SAT))
    assert match.score == 100 and match.days_wanted == 0


def test_hours_total_counts_what_is_already_placed():
    match = score(ORDER, candidate(placed_hours=4))
    assert match.hours_total == 14


def test_rank_puts_the_best_first_with_reasons():
    ranked = rank(
        ORDER,
        [
            candidate(1, "Far Away", postcode="9000"),
            candidate(2, "Other Area", work_area_ids=frozenset({CLEANING})),
            candidate(3, "Perfect"),
            candidate(4, "Too Busy", placed_hours=10),
        ],
    )
    assert [m.candidate.name for m in ranked] == ["Perfect", "Far Away", "Too Busy", "Other Area"]
    assert [m.score for m in ranked] == [100, 90, 70, 60]


def test_ties_go_to_fewer_placed_hours_then_name_then_id():
    ranked = rank(
        ORDER,
        [
            candidate(5, "Bo", placed_hours=2),
            candidate(4, "Bo"),
            candidate(3, "Ali"),
            candidate(2, "Ali"),
        ],
    )
    assert [m.candidate.worker_id for m in ranked] == [2, 3, 4, 5]


def test_rank_does_not_depend_on_input_order():
    people = [candidate(i, f"W{i % 3}", placed_hours=i % 4) for i in range(12)]
    assert [m.candidate for m in rank(ORDER, people)] == [
        m.candidate for m in rank(ORDER, list(reversed(people)))
    ]


def test_rank_of_nobody_is_empty():
    assert rank(ORDER, []) == []
