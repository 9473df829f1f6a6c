"""Personal data: a worker's data export, erasure and the retention purge (issue 16)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__, cli_group="privacy")
