"""Links that leave the portal: absolute URLs for e-mails and PDFs, built on the configured
BASE_URL (never on a request's Host header), and the signed, expiring pay link."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

PAY_LINK_SALT = "invoice-pay-link"


def absolute_url(endpoint: str, **values) -> str:
    """A link for e-mails and documents, on BASE_URL."""
    base = current_app.config["BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/"):  # from the CLI or a background job
        return base + url_for(endpoint, **values)


def _pay_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PAY_LINK_SALT)


def pay_token(invoice_id: int) -> str:
    """The signed token of an invoice's public pay link (payments.pay_link)."""
    return _pay_serializer().dumps({"invoice": invoice_id})


def invoice_id_from_pay_token(token: str) -> int | None:
    """The invoice a pay link names, or None when it is tampered with or has expired."""
    max_age = int(current_app.config.get("PAY_LINK_MAX_AGE_DAYS") or 60) * 86400
    try:
        data = _pay_serializer().loads(token, max_age=max_age)
    except BadData:
        return None
    value = data.get("invoice") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def pay_link(invoice_id: int) -> str:
    """The public card-payment page of an invoice, absolute."""
    return absolute_url("payments.pay_link", token=pay_token(invoice_id))
