"""Forms of the admin pages: the organisation's settings, the price list and users."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, IntegerField, SelectField, ValidationError
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    StopValidation,
)

from core import settings as settings_service
from core.models import Employer, Role
from portal.forms import CVR, IBAN, Digits, Form, MoneyField, PercentField, Postcode, Stripped


class RequiredWhenSent:
    """Required when the field is in the post; a post without it keeps the stored value."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        if not field.raw_data:
            raise StopValidation()
        if not field.data:
            raise StopValidation(_l("Enter an account number."))


def AccountField(label, **kwargs) -> Stripped:  # noqa: N802 (a field, named like one)
    """An account number of the bookkeeping journal: 1-10 digits."""
    return Stripped(
        label,
        validators=[
            RequiredWhenSent(),
            Digits(1, 10, message=_l("An account number is 1–10 digits.")),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
        **kwargs,
    )


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
    staff_two_factor = BooleanField(
        _l("Staff log in with a code from an authenticator app (two-factor log-in)"),
        description=_l(
            "For admins, finance and consultants. On by default in production. Employers may "
            "turn it on for themselves."
        ),
    )
    account_receivables = AccountField(_l("Debtors (receivables)"))
    account_sales = AccountField(_l("Sales"))
    account_output_vat = AccountField(_l("Output VAT"))
    account_bank = AccountField(_l("Bank"))
    account_card_clearing = AccountField(
        _l("Card payments (Stripe clearing)"),
        description=_l("Card payments wait here until Stripe pays them out to the bank."),
    )
    account_fee_income = AccountField(
        _l("Reminder fees and compensation (income)"),
        description=_l("Without VAT."),
    )
    account_interest_income = AccountField(_l("Late interest (income)"))
    account_bad_debts = AccountField(_l("Bad debts (write-offs, excl. VAT)"))

    def values(self) -> dict:
        """The editable settings as typed."""
        return {name: getattr(self, name).data for name in settings_service.EDITABLE_SETTINGS}

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

    def values(self) -> dict:
        return {
            "name": self.name.data,
            "name_en": self.name_en.data or "",
            "bill_rate_ore": self.bill_rate_ore.data,
            "pay_rate_ore": self.pay_rate_ore.data,
            "active": self.active.data,
        }


class InviteForm(Form):
    full_name = Stripped(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), validators=[DataRequired()])
    employer_id = SelectField(_l("Employer (for employer users)"), coerce=int, default=0)

    def offer(self, roles: dict[Role, str], employers: list[Employer]) -> None:
        """The roles an admin may give and the employers an employer user may belong to."""
        self.role.choices = [(role.value, label) for role, label in roles.items()]
        self.employer_id.choices = [(0, "—")] + [(e.id, f"{e.name} ({e.cvr})") for e in employers]

    def employer(self, employers: list[Employer]) -> Employer | None:
        """The chosen employer, for an employer user only."""
        if Role(self.role.data) != Role.EMPLOYER:
            return None
        return next((e for e in employers if e.id == self.employer_id.data), None)


class ToggleForm(Form):
    pass
