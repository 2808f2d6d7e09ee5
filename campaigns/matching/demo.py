"""Demo: the Autumn Roast campaign is approved and has proposed matches for lena, tom and mia.

Runs after ``sandbox.demo`` (which connects the demo influencers to sandbox accounts). The
sandbox community is small (about 100 followers each), so while the campaign is still a
draft its follower band is set to fit it. Idempotent: re-running only proposes matches for
influencers that newly qualify.
"""

from __future__ import annotations

from django.db import transaction

from accounts.demo import DemoLogin
from accounts.models import User
from campaigns.demo import DEMO_CAMPAIGN_NAME
from campaigns.matching.services import matching_run
from campaigns.models import Campaign, CampaignStatus
from campaigns.services import campaign_approve, campaign_submit, campaign_update
from payouts.selectors import brand_balance_minor
from payouts.services.ledger import brand_fund

DEMO_FOLLOWERS_MIN = 50
DEMO_FOLLOWERS_MAX = 5_000


def _fund_if_short(campaign: Campaign) -> None:
    shortfall = campaign.budget_minor - brand_balance_minor(brand=campaign.brand, currency=campaign.currency)
    if shortfall > 0:
        brand_fund(
            brand=campaign.brand,
            amount_minor=shortfall,
            currency=campaign.currency,
            source="bank_transfer",
            reference=f"DEMO-MATCHING-{campaign.pk}",
        )


@transaction.atomic
def seed_demo() -> list[DemoLogin]:
    campaign = Campaign.objects.select_related("brand").filter(name=DEMO_CAMPAIGN_NAME).first()
    if campaign is None:
        return []
    if campaign.status == CampaignStatus.DRAFT:
        campaign = campaign_update(
            campaign=campaign, followers_min=DEMO_FOLLOWERS_MIN, followers_max=DEMO_FOLLOWERS_MAX
        )
        campaign = campaign_submit(campaign=campaign)
    if campaign.status == CampaignStatus.IN_REVIEW:
        _fund_if_short(campaign)
        reviewer = User.objects.filter(is_staff=True).order_by("pk").first()
        campaign = campaign_approve(campaign=campaign, reviewed_by=reviewer)
    if campaign.status == CampaignStatus.APPROVED:
        matching_run(campaign=campaign)
    return []
