"""S9: brute force and money are rate limited.

* Every API call that moves money (a card top-up, a payout request, cancelling a campaign, which
  returns its reserved budget) is throttled by the "money" scope: the call after the limit answers
  429, for that user only.
* Sign-in, sign-up and password reset are limited by allauth (ACCOUNT_RATE_LIMITS): the attempt
  after the limit answers 429 and does nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import User
from brands.models import BrandRole
from payouts.models import Funding, PayoutRequest
from tests.factories.accounts import TEST_PASSWORD, UserFactory
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db

LIMIT = 3
MONEY_RATES: dict[str, str] = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]  # type: ignore[assignment]


@pytest.fixture
def _money_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real "money" rate is 60/minute; a small one keeps the test quick, the mechanism is the same."""
    assert "money" in MONEY_RATES
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"money": f"{LIMIT}/minute"})


def _client(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _checkout(user: Any) -> tuple[str, dict[str, Any]]:
    brand = MembershipFactory(user=user, role=BrandRole.OWNER).brand
    # amount 0 is refused after the throttle ran: the limit counts attempts, not successes
    return f"/api/v1/brands/{brand.slug}/funds/checkout/", {
        "amount_minor": 0,
        "success_url": "https://shop.example/ok",
        "cancel_url": "https://shop.example/no",
    }


def _payout_request(user: Any) -> tuple[str, dict[str, Any]]:
    InfluencerProfileFactory(user=user)
    return "/api/v1/payouts/requests/", {"amount_minor": 1}  # below the minimum: refused, but counted


def _campaign_cancel(user: Any) -> tuple[str, dict[str, Any]]:
    brand = MembershipFactory(user=user, role=BrandRole.OWNER).brand
    campaign = CampaignFactory(brand=brand)  # a draft: cancelling it is refused (409), but counted
    return f"/api/v1/brands/{brand.slug}/campaigns/{campaign.pk}/cancel/", {}


MONEY_CALLS: dict[str, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    "funds checkout": _checkout,
    "payout request": _payout_request,
    "campaign cancel": _campaign_cancel,
}


@pytest.mark.usefixtures("_money_limit")
@pytest.mark.parametrize("name", MONEY_CALLS)
def test_money_moving_call_answers_429_after_the_limit_for_that_user_only(name: str) -> None:
    user = UserFactory()
    url, body = MONEY_CALLS[name](user)
    client = _client(user)

    def post(as_client: APIClient) -> int:
        response = as_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        return response.status_code

    statuses = [post(client) for _ in range(LIMIT + 1)]

    assert 429 not in statuses[:LIMIT], statuses
    assert statuses[LIMIT] == 429
    # Another user (an influencer without a brand) is not held back by the first one's attempts.
    other = _client(UserFactory())
    assert post(other) != 429
    assert not Funding.objects.exists()
    assert not PayoutRequest.objects.exists()


def test_the_money_rate_is_60_a_minute() -> None:
    assert MONEY_RATES["money"] == "60/minute"


# --- sign-in, sign-up, password reset (allauth) ------------------------------------------------


def test_failed_sign_ins_for_one_email_are_locked_after_five_even_with_the_right_password(client: Any) -> None:
    user = UserFactory(email="lena@example.test")
    for n in range(5):
        answer = client.post("/accounts/login/", {"login": user.email, "password": f"wrong-{n}"})
        assert b"Too many failed login attempts" not in answer.content

    answer = client.post("/accounts/login/", {"login": user.email, "password": TEST_PASSWORD})

    assert b"Too many failed login attempts" in answer.content
    assert "_auth_user_id" not in client.session


def test_sign_in_attempts_from_one_address_answer_429_after_thirty(client: Any) -> None:
    statuses = [
        client.post("/accounts/login/", {"login": f"p{n}@example.test", "password": "wrong"}).status_code
        for n in range(31)
    ]
    assert 429 not in statuses[:30], statuses
    assert statuses[30] == 429


def test_sign_ups_from_one_address_answer_429_after_twenty(client: Any) -> None:
    def sign_up(n: int) -> int:
        email = f"new{n}@example.test"
        data = {"email": email, "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"}
        return client.post("/accounts/signup/", data).status_code

    statuses = [sign_up(n) for n in range(21)]

    assert 429 not in statuses[:20], statuses
    assert statuses[20] == 429
    assert not User.objects.filter(email="new20@example.test").exists()


def test_password_resets_for_one_email_answer_429_after_five(client: Any) -> None:
    UserFactory(email="lena@example.test")
    statuses = [client.post("/accounts/password/reset/", {"email": "lena@example.test"}).status_code for _ in range(6)]
    assert 429 not in statuses[:5], statuses
    assert statuses[5] == 429
    assert len(mail.outbox) == 5
