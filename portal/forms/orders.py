"""Forms of ordering help: the task (public form and logged-in employers), the company on the
public form, weekdays as check boxes, and the cancel and proposal answers."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
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

from core import dates
from core.i18n import money
from core.models import Employer, WorkArea
from portal.forms import CVR, EAN, Postcode, Stripped
from portal.security import is_safe_redirect
from portal.services import orders

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
        if field.data and field.data < dates.today():
            raise ValidationError(_("The start date cannot be in the past."))

    def validate_end_date(self, field):
        start = self.start_date.data
        if field.data and start and field.data <= start:
            raise ValidationError(_("The end date must be after the start date."))

    def validate_submission_key(self, field):
        if not KEY_PATTERN.match(field.data or ""):
            raise ValidationError(_("The form had expired. Please check it and send it again."))

    def offer(self, areas: list[WorkArea]) -> None:
        """The price list to choose from, and a one-time key for a new (or expired) form."""
        self.work_area_id.choices = [SelectChoice(0, _("Choose a work area"))] + [
            SelectChoice(area.id, area_label(area)) for area in areas
        ]
        if not self.is_submitted() or not KEY_PATTERN.match(self.submission_key.data or ""):
            self.submission_key.data = secrets.token_urlsafe(24)

    public_body = False  # an EAN customer: its invoices need an order number or a reference

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.is_public_body() and not (self.order_reference.data or self.person_reference.data):
            # Asked here, not found out at the invoice run: a public body's e-invoice without
            # either bounces (PEPPOL-EN16931-R003) and a municipality holds payment.
            needed = _(
                "A public body (EAN) needs an order number or a person reference on its "
                "invoices: give at least one."
            )
            self.order_reference.errors = [*self.order_reference.errors, needed]
            return False
        return valid

    def is_public_body(self) -> bool:
        return self.public_body

    def at(self, employer: Employer) -> None:
        """A new order from a logged-in employer starts at the employer's own address."""
        self.public_body = bool(employer.ean)
        if not self.is_submitted():
            self.postcode.data = employer.postcode
            self.address.data = (
                f"{employer.address_line}, {employer.postcode} {employer.city}"
            ).strip(", ")

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

    # "Plug and play": the first order asks what is needed now. The workplace is the
    # company's address unless told otherwise; the rest sits under "more" and can wait.
    address = Stripped(
        _l("Address of the workplace"),
        validators=[Optional(), Length(max=300)],
        description=_l("Leave empty when it is the company's address."),
    )
    postcode = Stripped(_l("Postcode of the workplace"), validators=[Optional(), Postcode()])

    # Fields that may wait: shown folded away unless one of them has an error.
    LATER = (
        "description",
        "address",
        "postcode",
        "preferred_days",
        "end_date",
        "head_count",
        "ean",
        "order_reference",
        "person_reference",
    )

    def later_has_errors(self) -> bool:
        return any(self[name].errors for name in self.LATER)

    def details(self) -> orders.OrderDetails:
        details = super().details()
        if details.address:
            return details
        company = (
            f"{self.company_address.data}, {self.company_postcode.data} {self.company_city.data}"
        )
        return replace(details, address=company, postcode=self.company_postcode.data)

    def is_public_body(self) -> bool:
        return bool(self.ean.data)

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


class InvoicingForm(FlaskForm):
    """Where an employer's invoices go: the e-mail address, and a public body's EAN."""

    invoice_email = EmailField(
        _l("E-mail for invoices"),
        validators=[DataRequired(), Email(_l("Enter a valid e-mail address.")), Length(max=254)],
    )
    ean = Stripped(
        _l("EAN number (public bodies only)"),
        validators=[Optional(), EAN()],
        description=_l(
            "13 digits. With an EAN your invoices also go as e-invoices through NemHandel, and "
            "each order needs an order number or a person reference."
        ),
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the order cancelled?"), validators=[DataRequired(), Length(max=1000)]
    )


class AcceptForm(FlaskForm):
    # Where the answer was given (the home page, the order page): the page to go back to.
    next = HiddenField()

    def back(self, default: str) -> str:
        """The page the answer came from, when it is one of ours; else `default`."""
        return self.next.data if is_safe_redirect(self.next.data) else default


class DeclineForm(AcceptForm):
    reason = TextAreaField(
        _l("Why does this not fit?"),
        validators=[DataRequired(_l("Please give a reason.")), Length(max=1000)],
        description=_l("Your contact person reads this and finds another candidate."),
    )


def area_label(area: WorkArea) -> str:
    name = area.name_en if str(get_locale()) == "en" and area.name_en else area.name
    return _("%(area)s – %(price)s per hour excl. VAT", area=name, price=money(area.bill_rate_ore))
