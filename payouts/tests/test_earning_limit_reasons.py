"""Issue "What people see" 11: a line that earned less than its metrics says the true reason.

The cap line used to read "Limited by the cap per share or the campaign's remaining budget" whatever
happened; after a brand ended its campaign the influencer was told about a cap that was never reached.
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.earnings.selectors_limits import LimitReason, earning_limit_reason_for_accrual
from campaigns.earnings.services import earnings_accrue
from campaigns.services import campaign_cancel, campaign_complete
from payouts.models import EarningAccrual
from payouts.tests.helpers import delta, funded_campaign, influencer

pytestmark = pytest.mark.django_db

OLD_TEXT = "Limited by the cap per share or the campaign's remaining budget"


def _page(person: object) -> str:
    client = Client()
    client.force_login(person.user)
    page = html.unescape(client.get(reverse("payouts:earnings")).content.decode())
    return re.sub(r"\s+", " ", page)


def test_after_the_brand_ends_the_campaign_the_line_says_it_ended() -> None:
    campaign = funded_campaign(budget=10_000, per_share_cap_minor=5_000, approved_at=timezone.now())
    person = influencer()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=10))
    campaign_complete(campaign=campaign)

    late = earnings_accrue(delta=delta(campaign, person, "w2", engagements=20))

    assert late.earned_minor == 0
    assert earning_limit_reason_for_accrual(accrual=late) == LimitReason.CAMPAIGN_ENDED
    page = _page(person)
    assert OLD_TEXT not in page
    assert "Not paid: the campaign had ended" in page


def test_after_a_cancellation_the_line_says_it_was_cancelled() -> None:
    campaign = funded_campaign(budget=10_000, approved_at=timezone.now())
    person = influencer()
    campaign_cancel(campaign=campaign)

    late = earnings_accrue(delta=delta(campaign, person, "w1", engagements=20))

    assert earning_limit_reason_for_accrual(accrual=late) == LimitReason.CAMPAIGN_CANCELLED
    assert "Not paid: the brand cancelled the campaign" in _page(person)


def test_a_share_that_reaches_its_cap_says_the_cap_was_reached() -> None:
    campaign = funded_campaign(budget=10_000, per_share_cap_minor=500)
    person = influencer()

    accrual = earnings_accrue(delta=delta(campaign, person, "w1", engagements=80))

    assert accrual.earned_minor == 500
    assert earning_limit_reason_for_accrual(accrual=accrual) == LimitReason.CAP_REACHED
    page = _page(person)
    assert "Limited by the cap per share (€5.00), which this share reached" in page
    assert OLD_TEXT not in page


def test_a_share_stopped_by_the_budget_says_the_budget_ran_out() -> None:
    campaign = funded_campaign(budget=1_000)  # no cap: only the budget can stop it
    person = influencer()

    accrual = earnings_accrue(delta=delta(campaign, person, "w1", engagements=500))

    assert 0 < accrual.earned_minor < 5_000  # the budget (fee included) stopped it, not the metrics
    assert earning_limit_reason_for_accrual(accrual=accrual) == LimitReason.BUDGET_EXHAUSTED
    assert "Limited by the campaign's budget, which is used up" in _page(person)


def test_reason_is_read_per_accrual_not_from_the_campaign_today() -> None:
    """A line booked while the campaign ran keeps its own reason after the campaign ends."""
    campaign = funded_campaign(budget=10_000, per_share_cap_minor=500, approved_at=timezone.now())
    person = influencer()
    capped = earnings_accrue(delta=delta(campaign, person, "w1", engagements=80))
    campaign_complete(campaign=campaign)

    assert earning_limit_reason_for_accrual(accrual=EarningAccrual.objects.get(pk=capped.pk)) == (
        LimitReason.CAP_REACHED
    )
