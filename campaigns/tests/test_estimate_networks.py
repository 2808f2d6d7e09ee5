"""The estimate counts only what the chosen networks can report (issue "What people see", 8).

A campaign on Mastodon and Bluesky with a price per 1,000 reach showed "Reach 44,000" and charged CPM in
the cost per share, though neither network reports reach or impressions, so no CPM is ever paid there.
The providers declare what they report (``Capabilities.metrics``); the estimate reads that.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from brands.models import BrandRole
from campaigns.forms import CampaignForm
from campaigns.models import Campaign
from campaigns.pricing import Assumptions, NetworkReach, budget_estimate
from campaigns.selectors import campaign_estimate, network_reach_for
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory

pytestmark = pytest.mark.django_db


def _campaign(networks: list[str], **prices: int | None) -> Campaign:
    fields: dict[str, object] = {"cpm_minor": 2000, "cpe_minor": None, "cpc_minor": None, "budget_minor": 50_000}
    fields.update(prices)
    campaign: Campaign = CampaignFactory.create(networks=networks, platform_fee_bps=0, **fields)
    return campaign


def _overview(campaign: Campaign) -> str:
    client = Client()
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)
    return client.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk])).content.decode()


def test_networks_without_impressions_report_no_reach_the_others_do() -> None:
    reach = network_reach_for(networks=["mastodon", "bluesky", "x", "linkedin"])

    assert reach.with_reach == ("X",)
    assert reach.without_reach == ("Mastodon", "Bluesky", "LinkedIn")


def test_mastodon_and_bluesky_estimate_no_reach_and_no_cpm_cost() -> None:
    campaign = _campaign(["mastodon", "bluesky"], cpe_minor=10)

    estimate = campaign_estimate(campaign=campaign)

    assert estimate.reach == 0
    # 5,000 followers, 1,000 reached, 30 engagements x 0.10: the CPM of 20.00 adds nothing.
    assert estimate.cost_per_share_minor == 300
    assert estimate.shares == 166
    assert estimate.engagements == 166 * 30
    assert not estimate.reach_reported
    assert estimate.reach_not_reported_by == ("Mastodon", "Bluesky")


def test_a_cpm_only_campaign_on_networks_without_reach_buys_nothing_and_says_why() -> None:
    campaign = _campaign(["mastodon", "bluesky"])

    estimate = campaign_estimate(campaign=campaign)
    page = _overview(campaign)

    assert estimate.cost_per_share_minor == 0
    assert not estimate.priced
    assert "Mastodon and Bluesky report no reach or impressions" in page
    assert "44,000" not in page


def test_a_network_that_reports_impressions_gets_reach_and_cpm() -> None:
    campaign = _campaign(["x"], cpe_minor=10)

    estimate = campaign_estimate(campaign=campaign)

    # 1,000 reached x 20.00 per 1,000 = 2,000; + 30 engagements x 0.10 = 300.
    assert estimate.cost_per_share_minor == 2_300
    assert estimate.reach == estimate.shares * 1_000
    assert estimate.reach_reported
    assert estimate.reach_not_reported_by == ()


def test_mixed_networks_count_reach_on_the_share_of_shares_that_report_it() -> None:
    estimate = budget_estimate(
        budget_minor=100_000,
        platform_fee_bps=0,
        cpm_minor=2000,
        cpe_minor=10,
        assumptions=Assumptions(),
        reach=NetworkReach(with_reach=("X",), without_reach=("Mastodon",)),
    )

    # Shares spread evenly: half of them report reach, so half a share's reach and CPM on average.
    assert estimate.cost_per_share_minor == 1_000 + 300
    assert estimate.reach == estimate.shares * 500
    assert estimate.reach_not_reported_by == ("Mastodon",)


def test_the_overview_names_the_networks_and_shows_no_reach_figure() -> None:
    page = _overview(_campaign(["mastodon", "bluesky"], cpe_minor=10))

    assert "Mastodon and Bluesky report no reach or impressions" in page
    assert "not reported" in page


def test_the_form_calculator_reads_the_networks_being_chosen() -> None:
    data = {"name": "Autumn", "currency": "EUR", "budget_minor": "500", "cpm_minor": "20", "cpe_minor": "0.10"}
    without = CampaignForm(data={**data, "networks": ["mastodon", "bluesky"]})
    with_reach = CampaignForm(data={**data, "networks": ["x"]})
    without.is_valid()
    with_reach.is_valid()

    estimate_without = without.estimate(platform_fee_bps=0)
    estimate_with = with_reach.estimate(platform_fee_bps=0)

    assert estimate_without is not None
    assert estimate_with is not None
    assert estimate_without.reach == 0
    assert estimate_without.cost_per_share_minor == 300
    assert estimate_with.cost_per_share_minor == 2_300


def test_without_networks_chosen_the_estimate_assumes_reach_and_says_so() -> None:
    estimate = campaign_estimate(campaign=_campaign([]))

    assert estimate.reach > 0
    assert not estimate.networks_chosen
