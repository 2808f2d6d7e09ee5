"""Shared set-ups for the money tests: a funded brand with an approved, reserved campaign."""

from __future__ import annotations

from typing import Any

from brands.factories import BrandFactory
from campaigns.models import Campaign
from influencers.factories import InfluencerProfileFactory
from influencers.models import InfluencerProfile
from payouts import services
from payouts.factories import CampaignFactory


def funded_campaign(*, budget: int = 10_000, fund: int | None = None, **fields: Any) -> Campaign:
    brand = BrandFactory()
    services.brand_fund(
        brand=brand, amount_minor=fund or budget, currency="EUR", source="bank_transfer", reference=f"T-{brand.pk}"
    )
    campaign: Campaign = CampaignFactory.create(brand=brand, budget_minor=budget, **fields)
    services.campaign_budget_reserve(campaign=campaign)
    return campaign


def delta(
    campaign: Campaign, influencer: InfluencerProfile, window: str, share: str = "share-1", **metrics: int
) -> services.MetricDelta:
    return services.MetricDelta(
        share_key=share, campaign_id=campaign.pk, influencer_id=influencer.pk, window=window, **metrics
    )


def influencer() -> InfluencerProfile:
    person: InfluencerProfile = InfluencerProfileFactory.create()
    return person
