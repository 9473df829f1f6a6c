"""Two-factor log-in for staff: TOTP enrolment, verification, recovery codes (issue 16)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("twofactor", __name__)
