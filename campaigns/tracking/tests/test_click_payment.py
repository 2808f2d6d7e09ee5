"""Results count the clicks the ledger pays, and the others by reason (post removed, over budget, late).

The rule (ADR 9, ADR 10, the offer page): a post must stay up with its disclosure during the hold. When it
is removed, the click earnings still in their hold are reversed and those clicks stop being billable;
clicks after the removal (and clicks not booked yet) are recorded but not billable, reason "post removed".
Click earnings already released stay paid, and their clicks stay billable.
"""

from __future__ import annotations

import csv
import io
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from brands.models import BrandRole
from campaigns.earnings.services import earnings_release_due
from campaigns.metrics.removal import publication_remove
from campaigns.models import Campaign, Click, ClickReason, PublicationState, Share, SharePublication, TrackingLink
from campaigns.tracking import capture, services
from campaigns.tracking.capture import ClickEvent
from campaigns.tracking.selectors import campaign_results_get_for_campaign, influencer_results_get_for_influencer
from payouts.models import AccountKind, EarningAccrual, EarningLine, LedgerAccount, Metric, ShareEarning
from payouts.tests.helpers import funded_campaign
from tests.factories.brands import MembershipFactory
from tests.factories.tracking import ClickFactory, ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CPC = 63


def _published_link(*, budget: int = 100_000) -> TrackingLink:
    campaign = funded_campaign(budget=budget, cpc_minor=CPC, cpm_minor=None, cpe_minor=None, platform_fee_bps=0)
    share = ShareFactory(offer__match__campaign=campaign)
    SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=secrets.token_hex(16),
        external_id="post-1",
        external_url="https://mastodon.example/@lena/1",
        published_at=T0 - timedelta(hours=1),
    )
    link: TrackingLink = TrackingLinkFactory.create(share=share)
    return link


def _clicks(link: TrackingLink, at: datetime, count: int) -> None:
    for index in range(count):
        ClickFactory(link=link, occurred_at=at + timedelta(minutes=index))


def _drained(link: TrackingLink, at: datetime, count: int) -> None:
    """Clicks as the drain records them (through the rules), from different visitors."""
    events = []
    for index in range(count):
        meta = {"REMOTE_ADDR": f"198.51.100.{index + 1}", "HTTP_USER_AGENT": "Mozilla/5.0 Firefox/128.0"}
        event = capture.click_event_from_meta(meta, method="GET", link_id=link.pk)
        moment = (at + timedelta(minutes=index)).timestamp()
        events.append(ClickEvent(**{**vars(event), "event_id": uuid.uuid4().hex, "occurred_at": moment}))
    services.clicks_record(events=events)


def _remove(link: TrackingLink, at: datetime) -> None:
    publication_remove(publication=SharePublication.objects.get(share=link.share), now=at)


def _ledger_clicks(share: Share) -> int:
    """The clicks the ledger pays for: the earnings engine's count, checked against its explanation lines."""
    counted = ShareEarning.objects.get(share_key=str(share.pk)).unique_clicks
    lines = EarningLine.objects.filter(accrual__share__share_key=str(share.pk), metric=Metric.UNIQUE_CLICKS).aggregate(
        n=Sum("units")
    )["n"]
    assert counted == (lines or 0)
    return counted


def _reconciles() -> None:
    out = StringIO()
    call_command("ledger_reconcile", stdout=out)
    assert "drift=0" in out.getvalue()
    assert "ledger reconciles: 0 drift" in out.getvalue()


def _balance(share: Share, kind: str) -> int:
    account = LedgerAccount.objects.filter(kind=kind, influencer_id=share.influencer_id).first()
    return account.balance_minor if account else 0


def _reasons(share: Share) -> dict[str, int]:
    rows = Click.objects.filter(link__share=share, billable=False).values_list("reason", flat=True)
    counts: dict[str, int] = {}
    for reason in rows:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def test_removal_reverses_the_click_earnings_still_on_hold_and_keeps_the_released_ones() -> None:
    link = _published_link()
    share = link.share
    _clicks(link, T0, 5)
    assert services.click_earnings_accrue_due(now=T0 + timedelta(hours=2)) == 1
    released_at = T0 + timedelta(days=15)
    assert earnings_release_due(now=released_at) == 1  # 5 clicks x 63 are the influencer's to withdraw
    later = released_at + timedelta(hours=1)
    _clicks(link, later, 3)
    assert services.click_earnings_accrue_due(now=later + timedelta(hours=2)) == 1  # 3 x 63 on hold
    _clicks(link, later + timedelta(hours=2), 2)  # not booked yet

    _remove(link, later + timedelta(hours=3))

    earning = ShareEarning.objects.get(share_key=str(share.pk))
    assert (earning.unique_clicks, earning.earned_minor) == (5, 5 * CPC)
    assert _ledger_clicks(share) == 5
    removed = EarningAccrual.objects.get(share=earning, window="removed")
    assert removed.earned_minor == -3 * CPC
    assert _balance(share, AccountKind.INFLUENCER_PENDING) == 0
    assert _balance(share, AccountKind.INFLUENCER_AVAILABLE) == 5 * CPC
    assert Click.objects.filter(link=link, billable=True).count() == 5
    assert _reasons(share) == {ClickReason.POST_REMOVED: 5}  # the 3 reversed and the 2 never booked
    # Nothing of the removed post is booked later, and a second removal changes nothing.
    assert services.click_earnings_accrue_due(now=later + timedelta(days=1)) == 0
    _remove(link, later + timedelta(days=1))
    assert ShareEarning.objects.get(pk=earning.pk).earned_minor == 5 * CPC
    _reconciles()


def test_a_click_after_removal_is_recorded_but_not_billable() -> None:
    link = _published_link()
    _remove(link, T0)
    _drained(link, T0 + timedelta(minutes=5), 2)
    clicks = list(Click.objects.filter(link=link).values_list("billable", "reason"))
    assert clicks == [(False, ClickReason.POST_REMOVED)] * 2
    assert services.click_earnings_accrue_due(now=T0 + timedelta(hours=3)) == 0
    assert not EarningAccrual.objects.filter(window__startswith="clicks:").exists()
    _reconciles()


def test_a_click_drained_while_the_post_is_being_removed_is_not_left_billable() -> None:
    """The drain read the publication before the removal committed: the accrual sweeps the click up."""
    link = _published_link()
    _clicks(link, T0, 1)
    SharePublication.objects.filter(share=link.share).update(state=PublicationState.REMOVED, removed_at=T0)
    assert services.click_earnings_accrue_due(now=T0 + timedelta(hours=2)) == 0
    assert list(Click.objects.filter(link=link).values_list("billable", "reason")) == [
        (False, ClickReason.POST_REMOVED)
    ]


def _member(campaign: Campaign) -> Client:
    client = Client()
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)
    return client


@pytest.mark.parametrize("raw", [False, True])
def test_results_count_the_clicks_paid_and_show_the_others_by_reason(raw: bool) -> None:
    """The reported case: 5 clicks paid (released), the post deleted, 2 clicks after it. Results said 7
    unique clicks and an effective CPC of 45 while 63 was paid per click."""
    link = _published_link()
    share, campaign = link.share, link.share.campaign
    _drained(link, T0, 5)
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=2))
    earnings_release_due(now=T0 + timedelta(days=15))
    _remove(link, T0 + timedelta(days=16))
    _drained(link, T0 + timedelta(days=16, hours=1), 2)
    services.click_earnings_accrue_due(now=T0 + timedelta(days=17))

    paid = _ledger_clicks(share)
    assert paid == 5
    results = campaign_results_get_for_campaign(campaign=campaign, raw=raw)
    assert results.totals.unique_clicks == paid
    assert results.spend_minor == 5 * CPC
    assert results.effective_cpc_minor == results.spend_minor // paid == CPC
    assert results.clicks_not_billable == {ClickReason.POST_REMOVED: 2}
    assert [(row.reason, row.count) for row in results.clicks_not_billable_rows] == [(ClickReason.POST_REMOVED, 2)]

    member = _member(campaign)
    api = member.get(reverse("brand-campaign-results", args=[campaign.brand.slug, campaign.pk])).json()
    assert api["totals"]["unique_clicks"] == paid
    assert api["effective_cpc_minor"] == CPC
    assert api["clicks_not_billable"] == {"post_removed": 2}

    page = member.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results")
    html = page.content.decode()
    assert "Billable clicks" in html
    assert "Not billable" in html
    assert "Post removed" in html

    export = member.get(reverse("campaigns:results-export", args=[campaign.brand.slug, campaign.pk]))
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0]["unique_clicks (measured)"] == str(paid)
    assert rows[0]["clicks_not_billable (by reason)"] == "post_removed=2"

    mine = influencer_results_get_for_influencer(influencer=share.influencer)
    assert mine.totals.unique_clicks == paid
    assert mine.clicks_not_billable == {ClickReason.POST_REMOVED: 2}
    influencer = Client()
    influencer.force_login(share.influencer.user)
    html = influencer.get(reverse("influencers:results")).content.decode()
    assert "Billable clicks" in html
    assert "Post removed" in html
    _reconciles()


@pytest.mark.parametrize("path", ["batch", "per_row"])
def test_clicks_the_budget_cannot_pay_are_not_billable(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if path == "per_row":

        def failing(**_kwargs: Any) -> Any:
            raise RuntimeError("batch unavailable")

        monkeypatch.setattr(services, "earnings_accrue_batch", failing)
    link = _published_link(budget=200)  # pays 3 clicks of 63; the 4th only in part
    share = link.share
    _clicks(link, T0, 5)
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=2))

    earning = ShareEarning.objects.get(share_key=str(share.pk))
    assert (earning.unique_clicks, earning.earned_minor) == (3, 3 * CPC)  # whole clicks only
    assert _ledger_clicks(share) == 3
    assert Click.objects.filter(link=link, billable=True).count() == 3
    assert _reasons(share) == {ClickReason.OVER_BUDGET: 2}
    # The next hour: the 11 left in the reservation pays no click.
    _clicks(link, T0 + timedelta(hours=1), 2)
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=3))
    assert _ledger_clicks(share) == 3 == Click.objects.filter(link=link, billable=True).count()
    assert _reasons(share) == {ClickReason.OVER_BUDGET: 4}
    results = campaign_results_get_for_campaign(campaign=share.campaign)
    assert results.totals.unique_clicks == 3
    assert results.effective_cpc_minor == CPC
    _reconciles()


def test_a_click_drained_after_its_hour_was_paid_is_marked_late() -> None:
    link = _published_link()
    _clicks(link, T0, 2)
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=2))
    ClickFactory(link=link, occurred_at=T0 + timedelta(minutes=30))  # the drain was an hour behind
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=3))
    assert _ledger_clicks(link.share) == 2 == Click.objects.filter(link=link, billable=True).count()
    assert _reasons(link.share) == {ClickReason.LATE: 1}
    _reconciles()


def test_results_agree_with_the_ledger_when_everything_happens_at_once() -> None:
    """Duplicates, a bot, a budget running out and a removal, on two shares of one campaign."""
    first = _published_link(budget=600)
    second = TrackingLinkFactory(share=ShareFactory(offer__match__campaign=first.share.campaign))
    SharePublication.objects.create(
        share=second.share,
        state=PublicationState.PUBLISHED,
        idempotency_key=secrets.token_hex(16),
        published_at=T0 - timedelta(hours=1),
    )
    _drained(first, T0, 4)
    _drained(first, T0 + timedelta(minutes=10), 2)  # the same visitors again: duplicates
    _drained(second, T0, 6)
    bot = capture.click_event_from_meta(
        {"REMOTE_ADDR": "192.0.2.1", "HTTP_USER_AGENT": "curl/8"}, method="GET", link_id=second.pk
    )
    services.clicks_record(
        events=[ClickEvent(**{**vars(bot), "occurred_at": (T0 + timedelta(minutes=20)).timestamp()})]
    )
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=2))  # 10 clicks, 600 pays 9
    _remove(first, T0 + timedelta(hours=3))
    _drained(first, T0 + timedelta(hours=4), 1)
    services.click_earnings_accrue_due(now=T0 + timedelta(hours=6))

    campaign = first.share.campaign
    paid = sum(_ledger_clicks(link.share) for link in (first, second))
    for raw in (False, True):
        results = campaign_results_get_for_campaign(campaign=campaign, raw=raw)
        assert results.totals.unique_clicks == paid
        spend = results.spend_minor
        assert results.effective_cpc_minor == (spend + paid // 2) // paid
        assert sum(results.clicks_not_billable.values()) + paid == Click.objects.count()
    _reconciles()
