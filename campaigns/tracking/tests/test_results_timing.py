"""Results say when their numbers are from; counted clicks say when they are paid (issue "What people see", 3, 7).

The journey saw "Billable clicks 2" beside earnings from engagement only for 45 minutes (click earnings are
booked once the hour has closed) and numbers that changed only at the metric windows, while the landing
page promised results that "grow every minute". Results now show the newest count's time, when the next
is due and the clicks not booked yet; the offer page and the earnings page say the same about clicks.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import time as time_filter
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandRole
from campaigns.metrics.services import metric_windows
from campaigns.models import (
    Campaign,
    HoldReason,
    MetricSnapshot,
    MetricWindowRetry,
    PublicationState,
    Share,
    SharePublication,
)
from campaigns.tracking import services
from campaigns.tracking.selectors_timing import (
    PendingClickHour,
    _next_count_at_aggregate,
    _next_count_at_in_order,
    clicks_pending_for_influencer,
    results_timing_get_for_campaign,
    schedule_words,
)
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, OfferFactory
from tests.factories.tracking import ClickFactory, MetricSnapshotFactory, ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db


def _local(moment: datetime, fmt: str) -> str:
    return str(date_filter(timezone.localtime(moment), fmt))


def _time(moment: datetime) -> str:
    return str(time_filter(timezone.localtime(moment)))


def _published_share(campaign: Campaign, *, published_at: datetime) -> Share:
    share: Share = ShareFactory.create(offer=OfferFactory(match__campaign=campaign, status="accepted"))
    SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=secrets.token_hex(16),
        external_id=secrets.token_hex(4),
        external_url="https://mastodon.example/@lena/1",
        published_at=published_at,
    )
    return share


class Scene:
    """A share published 3 hours ago, read at +1h, with 2 clicks of the running hour not booked yet and
    1 click of an earlier hour booked; a second share on hold with 1 click."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.hour = self.now.replace(minute=0, second=0, microsecond=0)
        self.campaign: Campaign = CampaignFactory.create(status="approved", cpc_minor=10, cpe_minor=10)
        self.published_at = self.now - timedelta(hours=3)
        self.share = _published_share(self.campaign, published_at=self.published_at)
        self.read_at = self.published_at + timedelta(hours=1)
        MetricSnapshotFactory(share=self.share, window="+1h", collected_at=self.read_at, engagements=4)
        link = TrackingLinkFactory(share=self.share)
        for _ in range(2):
            ClickFactory(link=link, occurred_at=self.hour)
        ClickFactory(link=link, occurred_at=self.hour - timedelta(hours=2), accrued_at=self.hour - timedelta(hours=1))
        self.held = _published_share(self.campaign, published_at=self.published_at)
        ClickFactory(link=TrackingLinkFactory(share=self.held), occurred_at=self.hour)
        services.share_hold_open(share_id=self.held.pk, reason=HoldReason.CLICK_VELOCITY, detail="too fast")
        # The held share was read at +1h too and its +6h read was given up: it does not decide "next".
        MetricSnapshotFactory(share=self.held, window="+1h", collected_at=self.read_at - timedelta(minutes=5))

    def pending_line(self) -> str:
        return (
            f"2 clicks from {_time(self.hour)}\u2013{_time(self.hour + timedelta(hours=1))} are counted but not paid "
            f"yet: they are booked after the hour closes, at about {_time(self.hour + timedelta(minutes=65))}."
        )


@pytest.fixture
def scene() -> Scene:
    return Scene()


def test_timing_has_the_newest_count_the_next_window_and_the_clicks_not_booked(scene: Scene) -> None:
    timing = results_timing_get_for_campaign(campaign=scene.campaign, now=scene.now)

    assert timing.counts_as_of == scene.read_at
    assert timing.next_count_at == scene.published_at + timedelta(hours=6)
    assert not timing.next_count_due_now
    assert timing.clicks.hours == [
        PendingClickHour(hour=scene.hour, count=2, booked_after=scene.hour + timedelta(minutes=65), overdue=False)
    ]
    assert timing.clicks.held == 1
    assert timing.schedule == "1 hour, 6 hours, 24 hours, 72 hours, 7 days and 28 days"


def test_a_window_given_up_or_read_is_not_next_and_a_missed_one_is_due_now(scene: Scene) -> None:
    for share in (scene.share, scene.held):
        MetricWindowRetry.objects.create(share=share, window="+6h", attempts=6, gave_up_at=scene.now)
    later = scene.now + timedelta(hours=30)

    timing = results_timing_get_for_campaign(campaign=scene.campaign, now=later)

    # +6h given up for both; +24h (published 3 h before "now") is past at "later" and not read: due now.
    assert timing.next_count_at == scene.published_at + timedelta(hours=24)
    assert timing.next_count_due_now


def test_clicks_of_an_hour_past_its_booking_time_are_overdue_and_booked_ones_are_gone(scene: Scene) -> None:
    later = scene.hour + timedelta(minutes=70)
    assert clicks_pending_for_influencer(influencer=scene.share.influencer, now=later).hours[0].overdue

    services.click_earnings_accrue_due(now=later)

    pending = clicks_pending_for_influencer(influencer=scene.share.influencer, now=later)
    assert pending.hours == []


def test_brand_results_show_as_of_next_count_and_the_pending_clicks(scene: Scene, client: Client) -> None:
    client.force_login(MembershipFactory(brand=scene.campaign.brand, role=BrandRole.ANALYST).user)
    url = reverse("campaigns:detail", args=[scene.campaign.brand.slug, scene.campaign.pk]) + "?tab=results"

    page = client.get(url).content.decode()

    assert f"Network counts as of {_local(scene.read_at, 'SHORT_DATETIME_FORMAT')}" in page
    assert f"Next count due at {_local(scene.published_at + timedelta(hours=6), 'SHORT_DATETIME_FORMAT')}" in page
    assert "read 1 hour, 6 hours, 24 hours, 72 hours, 7 days and 28 days after each post" in page
    assert scene.pending_line() in page
    assert "1 click on a share on hold for review is paid once our team has checked the share." in page


def test_influencer_results_and_earnings_show_the_pending_clicks(scene: Scene, client: Client) -> None:
    client.force_login(scene.share.influencer.user)

    results = client.get(reverse("influencers:results")).content.decode()
    earnings = client.get(reverse("payouts:earnings")).content.decode()

    assert f"Network counts as of {_local(scene.read_at, 'SHORT_DATETIME_FORMAT')}" in results
    assert scene.pending_line() in results
    assert scene.pending_line() in earnings
    assert "booked here once their hour has closed" in earnings


def test_the_offer_page_promises_what_the_earnings_page_shows(scene: Scene, client: Client) -> None:
    client.force_login(scene.share.influencer.user)

    page = client.get(reverse("influencers:offer-detail", kwargs={"pk": scene.share.offer_id})).content.decode()

    assert "booked as earnings once their hour has closed, a few minutes past the full hour" in page
    assert "Your earnings page shows the clicks not booked yet." in page


def test_schedule_words_cover_minutes_hours_and_days() -> None:
    windows = [("+2m", timedelta(minutes=2)), ("+1h", timedelta(hours=1)), ("+7d", timedelta(days=7))]

    assert schedule_words(windows) == "2 minutes, 1 hour and 7 days"


def test_the_landing_page_no_longer_promises_results_every_minute(settings: Any, monkeypatch: Any) -> None:
    settings.LINKILIKE_SHOW_DEMO_LOGINS = True
    account = SimpleNamespace(name="Alpen Brand", role="Brand owner", email="owner@demo.linkilike.test")
    monkeypatch.setattr("linkilike.views.demo_account_list", lambda: [account])

    page = Client().get(reverse("landing")).content.decode()

    assert "owner@demo.linkilike.test" in page
    assert "grow every minute" not in page
    assert "its results grow in steps, each time the network&#x27;s counts are read" in page or (
        "its results grow in steps, each time the network's counts are read" in page
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the ordered walk is PostgreSQL only")
def test_the_ordered_walk_for_the_next_count_equals_the_aggregate() -> None:
    """PostgreSQL walks the posts in publication order and stops at the first one missing each window (P2:
    the aggregate looked every window of every post up); the times must be the aggregate's."""
    now = timezone.now()
    campaign: Campaign = CampaignFactory.create(status="approved")
    windows = metric_windows()
    shares = Share.objects.filter(campaign=campaign)
    times = [now - timedelta(hours=hours) for hours in (800, 100, 30, 5, 2)]
    posts = [_published_share(campaign, published_at=at) for at in times]
    SharePublication.objects.filter(share=_published_share(campaign, published_at=now - timedelta(days=60)).pk).update(
        state=PublicationState.REMOVED
    )  # a removed post waits for nothing
    SharePublication.objects.filter(share=_published_share(campaign, published_at=now - timedelta(days=61))).update(
        external_id=""
    )  # nor a post the network never confirmed

    def both() -> datetime | None:
        walked = _next_count_at_in_order(shares, windows)
        assert walked == _next_count_at_aggregate(shares, windows)
        return walked

    assert both() == times[0] + timedelta(hours=1)  # nothing read: the oldest's +1h
    # Every window due so far is read, the oldest post's last one given up: the next is the 5-hour-old post's +6h.
    for share, published_at in zip(posts, times, strict=True):
        for label, offset in windows:
            if published_at + offset <= now and (share, label) != (posts[0], "+28d"):
                MetricSnapshotFactory(share=share, window=label, collected_at=published_at + offset)
    MetricWindowRetry.objects.create(share=posts[0], window="+28d", attempts=6, gave_up_at=now)
    assert both() == times[3] + timedelta(hours=6)
    # A missed window of an older post comes first again (due now).
    MetricSnapshot.objects.filter(share=posts[2], window="+24h").delete()
    assert both() == times[2] + timedelta(hours=24)
    assert times[2] + timedelta(hours=24) <= now
    MetricWindowRetry.objects.filter(share=posts[0]).delete()
    assert both() == times[0] + timedelta(days=28)
    assert _next_count_at_in_order(Share.objects.none(), windows) is None
