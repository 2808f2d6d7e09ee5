"""The budget calculator: how many shares and how much reach a budget buys. Pure integer maths.

The figures are estimates for planning, from conservative assumptions about micro-influencers
(documented on ``Assumptions``); what is really paid follows verified metrics later.
"""

from __future__ import annotations

from dataclasses import dataclass

BPS = 10_000


@dataclass(frozen=True)
class Assumptions:
    followers: int = 5_000
    #: share of followers who see a post, in basis points (20%).
    reach_bps: int = 2_000
    #: engagements per person reached, in basis points (3%).
    engagement_bps: int = 300
    #: unique clicks per person reached, in basis points (0.5%).
    click_bps: int = 50


@dataclass(frozen=True)
class Estimate:
    budget_minor: int
    fee_minor: int
    earnings_minor: int
    cost_per_share_minor: int
    shares: int
    reach: int
    engagements: int
    clicks: int
    followers_assumed: int
    capped: bool

    @property
    def priced(self) -> bool:
        return self.cost_per_share_minor > 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def assumptions_for(*, followers_min: int | None, followers_max: int | None) -> Assumptions:
    """Typical follower count of the targeted band (midpoint), default 5,000."""
    if followers_min and followers_max:
        return Assumptions(followers=(followers_min + followers_max) // 2)
    if followers_min:
        return Assumptions(followers=followers_min)
    if followers_max:
        return Assumptions(followers=followers_max // 2)
    return Assumptions()


def budget_estimate(
    *,
    budget_minor: int,
    platform_fee_bps: int,
    cpm_minor: int | None = None,
    cpe_minor: int | None = None,
    cpc_minor: int | None = None,
    per_share_cap_minor: int | None = None,
    assumptions: Assumptions | None = None,
) -> Estimate:
    """Estimate shares and reach for a budget.

    The budget pays influencer earnings plus the platform fee on top of them, so
    earnings = budget / (1 + fee). A share costs its expected reach x CPM + engagements x CPE +
    clicks x CPC, never more than the per-share cap.
    """
    a = assumptions or Assumptions()
    budget_minor = max(budget_minor, 0)
    earnings = budget_minor * BPS // (BPS + max(platform_fee_bps, 0))
    fee = budget_minor - earnings
    reach = a.followers * a.reach_bps // BPS
    engagements = reach * a.engagement_bps // BPS
    clicks = reach * a.click_bps // BPS
    # Work in 1/1000 of a minor unit to keep CPM exact, then round up (estimates stay conservative).
    milli = (reach * (cpm_minor or 0)) + 1000 * (engagements * (cpe_minor or 0) + clicks * (cpc_minor or 0))
    cost = _ceil_div(milli, 1000)
    capped = False
    if per_share_cap_minor is not None and 0 < per_share_cap_minor < cost:
        cost, capped = per_share_cap_minor, True
    shares = earnings // cost if cost > 0 else 0
    return Estimate(
        budget_minor=budget_minor,
        fee_minor=fee,
        earnings_minor=earnings,
        cost_per_share_minor=cost,
        shares=shares,
        reach=shares * reach,
        engagements=shares * engagements,
        clicks=shares * clicks,
        followers_assumed=a.followers,
        capped=capped,
    )
