"""Payment providers behind two interfaces (funding in, payouts out), registered by dotted path in settings.

``PAYOUTS_FUNDING_PROVIDERS`` maps a funding source ("card", "bank_transfer") and
``PAYOUTS_PAYOUT_PROVIDERS`` a payout provider name ("sepa", "paypal", "stripe") to a class.
Only dataclasses from ``payouts.providers.base`` cross the boundary; providers raise
``payouts.errors.ProviderError`` (with ``retryable``).
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from payouts.providers.base import FundingProvider, PayoutProvider

DEFAULT_FUNDING_PROVIDERS = {
    "card": "payouts.providers.stripe_checkout.StripeCheckoutProvider",
    "bank_transfer": "payouts.providers.bank_transfer.BankTransferProvider",
}
DEFAULT_PAYOUT_PROVIDERS = {
    "sepa": "payouts.providers.sepa.SepaFileProvider",
    "paypal": "payouts.providers.paypal.PayPalPayoutsProvider",
    "stripe": "payouts.providers.stripe_connect.StripeConnectProvider",
}


def funding_provider(name: str) -> FundingProvider:
    paths = getattr(settings, "PAYOUTS_FUNDING_PROVIDERS", DEFAULT_FUNDING_PROVIDERS)
    provider: FundingProvider = import_string(paths[name])()
    return provider


def payout_provider_class(name: str) -> type[PayoutProvider]:
    paths = getattr(settings, "PAYOUTS_PAYOUT_PROVIDERS", DEFAULT_PAYOUT_PROVIDERS)
    cls: type[PayoutProvider] = import_string(paths[name])
    return cls


def payout_provider(name: str) -> PayoutProvider:
    return payout_provider_class(name)()
