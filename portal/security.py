"""CSRF, rate limits, safe redirects and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from core.errors import Invalid
from portal.forms import MAX_ID

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' {stripe}; "
    "frame-src {stripe}; connect-src 'self' {stripe}; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'"
)


class DatabaseId(IntegerConverter):
    """`<int:...>` in every route: a positive id an integer column can hold. A larger number
    matches no route (404) instead of reaching the database driver, which refuses it."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def is_safe_redirect(target: str | None) -> bool:
    """Only paths on this site: no scheme, no host, no protocol-relative '//' tricks, and no
    control characters anywhere (a CR or LF would break the Location header)."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseId  # before any blueprint adds its rules
    csrf.init_app(app)
    storage = app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)
    # Redis down must not take log-in with it: the limits fall back to this process's memory
    # (a warning is logged) and go back to Redis when it answers again. Short timeouts, so a
    # Redis that hangs costs a page a second, not a gunicorn worker.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    if storage.startswith("redis"):
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal-limits")
    # Wrong second-factor codes (log-in, enrolment, turning it off), shared by those pages.
    app.config.setdefault("TWO_FACTOR_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    app.config.setdefault("TWO_FACTOR_LIMIT_PER_IP", "20 per 5 minutes")
    limiter.init_app(app)
    stripe_js = app.config.get("STRIPE_JS_URL") or ""
    stripe_origin = "{0.scheme}://{0.netloc}".format(urlsplit(stripe_js)) if stripe_js else ""
    policy = CONTENT_SECURITY_POLICY.format(stripe=stripe_origin).replace("  ", " ")

    @app.before_request
    def _refuse_nul_characters() -> None:
        # No text here may hold a NUL, and PostgreSQL refuses one in a string (a 500 rather
        # than a form error): answer 400 before any view sees it.
        texts = [v for values in (request.args, request.form) for _k, v in values.items(True)]
        texts += [upload.filename or "" for _k, upload in request.files.items(multi=True)]
        if any("\x00" in text for text in texts):
            raise Invalid(
                _(
                    "The request contained a NUL character, which no field can hold. Remove it "
                    "and try again."
                )
            )

    @app.teardown_request
    def _forget_csrf_token(_exc: BaseException | None) -> None:
        # Flask-WTF caches the token in `g`; drop it with the request even when an outer app
        # context lives on (tests push one around many requests, and several clients).
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
