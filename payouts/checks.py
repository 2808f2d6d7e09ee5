"""Deploy check: card top-ups in test mode never reach production (payouts.providers.local_checkout)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string


@register(Tags.security, "payouts", deploy=True)
def card_test_mode_off_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from payouts.providers import DEFAULT_FUNDING_PROVIDERS
    from payouts.providers.local_checkout import LocalCheckoutProvider

    if settings.DEBUG:
        return []
    path = getattr(settings, "PAYOUTS_FUNDING_PROVIDERS", DEFAULT_FUNDING_PROVIDERS).get("card", "")
    if not path or not issubclass(import_string(path), LocalCheckoutProvider):
        return []
    return [
        Error(
            "Card top-ups run on the test checkout (PAYOUTS_CARD_TEST_MODE): anyone could fund a brand with a "
            "test card number.",
            hint="Unset PAYOUTS_CARD_TEST_MODE and configure Stripe (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET).",
            id="payouts.E001",
        )
    ]
