"""Forms of the consultant's desk: taking an order, confirming a company whose CVR is known,
and proposing a worker."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange

from core.models import JobOrder
from portal.forms import MoneyField, OnceForm


class TakeForm(OnceForm):
    pass


class CompanyForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("attach", _l("Same company: put the order under the existing employer")),
            SelectChoice(
                "separate", _l("A different company: keep it separate and invite the contact")
            ),
        ],
        validators=[DataRequired(_l("Choose one."))],
    )


class ProposeForm(OnceForm):
    pay_rate_ore = MoneyField(_l("Pay rate per hour (kr.)"), validators=[InputRequired()])
    bill_rate_ore = MoneyField(
        _l("Bill rate per hour excl. VAT (kr.)"), validators=[InputRequired()]
    )
    hours_per_week = IntegerField(
        _l("Hours per week"),
        validators=[InputRequired(), NumberRange(1, 37, _l("Between 1 and 37 hours a week."))],
    )
    start_date = DateField(_l("Start date"), validators=[InputRequired()])

    def from_order(self, order: JobOrder, today: date) -> None:
        """A new proposal starts from the price list and the order's hours and start."""
        if not self.is_submitted():
            self.pay_rate_ore.data = order.work_area.pay_rate_ore
            self.bill_rate_ore.data = order.work_area.bill_rate_ore
            self.hours_per_week.data = order.hours_per_week
            self.start_date.data = max(order.start_date, today)

    def terms(self) -> dict:
        """The proposal's terms, as placements.propose takes them."""
        return {
            "pay_rate_ore": self.pay_rate_ore.data,
            "bill_rate_ore": self.bill_rate_ore.data,
            "hours_per_week": self.hours_per_week.data,
            "start_date": self.start_date.data,
        }
