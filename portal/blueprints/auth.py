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
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from core import audit
from core.db import get_session
from core.errors import Invalid
from portal.auth import end_sessions
from portal.forms import Form
from portal.security import is_safe_redirect, limiter
from portal.services import accounts
from portal.views import error_page

bp = Blueprint("auth", __name__, url_prefix="/auth")


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class ForgotForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])


class PasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],  # the service checks the minimum
        description=_l("At least 10 characters."),
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


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
        session = get_session()
        user = accounts.authenticate(session, form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            audit.record(session, user, "user.login", user)
            session.commit()
            return redirect(next_url if is_safe_redirect(next_url) else url_for("main.index"))
        flash(_("Wrong e-mail or password."), "error")
    return render_template("auth/login.html", form=form, next_url=next_url), (
        401 if request.method == "POST" else 200
    )


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Every session of this user ends, so a copied cookie is worth nothing afterwards.
        session = get_session()
        end_sessions(current_user)
        audit.record(session, current_user, "user.logout", current_user)
        session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        session = get_session()
        accounts.request_reset(session, form.email.data)
        session.commit()
        flash(
            _("If the address has an account, we have sent a link to reset the password."),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


def _password_page(token: str, purpose: str, template: str):
    session = get_session()
    row = accounts.check_token(session, token, purpose)  # 404 page when used or expired
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.redeem_token(session, token, purpose, form.password.data)
        except Invalid as error:
            session.rollback()
            form.password.errors.append(error.message)
        else:
            session.commit()
            logout_user()
            login_user(user)
            flash(_("Your password is set. Welcome!"), "success")
            return redirect(url_for("main.index"))
    return render_template(template, form=form, user=row.user)


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    return _password_page(token, accounts.INVITE, "auth/set_password.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    return _password_page(token, accounts.RESET, "auth/reset_password.html")
