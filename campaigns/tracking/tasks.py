"""Click background work: draining the Redis click queue and booking click earnings."""

from __future__ import annotations

from celery import shared_task
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from campaigns.tracking.services import click_earnings_accrue_due as accrue
from campaigns.tracking.services import clicks_drain


@shared_task(
    name="campaigns.tracking.tasks.clicks_drain_task",
    max_retries=3,
    autoretry_for=(RedisConnectionError, RedisTimeoutError),
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    ignore_result=True,
)
def clicks_drain_task() -> int:
    """Periodic (every few seconds) and triggered when the queue grows: records queued clicks in batches."""
    return clicks_drain()


@shared_task(name="campaigns.tracking.tasks.click_earnings_accrue_due", max_retries=0, ignore_result=True)
def click_earnings_accrue_due() -> int:
    """Periodic: books unique billable clicks of closed hours as earnings (idempotent per share and hour)."""
    return accrue()
