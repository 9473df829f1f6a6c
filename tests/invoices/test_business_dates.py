"""Dates are Danish (issue 14, items 5 and 6): an invoice issued at 23:30 UTC on New Year's
Eve is dated, numbered and due in the new year, as it is in Copenhagen; a run never bills a
day that has not come, and finance's form starts at today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from core.errors import Invalid
from core.models import BillingCadence, Role
from invoices import credit, runs
from tests import factories
from tests.invoicing import PERIOD_END, approved_entry, employer_with_hours, issue_run, organisation

NEW_YEARS_EVE_UTC = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Denmark


def test_issued_on_new_years_eve_at_2330_utc_is_next_year_in_copenhagen(app, db, ctx):
    organisation(db)
    employer_with_hours(db, weeks=1)
    finance = factories.UserFactory(role=Role.FINANCE)
    db.commit()
    with time_machine.travel(NEW_YEARS_EVE_UTC, tick=False):
        [invoice] = issue_run(db)
        note = credit.issue_credit_note(db, finance, invoice, None, True, "Fejl")
        db.commit()
    assert (invoice.issue_date, invoice.year, invoice.number) == (date(2027, 1, 1), 2027, 1)
    assert invoice.display_number == "F-2027-0001"
    assert invoice.due_date == date(2027, 1, 15)
    assert invoice.payment_id.startswith("00002027")
    assert (note.issue_date, note.display_number) == (date(2027, 1, 1), "K-2027-0001")


def test_a_run_never_bills_a_day_that_has_not_come(app, db, ctx):
    organisation(db)
    employer, [placement] = employer_with_hours(db, weeks=1, start=PERIOD_END - timedelta(days=7))
    today = date(2026, 11, 30)
    approved_entry(placement, today + timedelta(days=1))  # tomorrow, approved ahead
    db.commit()
    with time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=UTC), tick=False):
        with pytest.raises(Invalid, match="efter i dag|later than today"):
            runs.start_run(db, None, today + timedelta(days=1))
        [invoice] = issue_run(db, period_end=today)
    assert invoice.period_end <= today
    assert all(line.period_end <= today for line in invoice.lines)


def test_the_run_form_starts_at_today(client, db, as_role):
    # Logged in at the travelled time too: a session cookie signed in the future is refused.
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), tick=False):
        as_role(Role.FINANCE)
        page = client.get("/finance/invoicing").text  # 00:30 on 1 December in Denmark
    assert 'value="2026-12-01"' in page


@pytest.mark.parametrize(
    ("cadence", "today", "expected"),
    [
        (BillingCadence.MONTHLY, date(2026, 11, 30), date(2026, 11, 30)),  # its last day
        (BillingCadence.MONTHLY, date(2026, 11, 29), date(2026, 10, 31)),
        (BillingCadence.WEEKLY, date(2026, 11, 30), date(2026, 11, 29)),  # Monday: Sunday
        (BillingCadence.WEEKLY, date(2026, 11, 29), date(2026, 11, 29)),  # a Sunday itself
        (BillingCadence.FORTNIGHTLY, date(2026, 11, 30), date(2026, 11, 29)),  # uge 48: even
        (BillingCadence.FORTNIGHTLY, date(2026, 12, 6), date(2026, 11, 29)),  # uge 49: odd
        (BillingCadence.MONTHLY, date(2027, 1, 1), date(2026, 12, 31)),
    ],
)
def test_each_cadence_suggests_its_last_completed_period(cadence, today, expected):
    assert runs.cadence_end(cadence, today) == expected


def test_the_run_page_defaults_a_cadence_to_its_last_completed_period(client, db, as_role):
    """On 30-11-2026 (a Monday) weekly employers are billed to Sunday 29-11 and monthly ones
    to 30-11, all of November (issue 14, item 6: not 31-10)."""
    with time_machine.travel(datetime(2026, 11, 30, 12, tzinfo=UTC), tick=False):
        as_role(Role.FINANCE)
        start = client.get("/finance/invoicing").text
        weekly = client.get("/finance/invoicing?cadence=weekly&period_end=").text
        monthly = client.get("/finance/invoicing?cadence=monthly&period_end=").text
        typed = client.get("/finance/invoicing?cadence=weekly&period_end=2026-11-25").text
    assert "cadence=weekly&amp;period_end=2026-11-29" in start
    assert "cadence=monthly&amp;period_end=2026-11-30" in start
    assert 'value="2026-11-29"' in weekly and "Forhåndsvisning til og med 29-11-2026" in weekly
    assert 'value="2026-11-30"' in monthly and "til og med 30-11-2026" in monthly
    assert 'value="2026-11-25"' in typed  # a date finance types is kept
