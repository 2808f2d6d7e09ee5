"""Background work for connected accounts: token renewal, reconnect warnings, profile refresh. These tasks call
``networks.services``; the reconnect email the services enqueue is in ``networks.jobs``."""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import Task, shared_task
from django.db import transaction
from django.utils import timezone

from networks import selectors, services
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
    try:
        services.account_token_refresh(account_id=account_id)
    except RateLimited as error:
        raise _retry_after_rate_limit(self, error) from error


@shared_task(max_retries=3)
def tokens_refresh_due() -> None:
    """Periodic: renew tokens about to expire; warn people whose tokens cannot be renewed."""
    now = timezone.now()
    for account_id in selectors.connected_account_ids_due_for_refresh(now=now, ahead=services.TOKEN_REFRESH_AHEAD):
        account_token_refresh.delay(account_id)
    for account_id in selectors.connected_account_ids_needing_warning(now=now, ahead=services.RECONSENT_WARN_AHEAD):
        services.account_reconsent_warn(account_id=account_id)


@shared_task(
    bind=True, max_retries=5, autoretry_for=(Transient,), retry_backoff=30, retry_backoff_max=1800, retry_jitter=True
)
def account_profile_refresh(self: Task[Any, Any], account_id: int) -> None:
    try:
        services.account_profile_refresh(account_id=account_id)
    except RateLimited as error:
        raise _retry_after_rate_limit(self, error) from error


@shared_task(max_retries=3)
def profiles_refresh_stale() -> None:
    """Periodic: follower counts and profile data older than PROFILE_MAX_AGE."""
    before = timezone.now() - services.PROFILE_MAX_AGE
    for account_id in selectors.connected_account_ids_with_stale_profile(before=before):
        account_profile_refresh.delay(account_id)


def accounts_profile_refresh_enqueue(*, account_ids: list[int]) -> int:
    """Queue a profile/follower-count refresh for each account (admin action, after commit)."""
    for account_id in account_ids:
        transaction.on_commit(partial(account_profile_refresh.delay, account_id))
    return len(account_ids)
