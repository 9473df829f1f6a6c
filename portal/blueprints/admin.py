"""The intermediary's own settings, the price list and the users."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, EmailField, IntegerField, SelectField, ValidationError
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from core import settings as settings_service
from core.db import get_session
from core.errors import DomainError
from core.models import Employer, Role, User
from portal.auth import role_required
from portal.forms import CVR, IBAN, Digits, Form, MoneyField, PercentField, Postcode, Stripped
from portal.services import accounts
from portal.views import commit_or_flash

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    Role.EMPLOYER: _l("Employer"),
    Role.WORKER: _l("Worker"),
    Role.CONSULTANT: _l("Consultant"),
    Role.FINANCE: _l("Finance"),
    Role.ADMIN: _l("Admin"),
}


class SettingsForm(Form):
    legal_name = Stripped(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    cvr = Stripped(_l("CVR number"), validators=[DataRequired(), CVR()])
    address_line = Stripped(_l("Address"), validators=[DataRequired(), Length(max=200)])
    postcode = Stripped(_l("Postcode"), validators=[DataRequired(), Postcode()])
    city = Stripped(_l("City"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    phone = Stripped(_l("Phone"), validators=[Optional(), Length(max=30)])
    bank_reg = Stripped(
        _l("Bank reg. no."),
        validators=[DataRequired(), Digits(4, message=_l("The reg. number has 4 digits."))],
    )
    bank_account = Stripped(
        _l("Account no."),
        validators=[
            DataRequired(),
            Digits(1, 10, message=_l("The account number has up to 10 digits.")),
        ],
    )
    iban = Stripped(_l("IBAN"), validators=[Optional(), IBAN()])
    bic = Stripped(
        _l("BIC/SWIFT"),
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z]{6}[A-Za-z0-9]{2}([A-Za-z0-9]{3})?$", message=_l("Not a valid BIC.")),
        ],
    )
    fi_creditor_number = Stripped(
        _l("FI creditor number (+71)"),
        validators=[
            Optional(),
            Regexp(r"^8\d{7}$", message=_l("The FI creditor number is 8 digits starting with 8.")),
        ],
    )
    vat_rate_bp = PercentField(_l("VAT rate (%)"), validators=[InputRequired()])
    payment_terms_days = IntegerField(
        _l("Payment terms (days)"), validators=[DataRequired(), NumberRange(1, 60)]
    )
    invoice_series = Stripped(
        _l("Invoice series"),
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z0-9]{1,10}$", message=_l("Use 1–10 capital letters or digits.")),
        ],
    )
    credit_note_series = Stripped(
        _l("Credit note series"),
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z0-9]{1,10}$", message=_l("Use 1–10 capital letters or digits.")),
        ],
    )
    reminder_fee_ore = MoneyField(
        _l("Reminder fee (kr.)"),
        validators=[InputRequired()],
        description=_l("The law allows at most 100 kr. per reminder (renteloven § 9 b)."),
    )
    late_interest_rate_bp = PercentField(
        _l("Late interest per year (%)"),
        validators=[InputRequired()],
        description=_l("The Nationalbank's reference rate + 8 percentage points."),
    )
    compensation_enabled = BooleanField(_l("Claim the one-time B2B compensation"))
    compensation_ore = MoneyField(_l("Compensation (kr.)"), validators=[InputRequired()])
    auto_approve_days = IntegerField(
        _l("Auto-approve hours after (days)"), validators=[DataRequired(), NumberRange(1, 30)]
    )
    payroll_wage_type = Stripped(
        _l("Wage type (lønart) in the payroll file"),
        validators=[
            DataRequired(),
            Regexp(r"^\d{1,4}$", message=_l("The wage type is 1–4 digits.")),
        ],
    )
    rate_adjust_limit_bp = PercentField(
        _l("Consultants may adjust rates by at most (%)"), validators=[Optional()]
    )

    def validate_reminder_fee_ore(self, field):
        if field.data is not None and field.data > 100_00:
            raise ValidationError(_("The reminder fee may not exceed 100 kr."))


class WorkAreaForm(Form):
    name = Stripped(_l("Name (Danish)"), validators=[DataRequired(), Length(max=100)])
    name_en = Stripped(_l("Name (English)"), validators=[Optional(), Length(max=100)])
    bill_rate_ore = MoneyField(
        _l("Bill rate per hour excl. VAT (kr.)"), validators=[InputRequired()]
    )
    pay_rate_ore = MoneyField(_l("Pay rate per hour (kr.)"), validators=[InputRequired()])
    active = BooleanField(_l("Active"), default=True)


class InviteForm(Form):
    full_name = Stripped(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    employer_id = SelectField(_l("Employer (for employer users)"), coerce=int, default=0)


class ToggleForm(Form):
    pass


@bp.route("/settings", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def settings():
    session = get_session()
    row = settings_service.get(session)
    form = SettingsForm(obj=row)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data for name in settings_service.EDITABLE_SETTINGS}
        changed = settings_service.update(session, current_user, values)
        session.commit()
        flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form)


@bp.get("/work-areas")
@role_required(Role.ADMIN)
def work_areas():
    session = get_session()
    return render_template(
        "admin/work_areas.html",
        areas=settings_service.work_areas(session),
        form=WorkAreaForm(),
    )


@bp.route("/work-areas/new", methods=["GET", "POST"], defaults={"area_id": None})
@bp.route("/work-areas/<int:area_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def work_area(area_id: int | None):
    session = get_session()
    area = None
    if area_id is not None:
        area = session.get(settings_service.WorkArea, area_id)
        if area is None:
            abort(404)
    form = WorkAreaForm(obj=area)
    if form.validate_on_submit():
        try:
            settings_service.save_work_area(
                session,
                current_user,
                area_id=area_id,
                name=form.name.data,
                name_en=form.name_en.data or "",
                bill_rate_ore=form.bill_rate_ore.data,
                pay_rate_ore=form.pay_rate_ore.data,
                active=form.active.data,
            )
        except DomainError as error:
            session.rollback()
            form.form_errors.append(error.message)
        else:
            session.commit()
            flash(_("Price list saved."), "success")
            return redirect(url_for("admin.work_areas"))
    return render_template("admin/work_area.html", form=form, area=area)


@bp.get("/users")
@role_required(Role.ADMIN)
def users():
    session = get_session()
    rows = session.scalars(select(User).order_by(User.role, User.email)).all()
    return render_template(
        "admin/users.html", users=rows, role_labels=ROLE_LABELS, toggle=ToggleForm()
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def invite():
    session = get_session()
    form = InviteForm()
    allowed = [Role.EMPLOYER, Role.CONSULTANT, Role.FINANCE, Role.ADMIN]
    form.role.choices = [(r.value, ROLE_LABELS[r]) for r in allowed]
    employers = session.scalars(select(Employer).order_by(Employer.name)).all()
    form.employer_id.choices = [(0, "—")] + [(e.id, f"{e.name} ({e.cvr})") for e in employers]
    if form.validate_on_submit():
        role = Role(form.role.data)
        employer = session.get(Employer, form.employer_id.data) if form.employer_id.data else None
        try:
            accounts.invite(
                session,
                current_user,
                email=form.email.data,
                role=role,
                full_name=form.full_name.data,
                employer=employer if role == Role.EMPLOYER else None,
            )
        except DomainError as error:
            session.rollback()
            form.form_errors.append(error.message)
        else:
            session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)


@bp.post("/users/<int:user_id>/active")
@role_required(Role.ADMIN)
def toggle_active(user_id: int):
    session = get_session()
    user = session.get(User, user_id)
    if user is None:
        abort(404)
    form = ToggleForm()
    if not form.validate_on_submit():
        abort(400)
    commit_or_flash(
        session,
        lambda: accounts.set_active(session, current_user, user, not user.active),
        _("User updated."),
    )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reinvite")
@role_required(Role.ADMIN)
def reinvite(user_id: int):
    session = get_session()
    user = session.get(User, user_id)
    if user is None or not user.active:
        abort(404)
    if not ToggleForm().validate_on_submit():
        abort(400)
    accounts.send_invitation(session, user)
    session.commit()
    flash(_("Invitation sent to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.users"))
