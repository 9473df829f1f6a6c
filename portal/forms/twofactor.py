"""Forms of two-factor log-in: the code at log-in, enrolment, and the buttons that need a code."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, ValidationError
from wtforms.validators import DataRequired, Length

from portal.forms import Form, Stripped

CODE_ATTRIBUTES = {
    "inputmode": "numeric",
    "autocomplete": "one-time-code",
    "autocapitalize": "off",
    "spellcheck": "false",
}


def CodeField(label=_l("Code from your authenticator app"), **kwargs) -> Stripped:  # noqa: N802
    """The six digits an authenticator app shows."""
    kwargs.setdefault("validators", [DataRequired(), Length(max=20)])
    return Stripped(label, render_kw=dict(CODE_ATTRIBUTES), **kwargs)


class VerifyForm(Form):
    """The second step of logging in: the app's code, or one of the recovery codes."""

    code = CodeField(validators=[Length(max=20)], description=_l("Six digits."))
    recovery_code = Stripped(
        _l("Recovery code"),
        validators=[Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"},
    )

    def validate_code(self, field) -> None:
        if not field.data and not self.recovery_code.data:
            raise ValidationError(_l("Enter the code from your authenticator app."))


class EnrolForm(Form):
    """Confirm the new secret with the first code the app shows."""

    enrolment = HiddenField(validators=[DataRequired()])
    code = CodeField(description=_l("Six digits."))


class CodeForm(Form):
    """A button that needs a current code: turning it off, new recovery codes."""

    code = CodeField()
    invalid_message = _l("Enter the code from your authenticator app.")


class ButtonForm(Form):
    pass
