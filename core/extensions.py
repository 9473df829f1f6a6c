"""The running app's outside systems and configuration, for code that must not import Flask
itself (the billing domain): each system is one object its module's init_app registered."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context


def get(name: str) -> Any:
    """The object registered as app.extensions[name] (the mailer, the PDF engine ...)."""
    return current_app.extensions[name]


def has(name: str) -> bool:
    return has_app_context() and name in current_app.extensions


def config(name: str, default: Any = None) -> Any:
    """A configuration value of the running app."""
    return current_app.config.get(name, default)
