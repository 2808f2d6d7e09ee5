"""The results' pending clicks by hour and unpaid clicks by reason come from rollups (migration 0020, ADR 12).

P2 failed (page 2.85x, API 3.47x) because these two reads counted the campaign's raw clicks: 0.6-1.0 s and
0.1-0.2 s on 200,000 pending clicks. They now read ``CampaignPendingHour`` and ``CampaignResultReason``,
kept by the click triggers, and only the clicks of the shares on hold or with the post removed. The figures
must stay those of the raw computation through every way a click moves: recorded by the drain's rules,
booked, marked over budget, late or post removed, released from a hold, deleted.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import time as time_filter
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandRole
from campaigns.models import (
    Campaign,
    CampaignPendingHour,
    CampaignResultReason,
    Click,
    ClickReason,
    HoldReason,
    PublicationState,
    SharePublication,
    TrackingLink,
)
from campaigns.tracking import capture, services
from campaigns.tracking.capture import ClickEvent
from campaigns.tracking.selectors import campaign_results_get_for_campaign, clicks_not_billable_for_campaign
from campaigns.tracking.selectors_timing import (
    ClicksPending,
    clicks_pending_for_campaign,
    results_timing_get_for_campaign,
)
from payouts.tests.helpers import funded_campaign
from tests.factories.brands import MembershipFactory
from tests.factories.tracking import ShareFactory, TrackingLinkFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup triggers are PostgreSQL only"),
]

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CPC = 63


def _published_link(campaign: Campaign) -> TrackingLink:
    share = ShareFactory(offer__match__campaign=campaign)
    SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=secrets.token_hex(16),
        external_id=secrets.token_hex(4),
        external_url="https://mastodon.example/@lena/1",
        published_at=T0 - timedelta(hours=1),
    )
    link: TrackingLink = TrackingLinkFactory.create(share=share)
    return link


def _drained(link: TrackingLink, at: datetime, visitors: int, *, bot: bool = False) -> None:
    """Clicks as the drain records them, through the click rules (a visitor again within the window is a repeat)."""
    events = []
    for index in range(visitors):
        agent = "curl/8" if bot else "Mozilla/5.0 Firefox/128.0"
        meta = {"REMOTE_ADDR": f"198.51.100.{index + 1}", "HTTP_USER_AGENT": agent}
        event = capture.click_event_from_meta(meta, method="GET", link_id=link.pk)
        moment = (at + timedelta(minutes=index)).timestamp()
        events.append(ClickEvent(**{**vars(event), "event_id": uuid.uuid4().hex, "occurred_at": moment}))
    services.clicks_record(events=events)


def _clicks(link: TrackingLink, at: datetime, count: int, **fields: Any) -> None:
    Click.objects.bulk_create(
        Click(
            link=link,
            event_id=secrets.token_hex(16),
            occurred_at=at + timedelta(minutes=index),
            ip_hash=secrets.token_hex(16),
            ua_hash="0" * 32,
            **{"billable": True, **fields},
        )
        for index in range(count)
    )


def _hours(pending: ClicksPending) -> dict[datetime, int]:
    return {row.hour: row.count for row in pending.hours}


def _same_as_raw(campaign: Campaign, now: datetime) -> tuple[ClicksPending, dict[str, int]]:
    """The rollup's figures equal the raw computation's (and the kept rows equal a rebuild from the clicks)."""
    pending = clicks_pending_for_campaign(campaign=campaign, now=now)
    assert pending == clicks_pending_for_campaign(campaign=campaign, now=now, raw=True)
    reasons = clicks_not_billable_for_campaign(campaign=campaign)
    assert reasons == clicks_not_billable_for_campaign(campaign=campaign, raw=True)
    assert campaign_results_get_for_campaign(campaign=campaign).clicks_not_billable == reasons
    assert results_timing_get_for_campaign(campaign=campaign, now=now).clicks == pending
    kept = _rollup_rows()
    with connection.cursor() as cursor:
        cursor.execute("SELECT campaigns_click_rollups_rebuild()")
    assert _rollup_rows() == kept
    return pending, reasons


def _rollup_rows() -> tuple[set[Any], set[Any]]:
    return (
        set(CampaignPendingHour.objects.values_list("campaign_id", "hour", "clicks")),
        set(CampaignResultReason.objects.exclude(clicks=0).values_list("campaign_id", "reason", "clicks")),
    )


@pytest.fixture
def scene() -> Any:
    """A funded campaign paying 4 clicks: share A published, share B on hold, share C whose post is removed
    while two of its clicks wait (the drain raced the removal); another campaign's share D."""
    campaign = funded_campaign(budget=4 * CPC + 10, cpc_minor=CPC, cpm_minor=None, cpe_minor=None, platform_fee_bps=0)
    a, b, c = (_published_link(campaign) for _ in range(3))
    d = _published_link(funded_campaign(budget=10_000, cpc_minor=CPC, cpm_minor=None, cpe_minor=None))
    _drained(a, T0, 3)  # 3 billable
    _drained(a, T0 + timedelta(minutes=10), 3)  # the same visitors again: 3 repeats
    _drained(a, T0 + timedelta(minutes=20), 1, bot=True)
    _clicks(a, T0 + timedelta(hours=1), 2)
    _clicks(a, T0 + timedelta(hours=3), 1)
    _clicks(b, T0 + timedelta(hours=1), 2)
    _clicks(b, T0 + timedelta(hours=2), 1)
    _clicks(b, T0 + timedelta(hours=2), 1, billable=False, reason=ClickReason.IP_RATE)
    services.share_hold_open(share_id=b.share_id, reason=HoldReason.CLICK_VELOCITY, detail="too fast")
    _clicks(c, T0 + timedelta(hours=2), 2)
    _clicks(c, T0 + timedelta(hours=2), 1, billable=False, reason=ClickReason.POST_REMOVED)
    SharePublication.objects.filter(share=c.share).update(state=PublicationState.REMOVED, removed_at=T0)
    _clicks(d, T0, 4)
    _clicks(d, T0, 1, billable=False, reason=ClickReason.BOT)
    return campaign, a, b, c, d


def test_pending_and_unpaid_clicks_from_the_rollups_equal_the_raw_counts_as_clicks_move(scene: Any) -> None:
    campaign, a, b, c, _d = scene
    now = T0 + timedelta(minutes=30)

    pending, reasons = _same_as_raw(campaign, now)
    # A's clicks by hour; B's wait for the review; C's (post removed) are not shown; D is another campaign.
    assert _hours(pending) == {T0: 3, T0 + timedelta(hours=1): 2, T0 + timedelta(hours=3): 1}
    assert pending.held == 3
    assert reasons == {ClickReason.DUPLICATE: 3, ClickReason.BOT: 1, "ip_rate": 1, "post_removed": 1}

    # The booking run: A's two closed hours are paid as far as the budget goes (4 clicks, the 5th over
    # budget), C's waiting clicks are marked post removed, B's stay on hold, A's running hour waits.
    now = T0 + timedelta(hours=2, minutes=10)
    services.click_earnings_accrue_due(now=now)
    pending, reasons = _same_as_raw(campaign, now)
    assert _hours(pending) == {T0 + timedelta(hours=3): 1}
    assert pending.held == 3
    assert reasons == {
        ClickReason.DUPLICATE: 3,
        ClickReason.BOT: 1,
        ClickReason.IP_RATE: 1,
        ClickReason.POST_REMOVED: 3,
        ClickReason.OVER_BUDGET: 1,
    }
    assert Click.objects.filter(link=a, billable=True, accrued_at__isnull=False).count() == 4

    # A click of a paid hour drained late waits, then is marked late; the hold is released and B's clicks
    # go back to their hours; then everything is booked (the budget is spent: over budget).
    _clicks(a, T0 + timedelta(minutes=40), 1)
    _same_as_raw(campaign, now)
    assert _hours(clicks_pending_for_campaign(campaign=campaign, now=now))[T0] == 1
    services.share_hold_release(hold=b.share.holds.get(released_at__isnull=True), released_by=None)
    pending, _reasons = _same_as_raw(campaign, now)
    assert _hours(pending) == {
        T0: 1,
        T0 + timedelta(hours=1): 2,
        T0 + timedelta(hours=2): 1,
        T0 + timedelta(hours=3): 1,
    }
    assert pending.held == 0
    now = T0 + timedelta(hours=5)
    services.click_earnings_accrue_due(now=now)
    pending, reasons = _same_as_raw(campaign, now)
    assert pending == ClicksPending()
    assert reasons[ClickReason.LATE] == 1
    assert reasons[ClickReason.OVER_BUDGET] == 1 + 4  # B's 3 and A's last one: the budget is spent
    # Every recorded click is paid or not paid for one reason.
    paid = Click.objects.filter(link__share__campaign=campaign, billable=True).count()
    assert paid + sum(reasons.values()) == Click.objects.filter(link__share__campaign=campaign).count()

    # Deleted clicks (staff, a share deleted) leave both rollups; a rollup hour whose last click went is gone.
    _clicks(c, T0 + timedelta(hours=6), 2)
    SharePublication.objects.filter(share=c.share).update(state=PublicationState.PUBLISHED)
    assert _hours(_same_as_raw(campaign, now)[0]) == {T0 + timedelta(hours=6): 2}
    Click.objects.filter(link=c).delete()
    pending, reasons = _same_as_raw(campaign, now)
    assert pending == ClicksPending()
    assert ClickReason.POST_REMOVED not in reasons
    assert not CampaignPendingHour.objects.filter(campaign=campaign).exists()


def test_the_campaign_read_counts_no_clicks_of_shares_not_set_aside(scene: Any) -> None:
    campaign, _a, b, c, _d = scene
    now = T0 + timedelta(minutes=30)

    with CaptureQueriesContext(connection) as captured:
        clicks_pending_for_campaign(campaign=campaign, now=now)
        clicks_not_billable_for_campaign(campaign=campaign)
    reading_clicks = [query["sql"] for query in captured.captured_queries if '"campaigns_click"' in query["sql"]]
    # One query reads clicks: those of the held share B and the removed share C, never A's.
    assert len(reading_clicks) == 1
    assert (
        f"IN ({b.share_id}, {c.share_id})" in reading_clicks[0]
        or f"IN ({c.share_id}, {b.share_id})" in (reading_clicks[0])
    )
    assert len(captured) == 4  # pending hours, shares set aside, their clicks; reasons

    # Nothing set aside: the figures come from the rollups alone.
    services.share_hold_release(hold=b.share.holds.get(released_at__isnull=True), released_by=None)
    Click.objects.filter(link=c).delete()
    SharePublication.objects.filter(share=c.share).update(state=PublicationState.PUBLISHED)
    with CaptureQueriesContext(connection) as captured:
        pending = clicks_pending_for_campaign(campaign=campaign, now=now)
        clicks_not_billable_for_campaign(campaign=campaign)
    assert not [query for query in captured.captured_queries if '"campaigns_click"' in query["sql"]]
    assert pending == clicks_pending_for_campaign(campaign=campaign, now=now, raw=True)
    assert pending.held == 0


def test_the_results_page_shows_the_closed_hours_waiting_as_one_line(scene: Any, client: Client) -> None:
    """P2's seed has a month of clicks waiting: the page listed 720 lines, one per closed hour."""
    campaign, a, _b, _c, _d = scene
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    _clicks(a, hour, 1)  # the running hour: its own line, with its booking time
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)

    page = client.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results")

    html = page.content.decode()
    since = date_filter(timezone.localtime(T0), "SHORT_DATETIME_FORMAT")
    assert html.count('data-testid="clicks-pending"') == 2
    assert (
        f"6 clicks from the hours since {since} are counted but not paid yet: their hours have closed, they are "
        "booked within minutes."
    ) in html
    assert f"1 click from {time_filter(timezone.localtime(hour))}" in html
    assert "3 clicks on shares on hold for review are paid once our team has checked them." in html
