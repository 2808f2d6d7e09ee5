"""Matching entry points: a campaign's matching run (queued when it is approved), the live matching and offer
expiry sweeps. The new-offer email the matching services enqueue is in ``campaigns.matching.jobs``."""

from __future__ import annotations

from celery import shared_task

from campaigns.matching.services import matching_run as run
from campaigns.matching.services import matching_run_live as run_live
from campaigns.matching.services import offer_expire_due
from campaigns.models import Campaign


@shared_task(max_retries=0)
def matching_run(campaign_id: int) -> int:
    """Propose matches for one campaign (enqueued on commit when a campaign is approved)."""
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    return run(campaign=campaign).created


@shared_task(max_retries=0)
def matching_run_live() -> int:
    """Every 15 minutes: newly qualifying influencers get proposed for running campaigns."""
    return sum(result.created for result in run_live())


@shared_task(max_retries=0)
def offers_expire_due() -> int:
    return offer_expire_due()
