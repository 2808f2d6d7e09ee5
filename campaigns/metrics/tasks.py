"""Metric pulls: the periodic sweep finds due (share, window) pairs and pulls them in batches."""

from __future__ import annotations

from celery import shared_task


@shared_task(max_retries=0)
def metrics_pull_due() -> int:
    from campaigns.metrics.services import metrics_pull_due as pull

    return pull().snapshots
