"""Payouts to influencers' Stripe Connect accounts: one POST /v1/transfers per payout.

Each transfer carries ``Idempotency-Key: payout-<id>`` so re-running a batch never pays twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payouts.errors import InvalidDestination, ProviderError
from payouts.providers.base import (
    DestinationField,
    PayoutBatchRequest,
    PayoutBatchResult,
    PayoutItemResult,
    PayoutProvider,
)
from payouts.providers.stripe_common import stripe_post

ACCOUNT_ID = re.compile(r"acct_[A-Za-z0-9]+")


def stripe_account_clean(value: str) -> str:
    """A Stripe Connect account id (``acct_…``) as typed, or ``InvalidDestination``."""
    if not ACCOUNT_ID.fullmatch(value):
        raise InvalidDestination(_("A Stripe Connect account id looks like acct_1A2b3C."), field="stripe_account")
    return value


class StripeConnectProvider(PayoutProvider):
    name = "stripe"
    label = gettext_lazy("Stripe Connect transfer")
    destination_label = gettext_lazy("Stripe Connect")
    destination_fields = (
        DestinationField(
            "stripe_account",
            gettext_lazy("Stripe account ID"),
            required_message=gettext_lazy("Enter your Stripe account ID."),
            help_text=gettext_lazy("It starts with acct_; Stripe shows it in your account settings."),
            max_length=64,
            clean=stripe_account_clean,
        ),
    )
    #: Transfers in the currencies campaigns are priced in (the platform holds a balance in each).
    currencies = frozenset({"EUR", "CHF", "GBP", "USD"})
    required_settings = ("STRIPE_SECRET_KEY",)

    def destination_masked(self, fields: Mapping[str, str]) -> str:
        return f"Stripe {fields.get('stripe_account', '')[:8]}•••"

    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        results = []
        for item in batch.items:
            try:
                transfer = stripe_post(
                    "/v1/transfers",
                    {
                        "amount": item.amount_minor,
                        "currency": item.currency.lower(),
                        "destination": item.destination["stripe_account"],
                        "transfer_group": batch.message_id,
                        "description": item.reference,
                    },
                    idempotency_key=f"payout-{item.payout_id}",
                )
            except ProviderError as error:
                if error.retryable:
                    raise
                results.append(PayoutItemResult(payout_id=item.payout_id, ok=False, failure_reason=str(error)))
                continue
            results.append(PayoutItemResult(payout_id=item.payout_id, ok=True, provider_reference=str(transfer["id"])))
        return PayoutBatchResult(provider_reference=batch.message_id, items=tuple(results))
