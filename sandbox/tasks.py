"""Sandbox background work, once a minute (CELERY_BEAT_SCHEDULE): scheduled posts whose moment has come are
published, then the simulated audience takes a step."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from sandbox.services_statuses import scheduled_statuses_publish_due
from sandbox.simulation import simulation_step

logger = logging.getLogger(__name__)
LOCK_KEY = "sandbox:simulation:lock"


@shared_task(
    max_retries=3, autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=60, retry_jitter=True
)
def sandbox_simulate() -> None:
    # A schedule stored in the database outlives the setting: where the demo network does not run
    # (ADR 17), its audience does not either.
    if not settings.SANDBOX_ENABLED:
        return
    # Steps are idempotent for a given moment; the lock only saves a second worker the effort.
    if not cache.add(LOCK_KEY, 1, timeout=55):
        return
    try:
        published = scheduled_statuses_publish_due()
        report = simulation_step()
        logger.info(
            "sandbox simulation: %s scheduled posts published, %s statuses, %s new likes, %s reblogs, %s replies",
            published,
            report.statuses,
            report.favourites,
            report.reblogs,
            report.replies,
        )
    finally:
        cache.delete(LOCK_KEY)
