"""Forms of the invoicing pages: the run's preview and issue, credit notes, buttons, and the
bookkeeping file's period."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from core.models import BillingCadence
from portal.forms import Form, HoursField, MoneyField, OnceForm, db_id

CADENCE_LABELS = {
    BillingCadence.WEEKLY: _l("Weekly"),
    BillingCadence.FORTNIGHTLY: _l("Every second week"),
    BillingCadence.MONTHLY: _l("Monthly"),
}


def cadence(value: str | None) -> BillingCadence | None:
    """The billing cadence a form names; none (all employers) for anything else."""
    try:
        return BillingCadence(value) if value else None
    except ValueError:
        return None


class RunForm(Form):
    period_end = DateField(
        _l("Bill approved hours up to and including"), validators=[DataRequired()]
    )
    cadence = SelectField(_l("Billing cadence"), default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cadence.choices = [("", _("All employers"))] + [
            (c.value, label) for c, label in CADENCE_LABELS.items()
        ]


class IssueForm(OnceForm):
    invalid_message = _l("Choose a period end and at least one employer.")

    period_end = DateField(validators=[DataRequired(message=invalid_message)])
    cadence = SelectField(validate_choice=False, default="")
    employer_ids = SelectMultipleField(_l("Employers"), coerce=db_id, validate_choice=False)
    everyone = BooleanField()  # "Issue all": every employer with billable hours at the start

    def validate_employer_ids(self, field):
        if not field.data and not self.everyone.data:
            raise ValidationError(_("Choose at least one employer to invoice."))


class CreditForm(OnceForm):
    invalid_message = _l("Give a reason for the credit note.")

    line_ids = SelectMultipleField(_l("Lines to credit"), coerce=db_id, validate_choice=False)
    release = BooleanField(_l("Release the credited hours so they can be billed again"))
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=invalid_message), Length(max=500)]
    )


class PartialCreditForm(OnceForm):
    """Take part of one line off: hours at the line's rate, or an amount (a price reduction)."""

    invalid_message = _l("Give a reason for the credit note.")

    line_id = SelectField(_l("Line"), coerce=db_id, validate_choice=False)
    hours = HoursField(_l("Hours to take off"), validators=[Optional()])
    amount = MoneyField(_l("Or an amount to take off (kr., excl. VAT)"), validators=[Optional()])
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=invalid_message), Length(max=500)]
    )

    def __init__(self, *args, lines=(), **kwargs):
        kwargs.setdefault("prefix", "part")  # beside the whole-line form on the same page
        super().__init__(*args, **kwargs)
        self.line_id.choices = [(line.id, line.description) for line in lines]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if (self.hours.data is None) == (self.amount.data is None):
            either = _("Give either the hours or the amount to take off the line.")
            self.amount.errors.append(either)
            return False
        if self.amount.data is not None and self.amount.data <= 0:
            self.amount.errors.append(_("Enter an amount above 0."))
            return False
        return True


class WriteOffForm(OnceForm):
    invalid_message = _l("Give a reason for the write-off.")

    reason = TextAreaField(
        _l("Why the customer will not pay"),
        validators=[DataRequired(message=invalid_message), Length(max=500)],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "off")  # beside the credit note forms on the same page
        super().__init__(*args, **kwargs)


class ButtonForm(Form):
    pass


class SendAgainForm(OnceForm):
    """*Send again* (an invoice's e-mail, an e-invoice, a message in the outbox): once per
    click, however often the click arrives."""


class GiveUpForm(OnceForm):
    """*Give up* a message in the outbox, with an optional reason for the record."""

    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200)])


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)


class BookkeepingForm(Form):
    class Meta:
        csrf = False  # a GET download

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def period(self, today: date) -> tuple[date, date] | None:
        """The chosen period (this month so far by default), or None when it makes no sense."""
        if not self.validate():
            return None
        start = self.date_from.data or today.replace(day=1)
        end = self.date_to.data or today
        # Books are kept for years, not millennia: 9999-12-31 has no next day to count to.
        sensible = EARLIEST <= start <= end <= LATEST
        return (start, end) if sensible else None
