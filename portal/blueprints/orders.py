"""Ordering help: the public "Bestil hjælp" page and the employer's own orders and proposals."""

from __future__ import annotations

import logging
import re
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import IntegrityError
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from core import settings
from core.db import get_session
from core.errors import DomainError
from core.models import PlacementStatus, Role
from portal.auth import role_required
from portal.forms import CVR, EAN, Postcode, Stripped
from portal.i18n import money
from portal.security import limiter
from portal.services import orders, placements
from portal.views import commit_or_flash

log = logging.getLogger(__name__)
bp = Blueprint("orders", __name__)

ORDER_LIMIT_PER_IP = "10 per hour"  # override with PORTAL_ORDER_LIMIT_PER_IP
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
WEEKDAYS = [
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
]


def days_from_mask(mask: int) -> list[int]:
    return [day for day in range(7) if mask >> day & 1]


def mask_from_days(days: list[int] | None) -> int:
    return sum(1 << day for day in set(days or []))


def day_names(mask: int) -> str:
    return ", ".join(str(WEEKDAYS[day]) for day in days_from_mask(mask)) or "—"


class DaysField(SelectMultipleField):
    """Weekday check boxes; `mask` is the bitmask the models store (bit 0 = Monday)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(
            label,
            validators,
            choices=[SelectChoice(day, label) for day, label in enumerate(WEEKDAYS)],
            coerce=int,
            **kwargs,
        )

    @property
    def mask(self) -> int:
        return mask_from_days(self.data)

    def set_mask(self, mask: int) -> None:
        self.data = days_from_mask(mask)


class TaskForm(FlaskForm):
    """The task: shared by the public form and a logged-in employer's order form."""

    work_area_id = SelectField(
        _l("Work area"), coerce=int, validators=[InputRequired(_l("Choose a work area."))]
    )
    title = Stripped(
        _l("The task in a few words"),
        validators=[DataRequired(), Length(max=200)],
        description=_l('E.g. "Emptying boxes and tidying the warehouse".'),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=4000)],
        description=_l("What is to be done, what the worker should know or bring."),
    )
    address = Stripped(_l("Address of the workplace"), validators=[DataRequired(), Length(max=300)])
    postcode = Stripped(_l("Postcode of the workplace"), validators=[DataRequired(), Postcode()])
    hours_per_week = IntegerField(
        _l("Hours per week"),
        validators=[
            InputRequired(_l("Enter the hours per week.")),
            NumberRange(1, 37, _l("Between 1 and 37 hours a week.")),
        ],
        description=_l("Small jobs are typically 5–15 hours a week."),
    )
    preferred_days = DaysField(_l("Preferred weekdays"), validators=[Optional()])
    start_date = DateField(_l("Start date"), validators=[InputRequired(_l("Enter a start date."))])
    end_date = DateField(
        _l("End date (optional)"),
        validators=[Optional()],
        description=_l("Leave empty when the job has no planned end."),
    )
    head_count = IntegerField(
        _l("Number of workers"),
        default=1,
        validators=[
            InputRequired(_l("Enter the number of workers.")),
            NumberRange(1, 10, _l("Between 1 and 10 workers.")),
        ],
    )
    order_reference = Stripped(
        _l("Order or requisition number (public bodies)"), validators=[Optional(), Length(max=50)]
    )
    person_reference = Stripped(
        _l("Person reference (public bodies)"), validators=[Optional(), Length(max=100)]
    )
    submission_key = HiddenField()

    def validate_work_area_id(self, field):
        if not field.data:
            raise ValidationError(_("Choose a work area."))

    def validate_start_date(self, field):
        if field.data and field.data < orders.today_local():
            raise ValidationError(_("The start date cannot be in the past."))

    def validate_end_date(self, field):
        start = self.start_date.data
        if field.data and start and field.data <= start:
            raise ValidationError(_("The end date must be after the start date."))

    def validate_submission_key(self, field):
        if not KEY_PATTERN.match(field.data or ""):
            raise ValidationError(_("The form had expired. Please check it and send it again."))

    def details(self) -> orders.OrderDetails:
        return orders.OrderDetails(
            work_area_id=self.work_area_id.data,
            title=self.title.data,
            description=self.description.data or "",
            address=self.address.data,
            postcode=self.postcode.data,
            hours_per_week=self.hours_per_week.data,
            preferred_days=self.preferred_days.mask,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            head_count=self.head_count.data,
            order_reference=self.order_reference.data or "",
            person_reference=self.person_reference.data or "",
        )


class PublicOrderForm(TaskForm):
    cvr = Stripped(_l("CVR number"), validators=[DataRequired(), CVR()])
    company_name = Stripped(_l("Company name"), validators=[DataRequired(), Length(max=200)])
    company_address = Stripped(_l("Address"), validators=[DataRequired(), Length(max=200)])
    company_postcode = Stripped(_l("Postcode"), validators=[DataRequired(), Postcode()])
    company_city = Stripped(_l("City"), validators=[DataRequired(), Length(max=100)])
    ean = Stripped(
        _l("EAN number (public bodies only)"),
        validators=[Optional(), EAN()],
        description=_l("13 digits; public bodies receive electronic invoices."),
    )
    contact_name = Stripped(_l("Contact person"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
        description=_l("We send a link to log in and follow the order here."),
    )
    phone = Stripped(_l("Phone"), validators=[DataRequired(), Length(min=8, max=30)])
    # The honeypot: hidden from people, tempting to robots that fill in every field.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])

    def company(self) -> orders.CompanyDetails:
        return orders.CompanyDetails(
            cvr=self.cvr.data,
            name=self.company_name.data,
            address_line=self.company_address.data,
            postcode=self.company_postcode.data,
            city=self.company_city.data,
            contact_name=self.contact_name.data,
            email=self.email.data,
            phone=self.phone.data,
            ean=self.ean.data or None,
        )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the order cancelled?"), validators=[DataRequired(), Length(max=1000)]
    )


class AcceptForm(FlaskForm):
    pass


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Why does this not fit?"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=1000)],
        description=_l("Your contact person reads this and finds another candidate."),
    )


def area_label(area) -> str:
    name = area.name_en if str(get_locale()) == "en" and area.name_en else area.name
    return _("%(area)s – %(price)s per hour excl. VAT", area=name, price=money(area.bill_rate_ore))


def _prepare(form: TaskForm):
    areas = settings.work_areas(get_session(), only_active=True)
    form.work_area_id.choices = [SelectChoice(0, _("Choose a work area"))] + [
        SelectChoice(area.id, area_label(area)) for area in areas
    ]
    if not form.is_submitted() or not KEY_PATTERN.match(form.submission_key.data or ""):
        form.submission_key.data = secrets.token_urlsafe(24)
    return areas


def _limit() -> str:
    return current_app.config.get("ORDER_LIMIT_PER_IP", ORDER_LIMIT_PER_IP)


@bp.route("/order", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"])
def public_order():
    if current_user.is_authenticated and current_user.role == Role.EMPLOYER:
        return redirect(url_for("orders.new"))
    session = get_session()
    form = PublicOrderForm()
    areas = _prepare(form)
    if form.is_submitted() and form.website.data:
        # A robot filled the hidden field: look successful, store nothing.
        log.info("order form honeypot filled from %s", request.remote_addr)
        return render_template("orders/received.html", order=None, **_receipt_context())
    if form.validate_on_submit():
        key = form.submission_key.data
        try:
            orders.submit_public_order(session, key, form.company(), form.details())
            session.commit()
        except DomainError as error:
            session.rollback()
            form.form_errors.append(error.message)
        except IntegrityError:
            # The same form sent twice at once: the other request stored it first.
            session.rollback()
            if orders.find_by_submission_key(session, key) is None:
                raise
            return redirect(url_for("orders.received", key=key))
        else:
            return redirect(url_for("orders.received", key=key))
    status = 400 if form.is_submitted() else 200
    return render_template("orders/public.html", form=form, areas=areas), status


def _receipt_context() -> dict:
    return {
        "org": settings.get(get_session()),
        "callback_days": orders.CALLBACK_WORKING_DAYS,
    }


@bp.get("/order/received/<key>")
def received(key: str):
    if not KEY_PATTERN.match(key):
        abort(404)
    order = orders.find_by_submission_key(get_session(), key)
    if order is None:
        abort(404)
    return render_template("orders/received.html", order=order, **_receipt_context())


@bp.get("/orders")
@role_required(Role.EMPLOYER)
def index():
    session = get_session()
    return render_template(
        "orders/index.html", orders=orders.for_employer(session, current_user.employer_id)
    )


@bp.route("/orders/new", methods=["GET", "POST"])
@role_required(Role.EMPLOYER)
def new():
    session = get_session()
    form = TaskForm()
    areas = _prepare(form)
    if not form.is_submitted():
        form.postcode.data = current_user.employer.postcode
        form.address.data = (
            f"{current_user.employer.address_line}, {current_user.employer.postcode} "
            f"{current_user.employer.city}"
        ).strip(", ")
    if form.validate_on_submit():
        try:
            order = orders.create_order(
                session, current_user, form.details(), form.submission_key.data
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            form.form_errors.append(error.message)
        except IntegrityError:
            session.rollback()
            order = orders.find_by_submission_key(session, form.submission_key.data)
            if order is None or order.employer_id != current_user.employer_id:
                raise
            return redirect(url_for("orders.detail", order_id=order.id))
        else:
            flash(_("Thank you! Your order has been received."), "success")
            return redirect(url_for("orders.detail", order_id=order.id))
    status = 400 if form.is_submitted() else 200
    return render_template("orders/new.html", form=form, areas=areas), status


@bp.get("/orders/<int:order_id>")
@role_required(Role.EMPLOYER)
def detail(order_id: int, cancel_form: CancelForm | None = None):
    session = get_session()
    order = orders.get_for_employer(session, current_user.employer_id, order_id)
    rows = orders.placements_of(session, order)
    has_active = any(p.status == PlacementStatus.ACTIVE for p in rows)
    return render_template(
        "orders/detail.html",
        order=order,
        placements=rows,
        can_cancel=order.status in orders.OPEN_STATUSES and not has_active,
        cancel_form=cancel_form or CancelForm(),
        day_names=day_names,
    ), (400 if cancel_form is not None else 200)


@bp.post("/orders/<int:order_id>/cancel")
@role_required(Role.EMPLOYER)
def cancel(order_id: int):
    session = get_session()
    order = orders.get_for_employer(session, current_user.employer_id, order_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return detail(order_id, cancel_form=form)
    commit_or_flash(
        session,
        lambda: orders.cancel(session, current_user, order, form.reason.data),
        _("The order is cancelled."),
    )
    return redirect(url_for("orders.detail", order_id=order_id))


@bp.get("/orders/proposals/<int:placement_id>")
@role_required(Role.EMPLOYER)
def proposal(placement_id: int, decline_form: DeclineForm | None = None):
    session = get_session()
    placement = placements.get_proposal_for_employer(session, current_user, placement_id)
    return render_template(
        "orders/proposal.html",
        placement=placement,
        accept_form=AcceptForm(),
        decline_form=decline_form or DeclineForm(),
    ), (400 if decline_form is not None else 200)


@bp.post("/orders/proposals/<int:placement_id>/accept")
@role_required(Role.EMPLOYER)
def accept(placement_id: int):
    session = get_session()
    placement = placements.get_proposal_for_employer(session, current_user, placement_id)
    if not AcceptForm().validate_on_submit():
        abort(400)
    commit_or_flash(
        session,
        lambda: placements.employer_accept(session, current_user, placement),
        _("Thank you! We now ask %(worker)s to confirm.", worker=placement.worker.first_name),
    )
    return redirect(url_for("orders.proposal", placement_id=placement_id))


@bp.post("/orders/proposals/<int:placement_id>/decline")
@role_required(Role.EMPLOYER)
def decline(placement_id: int):
    session = get_session()
    placement = placements.get_proposal_for_employer(session, current_user, placement_id)
    form = DeclineForm()
    if not form.validate_on_submit():
        return proposal(placement_id, decline_form=form)
    commit_or_flash(
        session,
        lambda: placements.decline(session, current_user, placement, form.reason.data),
        _("The proposal is declined. Your contact person will be in touch."),
    )
    return redirect(url_for("orders.detail", order_id=placement.job_order_id))
