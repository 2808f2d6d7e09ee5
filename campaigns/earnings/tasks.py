"""Earnings background work: booking one metrics window of a share, releasing earnings whose hold ended."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaigns.earnings.services import MetricDelta
from campaigns.earnings.services import earnings_accrue as accrue
from campaigns.earnings.services import earnings_release_due as release

# A database restart or failover: the booking is idempotent per (share, window), so a retry is safe.
DB_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(name="campaigns.earnings.tasks.earnings_release_due", max_retries=0, ignore_result=True)
def earnings_release_due() -> int:
    """Periodic: earnings whose hold period ended become available. Safe to run twice (rows are locked)."""
    return release()


@shared_task(
    name="campaigns.earnings.tasks.earnings_accrue",
    max_retries=3,
    autoretry_for=DB_TRANSIENT,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
)
def earnings_accrue(delta: dict[str, Any]) -> int | None:
    """Books one metrics window of a share; the (share, window) key makes redelivery a no-op."""
    return accrue(delta=MetricDelta(**delta)).pk
