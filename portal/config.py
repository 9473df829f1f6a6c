"""Configuration: defaults here, overridden by PORTAL_* environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask


class Defaults:
    # "development" (make run), "production" (gunicorn) or "testing".
    ENV = "development"
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # default: SQLite file in the instance folder
    REDIS_URL: str | None = None  # set it to run jobs in RQ and keep rate limits in Redis
    JOBS: str | None = None  # "rq" or "inline"; default: rq when REDIS_URL is set
    BASE_URL = "http://127.0.0.1:5000"

    MAIL_SENDER = "Småjobportalen <noreply@smajob.local>"
    SMTP_HOST: str | None = None  # unset: e-mails are written to instance/outbox/
    SMTP_PORT = 25
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = False
    SMTP_TIMEOUT = 10
    OUTBOX_MAX_ATTEMPTS = 10  # then a message is given up (about five days of back-off)
    # Without Redis (JOBS=inline): send in this process after each commit, or leave it to a
    # sender process of its own (`flask outbox work`) with false.
    OUTBOX_INLINE = True

    BABEL_DEFAULT_LOCALE = "da"
    BABEL_DEFAULT_TIMEZONE = "Europe/Copenhagen"
    LANGUAGES = ("da", "en")

    INVITE_MAX_AGE_HOURS = 7 * 24
    RESET_MAX_AGE_HOURS = 1
    LOGIN_LIMIT_PER_IP = "20 per 5 minutes"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    RATELIMIT_ENABLED = True

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # None: Secure cookies exactly in production. PORTAL_SESSION_COOKIE_SECURE=false is only for
    # trying the production stack over plain http on loopback (README "Production").
    SESSION_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 12 * 3600

    # Stripe (card payments). Unset: the card option is hidden; bank transfer works as ever.
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_PUBLISHABLE_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None  # e.g. a localstripe server in tests
    STRIPE_JS_URL: str | None = None  # default with keys set: https://js.stripe.com/v3/
    STRIPE_PAYMENT_METHOD_TYPES = "card"  # comma-separated, as the Stripe account offers them
    STRIPE_TIMEOUT_SECONDS = 5  # per try, two tries at most: well inside gunicorn's 30 s
    # make run without keys: the local Stripe emulator (portal/demo_stripe.py), no real money.
    # Only outside production, and only while no keys are set; configure() then fills in the
    # STRIPE_* values above and sets STRIPE_DEMO, which the pay pages show.
    STRIPE_DEMO_URL: str | None = None
    STRIPE_DEMO = False
    PAY_LINK_MAX_AGE_DAYS = 60  # the signed pay link in the invoice e-mail

    # The published e-invoice rules (UBL 2.1 schema, Peppol BIS 3 schematrons as XSLT): every
    # issued invoice and credit note gets a validated e-invoice when they are found. Default:
    # ../shared/einvoice beside the project (where the workplace keeps them); see README.
    # How e-invoices reach public bodies: "folder" (the default: an access point's client
    # picks them up from EINVOICE_FOLDER, default instance/einvoice-outbox) or "api" (POSTed to
    # an access point provider's API at EINVOICE_API_URL with EINVOICE_API_TOKEN).
    EINVOICE_TRANSPORT = "folder"
    EINVOICE_FOLDER: str | None = None
    EINVOICE_API_URL: str | None = None
    EINVOICE_API_TOKEN: str | None = None
    EINVOICE_RULES_DIR: str | None = str(
        Path(__file__).resolve().parents[2] / "shared" / "einvoice"
    )


def configure(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Load defaults, then PORTAL_* variables, then the test overrides."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("PORTAL")
    # REDIS_URL is the name every Redis tool knows; PORTAL_REDIS_URL wins when both are set.
    if not app.config.get("REDIS_URL") and os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = os.environ["REDIS_URL"]
    app.config.update(overrides or {})

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'portal.db'}"
    production = app.config["ENV"] == "production"
    if not app.config.get("SECRET_KEY"):
        if production:
            raise RuntimeError("PORTAL_SECRET_KEY must be set in production")
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = production
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config["SESSION_COOKIE_SECURE"])
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    app.config.setdefault("OUTBOX_DIR", str(instance / "outbox"))
    if not app.config.get("EINVOICE_FOLDER"):
        app.config["EINVOICE_FOLDER"] = str(instance / "einvoice-outbox")
    configure_stripe(app.config, production)


def configure_stripe(config, production: bool) -> None:
    """Real keys win; without them, outside production, the demo emulator when make run
    started one. Production never talks to the emulator: without keys card payment is off."""
    keys = config.get("STRIPE_SECRET_KEY") or config.get("STRIPE_PUBLISHABLE_KEY")
    demo = bool(config.get("STRIPE_DEMO_URL")) and not keys and not production
    if demo:
        from portal import demo_stripe

        config.update(demo_stripe.settings(config["STRIPE_DEMO_URL"]))
    config["STRIPE_DEMO"] = demo
    if config.get("STRIPE_SECRET_KEY") and not config.get("STRIPE_JS_URL"):
        config["STRIPE_JS_URL"] = "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class CardPaymentStatus:
    """Whether employers can pay by card, and if not, why (the settings page shows it)."""

    mode: str  # "on" (Stripe), "demo" (the local emulator) or "off"
    missing: tuple[str, ...] = ()  # the PORTAL_ variables still to set
    demo_ignored: bool = False  # production was given the demo emulator and ignored it


def card_payment_status(config: Mapping[str, Any]) -> CardPaymentStatus:
    """Read the configuration: card payment on, in demo mode, or off and what is missing."""
    needed = {
        "PORTAL_STRIPE_SECRET_KEY": config.get("STRIPE_SECRET_KEY"),
        "PORTAL_STRIPE_PUBLISHABLE_KEY": config.get("STRIPE_PUBLISHABLE_KEY"),
    }
    missing = tuple(name for name, value in needed.items() if not value)
    if missing:
        ignored = config.get("ENV") == "production" and bool(config.get("STRIPE_DEMO_URL"))
        return CardPaymentStatus("off", missing, demo_ignored=ignored)
    # With keys but no webhook secret, Stripe's confirmations are refused: nothing is recorded.
    no_webhook = () if config.get("STRIPE_WEBHOOK_SECRET") else ("PORTAL_STRIPE_WEBHOOK_SECRET",)
    return CardPaymentStatus("demo" if config.get("STRIPE_DEMO") else "on", no_webhook)


def _instance_secret(instance: Path) -> str:
    """Keep one random development key per checkout so sessions survive a restart."""
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
