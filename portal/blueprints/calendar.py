"""The calendar feed: a secret ICS address listing a worker's or an employer's planned shifts
(RFC 5545), and the page where its owner makes, copies and revokes it."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, Response, render_template, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from core import dates, links
from core.db import get_session
from core.models import Role, User
from portal.auth import role_required
from portal.forms import Form, OnceForm
from portal.services.hours import planned
from portal.views import Done, submit

bp = Blueprint("calendar", __name__)

PARTIES = (Role.WORKER, Role.EMPLOYER)
# The new address is shown once, on the page the post redirects to; only its hash is stored.
NEW_ADDRESS = "calendar_new_address"
LINE_OCTETS = 75
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class NewFeedForm(OnceForm):
    """Make a calendar address (a second click finds the first)."""


class RevokeFeedForm(Form):
    """Stop the calendar address; doing it twice does no harm."""


@bp.get("/calendar")
@role_required(*PARTIES)
def index():
    address = session.pop(NEW_ADDRESS, None)
    return render_template(
        "calendar/index.html",
        feed=planned.active_feed(get_session(), current_user),
        address=address,
        webcal=re.sub(r"^https?://", "webcal://", address) if address else None,
        new_form=NewFeedForm(),
        revoke_form=RevokeFeedForm(),
    )


@bp.post("/calendar/new")
@role_required(*PARTIES)
def create():
    return submit(NewFeedForm(), _created, back=url_for("calendar.index"))


def _created() -> Done:
    token = planned.new_feed(get_session(), current_user)
    address = links.absolute_url("calendar.feed", token=token)

    def show_once() -> None:
        session[NEW_ADDRESS] = address

    message = _("Your calendar address is ready. Copy it now: it is shown only this once.")
    return Done(url_for("calendar.index"), message, after_commit=show_once)


@bp.post("/calendar/revoke")
@role_required(*PARTIES)
def revoke():
    return submit(RevokeFeedForm(), _revoked, back=url_for("calendar.index"))


def _revoked() -> Done:
    planned.revoke_feeds(get_session(), current_user)
    message = _("The calendar address is stopped. Calendars that used it get nothing more.")
    return Done(url_for("calendar.index"), message)


@bp.get("/calendar/<token>.ics")
def feed(token: str):
    """Public: the secret in the address is the key. Unknown or revoked answers 404."""
    db = get_session()
    owner = planned.feed_owner(db, token)
    shifts = planned.feed_shifts(db, owner)
    with force_locale(owner.locale if owner.locale in ("da", "en") else "da"):
        body = ics_calendar(owner, shifts, dates.now())
    return Response(
        body.encode(),
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="smajob.ics"'},
    )


# --- RFC 5545, written by hand: a few properties, escaped and folded ---------------------------


def ics_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped, controls dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return CONTROL.sub("", value.replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines of at most 75 octets; each continuation starts with a space (RFC 5545 3.1), and
    no UTF-8 character is split."""
    parts, current, size, limit = [], [], 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1
        current.append(char)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _area(shift: planned.PlannedShift, user: User) -> str:
    area = shift.placement.job_order.work_area
    return area.name_en if user.locale == "en" and area.name_en else area.name


def _summary(shift: planned.PlannedShift, user: User) -> str:
    if user.role == Role.EMPLOYER:
        return f"{shift.placement.worker.first_name} – {_area(shift, user)}"
    return f"Småjob: {shift.placement.employer.name} ({_area(shift, user)})"


def _event(shift: planned.PlannedShift, user: User, stamp: str) -> list[str]:
    order = shift.placement.job_order
    description = order.title
    if shift.break_minutes:
        description += "\n" + _("Break: %(n)d minutes", n=shift.break_minutes)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{shift.uid}",
        f"DTSTAMP:{stamp}",
        f"DTSTART:{_utc(shift.starts_at)}",
        f"DTEND:{_utc(shift.ends_at)}",
        f"SUMMARY:{ics_text(_summary(shift, user))}",
        f"DESCRIPTION:{ics_text(description)}",
    ]
    if order.address:
        lines.append(f"LOCATION:{ics_text(order.address)}")
    return [*lines, "STATUS:CONFIRMED", "TRANSP:OPAQUE", "END:VEVENT"]


def ics_calendar(user: User, shifts: list[planned.PlannedShift], now: datetime) -> str:
    """The calendar of planned shifts, CRLF line ends, every line folded."""
    stamp = _utc(now)
    name = _("Småjob: planned shifts")  # not inside the f-string: extraction would miss it
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Smajob//Planned shifts//DA",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{ics_text(name)}",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ]
    for shift in shifts:
        lines.extend(_event(shift, user, stamp))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
