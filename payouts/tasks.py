"""Money entry points: running payout batches (staff action). The jobs the payouts services enqueue (status
emails, the test checkout's webhooks) are in ``payouts.jobs``; the earnings tasks in ``campaigns.earnings.tasks``."""

from __future__ import annotations

from celery import shared_task

from accounts.models import User
from payouts.errors import ProviderError
from payouts.jobs import TransientProviderError
from payouts.services.batches import payout_batches_run as run


@shared_task(
    name="payouts.tasks.payout_batches_run",
    max_retries=5,
    autoretry_for=(TransientProviderError,),
    retry_backoff=True,
    retry_backoff_max=1800,
    retry_jitter=True,
)
def payout_batches_run(user_id: int | None = None) -> list[int]:
    """Executes every approved payout, one batch per provider; providers deduplicate re-runs."""
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        return [batch.pk for batch in run(created_by=user)]
    except ProviderError as error:
        if error.retryable:
            raise TransientProviderError(str(error)) from error
        raise
