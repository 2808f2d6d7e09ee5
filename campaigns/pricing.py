"""The budget calculator: how many shares and how much reach a budget buys. Pure integer maths.

The figures are estimates for planning, from conservative assumptions about micro-influencers
(documented on ``Assumptions``); what is really paid follows verified metrics later. They count only
what the chosen networks can report (``NetworkReach``): a share on a network that reports no reach or
impressions earns no CPM, so the estimate gives it no reach and no CPM cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.earnings.pricing import PRICING, participation_bands, participation_fee_for

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
class NetworkReach:
    """The chosen networks (display labels) split by whether they report a figure CPM is paid on.

    Built from the providers' declared capabilities by ``campaigns.selectors.network_reach_for``. Both
    empty: no networks chosen yet, so the estimate assumes reach is reported (and says so).
    """

    with_reach: tuple[str, ...] = ()
    without_reach: tuple[str, ...] = ()
    #: Of ``without_reach``, the "you post, we verify" networks: no engagement is read there either, only clicks
    #: (and the participation fee) are paid.
    clicks_only: tuple[str, ...] = ()

    @property
    def chosen(self) -> bool:
        return bool(self.with_reach or self.without_reach)

    def engagement_share_of(self, value: int) -> int:
        """``value`` times the share of networks whose engagement is read (shares assumed spread evenly), floored."""
        if not self.chosen:
            return value
        chosen = len(self.with_reach) + len(self.without_reach)
        return value * (chosen - len(self.clicks_only)) // chosen

    def share_of(self, value: int) -> int:
        """``value`` times the share of networks that report reach (shares assumed spread evenly), floored."""
        if not self.chosen:
            return value
        return value * len(self.with_reach) // (len(self.with_reach) + len(self.without_reach))


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
    #: Labels of the chosen networks that report no reach or impressions (no reach, no CPM counted there).
    reach_not_reported_by: tuple[str, ...] = ()
    reach_reported_by: tuple[str, ...] = ()
    networks_chosen: bool = True
    #: The participation fee a share of the assumed audience earns (its band's), part of the cost per share.
    participation_minor: int = 0

    @property
    def priced(self) -> bool:
        return self.cost_per_share_minor > 0

    @property
    def reach_reported(self) -> bool:
        """Some chosen network reports reach (or none is chosen yet, and the figure assumes one does)."""
        return bool(self.reach_reported_by) or not self.networks_chosen


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
    participation_fee_minor: int | None = None,
    participation_bands: Sequence[Any] = (),
    assumptions: Assumptions | None = None,
    reach: NetworkReach | None = None,
) -> Estimate:
    """Estimate shares and reach for a budget.

    The budget pays influencer earnings plus the platform fee on top of them, so
    earnings = budget / (1 + fee). A share costs its expected reach x CPM + engagements x CPE +
    clicks x CPC + the participation fee of the assumed audience's band, never more than the per-share cap
    (the same policy the booking uses, ``PRICING``). Reach (and with it CPM) counts only on the
    networks that report it (``reach``); engagements and clicks count on every network: people see
    and click the post whether or not the network tells us how many saw it.
    """
    a = assumptions or Assumptions()
    networks = reach or NetworkReach()
    budget_minor = max(budget_minor, 0)
    earnings = PRICING.earnings_within(budget_minor=budget_minor, fee_bps=platform_fee_bps)
    fee = budget_minor - earnings
    seen = a.followers * a.reach_bps // BPS
    # Engagement is paid only where the network's counts are read (not on "you post, we verify" networks).
    engagements = networks.engagement_share_of(seen * a.engagement_bps // BPS)
    clicks = seen * a.click_bps // BPS
    # What a share's network reports on average: shares on networks without reach report none and earn no CPM.
    reported_reach = networks.share_of(seen)
    participation = participation_fee_for(
        fee_minor=participation_fee_minor, bands=_bands(participation_bands), followers=a.followers
    )
    # The booking's prices (PRICING), the exact value rounded up once: estimates stay conservative.
    cost, capped = PRICING.estimate_per_share(
        {
            "impressions": reported_reach,
            "engagements": engagements,
            "unique_clicks": clicks,
            "participations": 1 if participation else 0,
            "participation_price_minor": participation,
        },
        {
            "cpm_minor": cpm_minor,
            "cpe_minor": cpe_minor,
            "cpc_minor": cpc_minor,
            "per_share_cap_minor": per_share_cap_minor,
        },
    )
    shares = earnings // cost if cost > 0 else 0
    return Estimate(
        budget_minor=budget_minor,
        fee_minor=fee,
        earnings_minor=earnings,
        cost_per_share_minor=cost,
        shares=shares,
        reach=shares * reported_reach,
        engagements=shares * engagements,
        clicks=shares * clicks,
        followers_assumed=a.followers,
        capped=capped,
        reach_not_reported_by=networks.without_reach,
        reach_reported_by=networks.with_reach,
        networks_chosen=networks.chosen,
        participation_minor=participation,
    )


def _bands(raw: Sequence[Any]) -> Sequence[Any]:
    """Bands as ``ParticipationBand`` (a campaign's JSON list, or already parsed)."""
    return participation_bands(list(raw)) if raw and isinstance(raw[0], dict) else list(raw)
