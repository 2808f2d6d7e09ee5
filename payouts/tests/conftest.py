from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.doubles.payout_providers import ProviderDouble, provider_double_server


@pytest.fixture
def provider_double(settings: Any) -> Iterator[ProviderDouble]:
    """Stripe and PayPal doubles on a loopback port, with settings pointing at them."""
    with provider_double_server() as double:
        settings.STRIPE_API_BASE = double.base_url
        settings.STRIPE_SECRET_KEY = double.stripe_secret_key
        settings.STRIPE_WEBHOOK_SECRET = "whsec_test_double"
        settings.PAYPAL_API_BASE = double.base_url
        settings.PAYPAL_CLIENT_ID = double.paypal_client_id
        settings.PAYPAL_CLIENT_SECRET = double.paypal_client_secret
        yield double
