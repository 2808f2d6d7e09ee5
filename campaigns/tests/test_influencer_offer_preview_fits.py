"""Issue "What people see": the offer's caption preview says "Fits" only for a caption that can be
published, and shows the image the post goes out with."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.influencer.selectors_offers import offer_caption_initial, offer_variant_pick
from campaigns.models import CampaignStatus, Offer
from campaigns.services import VariantInput, content_update
from tests.factories.campaigns import (
    CampaignFactory,
    CaptionVariantFactory,
    ContentPieceFactory,
    MatchFactory,
    png_upload,
)
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db


def _offer(*, image: bool = True) -> Offer:
    campaign = CampaignFactory(status=CampaignStatus.DRAFT, networks=["mastodon", "bluesky"])
    piece = ContentPieceFactory(campaign=campaign)
    CaptionVariantFactory(content=piece)
    if image:
        content_update(
            content=piece,
            title=piece.title,
            target_url="https://example.com/offer",
            variants=[VariantInput(text="Our new autumn roast is here.", language="en")],
            media=png_upload("roast.png"),
        )
    campaign.status = CampaignStatus.APPROVED
    campaign.save(update_fields=["status"])
    influencer = InfluencerProfileFactory(languages=["en"])
    match = MatchFactory(campaign=campaign, influencer=influencer, status="approved")
    return Offer.objects.create(match=match, campaign=campaign, influencer=influencer, expires_at=campaign.ends_at)


def _preview(offer: Offer, caption: str) -> str:
    client = Client()
    client.force_login(offer.influencer.user)
    html = client.post(reverse("influencers:offer-preview", kwargs={"pk": offer.pk}), {"caption": caption})
    return re.sub(r"\s+", " ", html.content.decode())


def _caption(offer: Offer) -> str:
    return offer_caption_initial(offer=offer, variant=offer_variant_pick(offer=offer))


def test_without_the_disclosure_no_network_says_fits() -> None:
    offer = _offer()
    caption = _caption(offer).replace("#ad", "").strip()

    html = _preview(offer, caption)

    assert "badge-ok" not in html
    assert ">Fits<" not in html
    assert "Keep the disclosure #ad in the caption" in html  # the problem itself is listed above


def test_without_the_link_no_network_says_fits() -> None:
    offer = _offer()
    caption = re.sub(r"https?://\S+", "", _caption(offer)).strip()

    html = _preview(offer, caption)

    assert ">Fits<" not in html


def test_a_valid_caption_fits_and_the_preview_shows_the_image() -> None:
    offer = _offer()
    piece = offer.campaign.content.get()

    html = _preview(offer, _caption(offer))

    assert ">Fits<" in html
    assert f'src="{piece.thumbnail.url}"' in html


def test_text_only_content_shows_no_image() -> None:
    offer = _offer(image=False)

    html = _preview(offer, _caption(offer))

    assert ">Fits<" in html
    assert "<img" not in html
