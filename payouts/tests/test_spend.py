"""A campaign's spend is one figure, read from the ledger by ``payouts.selectors``, wherever it is shown:
the campaign overview, the campaign list, the Funds page, the Results tab and the results API."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brands.models import BrandRole
from campaigns.earnings.budget import campaign_budget_release
from campaigns.earnings.selectors import (
    brand_funds_get_for_brand,
    campaign_spend_for_campaigns,
    campaign_spend_get_for_campaign,
)
from campaigns.earnings.services import earnings_accrue
from campaigns.models import Campaign
from payouts.money import money_format
from payouts.tests.helpers import delta, funded_campaign
from tests.factories.brands import MembershipFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db


def _shown_everywhere(client: Client, campaign: Campaign, spent: int) -> None:
    slug = campaign.brand.slug
    expected = money_format(spent, campaign.currency)
    overview = client.get(reverse("campaigns:detail", args=[slug, campaign.pk]))
    assert overview.context["spend"].spent_minor == spent
    assert f"{expected} spent so far" in overview.content.decode()

    listing = client.get(reverse("campaigns:list", args=[slug]))
    assert listing.context["spend"][campaign.pk].spent_minor == spent
    assert f'<td data-label="Spent" class="num">{expected}</td>' in listing.content.decode()

    funds = client.get(reverse("payouts:funds", args=[slug]))
    [row] = funds.context["funds"].campaigns
    assert row.spent_minor == spent
    assert f'<td data-label="Spent" class="num">{expected}</td>' in funds.content.decode()

    results = client.get(reverse("campaigns:detail", args=[slug, campaign.pk]) + "?tab=results")
    assert results.context["results"].spend_minor == spent
    assert expected in results.content.decode()

    api = client.get(reverse("brand-campaign-results", args=[slug, campaign.pk])).json()
    assert api["spend_minor"] == spent


def test_every_page_shows_the_ledgers_spend(client: Client) -> None:
    campaign = funded_campaign(budget=10_000, cpe_minor=10, cpm_minor=None, cpc_minor=None)
    share = ShareFactory(offer__match__campaign=campaign)
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)
    key = str(share.pk)

    # 8 engagements at 0.10 = 0.80 earned, 15 % fee 0.12: 0.92 spent.
    earnings_accrue(delta=delta(campaign, share.influencer, "+1h", share=key, engagements=8))
    assert campaign_spend_get_for_campaign(campaign=campaign).spent_minor == 92
    _shown_everywhere(client, campaign, 92)

    # 18 engagements in all: 1.80 earned, fee 0.27: 2.07 spent.
    earnings_accrue(delta=delta(campaign, share.influencer, "+6h", share=key, engagements=10))
    _shown_everywhere(client, campaign, 207)


def test_spend_follows_reversals_also_after_the_budget_was_released() -> None:
    campaign = funded_campaign(budget=10_000, cpe_minor=10, cpm_minor=None, cpc_minor=None)
    share = ShareFactory(offer__match__campaign=campaign)
    key = str(share.pk)
    earnings_accrue(delta=delta(campaign, share.influencer, "+1h", share=key, engagements=20))
    spend = campaign_spend_get_for_campaign(campaign=campaign)
    assert (spend.earned_minor, spend.fee_minor, spend.spent_minor) == (200, 30, 230)

    campaign_budget_release(campaign=campaign)
    # Fakes purged after the end: the brand gets the money back into its balance, spend drops.
    earnings_accrue(delta=delta(campaign, share.influencer, "+24h", share=key, engagements=-6))
    spend = campaign_spend_get_for_campaign(campaign=campaign)
    assert (spend.earned_minor, spend.fee_minor, spend.spent_minor) == (140, 21, 161)
    many = campaign_spend_for_campaigns(campaigns=[campaign])
    assert many == {campaign.pk: spend}
    assert brand_funds_get_for_brand(brand=campaign.brand).spent_minor == 161


def test_a_campaign_without_earnings_has_spent_nothing(client: Client) -> None:
    campaign = funded_campaign()
    spend = campaign_spend_get_for_campaign(campaign=campaign)
    assert (spend.earned_minor, spend.fee_minor, spend.spent_minor) == (0, 0, 0)
    assert campaign_spend_for_campaigns(campaigns=[]) == {}
