"""M3 and the money API: Idempotency-Key required, replays change nothing, scoped per user."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from campaigns.earnings.services import earnings_accrue, earnings_release_due
from payouts.models import LedgerTransaction, PayoutRequest
from payouts.services import payouts as payout_services
from payouts.services.destinations import payout_destination_add
from payouts.services.ledger import brand_fund
from payouts.tests.helpers import delta, funded_campaign
from tests.factories.brands import MembershipFactory
from tests.factories.influencers import InfluencerProfileFactory

URL = "/api/v1/payouts/requests/"


@pytest.fixture(autouse=True)
def _generous_money_throttle(monkeypatch: pytest.MonkeyPatch) -> None:
    """The "money" scope allows 60/minute; M3 replays 100 times on purpose."""
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"money": "10000/minute"})


def _influencer_with_available(amount_engagements: int = 1_000) -> Any:
    person = InfluencerProfileFactory()
    campaign = funded_campaign(budget=200_000)
    now = timezone.now()
    earnings_accrue(
        delta=delta(campaign, person, "w1", share=f"s-{person.pk}", engagements=amount_engagements), now=now
    )
    earnings_release_due(now=now + timedelta(days=15))
    destination = payout_destination_add(
        influencer=person, kind="sepa", holder_name="Lena", iban="AT611904300234573201"
    )
    return person, destination


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_money_writes_require_an_idempotency_key():
    person, destination = _influencer_with_available()
    response = _client(person.user).post(URL, {"amount_minor": 2_000, "destination_id": destination.pk}, format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert not PayoutRequest.objects.exists()


@pytest.mark.django_db
def test_same_key_replayed_100_times_books_once_with_identical_responses():
    person, destination = _influencer_with_available()
    client = _client(person.user)
    body = {"amount_minor": 2_000, "destination_id": destination.pk}
    responses = [client.post(URL, body, format="json", headers={"Idempotency-Key": "k-1"}) for _ in range(100)]
    assert {response.status_code for response in responses} == {201}
    assert all(response.json() == responses[0].json() for response in responses)
    assert PayoutRequest.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="payout_request").count() == 1

    other = client.post(URL, {**body, "amount_minor": 2_001}, format="json", headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 422
    assert PayoutRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_same_key_replayed_concurrently_books_once():
    person, destination = _influencer_with_available()
    body = {"amount_minor": 2_000, "destination_id": destination.pk}
    barrier = threading.Barrier(20)
    results: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def call() -> None:
        try:
            client = _client(person.user)
            barrier.wait()
            response = client.post(URL, body, format="json", headers={"Idempotency-Key": "k-concurrent"})
            with lock:
                results.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 20
    assert {status for status, _body in results} == {201}
    assert all(body == results[0][1] for _status, body in results)
    assert LedgerTransaction.objects.filter(kind="payout_request").count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_user():
    first, first_destination = _influencer_with_available()
    second, second_destination = _influencer_with_available()
    for person, destination in ((first, first_destination), (second, second_destination)):
        response = _client(person.user).post(
            URL,
            {"amount_minor": 2_000, "destination_id": destination.pk},
            format="json",
            headers={"Idempotency-Key": "same"},
        )
        assert response.status_code == 201
    assert PayoutRequest.objects.count() == 2


@pytest.mark.django_db
def test_influencers_cannot_use_someone_elses_destination_or_see_their_payouts():
    first, _first_destination = _influencer_with_available()
    second, second_destination = _influencer_with_available()
    payout_services.payout_request(
        influencer=second, amount_minor=2_000, currency="EUR", destination=second_destination
    )
    client = _client(first.user)
    response = client.post(
        URL,
        {"amount_minor": 2_000, "destination_id": second_destination.pk},
        format="json",
        headers={"Idempotency-Key": "x"},
    )
    assert response.status_code == 400
    assert client.get(URL).json()["results"] == []
    assert client.get("/api/v1/payouts/earnings/").json()["available_minor"] == 10_000


@pytest.mark.django_db
def test_brand_funds_api_reads_the_ledger_and_checkout_needs_fund_rights(provider_double):
    membership = MembershipFactory()
    brand_fund(brand=membership.brand, amount_minor=12_345, currency="EUR", source="bank_transfer", reference="api")
    client = _client(membership.user)
    funds = client.get(reverse("api-brand-funds", args=[membership.brand.slug])).json()
    assert funds["available_minor"] == 12_345
    url = reverse("api-brand-funds-checkout", args=[membership.brand.slug])
    body = {"amount_minor": 5_000, "success_url": "https://x.test/ok", "cancel_url": "https://x.test/no"}
    first = client.post(url, body, format="json", headers={"Idempotency-Key": "top-up-1"})
    again = client.post(url, body, format="json", headers={"Idempotency-Key": "top-up-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(provider_double.calls("/v1/checkout/sessions")) == 1

    analyst = MembershipFactory(brand=membership.brand, role="analyst")
    refused = _client(analyst.user).post(url, body, format="json", headers={"Idempotency-Key": "top-up-2"})
    assert refused.status_code == 403
