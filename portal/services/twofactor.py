"""Two-factor log-in: TOTP secrets (RFC 6238), recovery codes, enrolment, checks and resets.

Every function takes the session and never commits. A code is accepted at most once: the
30-second step and each recovery code are used up by one conditional UPDATE, so two requests
racing with the same code cannot both pass, on PostgreSQL or SQLite, without a lock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from core import audit, dates
from core import settings as settings_service
from core.errors import Conflict, Invalid, NotAllowed
from core.models import RecoveryCode, Role, User
from portal.auth import end_sessions

ISSUER = "Småjobportalen"
DIGITS, INTERVAL, VALID_WINDOW = 6, 30, 1  # a code of the step before or after still works
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_LENGTH = 10  # about 49 bits each
ENROLMENT_MAX_AGE = 30 * 60  # seconds the secret on the enrolment page stays valid
ENROLLING_ROLES = (Role.ADMIN, Role.FINANCE, Role.CONSULTANT, Role.EMPLOYER)


# --- who must, who may --------------------------------------------------------------------------


def may_enrol(user: User) -> bool:
    """Staff and employers may use a second factor (workers log in on a phone, not offered)."""
    return user.role in ENROLLING_ROLES


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None


def required(session: Session, user: User) -> bool:
    """Whether the organisation requires a second factor of this user (staff, setting on)."""
    return user.is_staff and settings_service.staff_two_factor(session)


def must_enrol(session: Session, user: User) -> bool:
    """A staff user who must have a second factor and has none yet."""
    return not enabled(user) and required(session, user)


# --- the secret: made for the enrolment page, kept encrypted ----------------------------------


def _fernet() -> Fernet:
    # PORTAL_TWO_FACTOR_KEY, else the secret key: set it before rotating PORTAL_SECRET_KEY, or
    # every enrolled user needs an admin's reset (their recovery codes still work).
    key = current_app.config.get("TWO_FACTOR_KEY") or current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(b"smajob-two-factor:" + str(key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def new_secret() -> str:
    return pyotp.random_base32()


def seal_enrolment(user: User, secret: str) -> str:
    """The secret for the enrolment form's hidden field, bound to the user and dated."""
    return _fernet().encrypt(f"{user.id}:{secret}".encode()).decode()


def open_enrolment(user: User, sealed: str) -> str | None:
    """The secret from the enrolment form, or None when it is not this user's or too old."""
    try:
        text = _fernet().decrypt(sealed.encode(), ttl=ENROLMENT_MAX_AGE).decode()
    except (InvalidToken, ValueError):
        return None
    user_id, _colon, secret = text.partition(":")
    return secret if user_id == str(user.id) and secret else None


def _stored_secret(user: User) -> str:
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except (InvalidToken, AttributeError, ValueError):
        return ""  # a changed key: no code matches; recovery codes and the admin's reset do


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_code(uri: str) -> str:
    """The QR code of `uri` as an SVG data URI (an <img>: the CSP allows data: images)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- checking codes -----------------------------------------------------------------------------


def _clean(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The step whose code this is (within the window), compared in constant time."""
    code = _clean(code)
    if not secret or len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = totp.timecode(now)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected.encode(), code.encode()):
            found = step  # no early return: every step is compared
    return found


def _use_step(session: Session, user: User, step: int) -> bool:
    """Record `step` as used unless it or a later one was: one UPDATE, so of two requests
    with the same code exactly one changes the row."""
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    user.totp_last_step = step
    return True


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Use up one of the user's recovery codes; False when unknown or used already."""
    cleaned = _clean(code)
    if not cleaned:
        return False
    result = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(cleaned),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=dates.now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


class CodeUsed(Invalid):
    """A right code whose 30 seconds were used already (the one shown at enrolment, a second
    tab): not a wrong guess, so it does not count toward the lock-out."""


def check_code(session: Session, user: User, code: str) -> None:
    """Accept a current authenticator code that was not used before; raise Invalid if not
    (CodeUsed when it is right but used)."""
    step = _matching_step(_stored_secret(user), code, dates.now())
    if step is None or not enabled(user):
        raise Invalid(_("That code is not right. Check the time on your phone and try again."))
    if not _use_step(session, user, step):
        raise CodeUsed(
            _(
                "That code was used a moment ago. Wait for the next code in your app (a new one "
                "comes every 30 seconds) and enter that."
            )
        )


def verify(session: Session, user: User, *, code: str = "", recovery_code: str = "") -> None:
    """The second factor at log-in: an authenticator code or an unused recovery code."""
    if recovery_code and not code:
        if not enabled(user) or not _use_recovery_code(session, user, recovery_code):
            raise Invalid(_("That recovery code is not right, or it has been used."))
        audit.record(session, user, "user.recovery_code_used", user, left=codes_left(session, user))
        return
    check_code(session, user, code)


# --- enrolment, recovery codes, turning it off, the admin's reset ------------------------------


def enable(session: Session, user: User, secret: str, code: str) -> list[str]:
    """Turn the second factor on once the first code from the app matches; returns the
    recovery codes to show once. Every other session of the user ends (they had the password
    only); the caller logs the current one in again."""
    if enabled(user):
        raise Conflict(_("Two-factor log-in is already on."))
    if not may_enrol(user):
        raise NotAllowed()
    step = _matching_step(secret, code, dates.now())
    if step is None:
        raise Invalid(_("That code is not right. Check the time on your phone and try again."))
    user.totp_secret = _fernet().encrypt(secret.encode()).decode()
    user.totp_enabled_at = dates.now()
    user.totp_last_step = step
    codes = _new_recovery_codes(session, user)
    end_sessions(user)
    audit.record(session, user, "user.two_factor_enabled", user)
    return codes


def new_recovery_codes(session: Session, user: User, code: str) -> list[str]:
    """Replace the recovery codes (a current authenticator code proves it is the owner)."""
    check_code(session, user, code)
    codes = _new_recovery_codes(session, user)
    audit.record(session, user, "user.recovery_codes_renewed", user)
    return codes


def disable(session: Session, user: User, code: str) -> None:
    """Turn the second factor off with a current code, unless the organisation requires it."""
    if not enabled(user):
        raise Conflict(_("Two-factor log-in is not on."))
    if required(session, user):
        raise NotAllowed(_("Your organisation requires two-factor log-in for staff."))
    check_code(session, user, code)
    _clear(session, user)
    audit.record(session, user, "user.two_factor_disabled", user)


def reset(session: Session, by: User, user: User) -> None:
    """An admin removes a colleague's second factor (a lost phone): every session of theirs
    ends, and they enrol again at the next log-in if they must."""
    if user.id == by.id:
        raise Conflict(_("You cannot reset your own second factor."))
    had = enabled(user)
    _clear(session, user)
    end_sessions(user)
    audit.record(session, by, "user.two_factor_reset", user, email=user.email, was_enabled=had)


def codes_left(session: Session, user: User) -> int:
    return session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _clear(session: Session, user: User) -> None:
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    while len(codes) < RECOVERY_CODES:
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        if raw not in codes:
            codes.append(raw)
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(raw)) for raw in codes)
    return [f"{raw[:5]}-{raw[5:]}" for raw in codes]


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the QR code, the secret to type, the sealed secret."""

    qr_code: str
    secret: str
    sealed: str

    @classmethod
    def start(cls, user: User, sealed: str | None = None) -> Enrolment:
        """A fresh secret, or the one the form carried back (a wrong first code)."""
        secret = (open_enrolment(user, sealed) if sealed else None) or new_secret()
        uri = provisioning_uri(user, secret)
        return cls(qr_code(uri), grouped(secret), seal_enrolment(user, secret))
