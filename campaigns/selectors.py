"""Reads of campaigns. Every function takes its scope (the brand) explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from brands.models import Brand
from campaigns.captions import (
    TRACKING_LINK_PLACEHOLDER,
    NetworkFit,
    caption_compose,
    caption_fit,
    disclosure_for,
)
from campaigns.models import Campaign, CaptionVariant, ContentPiece, Notification
from campaigns.pricing import Estimate, assumptions_for, budget_estimate


def campaign_list_for_brand(*, brand: Brand, archived: bool = False) -> QuerySet[Campaign]:
    return Campaign.objects.filter(brand=brand, archived_at__isnull=not archived).order_by("-created_at")


def campaign_get_for_brand(*, brand: Brand, pk: int | str) -> Campaign:
    campaign = Campaign.objects.filter(brand=brand, pk=pk).first() if str(pk).isdigit() else None
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def notification_list_for_brand(*, brand: Brand, limit: int = 5) -> list[Notification]:
    return list(Notification.objects.filter(brand=brand).select_related("campaign")[:limit])


def campaign_estimate(*, campaign: Campaign) -> Estimate:
    return budget_estimate(
        budget_minor=campaign.budget_minor or 0,
        platform_fee_bps=campaign.platform_fee_bps,
        cpm_minor=campaign.cpm_minor,
        cpe_minor=campaign.cpe_minor,
        cpc_minor=campaign.cpc_minor,
        per_share_cap_minor=campaign.per_share_cap_minor,
        assumptions=assumptions_for(followers_min=campaign.followers_min, followers_max=campaign.followers_max),
    )


@dataclass(frozen=True)
class VariantPreview:
    variant: CaptionVariant
    fits: list[NetworkFit]


@dataclass(frozen=True)
class ContentPreview:
    content: ContentPiece
    variants: list[VariantPreview]

    @property
    def fits(self) -> list[NetworkFit]:
        return [fit for variant in self.variants for fit in variant.fits]


def caption_fits_for_campaign(
    *, campaign: Campaign, text: str, language: str, hashtags: list[str], has_media: bool
) -> list[NetworkFit]:
    """One text as it would be shared on each network the campaign targets."""
    caption = caption_compose(
        text=text,
        disclosure=disclosure_for(disclosures=campaign.disclosures, language=language),
        link=TRACKING_LINK_PLACEHOLDER,
        hashtags=hashtags,
    )
    return [
        caption_fit(caption=caption, network_code=code, has_media=has_media, hashtag_count=caption.count("#"))
        for code in campaign.networks
    ]


def campaign_preview(*, campaign: Campaign) -> list[ContentPreview]:
    """Every caption as shared on every targeted network, and whether it fits there."""
    rows = []
    for piece in campaign.content.prefetch_related("variants"):
        variants = [
            VariantPreview(
                variant=variant,
                fits=caption_fits_for_campaign(
                    campaign=campaign,
                    text=variant.text,
                    language=variant.language,
                    hashtags=piece.hashtags,
                    has_media=bool(piece.media),
                ),
            )
            for variant in piece.variants.all()
        ]
        rows.append(ContentPreview(content=piece, variants=variants))
    return rows
