"""Payouts leave in the currency of the balance the person chooses, or are refused with the reason.

An influencer paid in CHF withdraws CHF; a destination whose provider cannot pay that currency
(SEPA transfers are EUR only) is refused before any money is set aside. Never a silent EUR payout.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from campaigns.earnings.budget import campaign_budget_reserve
from campaigns.earnings.services import earnings_accrue, earnings_release_due
from influencers.models import InfluencerProfile
from payouts import selectors
from payouts.errors import PayoutsError, ProviderError, UnsupportedCurrency
from payouts.models import AccountKind, PayoutDestination, PayoutRequest, PayoutStatus
from payouts.providers.base import PayoutBatchRequest, PayoutItem
from payouts.providers.sepa import SepaFileProvider
from payouts.services.batches import payout_batches_run
from payouts.services.destinations import payout_destination_add
from payouts.services.ledger import brand_fund
from payouts.services.payouts import payout_approve, payout_request
from payouts.tests.helpers import delta
from tests.factories.brands import BrandFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.payouts import CampaignFactory, CharityFactory

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/payouts/requests/"


@pytest.fixture(autouse=True)
def _generous_money_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"money": "10000/minute"})


def _earn(person: InfluencerProfile, currency: str, engagements: int = 1_000) -> int:
    """Earnings in ``currency`` past the hold period; returns the person's available balance in it."""
    brand = BrandFactory(currency=currency)
    brand_fund(brand=brand, amount_minor=200_000, currency=currency, source="bank_transfer", reference=f"T-{brand.pk}")
    campaign = CampaignFactory(brand=brand, currency=currency, budget_minor=200_000)
    campaign_budget_reserve(campaign=campaign)
    now = timezone.now()
    earnings_accrue(
        delta=delta(campaign, person, "w1", share=f"s-{person.pk}-{currency}", engagements=engagements), now=now
    )
    earnings_release_due(now=now + timedelta(days=15))
    return _available(person, currency)


def _available(person: InfluencerProfile, currency: str) -> int:
    return selectors.influencer_balance_minor(
        influencer=person, kind=AccountKind.INFLUENCER_AVAILABLE, currency=currency
    )


def _paypal(person: InfluencerProfile) -> PayoutDestination:
    return payout_destination_add(influencer=person, kind="paypal", paypal_email="lena@ex.test")


def _iban(person: InfluencerProfile) -> PayoutDestination:
    return payout_destination_add(
        influencer=person, kind="sepa", holder_name="Lena Berger", iban="AT61 1904 3002 3457 3201"
    )


def _page(person: InfluencerProfile) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def _api(person: InfluencerProfile) -> APIClient:
    client = APIClient()
    client.force_authenticate(person.user)
    return client


def _api_request(person: InfluencerProfile, body: dict[str, Any], key: str = "k1") -> Any:
    return _api(person).post(API_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


# --- the page -------------------------------------------------------------------------------


def test_page_shows_each_currency_balance_and_pays_chf_in_chf() -> None:
    person = InfluencerProfileFactory()
    chf = _earn(person, "CHF")
    eur = _earn(person, "EUR", engagements=500)
    destination = _paypal(person)
    client = _page(person)

    page = client.get(reverse("payouts:earnings")).content.decode()
    assert 'data-testid="earnings-available-CHF"' in page
    assert 'data-testid="earnings-available-EUR"' in page

    response = client.post(
        reverse("payouts:earnings"), {"amount": "25.00", "currency": "CHF", "target": f"d{destination.pk}"}
    )

    assert response.status_code == 302
    payout = PayoutRequest.objects.get(influencer=person)
    assert (payout.currency, payout.amount_minor) == ("CHF", 2_500)
    assert _available(person, "CHF") == chf - 2_500
    assert _available(person, "EUR") == eur, "the EUR balance is untouched"


def test_page_refuses_chf_to_a_bank_account_with_the_reason() -> None:
    person = InfluencerProfileFactory()
    chf = _earn(person, "CHF")
    destination = _iban(person)

    response = _page(person).post(
        reverse("payouts:earnings"), {"amount": "25.00", "currency": "CHF", "target": f"d{destination.pk}"}
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Bank transfers (SEPA) are paid in EUR only" in text
    assert not PayoutRequest.objects.exists()
    assert _available(person, "CHF") == chf


def test_page_offers_only_currencies_the_person_holds() -> None:
    person = InfluencerProfileFactory()
    _earn(person, "CHF")
    destination = _paypal(person)

    response = _page(person).post(
        reverse("payouts:earnings"), {"amount": "25.00", "currency": "EUR", "target": f"d{destination.pk}"}
    )

    assert response.status_code == 400
    assert not PayoutRequest.objects.exists()


# --- the API --------------------------------------------------------------------------------


def test_api_pays_chf_in_chf() -> None:
    person = InfluencerProfileFactory()
    chf = _earn(person, "CHF")
    destination = _paypal(person)

    response = _api_request(person, {"amount_minor": 2_500, "currency": "CHF", "destination_id": destination.pk})

    assert response.status_code == 201, response.json()
    assert (response.json()["currency"], response.json()["amount_minor"]) == ("CHF", 2_500)
    assert _available(person, "CHF") == chf - 2_500


def test_api_without_a_currency_uses_the_only_balance_held() -> None:
    person = InfluencerProfileFactory()
    _earn(person, "CHF")
    destination = _paypal(person)

    response = _api_request(person, {"amount_minor": 2_500, "destination_id": destination.pk})

    assert response.status_code == 201, response.json()
    assert response.json()["currency"] == "CHF"


def test_api_without_a_currency_and_several_balances_asks_which() -> None:
    person = InfluencerProfileFactory()
    _earn(person, "CHF")
    _earn(person, "EUR")
    destination = _paypal(person)

    response = _api_request(person, {"amount_minor": 2_500, "destination_id": destination.pk})

    assert response.status_code == 400
    assert "currency" in response.json()
    assert not PayoutRequest.objects.exists()


def test_api_refuses_chf_to_a_bank_account_with_the_reason() -> None:
    person = InfluencerProfileFactory()
    chf = _earn(person, "CHF")
    destination = _iban(person)

    response = _api_request(person, {"amount_minor": 2_500, "currency": "CHF", "destination_id": destination.pk})

    assert response.status_code == 400
    assert "Bank transfers (SEPA) are paid in EUR only" in response.json()["detail"]
    assert not PayoutRequest.objects.exists()
    assert _available(person, "CHF") == chf


def test_api_earnings_lists_every_currency() -> None:
    person = InfluencerProfileFactory()
    chf = _earn(person, "CHF")
    eur = _earn(person, "EUR", engagements=500)

    body = _api(person).get("/api/v1/payouts/earnings/").json()

    available = {row["currency"]: row["available_minor"] for row in body["balances"]}
    assert available == {"CHF": chf, "EUR": eur}


# --- the service and the providers ----------------------------------------------------------


def test_donations_are_refused_outside_eur_with_the_reason() -> None:
    person = InfluencerProfileFactory()
    chf = _earn(person, "CHF")

    with pytest.raises(UnsupportedCurrency, match="EUR only"):
        payout_request(influencer=person, amount_minor=2_500, currency="CHF", charity=CharityFactory())

    assert _available(person, "CHF") == chf


def test_the_service_needs_a_currency() -> None:
    person = InfluencerProfileFactory()
    _earn(person, "CHF")

    with pytest.raises(TypeError):
        payout_request(influencer=person, amount_minor=2_500, destination=_paypal(person))  # type: ignore[call-arg]


def test_an_unknown_currency_is_refused() -> None:
    person = InfluencerProfileFactory()
    _earn(person, "CHF")

    with pytest.raises(PayoutsError):
        payout_request(influencer=person, amount_minor=2_500, currency="XXX", destination=_paypal(person))


def test_chf_payout_goes_to_paypal_in_chf(provider_double: Any) -> None:
    person = InfluencerProfileFactory()
    _earn(person, "CHF")
    payout = payout_request(influencer=person, amount_minor=2_500, currency="CHF", destination=_paypal(person))
    payout_approve(payout=payout, reviewed_by=None)

    [batch] = payout_batches_run()

    assert batch.currency == "CHF"
    [create] = provider_double.calls("/v1/payments/payouts")[:1]
    assert [item["amount"] for item in create.json()["items"]] == [{"value": "25.00", "currency": "CHF"}]
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT


def test_the_sepa_file_refuses_anything_but_eur() -> None:
    item = PayoutItem(
        payout_id=1, amount_minor=2_500, currency="CHF", name="Lena", reference="r", destination={"iban": "AT61"}
    )

    with pytest.raises(ProviderError, match="EUR"):
        SepaFileProvider().execute(PayoutBatchRequest(message_id="m", currency="CHF", items=(item,)))
