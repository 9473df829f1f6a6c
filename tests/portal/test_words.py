"""Issue 15, "Words": counts in singular and plural (no "shift(s)"), no doubled full stop after
an amount, and e-mails that each say what to do with exactly one link. English is asserted
here; the Danish forms are the catalogue's."""

from __future__ import annotations

import re
from datetime import time, timedelta

import flask_babel
import pytest
from flask_babel import force_locale

from core import dates, mail
from core.models import Role
from portal.services import hours
from tests import factories
from tests.helpers import post_form

LINK = re.compile(r"https?://\S+")


def english(client) -> None:
    """Switch the client to English (the new texts get their Danish afterwards)."""
    response = post_form(client, "/language/en", {"next": "/"}, page="/")
    assert response.status_code == 302
    # The test's app context outlives each request and Flask-Babel keeps its choice there.
    flask_babel.refresh()


@pytest.mark.parametrize(
    ("shifts", "message"), [(1, "1 shift approved."), (2, "2 shifts approved.")]
)
def test_approving_a_week_counts_the_shifts_in_words(client, db, as_role, shifts, message):
    employer = as_role(Role.EMPLOYER)
    worker = factories.user_for(Role.WORKER)
    # Last week's Monday: worked, whatever the time of day the test runs.
    monday = dates.today() - timedelta(days=dates.today().weekday() + 7)
    placement = factories.placement_between(worker, employer, start_date=monday - timedelta(7))
    for n in range(shifts):
        hours.record_shift(
            db, worker, placement, hours.Shift(monday, time(8 + 5 * n), time(12 + 5 * n), 0)
        )
    db.commit()
    english(client)
    week = hours.week_label(monday)
    response = post_form(client, "/hours/week", {"week": week}, page=f"/hours/week?week={week}")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).text
    assert message in page and "(s)" not in page


def test_counts_have_a_singular_and_a_plural(app, ctx):
    with force_locale("en"):
        cases = {
            ("%(num)d shift approved.", "%(num)d shifts approved."): ("1 shift", "2 shifts"),
            ("%(num)d reminder sent.", "%(num)d reminders sent."): ("1 reminder", "2 reminders"),
            ("%(num)d day", "%(num)d days"): ("1 day", "2 days"),
            ("%(num)d hour a week", "%(num)d hours a week"): ("1 hour a", "2 hours a"),
        }
        for (one, many), (singular, plural) in cases.items():
            assert flask_babel.ngettext(one, many, 1).startswith(singular)
            assert flask_babel.ngettext(one, many, 2).startswith(plural)
        export = flask_babel.ngettext(
            "Payroll export %(id)d created with %(num)d shift.",
            "Payroll export %(id)d created with %(num)d shifts.",
            32,
            id=1,
        )
        assert export == "Payroll export 1 created with 32 shifts."


def links_in(body: str) -> list[str]:
    return LINK.findall(body)


def test_the_hours_reminder_says_what_to_do_with_one_link(app, db, ctx):
    worker = factories.user_for(Role.WORKER, full_name="Anna Worker")
    employer = factories.user_for(Role.EMPLOYER, full_name="Erik Employer")
    link = "http://localhost/hours/week"
    with force_locale("en"):
        _subject, to_worker = mail.compose("hours_reminder", user=worker, count=1, link=link)
        _subject, to_employer = mail.compose("hours_reminder", user=employer, count=3, link=link)
    assert "1 shift is waiting for your confirmation. Check it and confirm it here:" in to_worker
    assert "3 shifts are waiting for your approval. Check them and approve them here:" in (
        to_employer
    )
    for body in (to_worker, to_employer):
        assert links_in(body) == [link]
        assert "(s)" not in body


def test_the_job_offer_says_what_to_do_with_one_link(app, db, ctx):
    worker = factories.user_for(Role.WORKER)
    employer = factories.user_for(Role.EMPLOYER)
    consultant = factories.UserFactory(role=Role.CONSULTANT, full_name="Mette Madsen")
    placement = factories.placement_between(worker, employer, consultant=consultant)
    placement.hours_per_week = 1
    link = f"http://localhost/placements/{placement.id or 1}"
    with force_locale("en"):
        subject, body = mail.compose("placement_offer", placement=placement, link=link)
    assert "A job for you at" in subject
    assert "1 hour a week from" in body
    assert "Read about the job and answer yes or no here:\n" + link in body
    assert links_in(body) == [link]
