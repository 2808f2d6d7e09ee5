"""Payment providers behind two interfaces (funding in, payouts out), registered by dotted path in settings.

The registries are the settings, and only they: ``PAYOUTS_FUNDING_PROVIDERS`` maps a funding source
("card", "bank_transfer") and ``PAYOUTS_PAYOUT_PROVIDERS`` a payout provider name ("sepa", "paypal",
"stripe") to a class. A payout provider also owns its payout account (destination): its fields,
their validation and how it is shown (see ``README.md`` beside this file).
Only dataclasses from ``payouts.providers.base`` cross the boundary; providers raise
``payouts.errors.ProviderError`` (with ``retryable``) and ``InvalidDestination`` for an account they refuse.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from payouts.errors import InvalidDestination
from payouts.providers.base import FundingProvider, PayoutProvider


def funding_provider_class(name: str) -> type[FundingProvider]:
    cls: type[FundingProvider] = import_string(settings.PAYOUTS_FUNDING_PROVIDERS[name])
    return cls


def funding_provider(name: str) -> FundingProvider:
    return funding_provider_class(name)()


def payout_provider_names() -> list[str]:
    """The payout providers configured, in the settings' order (the order of the payout account form)."""
    return list(settings.PAYOUTS_PAYOUT_PROVIDERS)


def payout_provider_class(name: str) -> type[PayoutProvider]:
    """The provider class registered as ``name``; ``InvalidDestination`` for a name not configured."""
    try:
        path = settings.PAYOUTS_PAYOUT_PROVIDERS[name]
    except KeyError:
        raise InvalidDestination(_("Choose how you want to be paid."), field="kind") from None
    cls: type[PayoutProvider] = import_string(path)
    return cls


def payout_provider(name: str) -> PayoutProvider:
    return payout_provider_class(name)()


def payout_providers() -> list[PayoutProvider]:
    return [payout_provider(name) for name in payout_provider_names()]
