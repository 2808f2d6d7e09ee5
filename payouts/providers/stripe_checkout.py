"""Card top-ups through a Stripe Checkout Session (hosted payment page) and its webhook.

API: POST /v1/checkout/sessions (form-encoded) returns ``{"id": "cs_...", "url": ...}``; when the
brand has paid, Stripe sends the event ``checkout.session.completed`` signed in the
``Stripe-Signature`` header as ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from django.conf import settings

from payouts.errors import WebhookSignatureInvalid
from payouts.providers.base import CheckoutRequest, FundingEvent, FundingProvider, FundingStart
from payouts.providers.stripe_common import stripe_post

SIGNATURE_TOLERANCE_SECONDS = 300
PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})


def stripe_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_signature_verify(*, payload: bytes, header: str, secret: str, now: float | None = None) -> None:
    parts = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in parts if key.strip() == "t"]
    signatures = [value for key, value in parts if key.strip() == "v1"]
    if not secret or not timestamps or not signatures or not timestamps[0].isdigit():
        raise WebhookSignatureInvalid("missing or malformed Stripe-Signature")
    timestamp = int(timestamps[0])
    if abs((now if now is not None else time.time()) - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise WebhookSignatureInvalid("Stripe-Signature timestamp outside the tolerance")
    expected = stripe_signature(payload=payload, secret=secret, timestamp=timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookSignatureInvalid("Stripe-Signature does not match")


class StripeCheckoutProvider(FundingProvider):
    name = "card"

    def start(self, request: CheckoutRequest) -> FundingStart:
        session = stripe_post(
            "/v1/checkout/sessions",
            {
                "mode": "payment",
                "success_url": request.success_url,
                "cancel_url": request.cancel_url,
                "client_reference_id": request.client_reference,
                "line_items[0][quantity]": 1,
                "line_items[0][price_data][currency]": request.currency.lower(),
                "line_items[0][price_data][unit_amount]": request.amount_minor,
                "line_items[0][price_data][product_data][name]": request.description,
                "metadata[brand]": request.brand_slug,
            },
            idempotency_key=f"checkout-{request.client_reference}",
        )
        return FundingStart(reference=str(session["id"]), url=str(session["url"]))

    def parse_webhook(self, *, payload: bytes, headers: Mapping[str, str]) -> FundingEvent:
        stripe_signature_verify(
            payload=payload,
            header=headers.get("Stripe-Signature", ""),
            secret=str(getattr(settings, "STRIPE_WEBHOOK_SECRET", "")),
        )
        try:
            event = json.loads(payload)
            session = event["data"]["object"]
            return FundingEvent(
                event_id=str(event["id"]),
                event_type=str(event["type"]),
                reference=str(session["id"]),
                amount_minor=int(session.get("amount_total") or 0),
                currency=str(session.get("currency") or "").upper(),
                paid=event["type"] in PAID_EVENTS and session.get("payment_status") == "paid",
                client_reference=str(session.get("client_reference_id") or ""),
                payload=event,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookSignatureInvalid("malformed Stripe event") from exc
