"""Log-in sessions, password hashing and role checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, g
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from werkzeug.security import check_password_hash, generate_password_hash

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


def init_app(app: Flask) -> None:
    login_manager.init_app(app)

    # flask-login caches the user in `g`; forget it with the request, even when an outer app
    # context lives on (tests push one around many requests and Flask then reuses its `g`).
    @app.teardown_request
    def _forget_user(_exc: BaseException | None) -> None:
        g.pop("_login_user", None)
