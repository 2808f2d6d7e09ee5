"""Payouts to influencers' Stripe Connect accounts: one POST /v1/transfers per payout.

Each transfer carries ``Idempotency-Key: payout-<id>`` so re-running a batch never pays twice.
"""

from __future__ import annotations

from payouts.errors import ProviderError
from payouts.providers.base import PayoutBatchRequest, PayoutBatchResult, PayoutItemResult, PayoutProvider
from payouts.providers.stripe_common import stripe_post


class StripeConnectProvider(PayoutProvider):
    name = "stripe"
    #: Transfers in the currencies campaigns are priced in (the platform holds a balance in each).
    currencies = frozenset({"EUR", "CHF", "GBP", "USD"})

    def execute(self, batch: PayoutBatchRequest) -> PayoutBatchResult:
        results = []
        for item in batch.items:
            try:
                transfer = stripe_post(
                    "/v1/transfers",
                    {
                        "amount": item.amount_minor,
                        "currency": item.currency.lower(),
                        "destination": item.stripe_account,
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
