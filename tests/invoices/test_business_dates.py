"""Dates are Danish (issue 14, items 5 and 6): an invoice issued at 23:30 UTC on New Year's
Eve is dated, numbered and due in the new year, as it is in Copenhagen; a run never bills a
day that has not come, and finance's form starts at today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from core.errors import Invalid
from core.models import Role
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
    as_role(Role.FINANCE)
    with time_machine.travel(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), tick=False):
        page = client.get("/finance/invoicing").text  # 00:30 on 1 December in Denmark
    assert 'value="2026-12-01"' in page
