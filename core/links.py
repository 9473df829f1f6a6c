"""Links that leave the portal: absolute URLs for e-mails and PDFs, built on the configured
BASE_URL (never on a request's Host header), and the signed, expiring pay link."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, has_request_context, url_for
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

PAY_LINK_SALT = "invoice-pay-link"


def absolute_url(endpoint: str, **values) -> str:
    """A link for e-mails and documents, on BASE_URL."""
    base = current_app.config["BASE_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context("/"):  # from the CLI or a background job
        return base + url_for(endpoint, **values)


class _SignedAt(TimestampSigner):
    """A timestamp signer that signs as of a given moment, not now: the pay link printed on an
    invoice is signed as of its issue, so rendering the invoice again gives the same bytes."""

    at: int | None = None

    def get_timestamp(self) -> int:
        return self.at if self.at is not None else super().get_timestamp()


def _pay_serializer(at: datetime | None = None) -> URLSafeTimedSerializer:
    signer = type("PayLinkSigner", (_SignedAt,), {"at": int(at.timestamp()) if at else None})
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=PAY_LINK_SALT, signer=signer
    )


def pay_token(invoice_id: int, signed_at: datetime | None = None) -> str:
    """The signed token of an invoice's public pay link (payments.pay_link); it expires
    PAY_LINK_MAX_AGE_DAYS after `signed_at` (now when not given)."""
    return _pay_serializer(signed_at).dumps({"invoice": invoice_id})


def invoice_id_from_pay_token(token: str) -> int | None:
    """The invoice a pay link names, or None when it is tampered with or has expired."""
    max_age = int(current_app.config.get("PAY_LINK_MAX_AGE_DAYS") or 60) * 86400
    try:
        data = _pay_serializer().loads(token, max_age=max_age)
    except BadData:
        return None
    value = data.get("invoice") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def pay_link(invoice_id: int, signed_at: datetime | None = None) -> str:
    """The public card-payment page of an invoice, absolute."""
    return absolute_url("payments.pay_link", token=pay_token(invoice_id, signed_at))
