"""Two-factor log-in for staff: TOTP enrolment, verification, recovery codes (issue 16)."""

from __future__ import annotations

from contextlib import contextmanager

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user

from core import audit
from core.db import get_session
from core.errors import Invalid, NotFound
from portal.auth import (
    forget_second_factor,
    must_enrol,
    pending_next,
    pending_user,
    role_required,
)
from portal.forms.twofactor import ButtonForm, CodeForm, EnrolForm, VerifyForm
from portal.security import is_safe_redirect, limiter
from portal.services import twofactor
from portal.views import Done, error_page, submit

bp = Blueprint("twofactor", __name__, url_prefix="/auth/two-factor")

# Recovery codes just made, shown once on the page the post redirects to; only hashes are kept.
NEW_CODES = "two_factor_new_codes"


# --- rate limits: wrong codes, per account and per address, shared by every page here --------


def _account_key() -> str:
    user = current_user if current_user.is_authenticated else pending_user()
    return f"two-factor:{user.id if user is not None else '-'}"


def _failed(response) -> bool:
    # A right code redirects; a right code used already is not a wrong guess (_not_a_guess).
    return response.status_code >= 400 and not g.pop("two_factor_code_reused", False)


@contextmanager
def _not_a_guess():
    """Around a code check: a right code whose step was used already is told apart from a
    wrong one, and the limits above do not count it."""
    try:
        yield
    except twofactor.CodeUsed:
        g.two_factor_code_reused = True
        raise


def _too_many(_limit):
    page = error_page(
        429,
        _(
            "Too many wrong codes. Wait 15 minutes and try again. If your phone is lost, use a "
            "recovery code then, or ask an admin to reset your second factor."
        ),
    )
    return make_response(page)  # Flask-Limiter takes only a Response object


per_account = limiter.shared_limit(
    lambda: current_app.config["TWO_FACTOR_LIMIT_PER_ACCOUNT"],
    scope="two-factor-account",
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_too_many,
)
per_address = limiter.shared_limit(
    lambda: current_app.config["TWO_FACTOR_LIMIT_PER_IP"],
    scope="two-factor-address",
    methods=["POST"],
    deduct_when=_failed,
    on_breach=_too_many,
)


# --- the second step of logging in ------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@per_address
@per_account
def verify():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    user = pending_user()
    if user is None:
        forget_second_factor()
        flash(_("Please log in again: the log-in waited too long for the code."), "info")
        return redirect(url_for("auth.login"))
    form = VerifyForm()
    return submit(
        form,
        lambda: _verified(user, form),
        page=lambda: render_template("twofactor/verify.html", form=form, cancel=ButtonForm()),
    )


def _verified(user, form: VerifyForm) -> Done:
    db = get_session()
    with _not_a_guess():
        twofactor.verify(db, user, code=form.code.data, recovery_code=form.recovery_code.data)
    next_url = pending_next()
    forget_second_factor()
    login_user(user)
    audit.record(db, user, "user.login", user, second_factor=True)
    message = ""
    if form.recovery_code.data and not form.code.data:
        left = twofactor.codes_left(db, user)
        message = _(
            "You used a recovery code; %(left)d are left. Make new ones under Two-factor log-in.",
            left=left,
        )
    return Done(next_url if is_safe_redirect(next_url) else url_for("main.index"), message)


@bp.post("/cancel")
def cancel():
    def cancelled() -> Done:
        forget_second_factor()
        return Done(url_for("auth.login"), "")

    return submit(ButtonForm(), cancelled, back=url_for("auth.login"))


# --- enrolment and the user's own page ---------------------------------------------------------


@bp.route("/setup", methods=["GET", "POST"])
@role_required(*twofactor.ENROLLING_ROLES)
@per_address
@per_account
def setup():
    if twofactor.enabled(current_user):
        return redirect(url_for("twofactor.manage"))
    form = EnrolForm()
    sent = form.enrolment.data
    expired = form.is_submitted() and twofactor.open_enrolment(current_user, sent or "") is None
    enrolment = twofactor.Enrolment.start(current_user, sent)
    form.enrolment.data = enrolment.sealed
    return submit(
        form,
        lambda: _enrolled(enrolment, form.code.data, expired),
        page=lambda: render_template(
            "twofactor/setup.html",
            form=form,
            enrolment=enrolment,
            forced=must_enrol(current_user),
        ),
    )


def _enrolled(enrolment: twofactor.Enrolment, code: str, expired: bool) -> Done:
    if expired:
        raise Invalid(_("The page was open too long. Scan the new QR code and enter its code."))
    secret = twofactor.open_enrolment(current_user, enrolment.sealed)
    if secret is None:
        raise NotFound()  # cannot happen: Enrolment.start sealed it for this user just now
    with _not_a_guess():
        codes = twofactor.enable(get_session(), current_user, secret, code)
    login_user(current_user)  # the new session version: sessions without the code ended
    return _show_codes_once(codes, _("Two-factor log-in is on."))


def _show_codes_once(codes: list[str], message: str) -> Done:
    def show_once() -> None:
        session[NEW_CODES] = codes

    return Done(url_for("twofactor.manage"), message, after_commit=show_once)


@bp.get("/account")
@role_required(*twofactor.ENROLLING_ROLES)
def manage():
    if not twofactor.enabled(current_user):
        return redirect(url_for("twofactor.setup"))
    return _manage_page(_blank("disable"), _blank("codes"))


def _blank(prefix: str) -> CodeForm:
    return CodeForm(prefix=prefix, formdata=None)


def _manage_page(disable_form: CodeForm, codes_form: CodeForm):
    db = get_session()
    return render_template(
        "twofactor/manage.html",
        codes=session.pop(NEW_CODES, None),
        left=twofactor.codes_left(db, current_user),
        required=twofactor.required(db, current_user),
        disable_form=disable_form,
        codes_form=codes_form,
    )


@bp.post("/disable")
@role_required(*twofactor.ENROLLING_ROLES)
@per_address
@per_account
def disable():
    form = CodeForm(prefix="disable")

    def disabled() -> Done:
        with _not_a_guess():
            twofactor.disable(get_session(), current_user, form.code.data)
        return Done(url_for("main.index"), _("Two-factor log-in is off."))

    return submit(form, disabled, page=lambda: _manage_page(form, _blank("codes")))


@bp.post("/recovery-codes")
@role_required(*twofactor.ENROLLING_ROLES)
@per_address
@per_account
def recovery_codes():
    form = CodeForm(prefix="codes")

    def renewed() -> Done:
        if not twofactor.enabled(current_user):
            raise Invalid(_("Two-factor log-in is not on."))
        with _not_a_guess():
            codes = twofactor.new_recovery_codes(get_session(), current_user, form.code.data)
        return _show_codes_once(codes, _("New recovery codes are made; the old ones are void."))

    return submit(form, renewed, page=lambda: _manage_page(_blank("disable"), form))
