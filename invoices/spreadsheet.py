"""CSV files that people open in a spreadsheet: every export writes its rows through here.

A cell that begins with =, +, -, @, a tab or a carriage return is a formula to Excel and
LibreOffice, so text someone typed (a company called `=HYPERLINK(...)`) could run when finance
opens the file. Such text gets a leading apostrophe, which spreadsheets show as plain text.
Numbers, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


def cell(value: object) -> object:
    """The value as a spreadsheet may safely read it (see the module's docstring)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


class Sheet:
    """A ';'-separated CSV with Windows line ends (what Danish spreadsheets expect)."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, delimiter=";", lineterminator="\r\n")

    def row(self, values: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in values])

    def text(self, *, bom: bool = False) -> str:
        """The file; with `bom`, a UTF-8 byte-order mark first so Excel reads æ, ø and å."""
        return ("\ufeff" if bom else "") + self._out.getvalue()
