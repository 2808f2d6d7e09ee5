"""The influencer home's offers panel (``campaigns.influencer.selectors_offers``): the newest open offers, or
what to do while there are none. The home page itself is the influencers app's; it only places this panel."""

from __future__ import annotations

from typing import Any

from django import template

from campaigns.influencer.selectors_offers import offer_latest_new_for_influencer, pay_terms_for_campaign
from influencers.models import InfluencerProfile

register = template.Library()


@register.inclusion_tag("campaigns/partials/influencer_home_offers.html")
def influencer_home_offers(influencer: InfluencerProfile) -> dict[str, Any]:
    return {
        "influencer": influencer,
        "new_offers": [
            {"offer": offer, "pay_terms": pay_terms_for_campaign(campaign=offer.campaign)}
            for offer in offer_latest_new_for_influencer(influencer=influencer)
        ],
    }
