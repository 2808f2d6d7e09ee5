"""Background work for connected accounts: token renewal, reconnect warnings, profile refresh."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.urls import reverse
from django.utils import timezone

from linkilike.emails import email_send_to_user
from networks.models import ConnectedAccount
from networks.providers.exceptions import RateLimited, Transient

#: Never wait longer than this for a rate-limit window, whatever the network announces.
MAX_RATE_LIMIT_WAIT = 3600


def _retry_after_rate_limit(task: Task[Any, Any], error: RateLimited) -> Exception:
    """Retry when the network's window resets (not on the generic backoff)."""
    return task.retry(exc=error, countdown=min(max(1, int(error.retry_after)), MAX_RATE_LIMIT_WAIT))


@shared_task(
    bind=True, max_retries=5, autoretry_for=(Transient,), retry_backoff=30, retry_backoff_max=1800, retry_jitter=True
)
def account_token_refresh(self: Task[Any, Any], account_id: int) -> None:
    from networks.services import account_token_refresh as refresh

    try:
        refresh(account_id=account_id)
    except RateLimited as error:
        raise _retry_after_rate_limit(self, error) from error


@shared_task(max_retries=3)
def tokens_refresh_due() -> None:
    """Periodic: renew tokens about to expire; warn people whose tokens cannot be renewed."""
    from networks import selectors, services

    now = timezone.now()
    for account_id in selectors.connected_account_ids_due_for_refresh(now=now, ahead=services.TOKEN_REFRESH_AHEAD):
        account_token_refresh.delay(account_id)
    for account_id in selectors.connected_account_ids_needing_warning(now=now, ahead=services.RECONSENT_WARN_AHEAD):
        services.account_reconsent_warn(account_id=account_id)


@shared_task(
    bind=True, max_retries=5, autoretry_for=(Transient,), retry_backoff=30, retry_backoff_max=1800, retry_jitter=True
)
def account_profile_refresh(self: Task[Any, Any], account_id: int) -> None:
    from networks.services import account_profile_refresh as refresh

    try:
        refresh(account_id=account_id)
    except RateLimited as error:
        raise _retry_after_rate_limit(self, error) from error


@shared_task(max_retries=3)
def profiles_refresh_stale() -> None:
    """Periodic: follower counts and profile data older than PROFILE_MAX_AGE."""
    from networks import selectors, services

    before = timezone.now() - services.PROFILE_MAX_AGE
    for account_id in selectors.connected_account_ids_with_stale_profile(before=before):
        account_profile_refresh.delay(account_id)


@shared_task(max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True)
def account_reconsent_email_send(account_id: int) -> None:
    account = ConnectedAccount.objects.select_related("influencer__user").filter(pk=account_id).first()
    if account is None or account.token_expires_at is None:
        return
    email_send_to_user(
        user=account.influencer.user,
        template="networks/email/reconsent_warning",
        context=reconsent_email_context(account=account),
    )


def reconsent_email_context(*, account: object) -> dict[str, object]:
    return {"account": account, "accounts_path": reverse("networks:accounts")}
