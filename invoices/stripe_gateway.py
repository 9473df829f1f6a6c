"""Stripe behind one small class: PaymentIntents for invoices and webhook signatures.

The API base is configurable so tests point the official SDK at a localstripe server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

DEFAULT_JS_URL = "https://js.stripe.com/v3/"
CONNECT_SECONDS = 2
TIMEOUT_SECONDS = 5  # PORTAL_STRIPE_TIMEOUT_SECONDS


class WebhookRefused(ValueError):
    """The request is not a correctly signed, fresh Stripe event."""


@dataclass(frozen=True)
class Intent:
    id: str
    client_secret: str
    amount_ore: int
    status: str


class StripeGateway:
    """Create PaymentIntents in DKK øre and verify webhook signatures."""

    def __init__(
        self,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str | None = None,
        api_base: str | None = None,
        js_url: str | None = None,
        payment_method_types: tuple[str, ...] = ("card",),
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.js_url = js_url or DEFAULT_JS_URL
        self.payment_method_types = payment_method_types
        base = {"api": api_base.rstrip("/")} if api_base else None
        # Fail fast: a page waits for Stripe, and gunicorn kills a worker after 30 s. At most
        # two tries of (2 s to connect + `timeout_seconds` to answer) and the SDK's half-second
        # pause between them; then the page says card payment is unavailable right now and
        # shows the bank transfer. (The SDK's defaults, 80 s and more retries, would not.)
        http = stripe.RequestsClient(timeout=(CONNECT_SECONDS, float(timeout_seconds)))
        self.client = stripe.StripeClient(
            secret_key, base_addresses=base, max_network_retries=1, http_client=http
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway | None:
        """The gateway, or None when Stripe is not configured (the card option is hidden)."""
        if not (config.get("STRIPE_SECRET_KEY") and config.get("STRIPE_PUBLISHABLE_KEY")):
            return None
        types = tuple(
            t.strip()
            for t in str(config.get("STRIPE_PAYMENT_METHOD_TYPES") or "card").split(",")
            if t.strip()
        )
        return cls(
            secret_key=config["STRIPE_SECRET_KEY"],
            publishable_key=config["STRIPE_PUBLISHABLE_KEY"],
            webhook_secret=config.get("STRIPE_WEBHOOK_SECRET"),
            api_base=config.get("STRIPE_API_BASE"),
            js_url=config.get("STRIPE_JS_URL"),
            payment_method_types=types or ("card",),
            timeout_seconds=float(config.get("STRIPE_TIMEOUT_SECONDS") or TIMEOUT_SECONDS),
        )

    @staticmethod
    def idempotency_key(invoice_id: int, amount_ore: int) -> str:
        """The same invoice and open amount give the same intent: a double click pays once."""
        return f"invoice-{invoice_id}-open-{amount_ore}"

    def create_intent(self, invoice_id: int, number: str, amount_ore: int) -> Intent:
        """A PaymentIntent for the open amount in DKK øre (Stripe's smallest unit is øre)."""
        intent = self.client.v1.payment_intents.create(
            params={
                "amount": amount_ore,
                "currency": "dkk",
                "payment_method_types": list(self.payment_method_types),
                "metadata": {"invoice_id": str(invoice_id), "invoice_number": number},
            },
            options={"idempotency_key": self.idempotency_key(invoice_id, amount_ore)},
        )
        return self._intent(intent)

    def retrieve_intent(self, intent_id: str) -> Intent:
        return self._intent(self.client.v1.payment_intents.retrieve(intent_id))

    @staticmethod
    def _intent(intent) -> Intent:
        return Intent(
            id=intent.id,
            client_secret=intent.client_secret,
            amount_ore=int(intent.amount),
            status=intent.status,
        )

    def verify(self, payload: bytes, signature: str | None) -> dict:
        """The event in a webhook request, if its signature is ours and fresh; else refuse."""
        if not self.webhook_secret:
            raise WebhookRefused("no webhook secret configured")
        if not signature:
            raise WebhookRefused("no Stripe-Signature header")
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except stripe.SignatureVerificationError as error:
            raise WebhookRefused(str(error)) from error
        except ValueError as error:  # not JSON
            raise WebhookRefused("the body is not a Stripe event") from error
        return event.to_dict()
