"""CSRF, rate limits, safe redirects and security headers."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self' {stripe}; "
    "frame-src {stripe}; connect-src 'self' {stripe}; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'self'"
)


def is_safe_redirect(target: str | None) -> bool:
    """Only paths on this site: no scheme, no host, no protocol-relative '//' tricks."""
    if not target:
        return False
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not any(ord(c) < 32 for c in target)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    storage = app.config.get("REDIS_URL") or "memory://"
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal-limits")
    limiter.init_app(app)
    stripe_js = app.config.get("STRIPE_JS_URL") or ""
    stripe_origin = "{0.scheme}://{0.netloc}".format(urlsplit(stripe_js)) if stripe_js else ""
    policy = CONTENT_SECURITY_POLICY.format(stripe=stripe_origin).replace("  ", " ")

    @app.before_request
    def _refuse_nul_characters() -> None:
        # No text here may hold a NUL, and PostgreSQL refuses one in a string (a 500 rather
        # than a form error): answer 400 before any view sees it.
        for values in (request.args, request.form):
            if any("\x00" in value for _name, value in values.items(multi=True)):
                abort(400)

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
