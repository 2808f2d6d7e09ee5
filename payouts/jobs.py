"""Money jobs the payouts services enqueue: the test checkout's webhooks and the payout status emails.

They never call back into ``payouts.services`` (which imports this module), so the arrows go one way:
``payouts.tasks`` (entry points) → ``payouts.services`` → ``payouts.jobs``. The task names keep the module
they were first registered under (``payouts.tasks.*``): queued messages and the routes in settings stay valid.
"""

from __future__ import annotations

from celery import shared_task
from django.urls import reverse

from linkilike.emails import email_send_to_user, email_task
from payouts.errors import ProviderError
from payouts.models import PayoutRequest, PayoutStatus
from payouts.providers.local_checkout import local_checkout_webhook_post


class TransientProviderError(Exception):
    """A provider failure worth retrying (timeouts, 429, 5xx)."""


@shared_task(
    name="payouts.tasks.local_checkout_webhook_send",
    max_retries=5,
    autoretry_for=(TransientProviderError,),
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
)
def local_checkout_webhook_send(token: str, event_type: str) -> None:
    """Test mode: sends a test checkout's Stripe event to this installation's webhook, as Stripe would.

    Safe to run twice: the event id is fixed per checkout and type, and the webhook processes an id once.
    """
    try:
        local_checkout_webhook_post(token=token, event_type=event_type)
    except ProviderError as error:
        if error.retryable:
            raise TransientProviderError(str(error)) from error
        raise


@email_task("payouts.tasks.payout_status_email_send")
def payout_status_email_send(payout_id: int, status: str) -> None:
    """Tell the influencer their payout was approved, sent, failed or rejected.

    Safe to run twice; a message about a state the payout has since left is dropped (the newer
    state sends its own).
    """
    payout = (
        PayoutRequest.objects.select_related("influencer__user", "destination", "charity").filter(pk=payout_id).first()
    )
    if payout is None or payout.status != status:
        return
    email_send_to_user(
        user=payout.influencer.user,
        template="payouts/email/payout_status",
        context=payout_status_email_context(payout=payout),
    )


def payout_status_email_context(*, payout: PayoutRequest) -> dict[str, object]:
    return {
        "payout": payout,
        "status": payout.status,
        "returned": payout.status in (PayoutStatus.FAILED, PayoutStatus.REJECTED),
        "earnings_path": reverse("payouts:earnings"),
    }
