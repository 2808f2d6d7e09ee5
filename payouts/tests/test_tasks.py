"""The periodic hold release is scheduled and does its job; tasks are bounded in retries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.earnings import tasks as earnings_tasks
from campaigns.earnings.services import earnings_accrue
from payouts import selectors, tasks
from payouts.models import AccountKind
from payouts.tests.helpers import delta, funded_campaign, influencer


def test_hold_release_is_scheduled_and_every_task_has_a_retry_limit():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "campaigns.earnings.tasks.earnings_release_due" in scheduled
    for task in (earnings_tasks.earnings_release_due, earnings_tasks.earnings_accrue, tasks.payout_batches_run):
        assert task.max_retries is not None


def test_accrual_retries_database_outages_and_nothing_else():
    from django.db import InterfaceError, OperationalError

    assert set(earnings_tasks.earnings_accrue.autoretry_for) == {OperationalError, InterfaceError}


@pytest.mark.django_db
def test_release_task_makes_matured_earnings_available():
    campaign = funded_campaign()
    person = influencer()
    earnings_tasks.earnings_accrue.delay(
        {
            "share_key": "t-1",
            "campaign_id": campaign.pk,
            "influencer_id": person.pk,
            "window": "w1",
            "engagements": 30,
        }
    )
    earnings_accrue(
        delta=delta(campaign, person, "w0", share="t-1", engagements=20), now=timezone.now() - timedelta(days=15)
    )
    earnings_tasks.earnings_release_due.delay()
    assert selectors.influencer_balance_minor(influencer=person, kind=AccountKind.INFLUENCER_AVAILABLE) == 200
    assert selectors.influencer_balance_minor(influencer=person, kind=AccountKind.INFLUENCER_PENDING) == 300
