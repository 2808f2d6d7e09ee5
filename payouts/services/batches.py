"""Payout batches: approved payouts collected per provider and currency, handed to the provider, results booked."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from payouts.errors import (
    ProviderError,
)
from payouts.models import (
    PayoutBatch,
    PayoutRequest,
    PayoutStatus,
)
from payouts.providers import payout_provider
from payouts.providers.base import PayoutBatchRequest, PayoutItem
from payouts.services.payouts import payout_mark_failed, payout_mark_sent

if TYPE_CHECKING:
    from accounts.models import User


logger = logging.getLogger(__name__)


@transaction.atomic
def payout_batch_create(*, provider: str, currency: str, created_by: User | None = None) -> PayoutBatch | None:
    """Collects approved payouts of one provider into a batch (None when there are none)."""
    payouts = list(
        PayoutRequest.objects.select_for_update()
        .filter(status=PayoutStatus.APPROVED, batch__isnull=True, provider=provider, currency=currency)
        .order_by("pk")
    )
    if not payouts:
        return None
    batch = PayoutBatch.objects.create(
        provider=provider,
        currency=currency,
        total_minor=sum(payout.amount_minor for payout in payouts),
        message_id=f"LK{timezone.now():%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}",
        created_by=created_by,
    )
    PayoutRequest.objects.filter(pk__any=[payout.pk for payout in payouts]).update(batch=batch)
    return batch


def _payout_item(payout: PayoutRequest) -> PayoutItem:
    if payout.charity is not None:
        return PayoutItem(
            payout_id=payout.pk,
            amount_minor=payout.amount_minor,
            currency=payout.currency,
            name=payout.charity.name,
            reference=f"Donation via Linkilike on behalf of {payout.influencer.display_name}",
            destination=payout.charity.fields,
        )
    destination = payout.destination
    assert destination is not None  # noqa: S101 - the database constraint guarantees one of them
    return PayoutItem(
        payout_id=payout.pk,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        name=destination.holder_name or payout.influencer.display_name,
        reference=f"Linkilike payout {payout.pk}",
        destination=destination.fields,
    )


def payout_batch_execute(*, batch: PayoutBatch) -> PayoutBatch:
    """Hands the batch to its provider (outside a database transaction), then books each result.

    Safe to run again: providers deduplicate by the batch's message id / per-payout keys, and
    payouts already sent or failed are skipped.
    """
    payouts = list(
        batch.payouts.filter(status=PayoutStatus.APPROVED).select_related("destination", "charity", "influencer")
    )
    if not payouts:
        return batch
    result = payout_provider(batch.provider).execute(
        PayoutBatchRequest(
            message_id=batch.message_id,
            currency=batch.currency,
            items=tuple(_payout_item(payout) for payout in payouts),
        )
    )
    by_id = {payout.pk: payout for payout in payouts}
    with transaction.atomic():
        for item in result.items:
            payout = by_id.get(item.payout_id)
            if payout is None:
                continue
            if item.ok:
                payout_mark_sent(payout=payout, provider_reference=item.provider_reference)
            else:
                payout_mark_failed(payout=payout, reason=item.failure_reason or "refused by the provider")
        batch.provider_reference = result.provider_reference[:200]
        if result.document:
            batch.document = result.document
        batch.save(update_fields=["provider_reference", "document"])
    return batch


def payout_batches_run(*, created_by: User | None = None) -> list[PayoutBatch]:
    """Executes every approved payout, one batch per provider and currency.

    Batches whose provider failed earlier (payouts still approved) are executed again first;
    providers deduplicate, so nothing is paid twice. One provider failing does not hold back
    the others; the first error is raised after all were tried (the task retries transient ones).
    """
    unfinished = PayoutBatch.objects.filter(payouts__status=PayoutStatus.APPROVED).distinct().order_by("pk")
    batches = list(unfinished)
    pairs = (
        PayoutRequest.objects.filter(status=PayoutStatus.APPROVED, batch__isnull=True)
        .values_list("provider", "currency")
        .distinct()
    )
    for provider, currency in sorted(set(pairs)):
        batch = payout_batch_create(provider=provider, currency=currency, created_by=created_by)
        if batch is not None:
            batches.append(batch)
    errors: list[ProviderError] = []
    for batch in batches:
        try:
            payout_batch_execute(batch=batch)
        except ProviderError as error:
            logger.warning("payout batch %s failed: %s", batch.message_id, error)
            errors.append(error)
    if errors:
        raise errors[0]
    return batches
