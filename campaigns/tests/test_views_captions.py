"""Caption approval by the brand and the campaign's influencers tab, used as brand members would."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from brands.models import BrandRole
from campaigns.influencer.selectors_offers import offer_caption_initial, offer_variant_pick
from campaigns.matching.services import offer_accept
from campaigns.models import Campaign, CampaignStatus, CaptionStatus, MatchStatus, Offer, Share, ShareStatus
from campaigns.publishing.selectors import share_state_get
from tests.factories.brands import MembershipFactory
from tests.factories.campaigns import MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db


def _campaign() -> Campaign:
    return ready_campaign(status=CampaignStatus.APPROVED, networks=["mastodon"], requires_caption_approval=True)


def _offer(campaign: Campaign, **influencer: Any) -> Offer:
    profile = InfluencerProfileFactory(languages=["en"], **influencer)
    match = MatchFactory(campaign=campaign, influencer=profile, status=MatchStatus.APPROVED)
    return Offer.objects.create(match=match, campaign=campaign, influencer=profile, expires_at=campaign.ends_at)


def _pending_share(campaign: Campaign, **influencer: Any) -> Share:
    offer = _offer(campaign, **influencer)
    account = ConnectedAccountFactory(influencer=offer.influencer, network="mastodon", handle="@lena@social.example")
    caption = offer_caption_initial(offer=offer, variant=offer_variant_pick(offer=offer)) + " My favourite!"
    (share,) = offer_accept(
        offer=offer, influencer=offer.influencer, account_ids=[account.pk], caption_text=caption, scheduled_at=None
    )
    assert share.caption_status == CaptionStatus.PENDING_APPROVAL
    return share


def _member(campaign: Campaign, role: str = BrandRole.MANAGER) -> Client:
    client = Client()
    client.force_login(MembershipFactory(brand=campaign.brand, role=role).user)
    return client


def _captions_url(campaign: Campaign) -> str:
    return reverse("campaigns:captions", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})


def _decision_url(share: Share, action: str) -> str:
    return reverse(f"campaigns:caption-{action}", kwargs={"brand_slug": share.campaign.brand.slug, "pk": share.pk})


def test_caption_round_trip_changes_resubmit_approve(django_capture_on_commit_callbacks: Any) -> None:
    campaign = _campaign()
    share = _pending_share(campaign, display_name="Lena Berger")
    brand = _member(campaign)
    influencer = Client()
    influencer.force_login(share.influencer.user)
    offer_url = reverse("influencers:offer-detail", kwargs={"pk": share.offer_id})

    page = brand.get(_captions_url(campaign)).content.decode()
    assert "Lena Berger" in page
    assert "My favourite!" in page
    assert "Mastodon" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = brand.post(_decision_url(share, "changes"), {"feedback": "Please mention it is from Linz."})
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.caption_status == CaptionStatus.CHANGES_REQUESTED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [share.influencer.user.email]
    assert "Please mention it is from Linz." in mail.outbox[0].body
    assert "Please mention it is from Linz." in influencer.get(offer_url).content.decode()

    resubmit = reverse("influencers:share-resubmit", kwargs={"pk": share.pk})
    refused = influencer.post(resubmit, {"caption": "no disclosure here"})
    assert refused.status_code == 400
    assert "Keep the disclosure" in refused.content.decode()
    caption = share.caption_text + " Roasted in Linz."
    assert influencer.post(resubmit, {"caption": caption}).status_code == 302
    share.refresh_from_db()
    assert share.caption_status == CaptionStatus.PENDING_APPROVAL
    assert "Roasted in Linz." in brand.get(_captions_url(campaign)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        assert brand.post(_decision_url(share, "approve")).status_code == 302
    share.refresh_from_db()
    assert share.caption_status == CaptionStatus.APPROVED
    assert share.status == ShareStatus.READY
    assert "approved your caption" in mail.outbox[-1].subject
    # Approved means READY and queued for publishing at once: the page shows the publication's state.
    offer_page = influencer.get(offer_url).content.decode()
    assert "Awaiting caption approval" not in offer_page
    assert share_state_get(share=Share.objects.select_related("publication").get(pk=share.pk)).label in offer_page
    assert "Nothing waiting" in brand.get(_captions_url(campaign)).content.decode()


def test_request_changes_needs_feedback_and_keeps_the_page() -> None:
    campaign = _campaign()
    share = _pending_share(campaign)

    response = _member(campaign).post(_decision_url(share, "changes"), {"feedback": "  "})

    assert response.status_code == 400
    assert "Tell the influencer what to change." in response.content.decode()
    share.refresh_from_db()
    assert share.caption_status == CaptionStatus.PENDING_APPROVAL


def test_analyst_sees_captions_but_cannot_decide() -> None:
    campaign = _campaign()
    share = _pending_share(campaign)
    analyst = _member(campaign, BrandRole.ANALYST)

    page = analyst.get(_captions_url(campaign)).content.decode()
    assert "My favourite!" in page
    assert "Request changes" not in page
    assert analyst.post(_decision_url(share, "approve")).status_code == 403
    share.refresh_from_db()
    assert share.caption_status == CaptionStatus.PENDING_APPROVAL


def test_influencers_tab_lists_only_this_campaigns_matches_without_contact_data() -> None:
    campaign = _campaign()
    share = _pending_share(campaign, display_name="Lena Berger")
    _offer(campaign, display_name="Tom Huber")
    MatchFactory(campaign=campaign, influencer=InfluencerProfileFactory(display_name="Mia Proposed"))
    MatchFactory(
        campaign=campaign,
        influencer=InfluencerProfileFactory(display_name="Rita Rejected"),
        status=MatchStatus.REJECTED,
    )
    other_campaign = ready_campaign(brand=campaign.brand, status=CampaignStatus.APPROVED)
    MatchFactory(campaign=other_campaign, influencer=InfluencerProfileFactory(display_name="Otto Other"))
    url = reverse("campaigns:detail", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})

    page = _member(campaign).get(url + "?tab=influencers").content.decode()

    assert "Lena Berger" in page
    assert "Tom Huber" in page
    assert "Mia Proposed" in page
    assert "Rita Rejected" not in page
    assert "Otto Other" not in page
    assert share.influencer.user.email not in page
    assert "@lena@social.example" in page
    assert "Accepted" in page
    assert "Offered" in page
    assert "Matched, in review" in page
    assert "topics: coffee match 1 of 1" in page
    assert "1 caption to approve" in page
