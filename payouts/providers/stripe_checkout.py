"""Card top-ups through a Stripe Checkout Session (hosted payment page) and its webhook.

API: POST /v1/checkout/sessions (form-encoded) returns ``{"id": "cs_...", "url": ...}``; when the
brand has paid, Stripe sends the event ``checkout.session.completed`` signed in the
``Stripe-Signature`` header. The signature is checked by Stripe's own SDK
(``stripe.WebhookSignature.verify_header``: the HMAC, any matching ``v1``, a timestamp no older than
five minutes), not by code of ours.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import ClassVar

import stripe
from django.conf import settings

from payouts.errors import WebhookSignatureInvalid
from payouts.providers.base import CheckoutRequest, FundingEvent, FundingProvider, FundingStart
from payouts.providers.stripe_common import stripe_post

SIGNATURE_TOLERANCE_SECONDS = 300
PAID_EVENTS = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})


def stripe_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header Stripe would send for ``payload`` (the SDK's own signer).

    The test checkout (``local_checkout``) signs its webhooks with it.
    """
    header: str = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp=timestamp)
    return header


def stripe_signature_verify(*, payload: bytes, header: str, secret: str) -> None:
    """``WebhookSignatureInvalid`` unless ``header`` is Stripe's valid, recent signature of ``payload``."""
    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureInvalid(f"Stripe-Signature refused: {error.user_message or error}") from error
    except UnicodeDecodeError as error:  # the SDK reads the body as UTF-8, as Stripe sends it
        raise WebhookSignatureInvalid("Stripe webhook body is not UTF-8") from error


class StripeCheckoutProvider(FundingProvider):
    name = "card"
    required_settings: ClassVar[tuple[str, ...]] = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")

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
