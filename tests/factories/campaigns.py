from __future__ import annotations

import io
from datetime import timedelta
from typing import cast

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from campaigns.models import Campaign, CaptionVariant, ContentPiece
from tests.factories.brands import BrandFactory


def png_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def png_upload(name: str = "photo.png", **kwargs: object) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(**kwargs), content_type="image/png")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    currency = "EUR"
    budget_minor = 50_000
    cpe_minor = 10
    cpc_minor = 10
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    ends_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    languages = factory.LazyFunction(lambda: ["en"])
    disclosures = factory.LazyFunction(lambda: {"en": "#ad"})
    networks = factory.LazyFunction(lambda: ["mastodon", "bluesky"])


class ContentPieceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContentPiece

    campaign = factory.SubFactory(CampaignFactory)
    title = factory.Sequence(lambda n: f"Content {n}")
    target_url = "https://example.com/offer?utm_source=linkilike&utm_medium=influencer&utm_campaign=c"
    hashtags = factory.LazyFunction(lambda: ["#coffee"])


class CaptionVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaptionVariant

    content = factory.SubFactory(ContentPieceFactory)
    text = "Our new autumn roast is here."
    language = "en"


def ready_campaign(**kwargs: object) -> Campaign:
    """A draft that passes every submit check: priced, dated, targeted, with one content piece and text."""
    campaign = cast(Campaign, CampaignFactory(**kwargs))
    CaptionVariantFactory(content=ContentPieceFactory(campaign=campaign))
    return campaign


class MatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Match"

    campaign = factory.SubFactory(CampaignFactory, status="approved")
    influencer = factory.SubFactory("tests.factories.influencers.InfluencerProfileFactory")
    score = 500
    explanation = "topics: coffee match 1 of 1"


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Offer"

    match = factory.SubFactory(MatchFactory, status="approved")
    campaign = factory.SelfAttribute("match.campaign")
    influencer = factory.SelfAttribute("match.influencer")
    status = "new"
    expires_at = factory.SelfAttribute("campaign.ends_at")
