"""Forms: the shared base (CSRF, Danish WTForms messages, the one-time key of a post that must
take effect once), fields and validators (money in kroner, CVR, EAN, IBAN); each area's forms
live in a module of this package (portal.forms.hours, portal.forms.payments ...)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from babel import support
from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from stdnum import ean as stdnum_ean
from stdnum import iban as stdnum_iban
from stdnum.dk import cvr as stdnum_cvr
from stdnum.exceptions import ValidationError as StdnumError
from wtforms import Field, HiddenField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from core.money import parse_kroner
from portal.i18n import money_plain

MAX_MONEY_ORE = 100_000_000_00  # 100 million kr.: far above any line, far below overflow
MAX_ID = 2**31 - 1  # the largest value of an integer column (PostgreSQL's int4)


def db_id(text) -> int:
    """An id from a URL or a form: a positive int a column can hold; ValueError otherwise
    (a bigger number would make the database driver fail instead of finding nothing)."""
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise ValueError(text)
    return value


class MoneyField(Field):
    """Kroner typed in Danish or English style; `data` is integer øre. The subclasses below
    read other decimals the same way (a decimal comma, two decimals: hundredths)."""

    widget = TextInput()
    unreadable = _l("Enter an amount in kroner, e.g. 189,50.")
    out_of_range = _l("The amount is outside the allowed range.")

    def __init__(self, label=None, validators=None, min_ore: int = 0, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.min_ore = min_ore

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return money_plain(self.data) if self.data is not None else ""

    def parse(self, text: str) -> int:
        return parse_kroner(text)

    def in_range(self, value: int) -> bool:
        return self.min_ore <= value <= MAX_MONEY_ORE

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            self.raw_data = [""]  # blanks count as no input, so InputRequired says so
            return
        try:
            self.data = self.parse(valuelist[0])
        except ValueError as error:
            self.data = None
            raise ValueError(self.unreadable) from error
        if not self.in_range(self.data):
            raise ValueError(self.out_of_range)


class PercentField(MoneyField):
    """A percentage with up to two decimals ('25', '10,25'); `data` is basis points."""

    unreadable = _l("Enter a percentage, e.g. 25 or 10,25.")
    out_of_range = _l("The percentage must be between 0 and 100.")

    def parse(self, text: str) -> int:
        return parse_kroner(text.replace("%", ""))

    def in_range(self, value: int) -> bool:
        return 0 <= value <= 100_00


class HoursField(MoneyField):
    """Hours with up to two decimals ('2', '1,5', '0,25'); `data` is hundredths of an hour."""

    unreadable = _l("Enter hours with up to two decimals, e.g. 2 or 1,5.")
    out_of_range = _l("Enter a number of hours above 0.")

    def in_range(self, value: int) -> bool:
        return 0 < value <= 10_000_00


class CVR:
    def __call__(self, form, field):
        if field.data:
            try:
                field.data = stdnum_cvr.validate(field.data)
            except StdnumError as error:
                raise ValidationError(_l("Not a valid CVR number (8 digits).")) from error


class EAN:
    def __call__(self, form, field):
        if field.data:
            try:
                value = stdnum_ean.validate(field.data)
            except StdnumError as error:
                raise ValidationError(_l("Not a valid EAN number (13 digits).")) from error
            if len(value) != 13:
                raise ValidationError(_l("Not a valid EAN number (13 digits)."))
            field.data = value


class IBAN:
    def __call__(self, form, field):
        if field.data:
            try:
                field.data = stdnum_iban.validate(field.data)
            except StdnumError as error:
                raise ValidationError(_l("Not a valid IBAN.")) from error


class Digits:
    """Exactly `length` digits (or between min and max)."""

    def __init__(self, minimum: int, maximum: int | None = None, message=None):
        self.minimum, self.maximum = minimum, maximum or minimum
        self.message = message

    def __call__(self, form, field):
        if field.data:
            field.data = field.data.strip().replace(" ", "")
            if not re.fullmatch(rf"\d{{{self.minimum},{self.maximum}}}", field.data):
                raise ValidationError(self.message or _l("Enter digits only."))


class Postcode(Digits):
    def __init__(self):
        super().__init__(4, message=_l("A Danish postcode has 4 digits."))


class Stripped(StringField):
    """A text field whose value arrives trimmed and without control characters."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data:
            self.data = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", self.data).strip()


class _WTFormsTranslations:
    """WTForms' own messages ('This field is required.') in the request's language.
    WTForms ships no Danish catalogue, so ours lives in translations/da/LC_MESSAGES/wtforms.po."""

    def _catalog(self):
        if not has_request_context():
            return None
        catalog = getattr(request, "_wtforms_catalog", None)
        if catalog is None:
            directory = Path(current_app.root_path).parent / "translations"
            catalog = support.Translations.load(str(directory), [get_locale()], domain="wtforms")
            request._wtforms_catalog = catalog
        return catalog

    def gettext(self, string):
        catalog = self._catalog()
        return string if catalog is None else catalog.ugettext(string)

    def ngettext(self, singular, plural, n):
        catalog = self._catalog()
        if catalog is None:
            return singular if n == 1 else plural
        return catalog.ungettext(singular, plural, n)


_wtforms_translations = _WTFormsTranslations()


class Form(FlaskForm):
    """The base of every form here: CSRF from Flask-WTF, WTForms' messages in Danish."""

    class Meta:
        def get_translations(self, form):
            return _wtforms_translations


# --- A post that must take effect once -------------------------------------------------------

KEY_FIELD = "idempotency_key"
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")
EXPIRED = _l("The form was incomplete or has expired. Please check it and send it again.")


def new_key() -> str:
    return secrets.token_urlsafe(24)


class OnceForm(Form):
    """A form whose post takes effect once: it carries a one-time key."""

    idempotency_key = HiddenField(default=new_key)

    def validate_idempotency_key(self, field) -> None:
        if not KEY_PATTERN.fullmatch(field.data or ""):
            field.data = new_key()  # the re-rendered form can be sent again
            message = str(EXPIRED)
            self.form_errors.append(message)  # a hidden field shows no error of its own
            raise ValidationError(message)
