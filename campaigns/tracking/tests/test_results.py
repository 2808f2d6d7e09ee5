"""Results tab, shares tab, CSV export, results API and the influencer's results page."""

from __future__ import annotations

import csv
import io
import itertools
import re
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from brands.models import BrandRole
from campaigns.models import (
    Campaign,
    Click,
    HoldReason,
    MetricSnapshot,
    PublicationState,
    Share,
    SharePublication,
    ShareStatus,
    TrackingLink,
)
from campaigns.tracking import services
from networks.models import ConnectedAccount, Network
from networks.providers.registry import network_label
from payouts.models import EarningAccrual, ShareEarning
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import CampaignFactory, OfferFactory
from tests.factories.networks import ConnectedAccountFactory
from tests.factories.tracking import ClickFactory, MetricSnapshotFactory, ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db
_serial = itertools.count()


def _member(client: Client, campaign: Campaign, role: str = BrandRole.ANALYST) -> Client:
    client.force_login(MembershipFactory(brand=campaign.brand, role=role).user)
    return client


def _campaign_with_shares(n: int, *, influencers: int = 5) -> Campaign:
    """n shares spread over a few influencers, each with two snapshots, two clicks and a publication."""
    campaign: Campaign = CampaignFactory.create(status="approved", cpc_minor=10)
    now = timezone.now()
    shares: list[Share] = []
    per = max(1, n // influencers)
    offers = [OfferFactory(match__campaign=campaign, status="accepted") for _ in range(min(influencers, n))]
    for index in range(n):
        offer = offers[min(index // per, len(offers) - 1)]
        account = ConnectedAccount(
            influencer_id=offer.influencer_id,
            network=Network.MASTODON if index % 2 else Network.BLUESKY,
            instance_url="https://mastodon.example",
            external_id=f"bulk-{next(_serial)}",
            handle=f"@bulk{index}@mastodon.example",
            followers_count=500,
        )
        shares.append(
            Share(
                offer=offer,
                campaign=campaign,
                influencer_id=offer.influencer_id,
                connected_account=account,
                caption_text="#ad",
                status=ShareStatus.READY,
            )
        )
    accounts = ConnectedAccount.objects.bulk_create([share.connected_account for share in shares])
    for share, account in zip(shares, accounts, strict=True):
        share.connected_account = account
    shares = Share.objects.bulk_create(shares)
    SharePublication.objects.bulk_create(
        SharePublication(
            share=share,
            state=PublicationState.PUBLISHED,
            idempotency_key=secrets.token_hex(16),
            external_url=f"https://mastodon.example/@bulk/{share.pk}",
            published_at=now - timedelta(days=2),
        )
        for share in shares
    )
    snapshots = []
    for share in shares:
        reach = None if share.connected_account.network == Network.BLUESKY else 100
        snapshots.append(
            MetricSnapshot(share=share, window="+1h", collected_at=now - timedelta(days=2), reach=reach, engagements=2)
        )
        snapshots.append(
            MetricSnapshot(share=share, window="+24h", collected_at=now - timedelta(days=1), reach=reach, engagements=5)
        )
    MetricSnapshot.objects.bulk_create(snapshots)
    links = TrackingLink.objects.bulk_create(
        TrackingLink(share=share, code=secrets.token_urlsafe(7), target_url="https://example.com/?utm_content=1")
        for share in shares
    )
    Click.objects.bulk_create(
        Click(
            link=link,
            event_id=secrets.token_hex(16),
            occurred_at=now - timedelta(hours=hours),
            ip_hash=secrets.token_hex(8),
            ua_hash="u",
            billable=billable,
            reason="" if billable else "bot",
        )
        for link in links
        for hours, billable in ((30, True), (3, False))
    )
    first = shares[0]
    ShareEarning.objects.create(
        share_key=str(first.pk), campaign=campaign, influencer_id=first.influencer_id, unique_clicks=1, earned_minor=10
    )
    accrual = EarningAccrual.objects.create(
        share=ShareEarning.objects.get(share_key=str(first.pk)),
        window="clicks:x",
        campaign=campaign,
        influencer_id=first.influencer_id,
        source="measured",
        currency="EUR",
        earned_minor=1000,
        fee_minor=150,
        pending_minor=1000,
        hold_until=now,
    )
    _book_in_the_ledger(accrual)
    services.share_hold_open(share_id=first.pk, reason=HoldReason.CLICK_VELOCITY, detail="too fast")
    return campaign


def _book_in_the_ledger(accrual: EarningAccrual) -> None:
    """The accrual's money in the ledger, where a campaign's spend is read (``payouts.selectors``)."""
    from campaigns.earnings.budget import campaign_budget_reserve, campaign_reserved_account
    from payouts.models import AccountKind, TransactionKind
    from payouts.services.ledger import Posting, brand_fund, influencer_account, ledger_post, platform_account

    campaign = accrual.campaign
    brand_fund(
        brand=campaign.brand,
        amount_minor=campaign.budget_minor,
        currency="EUR",
        source="bank_transfer",
        reference=f"T-{campaign.pk}",
    )
    campaign_budget_reserve(campaign=campaign)
    with transaction.atomic():
        accrual.ledger_transaction = ledger_post(
            kind=TransactionKind.EARNING,
            campaign=campaign,
            brand=campaign.brand,
            postings=[
                Posting(campaign_reserved_account(campaign=campaign), -(accrual.earned_minor + accrual.fee_minor)),
                Posting(
                    influencer_account(
                        influencer=accrual.influencer, kind=AccountKind.INFLUENCER_PENDING, currency="EUR"
                    ),
                    accrual.earned_minor,
                ),
                Posting(platform_account(kind=AccountKind.PLATFORM_FEES, currency="EUR"), accrual.fee_minor),
            ],
        )
    accrual.save(update_fields=["ledger_transaction"])


def _count_queries(client: Client, url: str) -> tuple[int, Any]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_results_page_and_api_issue_the_same_queries_for_10_and_2000_shares(client: Client) -> None:
    small, large = _campaign_with_shares(10), _campaign_with_shares(2000)
    counts: dict[str, Any] = {}
    for name, campaign in (("small", small), ("large", large)):
        member = _member(Client(), campaign)
        page = reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results"
        api = reverse("brand-campaign-results", args=[campaign.brand.slug, campaign.pk])
        counts[name] = (_count_queries(member, page)[0], _count_queries(member, api)[0])
        _, response = _count_queries(member, api)
        counts[name + "-data"] = response.json()["totals"]
    assert counts["small"] == counts["large"], counts
    assert counts["large-data"]["shares"] == 2000
    assert counts["large-data"]["unique_clicks"] == 2000  # the bot click is not counted
    assert counts["large-data"]["reach"] == 100 * 1000  # only the Mastodon half reports reach
    assert counts["large-data"]["engagements"] == 5 * 2000  # the latest snapshot per share, not the sum


def test_results_tab_shows_labelled_numbers_chart_and_breakdowns(client: Client) -> None:
    campaign = _campaign_with_shares(10, influencers=2)
    member = _member(client, campaign)
    response = member.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results")
    html = response.content.decode()
    for text in (
        "Reach",
        "Impressions",
        "Engagements",
        "Billable clicks",
        "Spend incl. platform fee",
        "Effective CPM",
        "Effective CPE",
        "Effective CPC",
        "Earned media value",
        "metric-badge-network",
        "metric-badge-measured",
        "metric-badge-estimated",
        "Reported by the network",
        "Measured by Linkilike",
        "By network",
        "Mastodon",
        "Bluesky",
        "By influencer",
        "On hold for review",
        "<svg",
        "<polyline",
    ):
        assert text in html, text
    assert "style=" not in html
    assert "<script>" not in html
    results = response.context["results"]
    assert results.totals.reach == 500  # 5 Mastodon shares x 100
    assert results.totals.engagements == 50
    assert results.totals.unique_clicks == 10
    assert results.spend_minor == 1150
    assert results.effective_cpc_minor == 115
    assert results.effective_cpe_minor == 23
    for row in results.by_influencer:
        assert row.label in html


def test_results_tab_empty_state(client: Client) -> None:
    campaign = CampaignFactory()
    response = _member(client, campaign).get(
        reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results"
    )
    assert "No results yet" in response.content.decode()


def test_csv_export_has_one_row_per_share(client: Client) -> None:
    campaign = _campaign_with_shares(4, influencers=2)
    response = _member(client, campaign).get(
        reverse("campaigns:results-export", args=[campaign.brand.slug, campaign.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["share_id", "campaign", "network", "influencer"]
    assert "unique_clicks (measured)" in header
    assert "reach (network-reported)" in header
    assert len(body) == 4
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    first = Share.objects.filter(campaign=campaign).order_by("pk").first()
    row = by_id[str(first.pk)]
    assert row["unique_clicks (measured)"] == "1"
    assert row["engagements (network-reported)"] == "5"
    assert row["earned"] == "0.10"
    assert row["held_for_review"] == "yes"
    assert row["post_url"].startswith("https://mastodon.example/")
    assert "@" not in row["influencer"]  # display names, never contact details


def test_csv_cells_cannot_start_a_formula(client: Client) -> None:
    share = ShareFactory(offer__match__influencer__display_name="=HYPERLINK(1)")
    response = _member(client, share.campaign).get(
        reverse("campaigns:results-export", args=[share.campaign.brand.slug, share.campaign.pk])
    )
    assert "'=HYPERLINK(1)" in b"".join(response.streaming_content).decode()


def test_shares_tab_lists_state_network_post_and_clicks(client: Client) -> None:
    campaign = _campaign_with_shares(3, influencers=1)
    response = _member(client, campaign).get(
        reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=shares"
    )
    html = response.content.decode()
    share = Share.objects.filter(campaign=campaign).select_related("influencer").first()
    assert share.influencer.display_name in html
    assert share.publication.external_url in html
    assert "Published" in html
    assert "Mastodon" in html
    assert html.count('<td class="num">1</td>') == 3


def test_other_brands_cannot_see_results(client: Client) -> None:
    campaign = _campaign_with_shares(2)
    other = CampaignFactory()
    member = _member(client, other)
    for url in (
        reverse("campaigns:results-export", args=[campaign.brand.slug, campaign.pk]),
        reverse("brand-campaign-results", args=[campaign.brand.slug, campaign.pk]),
        reverse("campaigns:results-export", args=[other.brand.slug, campaign.pk]),
        reverse("brand-campaign-results", args=[other.brand.slug, campaign.pk]),
    ):
        assert member.get(url).status_code == 404, url


def test_influencer_sees_only_their_own_shares_with_earnings(client: Client) -> None:
    campaign = _campaign_with_shares(6, influencers=2)
    first = Share.objects.filter(campaign=campaign).order_by("pk").select_related("influencer__user").first()
    mine = Share.objects.filter(influencer=first.influencer).count()
    client.force_login(first.influencer.user)
    response = client.get(reverse("influencers:results"))
    html = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["shares"]) == mine < 6
    assert response.context["results"].totals.earned_minor == 10
    assert "€0.10" in html  # the same money format as the earnings page
    assert "metric-badge-measured" in html
    export = client.get(reverse("influencers:results-export"))
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == 1 + mine


def test_influencer_without_shares_sees_an_empty_state(client: Client) -> None:
    account = ConnectedAccountFactory()
    client.force_login(account.influencer.user)
    assert "No shares yet" in client.get(reverse("influencers:results")).content.decode()


def test_drained_clicks_show_up_as_unique_clicks_on_the_results(client: Client) -> None:
    link = TrackingLinkFactory()
    MetricSnapshotFactory(share=link.share)
    for ua in ("Mozilla/5.0 Firefox/128.0", "Mozilla/5.0 Firefox/128.0", "curl/8"):
        client.get(f"/r/{link.code}", HTTP_USER_AGENT=ua)
    services.clicks_drain()
    ClickFactory(link=link, billable=False, reason="duplicate")
    api = reverse("brand-campaign-results", args=[link.share.campaign.brand.slug, link.share.campaign.pk])
    data = _member(Client(), link.share.campaign).get(api).json()
    assert data["totals"]["unique_clicks"] == 1
    assert data["labels"]["unique_clicks"] == "measured"
    assert data["labels"]["emv_minor"] == "estimated"


def test_editors_set_the_emv_prices_and_the_estimate_follows(client: Client) -> None:
    campaign = _campaign_with_shares(2, influencers=1)
    editor = _member(client, campaign, role=BrandRole.MANAGER)
    url = reverse("campaigns:emv-prices", args=[campaign.brand.slug, campaign.pk])
    response = editor.post(url, {"impressions": "10.00", "engagements": "0.50", "clicks": "1.00"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.emv_prices == {"impressions": 1000, "engagements": 50, "clicks": 100}
    page = editor.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=results")
    # reach 100 (one Mastodon share) -> 1.00, 10 engagements x 0.50 = 5.00, 2 clicks x 1.00 = 2.00
    assert page.context["results"].emv_minor == 100 + 500 + 200
    assert editor.post(url, {"impressions": "-1", "engagements": "0", "clicks": "0"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.emv_prices["impressions"] == 1000


def test_analysts_cannot_change_emv_prices(client: Client) -> None:
    campaign = _campaign_with_shares(1, influencers=1)
    analyst = _member(client, campaign, role=BrandRole.ANALYST)
    url = reverse("campaigns:emv-prices", args=[campaign.brand.slug, campaign.pk])
    assert analyst.post(url, {"impressions": "1", "engagements": "1", "clicks": "1"}).status_code == 403
    campaign.refresh_from_db()
    assert campaign.emv_prices == {}


def test_over_time_series_counts_a_catch_up_pull_once() -> None:
    """One pull can record several windows with the same timestamp (catch-up after downtime, or the
    browser journey's time travel): the chart must show 23 engagements, not 23 per window."""
    from campaigns.tracking.selectors import campaign_results_get_for_campaign

    share = ShareFactory()
    moment = timezone.now()
    for window in ("+1h", "+6h", "+24h", "+7d"):
        MetricSnapshotFactory(
            share=share, window=window, collected_at=moment, reach=None, impressions=None, engagements=23
        )
    results = campaign_results_get_for_campaign(campaign=share.campaign)
    assert results.series[-1].engagements == 23


def _earning(share: Share, earned_minor: int) -> None:
    """What the earnings engine keeps per share (its rollup trigger carries it into the results)."""
    ShareEarning.objects.create(
        share_key=str(share.pk), campaign=share.campaign, influencer_id=share.influencer_id, earned_minor=earned_minor
    )


def test_an_influencer_earning_in_two_currencies_never_sees_them_added_up(client: Client) -> None:
    euro = ShareFactory(offer__match__campaign__currency="EUR")
    franc = ShareFactory(
        offer__match__influencer=euro.influencer,
        offer__match__campaign__currency="CHF",
        connected_account=euro.connected_account,
    )
    _earning(euro, 1_250)
    _earning(franc, 900)
    client.force_login(euro.influencer.user)

    response = client.get(reverse("influencers:results"))
    html = response.content.decode()
    results = response.context["results"]

    assert results.earned_by_currency == [("CHF", 900), ("EUR", 1_250)]
    assert "€12.50" in html
    assert re.search(r"CHF\s9\.00", html)  # a no-break space between code and amount
    assert "€21.50" not in html  # never the two added up as euros
    network = network_label(euro.connected_account.network)
    assert [(row.label, row.currency, row.totals.earned_minor) for row in results.by_network] == [
        (f"{network} (CHF)", "CHF", 900),
        (f"{network} (EUR)", "EUR", 1_250),
    ]


def test_an_influencer_earning_in_one_other_currency_sees_it(client: Client) -> None:
    share = ShareFactory(offer__match__campaign__currency="GBP")
    _earning(share, 700)
    client.force_login(share.influencer.user)

    response = client.get(reverse("influencers:results"))

    results = response.context["results"]
    assert results.currency == "GBP"
    assert results.earned_by_currency == []
    html = response.content.decode()
    assert "£7.00" in html
    assert "€7.00" not in html
