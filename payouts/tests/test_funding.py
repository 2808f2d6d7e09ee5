"""Card top-ups: checkout session over HTTP, signed webhook, processed once."""

from __future__ import annotations

import json
import time

import pytest
import stripe
from django.urls import reverse

from payouts import selectors
from payouts.errors import WebhookSignatureInvalid
from payouts.models import Funding, FundingStatus, LedgerTransaction
from payouts.providers.stripe_checkout import stripe_signature_verify
from payouts.services.checkout import funding_webhook_process
from tests.factories.brands import BrandFactory, MembershipFactory

pytestmark = pytest.mark.django_db

SECRET = "whsec_test_double"


def _event(funding: Funding, event_id: str = "evt_1", paid: bool = True) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": funding.reference,
                    "object": "checkout.session",
                    "amount_total": funding.amount_minor,
                    "currency": funding.currency.lower(),
                    "payment_status": "paid" if paid else "unpaid",
                    "client_reference_id": "x",
                }
            },
        }
    ).encode()


def _signed(payload: bytes, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """Signed as Stripe signs: by the Stripe SDK's own signer, not by the code under test."""
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=at or int(time.time())
    )
    return {"Stripe-Signature": header}


def test_owner_top_up_opens_a_checkout_and_the_webhook_books_it_once(client, provider_double):
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post(reverse("payouts:funds-top-up", args=[membership.brand.slug]), {"amount": "250,50"})
    funding = Funding.objects.get()
    assert response.status_code == 302
    assert response["Location"] == funding.checkout_url
    [call] = provider_double.calls("/v1/checkout/sessions")
    assert call.form()["line_items[0][price_data][unit_amount]"] == "25050"
    assert call.form()["mode"] == "payment"
    assert funding.status == FundingStatus.OPEN
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 0

    payload = _event(funding)
    url = reverse("payouts:stripe-webhook")
    for _attempt in range(3):  # Stripe redelivers
        assert client.post(url, payload, content_type="application/json", headers=_signed(payload)).status_code == 200
    funding.refresh_from_db()
    assert funding.status == FundingStatus.COMPLETED
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 25_050
    assert LedgerTransaction.objects.filter(kind="funding").count() == 1


def test_webhook_with_a_bad_signature_books_nothing(client, provider_double):
    brand = BrandFactory()
    funding = Funding.objects.create(brand=brand, source="card", reference="cs_x", amount_minor=100, currency="EUR")
    payload = _event(funding)
    url = reverse("payouts:stripe-webhook")
    for headers in (_signed(payload, secret="whsec_wrong"), {}, _signed(payload, at=int(time.time()) - 3600)):
        assert client.post(url, payload, content_type="application/json", headers=headers).status_code == 400
    tampered = payload.replace(b'"amount_total": 100', b'"amount_total": 999')
    assert client.post(url, tampered, content_type="application/json", headers=_signed(payload)).status_code == 400
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 0


def test_signature_verification_accepts_any_matching_v1():
    payload = b"{}"
    good = _signed(payload)["Stripe-Signature"]
    header = good.replace("v1=", "v1=deadbeef,v1=")
    stripe_signature_verify(payload=payload, header=header, secret=SECRET)
    timestamp = good.split(",")[0]
    with pytest.raises(WebhookSignatureInvalid):
        stripe_signature_verify(payload=payload, header=f"{timestamp},v1=00", secret=SECRET)


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda payload: _signed(payload, secret="whsec_wrong"), id="wrong secret"),
        pytest.param(lambda payload: _signed(payload, at=int(time.time()) - 301), id="expired (over 5 minutes)"),
        pytest.param(lambda payload: {"Stripe-Signature": "t=abc,v1=00"}, id="malformed"),
        pytest.param(lambda payload: {"Stripe-Signature": ""}, id="missing"),
    ],
)
def test_a_wrong_or_expired_signature_is_refused(header):
    payload = b'{"id": "evt_1"}'
    with pytest.raises(WebhookSignatureInvalid):
        stripe_signature_verify(payload=payload, header=header(payload)["Stripe-Signature"], secret=SECRET)
    with pytest.raises(WebhookSignatureInvalid):
        stripe_signature_verify(payload=payload, header=_signed(payload)["Stripe-Signature"], secret="")
    with pytest.raises(WebhookSignatureInvalid):  # not UTF-8: never what Stripe sends
        stripe_signature_verify(payload=b"\xff", header=_signed(b"x")["Stripe-Signature"], secret=SECRET)


def test_managers_cannot_top_up(client, provider_double):
    membership = MembershipFactory(role="manager")
    client.force_login(membership.user)
    response = client.post(reverse("payouts:funds-top-up", args=[membership.brand.slug]), {"amount": "100"})
    assert response.status_code == 403
    assert not Funding.objects.exists()


def test_unpaid_session_event_books_nothing(client, provider_double):
    brand = BrandFactory()
    funding = Funding.objects.create(brand=brand, source="card", reference="cs_y", amount_minor=100, currency="EUR")
    payload = _event(funding, paid=False)
    funding_webhook_process(provider_name="card", payload=payload, headers=_signed(payload))
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 0


def test_expired_checkout_is_marked_and_books_nothing(provider_double):
    brand = BrandFactory()
    funding = Funding.objects.create(brand=brand, source="card", reference="cs_z", amount_minor=100, currency="EUR")
    payload = _event(funding, event_id="evt_expired", paid=False).replace(
        b"checkout.session.completed", b"checkout.session.expired"
    )
    funding_webhook_process(provider_name="card", payload=payload, headers=_signed(payload))
    funding.refresh_from_db()
    assert funding.status == FundingStatus.EXPIRED
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 0


def test_card_provider_down_shows_a_clear_message(client, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    membership = MembershipFactory()
    client.force_login(membership.user)
    response = client.post(reverse("payouts:funds-top-up", args=[membership.brand.slug]), {"amount": "100"})
    assert response.status_code == 400
    assert "could not be opened" in response.content.decode()
    assert not Funding.objects.exists()
