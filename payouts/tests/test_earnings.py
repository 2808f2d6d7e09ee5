"""The earnings engine: prices, caps, fee, idempotency, reversals, hold period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.earnings.budget import campaign_budget_release
from campaigns.earnings.selectors import campaign_reserved_minor
from campaigns.earnings.services import MetricDelta, earnings_accrue, earnings_release_due
from payouts import selectors
from payouts.errors import PayoutsError
from payouts.models import AccountKind, EarningAccrual, LedgerTransaction, Metric
from payouts.services.ledger import platform_account
from payouts.tests.helpers import delta, funded_campaign, influencer

pytestmark = pytest.mark.django_db


def _pending(person):
    return selectors.influencer_balance_minor(influencer=person, kind=AccountKind.INFLUENCER_PENDING)


def _available(person):
    return selectors.influencer_balance_minor(influencer=person, kind=AccountKind.INFLUENCER_AVAILABLE)


def _fees():
    return platform_account(kind=AccountKind.PLATFORM_FEES, currency="EUR").balance_minor


def test_prices_every_metric_books_the_fee_on_top_and_explains_each_line():
    campaign = funded_campaign(budget=10_000)  # CPM 6.00, CPE 0.10, CPC 0.15, fee 15 %
    person = influencer()
    accrual = earnings_accrue(delta=delta(campaign, person, "w1", impressions=2_500, engagements=30, unique_clicks=4))
    # 2,500 * 600 / 1000 = 1,500; 30 * 10 = 300; 4 * 15 = 60 -> 1,860; fee 15 % = 279
    assert accrual.earned_minor == 1_860
    assert accrual.fee_minor == 279
    assert _pending(person) == 1_860
    assert campaign_reserved_minor(campaign=campaign) == 10_000 - 1_860 - 279
    lines = {line.metric: (line.units, line.price_minor, line.amount_minor) for line in accrual.lines.all()}
    assert lines == {
        Metric.REACH: (2_500, 600, 1_500),
        Metric.ENGAGEMENTS: (30, 10, 300),
        Metric.UNIQUE_CLICKS: (4, 15, 60),
    }


def test_same_window_twice_books_nothing_new():
    campaign = funded_campaign()
    person = influencer()
    first = earnings_accrue(delta=delta(campaign, person, "w1", engagements=10))
    again = earnings_accrue(delta=delta(campaign, person, "w1", engagements=10))
    assert again.pk == first.pk
    assert _pending(person) == 100
    assert LedgerTransaction.objects.filter(kind="earning").count() == 1


def test_cpm_rounding_is_cumulative_so_no_cent_is_lost():
    campaign = funded_campaign(cpm_minor=7, cpe_minor=None, cpc_minor=None)
    person = influencer()
    for window in range(10):
        earnings_accrue(delta=delta(campaign, person, f"w{window}", impressions=100))
    # 10 x floor(100 * 7 / 1000) would be 0; cumulative floor(1000 * 7 / 1000) is 7.
    assert _pending(person) == 7


def test_per_share_cap_limits_earnings_and_shows_a_cap_line():
    campaign = funded_campaign(per_share_cap_minor=500)
    person = influencer()
    accrual = earnings_accrue(delta=delta(campaign, person, "w1", engagements=80))
    assert accrual.earned_minor == 500
    assert {line.metric: line.amount_minor for line in accrual.lines.all()} == {
        Metric.ENGAGEMENTS: 800,
        Metric.CAP: -300,
    }


def test_earnings_never_exceed_the_reservation_including_the_fee():
    campaign = funded_campaign(budget=1_000)
    person = influencer()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=500))
    earned = _pending(person)
    assert earned + _fees() <= 1_000
    # The fee rounds half up (ADR 7): 870 would cost 870 + 131 (130.5) = 1,001, so 869 + 130 (130.35) = 999
    # is the most that fits, and one cent stays reserved (returned when the campaign ends).
    assert earned == 869
    assert campaign_reserved_minor(campaign=campaign) == 1


def test_falling_metrics_book_a_reversal_back_into_the_reservation():
    campaign = funded_campaign()
    person = influencer()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=100))
    reversal = earnings_accrue(delta=delta(campaign, person, "w2", engagements=-40))
    assert reversal.earned_minor == -400
    assert reversal.fee_minor == -60
    assert _pending(person) == 600
    assert _fees() == 90
    assert campaign_reserved_minor(campaign=campaign) == 10_000 - 600 - 90


def test_vanished_post_after_the_hold_takes_back_from_available():
    campaign = funded_campaign()
    person = influencer()
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=100), now=now)
    earnings_release_due(now=now + timedelta(days=15))
    assert (_pending(person), _available(person)) == (0, 1_000)
    earnings_accrue(delta=delta(campaign, person, "deleted", engagements=-100))
    assert (_pending(person), _available(person)) == (0, 0)
    assert campaign_reserved_minor(campaign=campaign) == 10_000


def test_hold_period_keeps_earnings_pending_until_it_ends():
    campaign = funded_campaign()
    person = influencer()
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=50), now=now)
    assert earnings_release_due(now=now + timedelta(days=13)) == 0
    assert _available(person) == 0
    assert earnings_release_due(now=now + timedelta(days=14, seconds=1)) == 1
    assert (_pending(person), _available(person)) == (0, 500)
    assert earnings_release_due(now=now + timedelta(days=30)) == 0
    assert EarningAccrual.objects.get().pending_minor == 0


def test_released_campaign_earns_nothing_more():
    campaign = funded_campaign()
    person = influencer()
    campaign_budget_release(campaign=campaign)
    accrual = earnings_accrue(delta=delta(campaign, person, "w1", engagements=50))
    assert accrual.earned_minor == 0
    assert _pending(person) == 0


def test_estimated_metrics_never_pay():
    campaign = funded_campaign()
    person = influencer()
    with pytest.raises(PayoutsError):
        earnings_accrue(delta=MetricDelta("s", campaign.pk, person.pk, "w", 100, source="estimated"))


def test_a_share_cannot_switch_influencer():
    campaign = funded_campaign()
    earnings_accrue(delta=delta(campaign, influencer(), "w1", engagements=1))
    with pytest.raises(PayoutsError):
        earnings_accrue(delta=delta(campaign, influencer(), "w2", engagements=1))


def test_a_share_on_review_hold_keeps_its_earnings_pending_until_released():
    from campaigns.models import HoldReason
    from campaigns.tracking.services import share_hold_open, share_hold_release
    from tests.factories.tracking import ShareFactory

    campaign = funded_campaign()
    person = influencer()
    share = ShareFactory(offer__campaign=campaign, offer__influencer=person)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", share=str(share.pk), engagements=50), now=now)
    hold = share_hold_open(share_id=share.pk, reason=HoldReason.ENGAGEMENT_ANOMALY)
    assert earnings_release_due(now=now + timedelta(days=15)) == 0
    assert (_pending(person), _available(person)) == (500, 0)
    share_hold_release(hold=hold, released_by=None)
    assert earnings_release_due(now=now + timedelta(days=15)) == 1
    assert (_pending(person), _available(person)) == (0, 500)
