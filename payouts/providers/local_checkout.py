"""Card top-ups in test mode: the app's own checkout page, standing in for Stripe Checkout.

Development and demos have no Stripe account and often no network, so a new brand could not fund
itself there. With ``PAYOUTS_CARD_TEST_MODE`` (on by default with ``DJANGO_DEBUG``, refused in
production by the settings and the deploy check ``payouts.E001``) this provider takes the card
slot and behaves like Stripe's hosted checkout from both sides:

* ``start`` opens a checkout session (``cs_test_...``) and returns the address of its page. The
  session's details (amount, brand, return addresses) travel in that address, signed with
  ``SECRET_KEY``, so nothing is stored and nobody can change the amount or the return address.
* The page (``payouts.views.LocalCheckoutView``) shows the amount and the brand and takes Stripe's
  test card numbers: 4242 4242 4242 4242 pays, the decline cards are declined with Stripe's reasons,
  and a declined card stays on the page, as on Stripe's.
* A paid checkout sends Stripe's ``checkout.session.completed`` event, in Stripe's shape and signed
  as Stripe signs it (``STRIPE_WEBHOOK_SECRET``), over HTTP to the webhook path Stripe calls, from a
  Celery task as Stripe sends it from its servers, and the browser returns to the success address.
  ``parse_webhook`` is Stripe's own: the same verification and the same booking run as in production.
* Cancel returns to the cancel address and sends ``checkout.session.expired``, which Stripe sends
  for an abandoned session a day later, so the Funds page does not keep the top-up waiting.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

import requests
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from payouts.errors import CheckoutNotFound, ProviderError
from payouts.providers import funding_provider_class
from payouts.providers.base import CheckoutRequest, FundingStart
from payouts.providers.stripe_checkout import StripeCheckoutProvider, stripe_signature

SIGNING_SALT = "payouts.local-checkout"
#: Stripe expires an unpaid checkout session after 24 hours; so does its stand-in.
SESSION_MAX_AGE_SECONDS = 24 * 60 * 60
PAID = "checkout.session.completed"
EXPIRED = "checkout.session.expired"
TIMEOUT_SECONDS = 10

#: Stripe's test card numbers (docs.stripe.com/testing) and what they do; any other number is declined.
PAYING_TEST_CARD = "4242 4242 4242 4242"
PAYING_CARDS = frozenset({"4242424242424242", "5555555555554444"})
DECLINING_CARDS = {
    "4000000000000002": "generic_decline",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
}


@dataclass(frozen=True)
class LocalCheckoutSession:
    id: str
    amount_minor: int
    currency: str
    brand_slug: str
    brand_name: str
    description: str
    success_url: str
    cancel_url: str
    client_reference: str


def local_checkout_session_load(token: str) -> LocalCheckoutSession:
    """The session a checkout address names; ``CheckoutNotFound`` for a forged, changed or expired one."""
    try:
        data: dict[str, Any] = signing.loads(token, salt=SIGNING_SALT, max_age=SESSION_MAX_AGE_SECONDS)
        return LocalCheckoutSession(**data)
    except (signing.BadSignature, TypeError) as error:
        raise CheckoutNotFound(_("This payment page does not exist or has expired.")) from error


def _decline_message(code: str) -> str:
    messages = {
        "generic_decline": _("Your card was declined."),
        "insufficient_funds": _("Your card has insufficient funds."),
        "expired_card": _("Your card has expired."),
        "incorrect_cvc": _("Your card's security code is incorrect."),
    }
    return messages[code]


def card_decline_reason(card_number: str) -> str | None:
    """Why the test checkout declines this card (Stripe's words), or None when it pays."""
    digits = re.sub(r"[\s-]", "", card_number)
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not _luhn_ok(digits):
        return _("Your card number is incomplete or invalid.")
    if digits in PAYING_CARDS:
        return None
    if digits in DECLINING_CARDS:
        return _decline_message(DECLINING_CARDS[digits])
    return _("Your card was declined. This is a test installation: pay with the test card 4242 4242 4242 4242.")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def local_checkout_event(session: LocalCheckoutSession, event_type: str) -> dict[str, Any]:
    """The Stripe event for ``session`` (the fields ``StripeCheckoutProvider.parse_webhook`` reads, and more).

    The event id is derived from the session and the type, so sending it again is a redelivery of the
    same event (processed once), as with Stripe.
    """
    paid = event_type == PAID
    digest = hashlib.sha256(f"{session.id}:{event_type}".encode()).hexdigest()[:24]
    return {
        "id": f"evt_test_{digest}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {
            "object": {
                "id": session.id,
                "object": "checkout.session",
                "mode": "payment",
                "livemode": False,
                "amount_total": session.amount_minor,
                "currency": session.currency.lower(),
                "client_reference_id": session.client_reference,
                "metadata": {"brand": session.brand_slug},
                "payment_status": "paid" if paid else "unpaid",
                "status": "complete" if paid else "expired",
                "success_url": session.success_url,
                "cancel_url": session.cancel_url,
            }
        },
    }


def local_checkout_webhook(*, token: str, event_type: str) -> tuple[bytes, dict[str, str]]:
    """(body, headers) of the webhook Stripe would send for this checkout, signed now."""
    session = local_checkout_session_load(token)
    payload = json.dumps(local_checkout_event(session, event_type)).encode()
    secret = str(getattr(settings, "STRIPE_WEBHOOK_SECRET", ""))
    return payload, {"Stripe-Signature": stripe_signature(payload=payload, secret=secret, timestamp=int(time.time()))}


def local_checkout_webhook_post(*, token: str, event_type: str) -> None:
    """Posts the webhook over HTTP to this installation's Stripe webhook address, as Stripe would.

    Signed at each attempt, so a retried delivery is inside the signature's time tolerance.
    """
    payload, headers = local_checkout_webhook(token=token, event_type=event_type)
    url = f"{settings.SITE_URL}{reverse('payouts:stripe-webhook')}"
    try:
        response = requests.post(
            url,
            data=payload,
            headers={**headers, "Content-Type": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise ProviderError(f"test checkout webhook: {type(exc).__name__}", retryable=True) from exc
    if response.status_code >= 400:
        raise ProviderError(
            f"test checkout webhook answered {response.status_code}",
            retryable=response.status_code == 429 or response.status_code >= 500,
        )


class LocalCheckoutProvider(StripeCheckoutProvider):
    """The card provider in test mode: Stripe Checkout's behaviour, served by the app itself."""

    name = "card"
    #: No Stripe account: only the secret its webhooks are signed with (derived from SECRET_KEY if unset).
    required_settings = ("STRIPE_WEBHOOK_SECRET",)

    def start(self, request: CheckoutRequest) -> FundingStart:
        session = LocalCheckoutSession(
            id=f"cs_test_{secrets.token_hex(12)}",
            amount_minor=request.amount_minor,
            currency=request.currency,
            brand_slug=request.brand_slug,
            brand_name=request.brand_name or request.brand_slug,
            description=request.description,
            success_url=request.success_url,
            cancel_url=request.cancel_url,
            client_reference=request.client_reference,
        )
        token = signing.dumps(asdict(session), salt=SIGNING_SALT, compress=True)
        url = f"{settings.SITE_URL}{reverse('payouts:test-checkout', args=[token])}"
        return FundingStart(reference=session.id, url=url)


def local_checkout_enabled() -> bool:
    """Whether the card provider configured now is the test checkout (its page is 404 otherwise)."""
    return issubclass(funding_provider_class("card"), LocalCheckoutProvider)
