"""Forms of finance's payment pages: a payment or refund by hand, which invoice a payment or a
bank line belongs to, the bank statement upload, and the reminder and dispute buttons."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from core.db import get_session
from invoices import queries
from portal.forms import Form, MoneyField, OnceForm


class InvoiceNumber:
    """The field names an issued invoice; the form gets it as `form.invoice`."""

    def __call__(self, form, field):
        invoice = queries.invoice_by_number(get_session(), field.data)
        if invoice is None:
            raise ValidationError(_l("No invoice with that number (e.g. F-2026-0001)."))
        form.invoice = invoice


class ManualPaymentForm(OnceForm):
    invoice_number = StringField(
        _l("Invoice number"),
        validators=[DataRequired(), Length(max=30), InvoiceNumber()],
        description=_l("E.g. F-2026-0001, or the 15-digit payment id."),
    )
    kind = RadioField(
        _l("Kind"),
        choices=[
            SelectChoice("payment", _l("Payment received")),
            SelectChoice("refund", _l("Refund paid back")),
        ],
        default="payment",
    )
    amount = MoneyField(_l("Amount (kr.)"), validators=[InputRequired()], min_ore=1)
    received_on = DateField(_l("Date"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])

    @property
    def is_refund(self) -> bool:
        return self.kind.data == "refund"


class InvoiceNumberForm(OnceForm):
    """Which invoice a payment or a bank line belongs to, by its number."""

    invoice_number = StringField(
        _l("Invoice number"), validators=[DataRequired(), Length(max=30), InvoiceNumber()]
    )


class BankImportForm(OnceForm):
    statement = FileField(
        _l("Bank statement (CSV)"),
        validators=[FileRequired(_l("Choose the CSV file from your bank."))],
        description=_l(
            "Columns: booking date, amount and text. Separated by ; or , – see the "
            "README for the accepted formats."
        ),
    )


class ButtonForm(Form):
    pass


class SendForm(OnceForm):
    pass


class DisputeForm(Form):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=500)])
