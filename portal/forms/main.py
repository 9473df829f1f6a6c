"""The language switch in the header."""

from __future__ import annotations

from wtforms import HiddenField

from portal.forms import Form


class LanguageForm(Form):
    next = HiddenField()
