"""Results rollups (ADR 12): the numbers from ``ShareResult`` / ``CampaignResultHour`` equal the numbers
computed from the raw snapshots, clicks and earnings, whatever wrote them; and the influencer table pages."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandRole
from campaigns.models import (
    Campaign,
    CampaignResultGroup,
    CampaignResultHour,
    Click,
    MetricSnapshot,
    Share,
    ShareResult,
)
from campaigns.tracking import services
from campaigns.tracking.capture import ClickEvent
from campaigns.tracking.selectors import Results, campaign_results_get_for_campaign, rollups_enabled
from networks.models import Network
from payouts.models import EarningAccrual, ShareEarning
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, OfferFactory
from tests.factories.networks import ConnectedAccountFactory
from tests.factories.tracking import ShareFactory, TrackingLinkFactory

pytestmark = [
    pytest.mark.django_db(transaction=False),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup triggers are PostgreSQL only"),
]

BASE = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)  # 23:30 in Vienna: the local day differs from the UTC day


def _numbers(results: Results) -> dict[str, Any]:
    return {
        "totals": results.totals,
        "by_network": results.by_network,
        "by_influencer": results.by_influencer,
        "series": results.series,
        "spend": (results.spend_minor, results.fee_minor),
        "influencers": results.influencers_total,
    }


def _assert_rollup_equals_raw(campaign: Campaign) -> dict[str, Any]:
    assert rollups_enabled()  # else both sides below would read the raw rows
    rolled = _numbers(campaign_results_get_for_campaign(campaign=campaign))
    raw = _numbers(campaign_results_get_for_campaign(campaign=campaign, raw=True))
    assert rolled == raw
    return rolled


def _rollup_rows(campaign: Campaign) -> tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]:
    """The rollup rows with data (a row emptied by deletes equals no row)."""
    shares = {
        row[0]: row[1:]
        for row in ShareResult.objects.filter(share__campaign=campaign).values_list(
            "share_id", "reach", "impressions", "engagements", "latest_at", "unique_clicks", "earned_minor"
        )
        if any(value not in (None, 0) for value in row[1:])
    }
    hours = {
        row[0]: row[1:]
        for row in CampaignResultHour.objects.filter(campaign=campaign).values_list(
            "hour", "snapshots", "reach_gain", "engagements_gain", "unique_clicks", "earned_minor", "fee_minor"
        )
        if any(row[1:])
    }
    groups = {
        row[0]: row[1:]
        for row in CampaignResultGroup.objects.filter(campaign=campaign).values_list(
            "key", "influencer_id", "shares", "reach", "reach_shares", "impressions", "impressions_shares",
            "engagements", "engagements_shares", "unique_clicks", "earned_minor",
        )
        if any(row[2:])
    }  # fmt: skip
    return shares, hours, groups


def _event(link_id: int, at: datetime, *, ip: str, bot: bool = False) -> ClickEvent:
    return ClickEvent(
        event_id=secrets.token_hex(16),
        link_id=link_id,
        occurred_at=at.timestamp(),
        ip_hash=ip,
        ua_hash="u" * 32,
        ua_family="Firefox",
        referrer_host="",
        is_head=False,
        is_prefetch=False,
        is_bot=bot,
    )


def _campaign() -> tuple[Campaign, list[Share]]:
    campaign: Campaign = CampaignFactory.create(status="approved", cpc_minor=10)
    shares: list[Share] = []
    for network in (Network.MASTODON, Network.X, Network.BLUESKY):
        offer = OfferFactory(match__campaign=campaign, status="accepted")
        account = ConnectedAccountFactory(influencer=offer.influencer, network=network)
        shares.append(ShareFactory.create(offer=offer, connected_account=account))
    ShareFactory(offer=shares[0].offer, connected_account=ConnectedAccountFactory(influencer=shares[0].influencer))
    return campaign, shares


def test_rollups_equal_the_raw_numbers_after_every_kind_of_write() -> None:
    campaign, (mastodon, x, bluesky) = _campaign()
    # Snapshots out of order (a late +1h after the +24h), a catch-up pull with one timestamp,
    # impressions-only (X) and nothing-reported (Bluesky) shares, across the Vienna midnight.
    MetricSnapshot.objects.create(
        share=mastodon, window="+24h", collected_at=BASE + timedelta(days=1), reach=300, engagements=9
    )
    MetricSnapshot.objects.create(share=mastodon, window="+1h", collected_at=BASE, reach=100, engagements=2)
    MetricSnapshot.objects.bulk_create(
        MetricSnapshot(
            share=x, window=window, collected_at=BASE + timedelta(hours=2), impressions=value, engagements=value // 10
        )
        for window, value in (("+1h", 150), ("+6h", 220), ("+24h", 400))
    )
    MetricSnapshot.objects.create(share=bluesky, window="+1h", collected_at=BASE, engagements=None)
    _assert_rollup_equals_raw(campaign)

    # A staff pull overwrites ``manual`` (an UPDATE that moves it in time); a snapshot is deleted.
    manual = MetricSnapshot.objects.create(
        share=mastodon, window="manual", collected_at=BASE + timedelta(hours=5), reach=180
    )
    MetricSnapshot.objects.update_or_create(
        share=mastodon,
        window="manual",
        defaults={"collected_at": BASE + timedelta(days=3), "reach": 500, "engagements": 20},
    )
    MetricSnapshot.objects.filter(share=x, window="+6h").delete()
    numbers = _assert_rollup_equals_raw(campaign)
    assert numbers["totals"].reach == 500  # the manual pull is now Mastodon's latest
    assert numbers["series"][-1].reach == 500 + 400  # impressions stand in for X's reach
    assert manual.pk

    # Clicks through the drain's rules (a bot and a repeat are not billable), replayed, then bulk ones,
    # then changed and deleted.
    link = TrackingLinkFactory(share=mastodon)
    batch = [
        _event(link.pk, BASE + timedelta(hours=1), ip="a"),
        _event(link.pk, BASE + timedelta(hours=1, minutes=5), ip="a"),
        _event(link.pk, BASE + timedelta(hours=2), ip="b", bot=True),
        _event(link.pk, BASE + timedelta(days=2), ip="c"),
    ]
    services.clicks_record(events=batch)
    services.clicks_record(events=batch)  # a replayed batch inserts nothing and counts nothing twice
    other = TrackingLinkFactory(share=x)
    Click.objects.bulk_create(
        Click(
            link=other,
            event_id=secrets.token_hex(16),
            occurred_at=BASE + timedelta(hours=h),
            ip_hash=str(h),
            ua_hash="u",
            billable=h % 3 != 0,
        )
        for h in range(30)
    )
    numbers = _assert_rollup_equals_raw(campaign)
    assert numbers["totals"].unique_clicks == 2 + 20
    Click.objects.filter(link=other, billable=False).update(billable=True)
    Click.objects.filter(link=link, billable=True).update(accrued_at=timezone.now())  # click earnings: no change
    Click.objects.filter(link=other, occurred_at__gte=BASE + timedelta(hours=20)).delete()
    numbers = _assert_rollup_equals_raw(campaign)
    assert numbers["totals"].unique_clicks == 2 + 20

    # Earnings: the per-share total and the accruals behind the spend.
    earning = ShareEarning.objects.create(
        share_key=str(x.pk), campaign=campaign, influencer_id=x.influencer_id, earned_minor=70
    )
    for window, earned in (("+1h", 50), ("+24h", 20)):
        EarningAccrual.objects.create(
            share=earning, window=window, campaign=campaign, influencer_id=x.influencer_id, source="network",
            currency="EUR", earned_minor=earned, fee_minor=earned // 10, pending_minor=earned, hold_until=BASE,
        )  # fmt: skip
    ShareEarning.objects.filter(pk=earning.pk).update(earned_minor=75)
    numbers = _assert_rollup_equals_raw(campaign)
    # The spend total is the ledger's (payouts.selectors; these accruals were never booked there, so 0);
    # the hourly rollup still adds up the accruals for the chart.
    assert numbers["spend"] == (0, 0)
    hours = _rollup_rows(campaign)[1].values()
    assert (sum(row[4] for row in hours), sum(row[5] for row in hours)) == (70, 7)
    assert sum(row.totals.earned_minor for row in numbers["by_network"]) == 75

    # The rows the triggers kept are the rows a rebuild from scratch computes.
    kept = _rollup_rows(campaign)
    with connection.cursor() as cursor:
        cursor.execute("SELECT campaigns_results_rebuild()")
        cursor.execute("SELECT campaigns_result_groups_rebuild()")
    assert _rollup_rows(campaign) == kept


@transaction.atomic
def _write_then_fail(link_id: int, share: Share) -> None:
    services.clicks_record(events=[_event(link_id, BASE, ip="z")])
    MetricSnapshot.objects.create(share=share, window="+6h", collected_at=BASE, reach=99)
    raise RuntimeError


def test_a_rolled_back_write_leaves_the_rollups_unchanged() -> None:
    link = TrackingLinkFactory()
    MetricSnapshot.objects.create(share=link.share, window="+1h", collected_at=BASE, reach=10, engagements=1)
    before = _rollup_rows(link.share.campaign)
    with pytest.raises(RuntimeError):
        _write_then_fail(link.pk, link.share)
    assert _rollup_rows(link.share.campaign) == before


def test_deleting_a_share_removes_its_numbers() -> None:
    campaign, shares = _campaign()
    link = TrackingLinkFactory(share=shares[0])
    MetricSnapshot.objects.create(share=shares[0], window="+1h", collected_at=BASE, reach=10, engagements=1)
    MetricSnapshot.objects.create(share=shares[1], window="+1h", collected_at=BASE, impressions=7, engagements=1)
    services.clicks_record(events=[_event(link.pk, BASE, ip="q")])
    shares[0].delete()
    numbers = _assert_rollup_equals_raw(campaign)
    assert numbers["totals"].unique_clicks == 0
    assert numbers["series"][-1].reach == 7


def test_over_time_reach_of_impressions_only_networks_is_the_latest_value_not_the_sum() -> None:
    share = ShareFactory(connected_account__network=Network.X)
    for hours, impressions in ((1, 100), (6, 150), (24, 200)):
        MetricSnapshot.objects.create(
            share=share, window=f"+{hours}h", collected_at=BASE + timedelta(hours=hours), impressions=impressions
        )
    for raw in (False, True):
        results = campaign_results_get_for_campaign(campaign=share.campaign, raw=raw)
        assert results.series[-1].reach == 200


def test_the_influencer_table_pages_by_50(client: Client) -> None:
    campaign: Campaign = CampaignFactory.create(status="approved")
    for index in range(53):
        share = ShareFactory(offer=OfferFactory(match__campaign=campaign, status="accepted"))
        MetricSnapshot.objects.create(share=share, window="+1h", collected_at=BASE, reach=10, engagements=index)
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)
    url = reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results"
    first = client.get(url)
    assert len(first.context["results"].by_influencer) == 50
    assert first.context["results"].by_influencer[0].totals.engagements == 52  # most engagement first
    html = first.content.decode()
    assert "Page 1 of 2" in html
    assert "?tab=results&amp;influencers=2" in html
    second = client.get(url + "&influencers=2")
    rows = second.context["results"].by_influencer
    assert [row.totals.engagements for row in rows] == [2, 1, 0]
    assert "Page 2 of 2" in second.content.decode()
    assert client.get(url + "&influencers=9").context["results"].influencer_page == 2
    assert client.get(url + "&influencers=x").context["results"].influencer_page == 1
    api = reverse("brand-campaign-results", args=[campaign.brand.slug, campaign.pk])
    data = client.get(api, {"influencer_page": 2}).json()
    assert (len(data["by_influencer"]), data["influencers_total"], data["influencer_page"]) == (3, 53, 2)
    assert data["totals"]["shares"] == 53  # totals cover every influencer, on every page
