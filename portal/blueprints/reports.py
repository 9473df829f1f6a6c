"""Outcome reports for admins and consultants (issue 16)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__, cli_group="reports")
