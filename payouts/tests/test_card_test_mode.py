"""Card top-ups in test mode (development and demos): the app's own checkout page stands in for Stripe's.

The page is a payment provider like any other (``payouts.providers.local_checkout``): the top-up view
sends the brand there, and a paid checkout comes back as a signed ``checkout.session.completed``
event on the real webhook path, where the real verification and booking run. Production refuses the
test mode (a startup refusal in the settings and the deploy check ``payouts.E001``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from brands.models import Membership
from payouts import jobs, selectors
from payouts.models import Funding, FundingStatus, LedgerTransaction, TransactionKind, WebhookEvent
from tests.factories.brands import MembershipFactory
from tests.production import MONEY_ENV

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "payouts.providers.local_checkout.LocalCheckoutProvider"
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"


@pytest.fixture
def test_mode(settings: Any) -> Any:
    settings.PAYOUTS_FUNDING_PROVIDERS = {**settings.PAYOUTS_FUNDING_PROVIDERS, "card": LOCAL}
    settings.STRIPE_WEBHOOK_SECRET = "whsec_local_test_mode"
    return settings


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The webhooks the test checkout sends (token, event type), instead of sending them."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(jobs.local_checkout_webhook_send, "delay", lambda *args: calls.append(args))
    return calls


def _owner(client: Client) -> Membership:
    membership: Membership = MembershipFactory.create()
    client.force_login(membership.user)
    return membership


def _open_checkout(client: Client, membership: Membership, amount: str = "1000") -> str:
    response = client.post(reverse("payouts:funds-top-up", args=[membership.brand.slug]), {"amount": amount})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def _path(url: str) -> str:
    return urlsplit(url).path


def _deliver(webhooks: list[tuple[str, str]], client: Client) -> list[int]:
    """Sends each recorded webhook as the task would, through the webhook URL (statuses returned)."""
    from payouts.providers.local_checkout import local_checkout_webhook

    statuses = []
    for token, event_type in webhooks:
        payload, headers = local_checkout_webhook(token=token, event_type=event_type)
        response = client.post(
            reverse("payouts:stripe-webhook"), payload, content_type="application/json", headers=headers
        )
        statuses.append(response.status_code)
    return statuses


@pytest.mark.django_db
def test_owner_pays_on_the_test_checkout_and_the_webhook_books_it_once(
    client: Client, test_mode: Any, sent: list[tuple[str, str]]
) -> None:
    membership = _owner(client)
    checkout_url = _open_checkout(client, membership)
    funding = Funding.objects.get()
    assert funding.status == FundingStatus.OPEN
    assert funding.amount_minor == 100_000
    assert checkout_url == funding.checkout_url
    assert _path(checkout_url).startswith("/payouts/test-checkout/")

    page = client.get(_path(checkout_url))
    html = page.content.decode()
    assert page.status_code == 200
    assert "€1,000.00" in html
    assert membership.brand.name in html
    assert "Test mode" in html
    assert "<script>" not in html
    assert "style=" not in html

    response = client.post(_path(checkout_url), {"action": "pay", "card_number": GOOD_CARD})
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("payouts:funds", args=[membership.brand.slug]) + "?checkout=success")
    assert sent == [(sent[0][0], "checkout.session.completed")]
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 0  # not before the webhook

    # Stripe redelivers; the same event id is processed once.
    assert _deliver(sent * 3, client) == [200, 200, 200]
    funding.refresh_from_db()
    assert funding.status == FundingStatus.COMPLETED
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 100_000
    assert LedgerTransaction.objects.filter(kind=TransactionKind.FUNDING).count() == 1
    assert WebhookEvent.objects.count() == 1

    # Paying the same checkout again is refused on the page and books nothing more.
    again = client.post(_path(checkout_url), {"action": "pay", "card_number": GOOD_CARD})
    assert again.status_code == 400
    assert "already paid" in again.content.decode()
    assert len(sent) == 1
    funds = client.get(response["Location"]).content.decode()
    assert "€1,000.00" in funds


@pytest.mark.django_db
def test_a_declined_card_books_nothing_and_shows_the_reason(
    client: Client, test_mode: Any, sent: list[tuple[str, str]]
) -> None:
    membership = _owner(client)
    checkout_url = _open_checkout(client, membership, "250")
    for card, reason in (
        (DECLINED_CARD, "Your card was declined."),
        ("4000 0000 0000 9995", "Your card has insufficient funds."),
        ("1234", "Your card number is incomplete or invalid."),
        ("", "Your card number is incomplete or invalid."),
    ):
        response = client.post(_path(checkout_url), {"action": "pay", "card_number": card})
        assert response.status_code == 400
        html = response.content.decode()
        assert reason in html
        assert "€250.00" in html  # still on the checkout page
    assert sent == []
    assert Funding.objects.get().status == FundingStatus.OPEN
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 0


@pytest.mark.django_db
def test_cancel_returns_to_funds_with_a_message_and_expires_the_checkout(
    client: Client, test_mode: Any, sent: list[tuple[str, str]]
) -> None:
    membership = _owner(client)
    checkout_url = _open_checkout(client, membership)
    response = client.post(_path(checkout_url), {"action": "cancel"})
    assert response.status_code == 302
    assert response["Location"].endswith("?checkout=cancelled")
    funds = client.get(_path(response["Location"]) + "?checkout=cancelled").content.decode()
    assert "The card payment was cancelled. Nothing was charged." in funds
    assert [event for _token, event in sent] == ["checkout.session.expired"]
    assert _deliver(sent, client) == [200]
    assert Funding.objects.get().status == FundingStatus.EXPIRED
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 0
    # An expired checkout cannot be paid any more.
    late = client.post(_path(checkout_url), {"action": "pay", "card_number": GOOD_CARD})
    assert late.status_code == 400
    assert "expired" in late.content.decode()


@pytest.mark.django_db
def test_a_forged_or_tampered_checkout_address_is_not_found(client: Client, test_mode: Any) -> None:
    membership = _owner(client)
    checkout_url = _path(_open_checkout(client, membership))
    token = checkout_url.rstrip("/").rsplit("/", 1)[1]
    forged = reverse("payouts:test-checkout", args=[token[:-4] + "AAAA"])
    assert client.get(forged).status_code == 404
    assert client.post(forged, {"action": "pay", "card_number": GOOD_CARD}).status_code == 404


@pytest.mark.django_db
def test_the_test_checkout_is_closed_when_the_real_provider_is_configured(client: Client, settings: Any) -> None:
    from payouts.providers.base import CheckoutRequest
    from payouts.providers.local_checkout import LocalCheckoutProvider

    start = LocalCheckoutProvider().start(
        CheckoutRequest(
            brand_slug="x",
            amount_minor=100,
            currency="EUR",
            success_url="http://testserver/s",
            cancel_url="http://testserver/c",
            client_reference="x-1",
        )
    )
    assert settings.PAYOUTS_FUNDING_PROVIDERS["card"] != LOCAL
    assert client.get(_path(start.url)).status_code == 404


def test_the_signed_event_has_stripes_shape_and_passes_the_real_verification(test_mode: Any) -> None:
    from payouts.providers import funding_provider
    from payouts.providers.base import CheckoutRequest
    from payouts.providers.local_checkout import LocalCheckoutProvider, local_checkout_webhook
    from payouts.providers.stripe_checkout import StripeCheckoutProvider

    provider = funding_provider("card")
    assert isinstance(provider, LocalCheckoutProvider)
    start = provider.start(
        CheckoutRequest(
            brand_slug="acme",
            amount_minor=12_345,
            currency="EUR",
            success_url="http://testserver/s",
            cancel_url="http://testserver/c",
            client_reference="acme-1",
        )
    )
    token = _path(start.url).rstrip("/").rsplit("/", 1)[1]
    payload, headers = local_checkout_webhook(token=token, event_type="checkout.session.completed")
    event = json.loads(payload)
    assert event["object"] == "event"
    assert event["livemode"] is False
    session = event["data"]["object"]
    assert session["object"] == "checkout.session"
    assert session["id"] == start.reference
    assert (session["amount_total"], session["currency"], session["payment_status"]) == (12_345, "eur", "paid")
    assert session["client_reference_id"] == "acme-1"
    parsed = StripeCheckoutProvider().parse_webhook(payload=payload, headers=headers)
    assert parsed.paid
    assert parsed.reference == start.reference
    assert parsed.amount_minor == 12_345


@pytest.mark.django_db(transaction=True)
def test_the_task_sends_the_webhook_over_http_to_the_real_path(live_server: Any, test_mode: Any) -> None:
    """End to end: the task posts the signed event to the site's own webhook address over HTTP."""
    test_mode.SITE_URL = live_server.url
    client = Client()
    membership = _owner(client)
    checkout_url = _open_checkout(client, membership, "40")
    response = client.post(_path(checkout_url), {"action": "pay", "card_number": GOOD_CARD})
    assert response.status_code == 302
    assert selectors.brand_balance_minor(brand=membership.brand, currency="EUR") == 4_000
    assert WebhookEvent.objects.get().event_type == "checkout.session.completed"


# --- production refuses the test mode --------------------------------------------------

PROBE = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({"card": settings.PAYOUTS_FUNDING_PROVIDERS["card"], "test_mode": settings.PAYOUTS_CARD_TEST_MODE}))
"""


def _settings_probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "LINKILIKE_", "PYTEST", "DATABASE_URL", "PAYOUTS_"))
    }
    clean.update(
        DJANGO_SETTINGS_MODULE="linkilike.settings",
        LINKILIKE_TESTING="0",
        DJANGO_SECRET_KEY="production-probe-" + "x" * 50,
        DJANGO_ALLOWED_HOSTS="linkilike.example",
        LINKILIKE_SITE_URL="https://linkilike.example",
        DATABASE_URL="sqlite:///:memory:",
        **MONEY_ENV,  # production refuses to start without them
    )
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and settings
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_uses_the_real_provider_and_refuses_the_test_mode() -> None:
    production = _settings_probe(DJANGO_DEBUG="0")
    assert production.returncode == 0, production.stderr
    assert json.loads(production.stdout.strip().splitlines()[-1]) == {
        "card": "payouts.providers.stripe_checkout.StripeCheckoutProvider",
        "test_mode": False,
    }
    refused = _settings_probe(DJANGO_DEBUG="0", PAYOUTS_CARD_TEST_MODE="1")
    assert refused.returncode != 0
    assert "PAYOUTS_CARD_TEST_MODE" in refused.stderr
    assert "ImproperlyConfigured" in refused.stderr
    development = _settings_probe(DJANGO_DEBUG="1")
    assert json.loads(development.stdout.strip().splitlines()[-1]) == {"card": LOCAL, "test_mode": True}


def test_the_deploy_check_refuses_the_test_checkout(settings: Any) -> None:
    settings.DEBUG = False
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_SECRET"):
        setattr(settings, name, "configured")  # the other money settings, checked too (payouts.E002)
    settings.PAYOUTS_FUNDING_PROVIDERS = {**settings.PAYOUTS_FUNDING_PROVIDERS, "card": LOCAL}
    with pytest.raises(SystemCheckError, match=r"payouts\.E001"):
        call_command("check", "--deploy", "--tag", "payouts", "--fail-level", "ERROR")
    settings.PAYOUTS_FUNDING_PROVIDERS = {
        **settings.PAYOUTS_FUNDING_PROVIDERS,
        "card": "payouts.providers.stripe_checkout.StripeCheckoutProvider",
    }
    call_command("check", "--deploy", "--tag", "payouts", "--fail-level", "ERROR")
