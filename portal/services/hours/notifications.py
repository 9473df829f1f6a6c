"""Hours: the e-mails. A dispute raised or closed, and the daily reminder of hours that wait
for someone's signature."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale
from sqlalchemy.orm import Session

from core import audit, dates, links, mail, outbox
from core.models import (
    HoursReminder,
    TimeEntry,
    User,
)
from portal.services.hours.queries import employer_users, waiting_by_user


def dispute_raised(session: Session, entry: TimeEntry, by: User, reason: str) -> None:
    """Tell the placement's consultant that a shift is disputed, and why."""
    consultant = entry.placement.consultant
    if consultant is not None and consultant.active:
        link = links.absolute_url("hours.entry", entry_id=entry.id)
        notify(
            session, [consultant], "hours_disputed", entry=entry, by=by, reason=reason, link=link
        )


def dispute_closed(
    session: Session, entry: TimeEntry, by: User, note: str, *, corrected: bool
) -> None:
    placement = entry.placement
    recipients = employer_users(session, placement.employer_id)
    if placement.worker.user is not None and placement.worker.user.active:
        recipients.append(placement.worker.user)
    link = links.absolute_url("hours.entry", entry_id=entry.id)
    notify(
        session,
        recipients,
        "hours_dispute_closed",
        entry=entry,
        by=by,
        corrected=corrected,
        note=note,
        link=link,
    )


def notify(session: Session, users: list[User], template: str, **context: Any) -> None:
    """Queue the e-mail `template` to each user, written in the user's own language (the
    template sees the recipient as `user`)."""
    for user in users:
        with force_locale(user.locale):
            subject, body = mail.compose(template, user=user, **context)
            outbox.add(session, "hours", user.email, subject=subject, body=body)


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """E-mail everyone with entries waiting for them, at most once per Copenhagen day."""
    now = now or dates.now()
    today = dates.local_date(now or dates.now())
    sent = 0
    for user_id, (user, count) in sorted(waiting_by_user(session).items()):
        last = session.get(HoursReminder, user_id)
        if last is not None and dates.local_date(last.last_sent_at) == today:
            continue
        notify(
            session, [user], "hours_reminder", count=count, link=links.absolute_url("hours.week")
        )
        if last is None:
            session.add(HoursReminder(user_id=user_id, last_sent_at=now))
        else:
            last.last_sent_at = now
        audit.record(session, None, "hours.reminder_sent", user, waiting=count)
        sent += 1
    return sent
