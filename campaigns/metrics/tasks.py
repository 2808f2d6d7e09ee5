"""Metric pulls: the periodic sweep finds due (share, window) pairs and pulls them in batches."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from campaigns.metrics.services import metrics_pull_due as pull

#: Held while a sweep runs (ADR 13): a sweep of 10,000 posts can outlast the beat's minute, and two
#: sweeps at once would ask the network twice for the same posts (and spend its rate limit twice).
SWEEP_LOCK = "metrics:sweep"


@shared_task(max_retries=0)
def metrics_pull_due() -> int:
    if not cache.add(SWEEP_LOCK, "1", timeout=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 15 * 60))):
        return 0
    try:
        return pull().snapshots
    finally:
        cache.delete(SWEEP_LOCK)
