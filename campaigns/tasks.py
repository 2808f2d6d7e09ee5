"""Campaign entry points: completing campaigns whose end date passed. The emails the campaign services
enqueue are in ``campaigns.jobs``."""

from __future__ import annotations

from celery import shared_task

from campaigns.services import campaign_complete_due


@shared_task(max_retries=0)
def campaigns_complete_due() -> int:
    return campaign_complete_due()
