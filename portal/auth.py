"""Log-in sessions, password hashing, role checks and the second factor's gate."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from werkzeug.security import check_password_hash, generate_password_hash

from core import dates, settings
from core.db import get_session
from core.models import Role, User
from portal.forms import MAX_ID

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see that page.")
login_manager.login_message_category = "info"

# A valid hash to compare against when the e-mail is unknown, so both paths take as long.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Hash with werkzeug's current default (scrypt)."""
    return generate_password_hash(password)


def verify_password(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, password)


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The user of a log-in session that has not been ended (see User.get_id)."""
    user_id, _dot, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()) or not 0 < int(user_id) <= MAX_ID:
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def end_sessions(user: User) -> None:
    """End every log-in session the user has, on every device (the caller commits)."""
    user.session_version += 1


def role_required(*roles: Role) -> Callable:
    """Let only logged-in users with one of these roles in; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.allowed_roles = roles  # read by the authorization matrix test
        return wrapper

    return decorator


# --- The second factor ---------------------------------------------------------------------------
# A user with two-factor log-in on is not logged in by the password: the session only holds
# this marker (who, their session version, when), and the code completes the log-in.
PENDING = "two_factor_pending"
PENDING_MAX_AGE = 5 * 60  # seconds
# What a user half-way in (the marker, or a staff user still to enrol) may reach: logging in
# or out, the language switch, resetting a forgotten password and the second factor's pages.
OPEN_HALF_WAY = frozenset(
    {
        "static",
        "main.language",
        "auth.login",
        "auth.logout",
        "auth.forgot",
        "auth.reset_password",
        "auth.set_password",
        "twofactor.verify",
        "twofactor.cancel",
    }
)


def await_second_factor(user: User, next_url: str = "") -> None:
    """The password was right: wait for the code before logging the user in."""
    session[PENDING] = {
        "user": user.id,
        "version": user.session_version,
        "at": int(dates.now().timestamp()),
        "next": next_url,
    }


def pending_user() -> User | None:
    """The user whose password was right a moment ago and whose code is awaited, if any."""
    marker = session.get(PENDING)
    if not isinstance(marker, dict):
        return None
    user_id, version, at = marker.get("user"), marker.get("version"), marker.get("at")
    if not (isinstance(user_id, int) and isinstance(at, int) and 0 < user_id <= MAX_ID):
        return None
    if not 0 <= dates.now().timestamp() - at <= PENDING_MAX_AGE:
        return None
    user = get_session().get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None  # deactivated, or a reset or new password since
    return user if user.totp_enabled_at is not None else None


def pending_next() -> str:
    marker = session.get(PENDING)
    return str(marker.get("next") or "") if isinstance(marker, dict) else ""


def forget_second_factor() -> None:
    session.pop(PENDING, None)


def must_enrol(user: User) -> bool:
    """Staff whom the organisation requires to have a second factor and who have none yet."""
    if not user.is_staff or user.totp_enabled_at is not None:
        return False
    return settings.staff_two_factor(get_session())


def _second_factor_first():
    """Nothing but the pages in OPEN_HALF_WAY before the second factor: a user awaiting the
    code is sent to give it, a staff user who must enrol to the enrolment page."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in OPEN_HALF_WAY:
        return None  # None: no such route (the 404 follows)
    if current_user.is_authenticated:
        if endpoint != "twofactor.setup" and must_enrol(current_user):
            return redirect(url_for("twofactor.setup"))
        return None
    if PENDING in session:
        if pending_user() is not None:
            return redirect(url_for("twofactor.verify"))
        forget_second_factor()  # expired or void
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    app.before_request(_second_factor_first)

    # flask-login caches the user in `g`; forget it with the request, even when an outer app
    # context lives on (tests push one around many requests and Flask then reuses its `g`).
    @app.teardown_request
    def _forget_user(_exc: BaseException | None) -> None:
        g.pop("_login_user", None)
