"""System checks for money: the provider registries are sound, and production has what money needs.

* ``payouts.E001`` (deploy): card top-ups in test mode never reach production (providers.local_checkout).
* ``payouts.E002`` (deploy): a setting a configured provider needs is empty (``required_settings``), so
  production never falls back to a made-up bank account or an unsigned webhook.
* ``payouts.E003``: the payout provider registry (``PAYOUTS_PAYOUT_PROVIDERS``) is inconsistent.
* ``payouts.E004`` (deploy): the platform's own IBAN or BIC is not valid.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from payouts.errors import InvalidDestination
from payouts.models import PayoutDestination
from payouts.providers import funding_provider_class, payout_provider_class
from payouts.providers.base import FundingProvider, PayoutProvider
from payouts.providers.local_checkout import LocalCheckoutProvider
from payouts.providers.sepa import bic_clean, iban_clean


@register(Tags.security, "payouts", deploy=True)
def card_test_mode_off_in_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or "card" not in settings.PAYOUTS_FUNDING_PROVIDERS:
        return []
    if not issubclass(funding_provider_class("card"), LocalCheckoutProvider):
        return []
    return [
        Error(
            "Card top-ups run on the test checkout (PAYOUTS_CARD_TEST_MODE): anyone could fund a brand with a "
            "test card number.",
            hint="Unset PAYOUTS_CARD_TEST_MODE and configure Stripe (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET).",
            id="payouts.E001",
        )
    ]


def money_settings_required() -> dict[str, list[str]]:
    """Each setting a configured funding or payout provider needs, with the providers that need it."""
    needed: dict[str, list[str]] = {}
    providers: list[type[FundingProvider] | type[PayoutProvider]] = [
        funding_provider_class(name) for name in settings.PAYOUTS_FUNDING_PROVIDERS
    ]
    providers += [payout_provider_class(name) for name in settings.PAYOUTS_PAYOUT_PROVIDERS]
    for provider in providers:
        for name in provider.required_settings:
            needed.setdefault(name, []).append(f"{provider.__module__}.{provider.__qualname__}")
    return needed


@register(Tags.security, "payouts", deploy=True)
def money_settings_present(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    return [
        Error(
            f"{name} is not set; the money providers {', '.join(sorted(set(users)))} need it.",
            hint="Set it in the environment (see .env.example); without it the provider refuses to work.",
            id="payouts.E002",
        )
        for name, users in sorted(money_settings_required().items())
        if not str(getattr(settings, name, "") or "").strip()
    ]


@register(Tags.security, "payouts", deploy=True)
def platform_account_valid(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The account brands wire money to and SEPA files pay from must be a real one (when it is set)."""
    errors: list[CheckMessage] = []
    for name, clean in (("PAYOUTS_PLATFORM_IBAN", iban_clean), ("PAYOUTS_PLATFORM_BIC", bic_clean)):
        value = str(getattr(settings, name, "") or "")
        if not value:
            continue
        try:
            clean(value)
        except InvalidDestination as error:
            errors.append(Error(f"{name} is not valid: {error}", id="payouts.E004"))
    return errors


@register("payouts")
def payout_provider_registry(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every registered payout provider is one, under its own name, and no two share a destination field."""
    errors: list[CheckMessage] = []
    owners: dict[str, str] = {}
    max_name = PayoutDestination._meta.get_field("kind").max_length or 0
    for name, path in settings.PAYOUTS_PAYOUT_PROVIDERS.items():
        cls = import_string(path)
        if not (isinstance(cls, type) and issubclass(cls, PayoutProvider)):
            errors.append(
                Error(f"PAYOUTS_PAYOUT_PROVIDERS[{name!r}] = {path!r} is not a PayoutProvider.", id="payouts.E003")
            )
            continue
        if cls.name != name or len(name) > max_name:
            errors.append(
                Error(
                    f"PAYOUTS_PAYOUT_PROVIDERS registers {path} as {name!r}, but its name is {cls.name!r}.",
                    hint=f"The key must be the provider's name, at most {max_name} characters.",
                    id="payouts.E003",
                )
            )
        for spec in cls.destination_fields:
            if spec.name in owners or spec.name == "kind":
                errors.append(
                    Error(
                        f"Payout providers {owners.get(spec.name, 'the form')!r} and {name!r} both declare the "
                        f"destination field {spec.name!r}.",
                        hint="Prefix the field with the provider's name: the account form has one input per name.",
                        id="payouts.E003",
                    )
                )
            owners[spec.name] = name
    return errors
