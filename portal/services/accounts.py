"""Users, invitations, password resets and log-in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from core import audit, dates, links, mail, outbox
from core.errors import Conflict, Invalid, NotAllowed, NotFound
from core.models import Employer, Role, User, UserToken
from core.pages import Page, paginate
from portal.auth import end_sessions, hash_password, verify_password

INVITE, RESET = "invite", "reset"
MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def listing(session: Session, number: int = 1) -> Page:
    """A page of the logins, by role and address (the admin's user list)."""
    stmt = select(User).options(joinedload(User.employer)).order_by(User.role, User.email)
    return paginate(session, stmt, number)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user with this e-mail and password, or None."""
    user = find_by_email(session, email)
    if not verify_password(user, password) or user is None or not user.active:
        return None
    user.last_login_at = dates.now()
    return user


def create_user(
    session: Session,
    *,
    email: str,
    role: Role,
    full_name: str,
    employer: Employer | None = None,
    phone: str = "",
    locale: str = "da",
) -> User:
    """Add a user without a password; an invitation sets it."""
    email = normalize_email(email)
    if find_by_email(session, email) is not None:
        raise Invalid(_("A user with the e-mail %(email)s already exists.", email=email))
    if (role == Role.EMPLOYER) != (employer is not None):
        raise Invalid(_("Employer users must belong to exactly one employer."))
    user = User(
        email=email,
        role=role,
        full_name=full_name.strip(),
        employer=employer,
        phone=phone,
        locale=locale,
    )
    session.add(user)
    session.flush()
    return user


def invite(
    session: Session,
    by: User | None,
    *,
    email: str,
    role: Role,
    full_name: str,
    employer: Employer | None = None,
    phone: str = "",
    order_contact: bool = False,
) -> User:
    """Create the user and e-mail a one-time link to choose a password.

    Who may create which login (README "Security notes"): an admin any; a consultant a worker,
    or an employer's contact person exactly as the company gave it on its own order
    (`order_contact`). A consultant never chooses the address of an employer login: that
    would let them give themselves access to the employer's invoices."""
    if by is not None and by.role == Role.CONSULTANT:
        if not (role == Role.WORKER or (role == Role.EMPLOYER and order_contact)):
            raise NotAllowed(
                _("Only an admin can create employer logins; consultants invite workers.")
            )
    elif by is not None and by.role != Role.ADMIN:
        raise NotAllowed(_("Only an admin can invite users."))
    user = create_user(
        session, email=email, role=role, full_name=full_name, employer=employer, phone=phone
    )
    send_invitation(session, user)
    audit.record(session, by, "user.invited", user, email=user.email, role=user.role.value)
    return user


def send_invitation(session: Session, user: User) -> None:
    """E-mail a fresh invitation link (earlier unused links stop working)."""
    hours = current_app.config["INVITE_MAX_AGE_HOURS"]
    token = issue_token(session, user, INVITE, timedelta(hours=hours))
    link = links.absolute_url("auth.set_password", token=token)
    with force_locale(user.locale):
        subject, body = mail.compose("account_invitation", user=user, days=hours // 24, link=link)
        outbox.add(session, "account", user.email, subject=subject, body=body)


def request_reset(session: Session, email: str) -> None:
    """E-mail a reset link if the account exists; say nothing either way."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        return
    _send_reset_link(session, user, "account_reset")
    audit.record(session, None, "user.reset_requested", user)


LOCKOUT_NOTICE_INTERVAL = timedelta(minutes=15)


def notify_lockout(session: Session, email: str, *, now=None) -> None:
    """Tell an account's owner that its log-in is locked by failed attempts, with a reset link
    that lets them in now; at most once per lock period. Unknown addresses get nothing."""
    user = find_by_email(session, email)
    if user is None or not user.active:
        return
    now = now or dates.now()
    last = user.lockout_notified_at
    if last is not None and now - last < LOCKOUT_NOTICE_INTERVAL:
        return
    user.lockout_notified_at = now
    _send_reset_link(session, user, "account_locked")
    audit.record(session, None, "user.lockout_notified", user)


def _send_reset_link(session: Session, user: User, template: str) -> None:
    """Queue the e-mail `template` with a fresh one-time reset link, in the user's own
    language."""
    hours = current_app.config["RESET_MAX_AGE_HOURS"]
    token = issue_token(session, user, RESET, timedelta(hours=hours))
    link = links.absolute_url("auth.reset_password", token=token)
    with force_locale(user.locale):
        subject, body = mail.compose(template, user=user, link=link, hours=hours)
        outbox.add(session, "account", user.email, subject=subject, body=body)


def issue_token(session: Session, user: User, purpose: str, lifetime: timedelta) -> str:
    """Store the hash of a new random token and return the token; older ones are voided."""
    now = dates.now()
    for old in session.scalars(
        select(UserToken).where(
            UserToken.user_id == user.id, UserToken.purpose == purpose, UserToken.used_at.is_(None)
        )
    ):
        old.used_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        UserToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            expires_at=now + lifetime,
            created_at=now,
        )
    )
    return token


def check_token(session: Session, token: str, purpose: str) -> UserToken:
    """Return the live token row or raise NotFound (used, expired or never issued)."""
    row = session.scalar(
        select(UserToken).where(UserToken.token_hash == _hash(token), UserToken.purpose == purpose)
    )
    expired = row is not None and row.expires_at <= dates.now()
    if row is None or row.used_at is not None or expired or not row.user.active:
        raise NotFound(_("This link has expired or has already been used."))
    return row


def redeem_token(session: Session, token: str, purpose: str, password: str) -> User:
    """Set the password through a one-time link and use the link up."""
    row = check_token(session, token, purpose)
    set_password(session, row.user, password)
    row.used_at = dates.now()
    audit.record(session, row.user, f"user.password_set_by_{purpose}", row.user)
    return row.user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(_("The password must be at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    if password.strip().lower() == user.email:
        raise Invalid(_("The password must not be your e-mail address."))
    user.password_hash = hash_password(password)
    end_sessions(user)  # whoever knew the old password is logged out everywhere


def set_active(session: Session, by: User, user: User, active: bool) -> None:
    """Deactivate (log out everywhere, no log-in) or reactivate a user."""
    if user.id == by.id:
        raise Conflict(_("You cannot deactivate yourself."))
    if not active and user.role == Role.ADMIN:
        admins = session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
        )
        if admins <= 1:
            raise Conflict(_("The last active admin cannot be deactivated."))
    user.active = active
    if not active:
        end_sessions(user)
    audit.record(session, by, "user.activated" if active else "user.deactivated", user)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
