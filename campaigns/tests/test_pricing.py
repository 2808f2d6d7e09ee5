from __future__ import annotations

from campaigns.pricing import Assumptions, assumptions_for, budget_estimate


def test_budget_pays_earnings_plus_fee_on_top() -> None:
    estimate = budget_estimate(budget_minor=115_000, platform_fee_bps=1500, cpe_minor=10)

    assert estimate.earnings_minor == 100_000
    assert estimate.fee_minor == 15_000


def test_shares_and_reach_follow_the_prices() -> None:
    # 5,000 followers -> 1,000 reached, 30 engagements, 5 clicks.
    # CPM 6.00: 1,000/1,000 x 600 = 600; CPE 0.10 x 30 = 300; CPC 0.20 x 5 = 100 -> 1,000 cents per share.
    estimate = budget_estimate(
        budget_minor=100_000, platform_fee_bps=0, cpm_minor=600, cpe_minor=10, cpc_minor=20, assumptions=Assumptions()
    )

    assert estimate.cost_per_share_minor == 1_000
    assert estimate.shares == 100
    assert estimate.reach == 100_000
    assert estimate.engagements == 3_000
    assert estimate.clicks == 500
    assert not estimate.capped


def test_per_share_cap_limits_cost_and_buys_more_shares() -> None:
    estimate = budget_estimate(budget_minor=100_000, platform_fee_bps=0, cpm_minor=600, per_share_cap_minor=300)

    assert estimate.capped
    assert estimate.cost_per_share_minor == 300
    assert estimate.shares == 333


def test_unpriced_campaign_buys_nothing() -> None:
    estimate = budget_estimate(budget_minor=100_000, platform_fee_bps=1500)

    assert estimate.shares == 0
    assert not estimate.priced


def test_cpm_rounds_up_so_estimates_stay_conservative() -> None:
    # 1,000 reached x 1 cent per 1,000 = 1 cent; 1,001 reached would be 1.001 cents -> 2.
    estimate = budget_estimate(
        budget_minor=10, platform_fee_bps=0, cpm_minor=1, assumptions=Assumptions(followers=5_005)
    )

    assert estimate.cost_per_share_minor == 2
    assert estimate.shares == 5


def test_follower_band_sets_the_assumed_audience() -> None:
    assert assumptions_for(followers_min=1_000, followers_max=9_000).followers == 5_000
    assert assumptions_for(followers_min=2_000, followers_max=None).followers == 2_000
    assert assumptions_for(followers_min=None, followers_max=None).followers == 5_000
