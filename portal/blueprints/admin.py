"""The intermediary's own settings, the price list and the users."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import settings as settings_service
from core.db import get_session
from core.models import Role, User, WorkArea
from core.pages import page_number
from invoices import einvoice
from portal.auth import role_required
from portal.config import card_payment_status
from portal.forms.admin import InviteForm, SettingsForm, ToggleForm, WorkAreaForm
from portal.services import accounts, orders, twofactor
from portal.views import Done, submit

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    Role.EMPLOYER: _l("Employer"),
    Role.WORKER: _l("Worker"),
    Role.CONSULTANT: _l("Consultant"),
    Role.FINANCE: _l("Finance"),
    Role.ADMIN: _l("Admin"),
}
INVITABLE = (Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN)


@bp.route("/settings", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings():
    session = get_session()
    form = SettingsForm(obj=settings_service.get(session))
    if not form.is_submitted():  # what is in force, the environment's default included
        form.staff_two_factor.data = settings_service.staff_two_factor(session)
    return submit(
        form,
        lambda: _settings_saved(form),
        page=lambda: render_template(
            "admin/settings.html",
            form=form,
            rules=einvoice.rules(),
            card_status=card_payment_status(current_app.config),
        ),
    )


def _settings_saved(form: SettingsForm) -> Done:
    changed = settings_service.update(get_session(), current_user, form.values())
    return Done(
        url_for("admin.settings"), _("Settings saved.") if changed else _("Nothing changed.")
    )


@bp.get("/work-areas")
@role_required(Role.ADMIN)
def work_areas():
    areas = settings_service.work_areas(get_session())
    return render_template("admin/work_areas.html", areas=areas, form=WorkAreaForm())


@bp.route("/work-areas/new", methods=["GET", "POST"], defaults={"area_id": None})
@bp.route("/work-areas/<int:area_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def work_area(area_id: int | None):
    area = get_session().get(WorkArea, area_id) if area_id is not None else None
    if area_id is not None and area is None:
        abort(404)
    form = WorkAreaForm(obj=area)
    return submit(
        form,
        lambda: _work_area_saved(area_id, form),
        page=lambda: render_template("admin/work_area.html", form=form, area=area),
    )


def _work_area_saved(area_id: int | None, form: WorkAreaForm) -> Done:
    session = get_session()
    settings_service.save_work_area(session, current_user, area_id=area_id, **form.values())
    return Done(url_for("admin.work_areas"), _("Price list saved."))


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    rows = accounts.listing(get_session(), page_number(request.args.get("page")))
    return render_template(
        "admin/users.html", users=rows, role_labels=ROLE_LABELS, toggle=ToggleForm()
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def invite():
    employers = orders.employers_by_name(get_session())
    form = InviteForm()
    form.offer({role: ROLE_LABELS[role] for role in INVITABLE}, employers)
    return submit(
        form,
        lambda: _invited(form, employers),
        page=lambda: render_template("admin/invite.html", form=form),
    )


def _invited(form: InviteForm, employers) -> Done:
    accounts.invite(
        get_session(),
        current_user,
        email=form.email.data,
        role=Role(form.role.data),
        full_name=form.full_name.data,
        employer=form.employer(employers),
    )
    message = _("Invitation sent to %(email)s.", email=form.email.data)
    return Done(url_for("admin.users"), message)


def _user(user_id: int, *, active_only: bool = False) -> User:
    user = get_session().get(User, user_id)
    if user is None or (active_only and not user.active):
        abort(404)
    return user


@bp.post("/users/<int:user_id>/active")
@role_required(Role.ADMIN)
def toggle_active(user_id: int):
    user = _user(user_id)

    def toggled() -> Done:
        accounts.set_active(get_session(), current_user, user, not user.active)
        return Done(url_for("admin.users"), _("User updated."))

    return submit(ToggleForm(), toggled, back=url_for("admin.users"))


@bp.post("/users/<int:user_id>/reinvite")
@role_required(Role.ADMIN)
def reinvite(user_id: int):
    user = _user(user_id, active_only=True)

    def sent() -> Done:
        accounts.send_invitation(get_session(), user)
        return Done(url_for("admin.users"), _("Invitation sent to %(email)s.", email=user.email))

    return submit(ToggleForm(), sent, back=url_for("admin.users"))


@bp.post("/users/<int:user_id>/two-factor-reset")
@role_required(Role.ADMIN)
def reset_two_factor(user_id: int):
    user = _user(user_id)

    def reset() -> Done:
        twofactor.reset(get_session(), current_user, user)
        message = _(
            "The second factor of %(email)s is reset; they are logged out.", email=user.email
        )
        return Done(url_for("admin.users"), message)

    return submit(ToggleForm(), reset, back=url_for("admin.users"))
