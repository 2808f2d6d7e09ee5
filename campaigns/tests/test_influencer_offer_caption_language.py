"""The disclosure follows the language of the text the influencer chose (issue "What people see", 2).

An influencer who speaks English first starts from the English text (``#ad``); choosing the brand's German
text must switch everything to ``#Werbung``: the caption, the rules box, the live preview, the accept check,
a resubmitted caption and the post as it is published.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.influencer.selectors_offers import offer_caption_initial
from campaigns.matching.selectors import SHARE_LINK_PLACEHOLDER, share_disclosure
from campaigns.matching.services import share_caption_resubmit
from campaigns.models import CampaignStatus, CaptionStatus, CaptionVariant, Offer, Share
from tests.factories.campaigns import CaptionVariantFactory, MatchFactory, ready_campaign
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

pytestmark = pytest.mark.django_db

GERMAN_TEXT = "Langsamer Sonntag mit der neuen Herbströstung."


def _offer() -> tuple[Offer, CaptionVariant]:
    campaign = ready_campaign(
        status=CampaignStatus.APPROVED,
        networks=["mastodon"],
        languages=["en", "de"],
        disclosures={"en": "#ad", "de": "#Werbung"},
    )
    piece = campaign.content.get()
    german: CaptionVariant = CaptionVariantFactory.create(content=piece, language="de", text=GERMAN_TEXT, position=9)
    influencer = InfluencerProfileFactory(languages=["en", "de"])  # English first: starts from "#ad"
    match = MatchFactory(campaign=campaign, influencer=influencer, status="approved")
    offer = Offer.objects.create(match=match, campaign=campaign, influencer=influencer, expires_at=campaign.ends_at)
    return offer, german


def _client(offer: Offer) -> Client:
    client = Client()
    client.force_login(offer.influencer.user)
    return client


def _german_caption(offer: Offer, german: CaptionVariant) -> str:
    return offer_caption_initial(offer=offer, variant=german)


def test_choosing_the_german_text_puts_werbung_in_the_caption_and_the_rules_box() -> None:
    offer, german = _offer()

    page = _client(offer).get(reverse("influencers:offer-detail", kwargs={"pk": offer.pk}) + f"?variant={german.pk}")

    html = page.content.decode()
    assert page.status_code == 200
    caption = page.context["form"]["caption"].value()
    assert caption.startswith("#Werbung " + GERMAN_TEXT)
    assert "Keep <strong>#Werbung</strong> in the caption" in html
    assert "Keep <strong>#ad</strong>" not in html
    assert "Keep the disclosure" not in html  # the preview has nothing to complain about


def test_accepting_the_german_text_keeps_werbung_and_stores_the_language() -> None:
    offer, german = _offer()
    account = ConnectedAccountFactory(influencer=offer.influencer, network="mastodon")
    caption = _german_caption(offer, german)

    response = _client(offer).post(
        reverse("influencers:offer-detail", kwargs={"pk": offer.pk}),
        {"when": "now", "caption": caption, "variant": str(german.pk), "accounts": [account.pk]},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    share = Share.objects.get(offer=offer)
    assert share.caption_text.startswith("#Werbung")
    assert share.language == "de"
    assert share_disclosure(share=share) == "#Werbung"


def test_the_live_preview_checks_the_chosen_texts_disclosure() -> None:
    offer, german = _offer()
    ConnectedAccountFactory(influencer=offer.influencer, network="mastodon")
    url = reverse("influencers:offer-preview", kwargs={"pk": offer.pk})
    client = _client(offer)

    ok = client.post(url, {"caption": _german_caption(offer, german), "variant": str(german.pk)}).content.decode()
    lost = client.post(url, {"caption": f"{GERMAN_TEXT} {SHARE_LINK_PLACEHOLDER}", "variant": str(german.pk)})

    assert "Keep the disclosure" not in ok
    assert "Keep the disclosure #Werbung in the caption" in lost.content.decode()


def _accepted_german_share(offer: Offer, german: CaptionVariant, **extra: Any) -> Share:
    from campaigns.matching.services import offer_accept

    account = ConnectedAccountFactory(influencer=offer.influencer, network="mastodon")
    [share] = offer_accept(
        offer=offer,
        influencer=offer.influencer,
        account_ids=[account.pk],
        caption_text=_german_caption(offer, german),
        scheduled_at=None,
        variant=german,
        **extra,
    )
    return share


def test_a_resubmitted_caption_keeps_the_german_disclosure() -> None:
    offer, german = _offer()
    share = _accepted_german_share(offer, german)
    Share.objects.filter(pk=share.pk).update(caption_status=CaptionStatus.CHANGES_REQUESTED)
    share.refresh_from_db()

    resubmitted = share_caption_resubmit(
        share=share, influencer=offer.influencer, caption_text=share.caption_text.replace("Sonntag", "Samstag")
    )

    assert resubmitted.caption_status == CaptionStatus.PENDING_APPROVAL


def test_the_german_post_is_published_with_werbung() -> None:
    from campaigns.publishing.services import post_prepare

    offer, german = _offer()
    share = _accepted_german_share(offer, german)

    post = post_prepare(share=share)

    assert post.draft is not None, post.problem
    assert post.draft.text.startswith("#Werbung")
