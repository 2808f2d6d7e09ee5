"""Issue 21: a flat participation fee per share (optionally by audience band), booked through the one pricing
policy: promised at acceptance, booked on hold when the post is up, kept once it stayed up with its disclosure
for the retention period, taken back when the post goes before that; estimate, offer, results, CSV, API."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from brands.models import BrandRole
from campaigns.earnings.participation import participation_fees_book_due, participation_retain_due
from campaigns.earnings.pricing import (
    PRICING,
    RETENTION_AFTER,
    ParticipationBand,
    participation_bands,
    participation_bands_problems,
    participation_fee_for,
)
from campaigns.earnings.services import PARTICIPATION_WINDOW, earnings_release_due
from campaigns.forms import CampaignForm
from campaigns.matching.selectors import offer_estimate_get, participation_terms
from campaigns.matching.services import offer_accept
from campaigns.metrics.removal import publication_remove
from campaigns.models import PublicationState, Share, SharePublication
from campaigns.pricing import budget_estimate
from campaigns.tracking.selectors import share_results_rows
from payouts.models import AccountKind, EarningAccrual, EarningLine, Metric, ShareEarning
from payouts.selectors import influencer_balance_minor, ledger_reconcile_report
from payouts.tests.helpers import assert_same, delta, funded_campaign, influencer
from payouts.tests.test_earnings_batch import both_ways
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import OfferFactory
from tests.factories.networks import ConnectedAccountFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db

BANDS = [
    {"up_to": 1_000, "fee_minor": 300},
    {"up_to": 10_000, "fee_minor": 1_200},
    {"up_to": 50_000, "fee_minor": 3_000},
]


# --- the policy ------------------------------------------------------------------------


def test_the_band_of_an_audience_then_the_flat_fee_for_audiences_no_band_covers() -> None:
    bands = participation_bands(list(reversed(BANDS)))
    assert [band.up_to for band in bands] == [1_000, 10_000, 50_000]
    assert participation_fee_for(fee_minor=5_000, bands=bands, followers=0) == 300
    assert participation_fee_for(fee_minor=5_000, bands=bands, followers=1_000) == 300
    assert participation_fee_for(fee_minor=5_000, bands=bands, followers=1_001) == 1_200
    assert participation_fee_for(fee_minor=5_000, bands=bands, followers=50_000) == 3_000
    assert participation_fee_for(fee_minor=5_000, bands=bands, followers=50_001) == 5_000
    assert participation_fee_for(fee_minor=None, bands=bands, followers=50_001) == 0
    open_ended = participation_bands([*BANDS, {"up_to": None, "fee_minor": 4_000}])
    assert participation_fee_for(fee_minor=5_000, bands=open_ended, followers=10**7) == 4_000


def test_band_problems_are_said_in_words() -> None:
    assert participation_bands_problems(participation_bands(BANDS)) == []
    problems = participation_bands_problems(
        [
            ParticipationBand(up_to=10, fee_minor=1),
            ParticipationBand(up_to=10, fee_minor=2),
            ParticipationBand(up_to=None, fee_minor=3),
            ParticipationBand(up_to=None, fee_minor=-1),
        ]
    )
    assert len(problems) == 3


def test_the_participation_fee_is_one_component_of_the_policy_within_the_cap() -> None:
    terms = {"cpm_minor": 600, "cpe_minor": 10, "cpc_minor": None, "per_share_cap_minor": 2_000}
    counts = {"impressions": 1_000, "engagements": 50, "unique_clicks": 0}
    with_fee = {**counts, "participations": 1, "participation_price_minor": 1_200}
    without = {**counts, "participations": 0, "participation_price_minor": 0}
    assert PRICING.amounts(with_fee, terms).total == 600 + 500 + 1_200
    assert PRICING.capped(PRICING.amounts(with_fee, terms).total, terms) == 2_000
    assert PRICING.amounts(without, terms).total == 1_100
    # A participation taken back (count 0) earns nothing whatever price it still carries.
    assert PRICING.amounts({**counts, "participations": 0, "participation_price_minor": 1_200}, terms).total == 1_100


def test_the_estimate_counts_the_fee_of_the_assumed_audience_in_the_cost_per_share() -> None:
    base = budget_estimate(budget_minor=115_000, platform_fee_bps=1500, cpe_minor=10)
    priced = budget_estimate(budget_minor=115_000, platform_fee_bps=1500, cpe_minor=10, participation_bands=BANDS)
    assert priced.participation_minor == 1_200  # 5,000 followers assumed: the 1k-10k band
    assert priced.cost_per_share_minor == base.cost_per_share_minor + 1_200
    alone = budget_estimate(budget_minor=115_000, platform_fee_bps=1500, participation_fee_minor=2_500)
    assert alone.priced
    assert alone.cost_per_share_minor == 2_500
    assert alone.shares == 100_000 // 2_500
    capped = budget_estimate(
        budget_minor=115_000, platform_fee_bps=1500, participation_fee_minor=2_500, per_share_cap_minor=2_000
    )
    assert capped.cost_per_share_minor == 2_000
    assert capped.capped


# --- the life of a fee -----------------------------------------------------------------


def _accepted_share(*, followers: int, budget: int = 100_000, **prices: Any) -> Share:
    prices = {"cpm_minor": None, "cpe_minor": None, "cpc_minor": None, "platform_fee_bps": 1500, **prices}
    campaign = funded_campaign(budget=budget, networks=["mastodon"], **prices)
    campaign.starts_at = timezone.now() - timedelta(days=1)
    campaign.ends_at = timezone.now() + timedelta(days=30)
    campaign.save()
    offer = OfferFactory(match__campaign=campaign)
    account = ConnectedAccountFactory(influencer=offer.influencer, network="mastodon", followers_count=followers)
    (share,) = offer_accept(
        offer=offer, influencer=offer.influencer, account_ids=[account.pk], caption_text=None, scheduled_at=None
    )
    return share


def _publish(share: Share, *, at: Any) -> SharePublication:
    publication, _created = SharePublication.objects.update_or_create(
        share=share,
        defaults={
            "state": PublicationState.PUBLISHED,
            "idempotency_key": secrets.token_hex(16),
            "external_id": f"post-{share.pk}",
            "external_url": f"https://mastodon.example/@lena/{share.pk}",
            "published_at": at,
        },
    )
    return publication


def _pending(share: Share) -> int:
    return influencer_balance_minor(influencer=share.influencer, kind=AccountKind.INFLUENCER_PENDING)


def _available(share: Share) -> int:
    return influencer_balance_minor(influencer=share.influencer, kind=AccountKind.INFLUENCER_AVAILABLE)


def test_the_fee_is_promised_by_the_band_at_acceptance_and_kept_when_followers_change() -> None:
    share = _accepted_share(followers=4_000, participation_fee_minor=5_000, participation_bands=BANDS)
    assert share.participation_fee_minor == 1_200
    share.connected_account.followers_count = 900_000
    share.connected_account.save()
    now = timezone.now()
    _publish(share, at=now)
    participation_fees_book_due(now=now)
    line = EarningLine.objects.get(accrual__window=PARTICIPATION_WINDOW)
    assert (line.metric, line.units, line.price_minor, line.amount_minor) == (Metric.PARTICIPATION, 1, 1_200, 1_200)


def test_booked_on_hold_when_up_released_only_after_retention_and_hold() -> None:
    share = _accepted_share(followers=20_000, participation_bands=BANDS)
    t0 = timezone.now()
    _publish(share, at=t0)
    assert participation_fees_book_due(now=t0).deltas == 1
    assert participation_fees_book_due(now=t0).deltas == 0  # once per share
    accrual = EarningAccrual.objects.get(window=PARTICIPATION_WINDOW)
    assert (accrual.earned_minor, accrual.fee_minor, accrual.pending_minor) == (3_000, 450, 3_000)
    assert _pending(share) == 3_000
    # The hold is over but the retention check has not passed: still pending.
    SharePublication.objects.filter(share=share).update(published_at=t0 - timedelta(days=1))
    earnings_release_due(now=t0 + timedelta(days=30))
    assert (_pending(share), _available(share)) == (3_000, 0)
    # Still up after the retention period: kept, released with the next hold release.
    assert participation_retain_due(now=t0 + RETENTION_AFTER, after=RETENTION_AFTER) == 1
    earnings_release_due(now=t0 + timedelta(days=30))
    assert (_pending(share), _available(share)) == (0, 3_000)
    # Removed after it was kept: the fee stays earned.
    publication_remove(publication=SharePublication.objects.get(share=share), now=t0 + timedelta(days=31))
    assert _available(share) == 3_000
    assert ShareEarning.objects.get(share_key=str(share.pk)).earned_minor == 3_000
    assert ledger_reconcile_report().ok


def test_a_post_removed_before_the_retention_period_earns_nothing_and_its_pending_fee_is_reversed() -> None:
    share = _accepted_share(followers=500, budget=20_000, participation_bands=BANDS, cpe_minor=10)
    t0 = timezone.now()
    publication = _publish(share, at=t0)
    participation_fees_book_due(now=t0)
    assert _pending(share) == 300
    publication_remove(publication=publication, now=t0 + timedelta(days=2))
    assert _pending(share) == 0
    earning = ShareEarning.objects.get(share_key=str(share.pk))
    assert (earning.participations, earning.participation_price_minor, earning.earned_minor) == (0, 0, 0)
    removal = EarningLine.objects.get(accrual__window="removed", metric=Metric.PARTICIPATION)
    assert (removal.units, removal.price_minor, removal.amount_minor) == (-1, 300, -300)
    # Nothing left for the retention check to keep, and nothing is booked again.
    participation_retain_due(now=t0 + timedelta(days=8), after=RETENTION_AFTER)
    assert participation_fees_book_due(now=t0 + timedelta(days=8)).deltas == 0
    from campaigns.earnings.budget import campaign_reserved_account

    assert campaign_reserved_account(campaign=share.campaign).balance_minor == 20_000
    assert ledger_reconcile_report().ok


def test_a_pasted_link_retention_check_keeps_the_fee(monkeypatch: pytest.MonkeyPatch) -> None:
    from campaigns.publishing import proof

    share = _accepted_share(followers=500, participation_fee_minor=800)
    t0 = timezone.now()
    publication = _publish(share, at=t0 - timedelta(days=8))
    SharePublication.objects.filter(pk=publication.pk).update(proof_url="https://mastodon.example/@lena/1")
    monkeypatch.setattr(proof, "_page_problem", lambda **kwargs: ("", proof.PageVerdict.OK))
    from campaigns.metrics.services import retention_check_due

    assert retention_check_due(now=t0) == 1  # the pasted link fetched again; the fee booked by the same sweep
    publication.refresh_from_db()
    assert publication.retained_at == t0
    earnings_release_due(now=t0 + timedelta(days=15))
    assert _available(share) == 800


def test_a_sandbox_share_of_a_real_brand_earns_no_participation_fee() -> None:
    campaign = funded_campaign(budget=10_000, participation_fee_minor=500)
    share = ShareFactory(
        offer__match__campaign=campaign,
        connected_account__network="sandbox",
        participation_fee_minor=500,
    )
    _publish(share, at=timezone.now())
    assert participation_fees_book_due().deltas == 0


# --- per-row and set-based agree ---------------------------------------------------------


def test_per_row_and_set_based_bookings_agree_with_participation_fees_in_the_mix() -> None:
    campaigns = [
        funded_campaign(budget=1_000_000),
        funded_campaign(budget=4_000, per_share_cap_minor=1_500),
        funded_campaign(budget=30_000, cpm_minor=None, cpe_minor=None, cpc_minor=None),
    ]
    people = [influencer() for _ in range(3)]
    deltas = []
    for window in range(6):
        for c, campaign in enumerate(campaigns):
            for n, person in enumerate(people):
                key = f"s{c}-{n}"
                if window == 1:
                    deltas.append(
                        delta(
                            campaign,
                            person,
                            "participation",
                            share=key,
                            participations=1,
                            participation_price_minor=700 + 300 * n,
                        )
                    )
                elif window == 4 and n == 1:  # removed before retention: the fee taken back with the metrics
                    deltas.append(
                        delta(
                            campaign,
                            person,
                            "removed",
                            share=key,
                            participations=-1,
                            participation_price_minor=-(700 + 300 * n),
                            engagements=-5,
                        )
                    )
                else:
                    deltas.append(
                        delta(
                            campaign,
                            person,
                            f"w{window}",
                            share=key,
                            impressions=400 * window,
                            engagements=3 + window,
                            unique_clicks=window % 2,
                        )
                    )
    deltas.append(deltas[3])  # a repeated (share, window): books once
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_set_based > 0
    lines = EarningLine.objects.filter(metric=Metric.PARTICIPATION)
    assert lines.filter(units=1).exists()
    assert lines.filter(units=-1).exists()


# --- brand form, offer, results, CSV, API -------------------------------------------------


def _form_data(**extra: Any) -> dict[str, Any]:
    return {"name": "Bands", "currency": "EUR", "budget_minor": "500", **extra}


def test_the_form_takes_bands_and_keeps_the_input_with_its_errors() -> None:
    form = CampaignForm(
        data=_form_data(
            participation_fee_minor="40",
            band_1_up_to="1000",
            band_1_fee_minor="3",
            band_2_up_to="10000",
            band_2_fee_minor="12",
        )
    )
    assert form.is_valid(), form.errors
    fields = form.service_fields()
    assert fields["participation_fee_minor"] == 4_000
    assert fields["participation_bands"] == [{"up_to": 1_000, "fee_minor": 300}, {"up_to": 10_000, "fee_minor": 1_200}]
    assert form.estimate(platform_fee_bps=1500).participation_minor == 1_200

    bad = CampaignForm(data=_form_data(band_1_up_to="1000", band_2_up_to="1000", band_2_fee_minor="5"))
    assert not bad.is_valid()
    assert "band_1_fee_minor" in bad.errors
    assert bad["band_2_fee_minor"].value() == "5"
    capped = CampaignForm(data=_form_data(per_share_cap_minor="10", participation_fee_minor="20"))
    assert "participation_fee_minor" in capped.errors
    only_fee = CampaignForm(data=_form_data(participation_fee_minor="20"))
    assert only_fee.is_valid(), only_fee.errors  # a participation fee alone is a price


def test_the_offer_says_what_the_fee_is_and_counts_it_in_the_estimate() -> None:
    share = _accepted_share(followers=5_000, participation_fee_minor=5_000, participation_bands=BANDS)
    campaign = share.campaign
    words = participation_terms(campaign=campaign)
    assert "1,000" in words
    assert "12.00" in words
    assert "50.00" in words
    offer = OfferFactory(match__campaign=campaign)
    ConnectedAccountFactory(influencer=offer.influencer, network="mastodon", followers_count=700)
    estimate = offer_estimate_get(offer=offer)
    assert [account.participation_minor for account in estimate.accounts] == [300]
    assert estimate.low_minor >= 300
    assert "participation fee" in estimate.words


def test_results_csv_and_api_show_the_fee() -> None:
    share = _accepted_share(followers=20_000, participation_bands=BANDS)
    t0 = timezone.now()
    _publish(share, at=t0)
    participation_fees_book_due(now=t0)
    rows = list(share_results_rows(shares=Share.objects.filter(pk=share.pk), currency="EUR"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (str(row["participation_fee"]), row["participation_fee_state"]) == ("30.00", "on_hold")
    client = Client()
    client.force_login(MembershipFactory(brand=share.campaign.brand, role=BrandRole.ANALYST).user)
    campaign = share.campaign
    body = client.get(reverse("brand-campaign-results", args=[campaign.brand.slug, campaign.pk])).json()
    assert body["participation_minor"] == 3_000
    export = client.get(reverse("campaigns:results-export", args=[campaign.brand.slug, campaign.pk]))
    exported = next(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert (exported["participation_fee"], exported["participation_fee_state"]) == ("30.00", "on_hold")
    page = client.get(reverse("campaigns:detail", args=[campaign.brand.slug, campaign.pk]) + "?tab=shares")
    assert "Booked, waiting for the retention check" in page.content.decode()


def test_the_api_creates_a_campaign_with_bands_and_refuses_bad_ones() -> None:
    member = MembershipFactory(role=BrandRole.OWNER)
    client = APIClient()
    client.force_authenticate(member.user)
    url = reverse("brand-campaigns-list", kwargs={"brand_slug": member.brand.slug})
    created = client.post(
        url,
        {"name": "Fee", "participation_fee_minor": 900, "participation_bands": [{"up_to": 1000, "fee_minor": 300}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["participation_bands"] == [{"up_to": 1000, "fee_minor": 300}]
    assert created.json()["estimate"]["participation_minor"] in (300, 900)
    refused = client.post(
        url,
        {"name": "Bad", "participation_bands": [{"up_to": 10, "fee_minor": 3}, {"up_to": 10, "fee_minor": 4}]},
        format="json",
    )
    assert refused.status_code == 400, refused.content
