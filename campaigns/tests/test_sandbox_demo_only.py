"""The sandbox's simulated audience is for demo brands only (security finding: sandbox engagement billable).

A sandbox account speaks the Mastodon API, so a campaign targeting Mastodon could reach it; only a
brand with ``Brand.is_demo`` may match, offer to, publish to or pay for sandbox accounts. Every path
is covered: the set-based engine and the one-by-one scorer, matching runs, match approval, the
offer's account choice, publishing, metrics earnings and click earnings (the ledger's own refusal
is in ``payouts/tests/test_sandbox_earnings.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from django.utils import timezone

from brands.models import Brand
from campaigns.errors import MatchTransitionError, OfferAccountInvalid
from campaigns.influencer.selectors_offers import account_options_for_offer
from campaigns.matching import engine
from campaigns.matching.selectors import offer_accounts_usable
from campaigns.matching.services import match_approve, matching_run, offer_accept
from campaigns.metrics import services as metrics
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Match,
    MetricSnapshot,
    Offer,
    OfferStatus,
    PublicationState,
    Share,
    SharePublication,
)
from campaigns.publishing import services as publishing
from campaigns.tracking import services as tracking
from influencers.models import InfluencerProfile
from networks.models import ConnectedAccount, Network
from payouts.models import EarningAccrual, ShareEarning
from payouts.tests.helpers import funded_campaign as money_campaign
from tests.doubles.publishing import (
    RECORDING_URL,
    RecordingProvider,
    funded_campaign,
    ready_share,
    recording_settings,
)
from tests.factories.brands import BrandFactory
from tests.factories.campaigns import CampaignFactory, MatchFactory, OfferFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory
from tests.factories.tracking import ClickFactory, ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db


def brand(*, demo: bool) -> Brand:
    return cast(Brand, BrandFactory(demo=demo))


def mastodon_campaign(*, demo: bool, **fields: Any) -> Campaign:
    defaults: dict[str, Any] = {
        "status": CampaignStatus.APPROVED,
        "networks": ["mastodon"],
        "countries": [],
        "languages": [],
        "followers_min": None,
        "followers_max": None,
    }
    return cast(Campaign, CampaignFactory(brand=brand(demo=demo), **{**defaults, **fields}))


def person_on(network: str) -> InfluencerProfile:
    profile = cast(InfluencerProfile, InfluencerProfileFactory(languages=["en"]))
    ConnectedAccountFactory(influencer=profile, network=network, followers_count=2000)
    return profile


# --- matching ------------------------------------------------------------------------------


def test_a_real_brand_never_matches_a_sandbox_account_while_a_demo_brand_does() -> None:
    real, demo = mastodon_campaign(demo=False), mastodon_campaign(demo=True)
    sandbox_only, on_mastodon = person_on(Network.SANDBOX), person_on(Network.MASTODON)

    assert set(engine.eligible_influencers(real).values_list("pk", flat=True)) == {on_mastodon.pk}
    assert {item.influencer_id for item in engine.campaign_score(real)} == {on_mastodon.pk}
    assert engine.influencer_score_one(real, sandbox_only, campaign_topic_slugs=[]) is None
    assert engine.account_networks_for(real) == ["mastodon"]

    # A demo brand's pretend budget reaches the simulated audience only, never a real account.
    assert set(engine.eligible_influencers(demo).values_list("pk", flat=True)) == {sandbox_only.pk}
    assert engine.influencer_score_one(demo, sandbox_only, campaign_topic_slugs=[]) is not None
    assert engine.influencer_score_one(demo, on_mastodon, campaign_topic_slugs=[]) is None
    assert engine.account_networks_for(demo) == ["sandbox"]


def test_a_matching_run_proposes_sandbox_accounts_to_demo_brands_only() -> None:
    real, demo = mastodon_campaign(demo=False), mastodon_campaign(demo=True)
    sandbox_only = person_on(Network.SANDBOX)

    matching_run(campaign=real)
    matching_run(campaign=demo)

    assert not Match.objects.filter(campaign=real, influencer=sandbox_only).exists()
    assert Match.objects.filter(campaign=demo, influencer=sandbox_only).exists()


def test_a_proposal_left_from_before_is_withdrawn_not_offered() -> None:
    """A match proposed for a sandbox account earlier (or while the brand was a demo) never becomes an offer."""
    real = mastodon_campaign(demo=False)
    sandbox_only = person_on(Network.SANDBOX)
    match = cast(Match, MatchFactory(campaign=real, influencer=sandbox_only))

    with pytest.raises(MatchTransitionError):
        match_approve(match=match, decided_by=None)
    assert not Offer.objects.filter(match=match).exists()

    matching_run(campaign=real)
    match.refresh_from_db()
    assert match.status == "withdrawn"


def test_a_demo_brand_can_still_approve_a_sandbox_match(django_capture_on_commit_callbacks: Any) -> None:
    demo = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"], brand=brand(demo=True))
    match = cast(Match, MatchFactory(campaign=demo, influencer=person_on(Network.SANDBOX)))

    with django_capture_on_commit_callbacks(execute=True):
        offer = match_approve(match=match, decided_by=None)

    assert offer.status == OfferStatus.NEW


# --- offers --------------------------------------------------------------------------------


def test_an_offer_of_a_real_brand_cannot_be_accepted_for_a_sandbox_account() -> None:
    campaign = ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"], brand=brand(demo=False))
    influencer = person_on(Network.SANDBOX)
    offer = cast(Offer, OfferFactory(match__campaign=campaign, match__influencer=influencer))
    account = ConnectedAccount.objects.get(influencer=influencer)

    assert not offer_accounts_usable(offer=offer).exists()
    (option,) = account_options_for_offer(offer=offer)
    assert not option.selectable
    assert "demo" in str(option.reason)
    with pytest.raises(OfferAccountInvalid):
        offer_accept(offer=offer, influencer=influencer, account_ids=[account.pk], caption_text=None, scheduled_at=None)
    assert not Share.objects.filter(offer=offer).exists()


# --- publishing ----------------------------------------------------------------------------


@pytest.fixture
def network(settings: Any) -> Any:
    """The sandbox served by the recording double, so a post that goes out is seen without a server."""
    recording_settings(settings)
    settings.SITE_URL = "https://linkilike.test"
    settings.NETWORK_PROVIDERS = {
        **settings.NETWORK_PROVIDERS,
        Network.SANDBOX: {"class": "tests.doubles.publishing.RecordingProvider", "base_url": RECORDING_URL},
    }
    return RecordingProvider.reset()


def sandbox_share(*, demo: bool) -> Share:
    """A READY share to a sandbox account, as one made before the gate (``offer_accept`` now refuses it)."""
    return ready_share(network=Network.SANDBOX, campaign=funded_campaign(networks=["mastodon"], demo=demo))


def publish(share: Share) -> SharePublication:
    publication = publishing.share_publication_schedule(share=share)
    assert publication is not None
    publishing.publication_publish(publication_id=publication.pk)
    publication.refresh_from_db()
    return publication


def test_a_share_to_a_sandbox_account_is_not_published_for_a_real_brand(network: Any) -> None:
    publication = publish(sandbox_share(demo=False))

    assert publication.state == PublicationState.FAILED
    assert publication.error_code == "sandbox_not_demo"
    assert not publication.retry_safe
    assert network.posts == []


def test_a_share_to_a_sandbox_account_is_published_for_a_demo_brand(network: Any) -> None:
    publication = publish(sandbox_share(demo=True))

    assert publication.state == PublicationState.PUBLISHED, publication.last_error
    assert len(network.posts) == 1


# --- metrics and clicks --------------------------------------------------------------------


def test_a_sandbox_snapshot_books_no_earnings_for_a_real_brand(network: Any, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h"]
    share = sandbox_share(demo=True)
    publication = publish(share)  # published while the brand was a demo brand
    Brand.objects.filter(pk=share.campaign.brand_id).update(is_demo=False)
    network.posts[0].likes, network.posts[0].reposts = 40, 5
    assert publication.published_at is not None

    report = metrics.metrics_pull_due(now=publication.published_at + timedelta(hours=1, minutes=1))

    assert report.snapshots == 1
    assert MetricSnapshot.objects.get(share=share).likes == 40  # what the network said is kept
    assert not EarningAccrual.objects.exists()  # but it earns nothing
    assert not ShareEarning.objects.filter(share_key=str(share.pk), earned_minor__gt=0).exists()


def test_a_sandbox_snapshot_still_earns_for_a_demo_brand(network: Any, settings: Any) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h", "+6h"]
    share = sandbox_share(demo=True)
    publication = publish(share)
    network.posts[0].likes = 40
    assert publication.published_at is not None

    metrics.metrics_pull_due(now=publication.published_at + timedelta(hours=1, minutes=1))

    assert ShareEarning.objects.get(share_key=str(share.pk)).earned_minor == 400  # 40 x 0.10


CLICK_NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize("demo", [False, True], ids=["real brand", "demo brand"])
def test_clicks_on_a_sandbox_share_earn_for_a_demo_brand_only(demo: bool) -> None:
    campaign = money_campaign(budget=100_000, cpc_minor=10, cpm_minor=None, cpe_minor=None)
    Brand.objects.filter(pk=campaign.brand_id).update(is_demo=demo)
    share = ShareFactory(offer__match__campaign=campaign, connected_account__network=Network.SANDBOX)
    link = TrackingLinkFactory(share=share)
    for minute in range(3):
        ClickFactory(link=link, occurred_at=CLICK_NOW.replace(hour=10, minute=minute))

    booked = tracking.click_earnings_accrue_due(now=CLICK_NOW)

    assert booked == (1 if demo else 0)
    assert EarningAccrual.objects.filter(share__share_key=str(share.pk)).exists() is demo


def test_publishing_refuses_even_when_the_flag_is_cleared_after_queueing(network: Any) -> None:
    """The gate reads the brand at publish time, not when the share was queued."""
    share = sandbox_share(demo=True)
    publication = publishing.share_publication_schedule(share=share)
    assert publication is not None
    Brand.objects.filter(pk=share.campaign.brand_id).update(is_demo=False)

    publishing.publication_publish(publication_id=publication.pk, now=timezone.now())

    publication.refresh_from_db()
    assert publication.state == PublicationState.FAILED
    assert network.posts == []
