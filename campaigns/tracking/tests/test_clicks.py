"""Tracking redirect, durable capture and the click rules (F1 dedupe, bots, HEAD/prefetch; F2 velocity)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Click, ClickReason, HoldReason, MetricSnapshot, ShareHold, TrackingLink
from campaigns.tracking import services
from campaigns.tracking.capture import PROCESSING_KEY, QUEUE_KEY, ClickEvent, redis_client, redis_key
from tests.factories.campaigns import ContentPieceFactory
from tests.factories.tracking import ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Version/17.5 Mobile Safari/604.1"


def _click(client: Client, link: TrackingLink, *, ua: str = FIREFOX, ip: str = "203.0.113.7", **extra: Any) -> Any:
    return client.get(f"/r/{link.code}", HTTP_USER_AGENT=ua, REMOTE_ADDR=ip, **extra)


def _drain() -> None:
    services.clicks_drain()


def _event(link: TrackingLink, *, ip: str, at: float | None = None, **flags: bool) -> ClickEvent:
    return ClickEvent(
        event_id=uuid.uuid4().hex,
        link_id=link.pk,
        occurred_at=at if at is not None else time.time(),
        ip_hash=ip,
        ua_hash="ua",
        ua_family="Firefox",
        referrer_host="",
        is_head=flags.get("is_head", False),
        is_prefetch=flags.get("is_prefetch", False),
        is_bot=flags.get("is_bot", False),
    )


def test_tracking_link_for_share_is_stable_and_targets_content_with_utm_content() -> None:
    share = ShareFactory()
    ContentPieceFactory(campaign=share.campaign, target_url="https://shop.example/autumn?ref=1")
    url = services.tracking_link_for_share(share=share)
    assert url == services.tracking_link_for_share(share=share)
    link = TrackingLink.objects.get(share=share)
    assert url.endswith(f"/r/{link.code}")
    assert 8 <= len(link.code) <= 12
    assert link.target_url.startswith("https://shop.example/autumn?ref=1&")
    assert f"utm_content={share.pk}" in link.target_url
    assert f"utm_campaign={share.campaign.slug}" in link.target_url


def test_redirect_answers_302_without_cookies_and_never_writes_the_database(client: Client) -> None:
    link = TrackingLinkFactory()
    _click(client, link)  # warms the code cache
    with CaptureQueriesContext(connection) as queries:
        response = _click(client, link, ip="198.51.100.1")
    assert response.status_code == 302
    assert response["Location"] == link.target_url
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert not response.cookies
    assert [q["sql"] for q in queries.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")] == []
    assert len(queries) == 0  # the code came from the cache
    assert Click.objects.count() == 0
    assert redis_client().llen(redis_key(QUEUE_KEY)) == 2
    _drain()
    assert Click.objects.count() == 2


def test_redirect_on_a_cold_cache_only_reads(client: Client) -> None:
    link = TrackingLinkFactory()
    with CaptureQueriesContext(connection) as queries:
        assert _click(client, link).status_code == 302
    assert all(q["sql"].lstrip().upper().startswith("SELECT") for q in queries.captured_queries)
    assert len(queries) == 1


def test_unknown_code_is_a_404_page(client: Client) -> None:
    response = client.get("/r/doesNotExist")
    assert response.status_code == 404
    assert redis_client().llen(redis_key(QUEUE_KEY)) == 0


def test_without_redis_the_click_is_recorded_directly(client: Client, settings: Any) -> None:
    settings.REDIS_URL = ""
    link = TrackingLinkFactory()
    assert _click(client, link).status_code == 302
    assert Click.objects.get().billable


def test_drain_loses_nothing_in_batches() -> None:
    link = TrackingLinkFactory()
    redis = redis_client()
    now = time.time()
    for index in range(1000):
        redis.lpush(redis_key(QUEUE_KEY), _event(link, ip=f"ip-{index}", at=now - 3600 + index).to_json())
    assert services.clicks_drain(batch_size=100) == 1000
    assert Click.objects.filter(link=link).count() == 1000
    assert redis.llen(redis_key(QUEUE_KEY)) == 0
    assert redis.llen(redis_key(PROCESSING_KEY)) == 0


def test_a_batch_left_by_a_crashed_drain_is_recorded_once() -> None:
    link = TrackingLinkFactory()
    redis = redis_client()
    events = [_event(link, ip=f"ip-{index}") for index in range(5)]
    # The crashed drain had moved these to the processing list and even committed two of them.
    for event in events:
        redis.lpush(redis_key(PROCESSING_KEY), event.to_json())
    services.clicks_record(events=events[:2])
    redis.lpush(redis_key(QUEUE_KEY), _event(link, ip="later").to_json())
    services.clicks_drain()
    assert Click.objects.count() == 6
    assert set(Click.objects.values_list("event_id", flat=True)) >= {e.event_id for e in events}


def test_same_visitor_counts_once_within_the_window(client: Client) -> None:
    link = TrackingLinkFactory()
    for _ in range(3):
        assert _click(client, link).status_code == 302
    _click(client, link, ip="203.0.113.8")  # another visitor
    # Same address, other browser: one visitor (the user agent is the client's claim; ADR 10's trade-off).
    _click(client, link, ua=SAFARI)
    _drain()
    assert Click.objects.filter(billable=True).count() == 2
    assert Click.objects.filter(reason=ClickReason.DUPLICATE).count() == 3


def test_the_same_visitor_counts_again_after_the_window() -> None:
    link = TrackingLinkFactory()
    start = time.time() - 30 * 3600
    services.clicks_record(events=[_event(link, ip="a", at=start)])
    services.clicks_record(events=[_event(link, ip="a", at=start + 3600)])
    services.clicks_record(events=[_event(link, ip="a", at=start + 25 * 3600)])
    assert list(Click.objects.order_by("occurred_at").values_list("billable", flat=True)) == [True, False, True]


@pytest.mark.parametrize(
    "user_agent",
    [
        "curl/8.5.0",
        "Twitterbot/1.0",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "python-requests/2.32.3",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/126.0 Safari/537.36",
        "WhatsApp/2.23.20.0",
        "",
    ],
)
def test_bots_are_redirected_but_not_billable(client: Client, user_agent: str) -> None:
    link = TrackingLinkFactory()
    assert _click(client, link, ua=user_agent).status_code == 302
    _drain()
    click = Click.objects.get()
    assert (click.billable, click.reason, click.ua_family) == (False, ClickReason.BOT, "bot")


def test_head_requests_are_redirected_but_not_billable(client: Client) -> None:
    link = TrackingLinkFactory()
    response = client.head(f"/r/{link.code}", HTTP_USER_AGENT=FIREFOX)
    assert response.status_code == 302
    _drain()
    assert Click.objects.get().reason == ClickReason.HEAD
    assert not Click.objects.get().billable


@pytest.mark.parametrize(
    "header", [{"HTTP_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"}, {"HTTP_X_MOZ": "prefetch"}]
)
def test_prefetch_is_redirected_but_not_billable_and_the_real_click_still_counts(client: Client, header: dict) -> None:
    link = TrackingLinkFactory()
    assert _click(client, link, **header).status_code == 302
    _click(client, link)
    _drain()
    assert list(Click.objects.order_by("occurred_at").values_list("billable", "reason")) == [
        (False, ClickReason.PREFETCH),
        (True, ""),
    ]


def test_velocity_above_the_limit_puts_the_share_on_hold(settings: Any) -> None:
    settings.TRACKING_VELOCITY_PER_MINUTE = 5
    link = TrackingLinkFactory()
    minute = (int(time.time()) // 60) * 60 - 120
    services.clicks_record(events=[_event(link, ip=f"v{index}", at=minute + index) for index in range(8)])
    assert Click.objects.filter(billable=True).count() == 5
    assert Click.objects.filter(reason=ClickReason.VELOCITY_HOLD).count() == 3
    hold = ShareHold.objects.get(share=link.share)
    assert hold.reason == HoldReason.CLICK_VELOCITY
    assert hold.is_open
    # The next minute is a fresh budget, and the hold is not duplicated.
    services.clicks_record(events=[_event(link, ip=f"w{index}", at=minute + 60 + index) for index in range(6)])
    assert Click.objects.filter(billable=True).count() == 10
    assert ShareHold.objects.filter(share=link.share).count() == 1


def test_reach_above_followers_times_k_puts_the_share_on_hold(settings: Any) -> None:
    settings.TRACKING_REACH_FOLLOWERS_FACTOR = 10
    share = ShareFactory(connected_account__followers_count=100)
    assert services.reach_anomaly_check(share=share, reach=1000) is None
    hold = services.reach_anomaly_check(share=share, reach=1001)
    assert hold is not None
    assert hold.reason == HoldReason.REACH_ANOMALY
    assert services.reach_anomaly_check(share=share, reach=5000) == hold


def test_redirect_route_is_named() -> None:
    assert reverse("tracking-redirect", kwargs={"code": "abc"}) == "/r/abc"


def test_click_rows_store_no_raw_ip_or_user_agent(client: Client) -> None:
    link = TrackingLinkFactory()
    _click(client, link, ip="192.0.2.55", HTTP_REFERER="https://social.example/@lena/1")
    _drain()
    click = Click.objects.get()
    values = " ".join(str(v) for v in Click.objects.values().get().values())
    assert "192.0.2.55" not in values
    assert "Firefox/128" not in values
    assert click.referrer_host == "social.example"
    assert click.ua_family == "Firefox"


def _with_history(share: Any, engagements: list[int], followers: int = 1000) -> None:
    """Earlier shares of the same influencer, each with a latest snapshot of ``engagements``."""
    for count in engagements:
        earlier = ShareFactory(offer__influencer=share.influencer, connected_account__followers_count=followers)
        MetricSnapshot.objects.create(share=earlier, window="+1h", engagements=count // 2)
        MetricSnapshot.objects.create(share=earlier, window="+24h", engagements=count)


def test_engagement_far_above_the_influencers_usual_puts_the_share_on_hold(settings: Any) -> None:
    settings.TRACKING_ENGAGEMENT_ANOMALY_FACTOR = 5
    settings.TRACKING_ENGAGEMENT_ANOMALY_FLOOR = 50
    share = ShareFactory(connected_account__followers_count=1000)
    _with_history(share, [8, 10, 12])  # usually 1 % of the followers (the latest snapshot of each share)
    assert services.engagement_anomaly_check(share=share, engagements=50) is None  # 5 %: at the limit
    hold = services.engagement_anomaly_check(share=share, engagements=51)
    assert hold is not None
    assert hold.reason == HoldReason.ENGAGEMENT_ANOMALY
    assert "median of 3 shares" in hold.detail
    assert services.engagement_anomaly_check(share=share, engagements=400) == hold


def test_engagement_check_needs_history_and_ignores_small_numbers(settings: Any) -> None:
    settings.TRACKING_ENGAGEMENT_ANOMALY_FLOOR = 50
    share = ShareFactory(connected_account__followers_count=1000)
    _with_history(share, [1, 1])
    assert services.engagement_anomaly_check(share=share, engagements=900) is None  # two shares: no usual yet
    _with_history(share, [1])
    assert services.engagement_anomaly_check(share=share, engagements=49) is None  # below the floor
    assert services.engagement_anomaly_check(share=share, engagements=60) is not None
    other = ShareFactory(connected_account__followers_count=1000)  # another influencer's history is not theirs
    assert services.engagement_anomaly_check(share=other, engagements=900) is None
