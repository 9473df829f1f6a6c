"""Log in and out, invitations and password resets."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from core import audit
from core.db import get_session
from portal.auth import await_second_factor, end_sessions, forget_second_factor
from portal.forms.auth import ForgotForm, LoginForm, PasswordForm
from portal.security import is_safe_redirect, limiter
from portal.services import accounts
from portal.views import Done, error_page, submit

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _account_key() -> str:
    return "account:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def _failed(response) -> bool:
    # Only failed attempts count against the limits; a successful log-in redirects.
    return response.status_code != 302


def _account_locked(_limit):
    """The account's limit is reached: tell its owner (once per lock) and offer a way in that
    a guesser cannot use, a reset link to the owner's address. The page reads the same for
    every address, known or not."""
    session = get_session()
    accounts.notify_lockout(session, request.form.get("email", ""))
    session.commit()
    page = error_page(
        429,
        _(
            "This account is locked for a while after too many failed log-ins. If the address "
            "has an account, we have e-mailed its owner a link to log in now by choosing a "
            "new password."
        ),
    )
    return make_response(page)  # Flask-Limiter takes only a Response object


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_account_locked,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    next_url = request.values.get("next", "")
    if form.validate_on_submit():
        user = accounts.authenticate(get_session(), form.email.data, form.password.data)
        if user is not None:
            return _logged_in(user, next_url)
        flash(_("Wrong e-mail or password."), "error")
    status = 401 if request.method == "POST" else 200  # counted by the limits above
    return render_template("auth/login.html", form=form, next_url=next_url), status


def _logged_in(user, next_url: str):
    session = get_session()
    if user.totp_enabled_at is not None:
        # The password alone logs no one in: the code from the app comes first.
        await_second_factor(user, next_url if is_safe_redirect(next_url) else "")
        session.commit()
        return redirect(url_for("twofactor.verify"))
    login_user(user)
    audit.record(session, user, "user.login", user)
    session.commit()
    return redirect(next_url if is_safe_redirect(next_url) else url_for("main.index"))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Every session of this user ends, so a copied cookie is worth nothing afterwards.
        session = get_session()
        end_sessions(current_user)
        audit.record(session, current_user, "user.logout", current_user)
        session.commit()
    logout_user()
    forget_second_factor()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot():
    form = ForgotForm()
    return submit(
        form,
        lambda: _reset_asked(form.email.data),
        page=lambda: render_template("auth/forgot.html", form=form),
    )


def _reset_asked(email: str) -> Done:
    accounts.request_reset(get_session(), email)
    message = _("If the address has an account, we have sent a link to reset the password.")
    return Done(url_for("auth.login"), message, category="info")


def _password_page(token: str, purpose: str, template: str):
    row = accounts.check_token(get_session(), token, purpose)  # 404 when used or expired
    form = PasswordForm()
    return submit(
        form,
        lambda: _password_set(token, purpose, form.password.data),
        page=lambda: render_template(template, form=form, user=row.user),
    )


def _password_set(token: str, purpose: str, password: str) -> Done:
    user = accounts.redeem_token(get_session(), token, purpose, password)
    logout_user()
    if user.totp_enabled_at is not None:  # a reset link is no way around the second factor
        await_second_factor(user)
        message = _("Your password is set. Now enter the code from your authenticator app.")
        return Done(url_for("twofactor.verify"), message)
    login_user(user)  # with the new session version: every older session has ended
    return Done(url_for("main.index"), _("Your password is set. Welcome!"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    return _password_page(token, accounts.INVITE, "auth/set_password.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page(token, accounts.RESET, "auth/reset_password.html")
