"""The front page, each role's home page and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, session
from flask_login import current_user

from core.db import get_session
from core.models import Role
from portal.blueprints import hours
from portal.forms.main import LanguageForm
from portal.forms.orders import DeclineForm
from portal.security import is_safe_redirect
from portal.services import dashboards

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("main/landing.html")
    session = get_session()
    data = dashboards.home(session, current_user)
    if current_user.role == Role.WORKER:  # today's planned shift, confirmed in one tap here
        data |= hours.home_shifts(session, current_user)
    # Employers answer proposals and workers offers right here (the reason field's label).
    return render_template(
        f"main/home_{current_user.role.value}.html",
        decline_form=DeclineForm(formdata=None),
        **data,
    )


@bp.post("/language/<code>")
def language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["locale"] = code
    if current_user.is_authenticated:
        db = get_session()
        current_user.locale = code
        db.commit()
    target = form.next.data or "/"
    return redirect(target if is_safe_redirect(target) else "/")
