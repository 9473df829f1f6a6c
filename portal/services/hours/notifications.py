"""Hours: the e-mails. A dispute raised or closed, and the daily reminder of hours that wait
for someone's signature."""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from core import audit, links, mail
from core.models import (
    HoursReminder,
    Role,
    TimeEntry,
    User,
    utcnow,
)
from portal.services.hours.queries import employer_users, waiting_by_user
from portal.services.hours.rules import business_today, ddmmyyyy, hhmm


def dispute_raised(session: Session, entry: TimeEntry, by: User, reason: str) -> None:
    """Tell the placement's consultant that a shift is disputed, and why."""
    consultant = entry.placement.consultant
    if consultant is not None and consultant.active:
        notify(
            session,
            [consultant],
            lambda: (
                _("Disputed hours: %(worker)s", worker=entry.placement.worker.display_name),
                _(
                    "Hello %(name)s,\n\n%(who)s disputed the shift on %(date)s (%(start)s–"
                    "%(end)s) for %(worker)s at %(employer)s:\n\n%(reason)s\n\n"
                    "Correct it or resolve the dispute here:\n%(link)s\n",
                    name=consultant.full_name or consultant.email,
                    who=by.full_name or by.email,
                    date=ddmmyyyy(entry.work_date),
                    start=hhmm(entry.start_time),
                    end=hhmm(entry.end_time),
                    worker=entry.placement.worker.display_name,
                    employer=entry.placement.employer.name,
                    reason=reason,
                    link=links.absolute_url("hours.entry", entry_id=entry.id),
                ),
            ),
        )


def dispute_closed(
    session: Session, entry: TimeEntry, by: User, note: str, *, corrected: bool
) -> None:
    placement = entry.placement
    recipients = employer_users(session, placement.employer_id)
    if placement.worker.user is not None and placement.worker.user.active:
        recipients.append(placement.worker.user)
    link = links.absolute_url("hours.entry", entry_id=entry.id)

    def text():
        subject = _("Hours for %(date)s: the dispute is closed", date=ddmmyyyy(entry.work_date))
        if corrected:
            what = _(
                "The consultant corrected the shift to %(start)s–%(end)s, break %(pause)d "
                "minutes. Please look at it and confirm it again.",
                start=hhmm(entry.start_time),
                end=hhmm(entry.end_time),
                pause=entry.break_minutes,
            )
        else:
            what = _("The consultant left the shift as it was recorded.")
        return subject, _(
            "Hello,\n\nThe shift on %(date)s for %(worker)s at %(employer)s has been handled "
            "by %(consultant)s.\n\n%(what)s\n\nNote: %(note)s\n\n%(link)s\n",
            date=ddmmyyyy(entry.work_date),
            worker=placement.worker.display_name,
            employer=placement.employer.name,
            consultant=by.full_name or by.email,
            what=what,
            note=note,
            link=link,
        )

    notify(session, recipients, text)


def notify(session: Session, users: list[User], text) -> None:
    """Queue one e-mail per user, written in the user's own language."""
    for user in users:
        with force_locale(user.locale):
            subject, body = text()
            mail.queue(session, mail.Message(user.email, subject, body))


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """E-mail everyone with entries waiting for them, at most once per Copenhagen day."""
    now = now or utcnow()
    today = business_today(now)
    sent = 0
    for user_id, (user, count) in sorted(waiting_by_user(session).items()):
        last = session.get(HoursReminder, user_id)
        if last is not None and business_today(last.last_sent_at) == today:
            continue
        link = links.absolute_url("hours.week")
        with force_locale(user.locale):
            subject = _("Hours are waiting for you")
            if user.role == Role.WORKER:
                what = _("%(n)d shift(s) are waiting for your confirmation.", n=count)
            else:
                what = _("%(n)d shift(s) are waiting for your approval.", n=count)
            body = _(
                "Hello %(name)s,\n\n%(what)s\n\nUnanswered hours are approved automatically "
                "after a few days. See them here:\n%(link)s\n",
                name=user.full_name or user.email,
                what=what,
                link=link,
            )
            mail.queue(session, mail.Message(user.email, subject, body))
        if last is None:
            session.add(HoursReminder(user_id=user_id, last_sent_at=now))
        else:
            last.last_sent_at = now
        audit.record(session, None, "hours.reminder_sent", user, waiting=count)
        sent += 1
    return sent
