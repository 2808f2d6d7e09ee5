"""The campaign emails staff can preview (``linkilike.email_previews``): review outcomes, captions, offers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from campaigns.influencer.tasks import caption_decision_email_context
from campaigns.jobs import campaign_status_email_context, caption_waiting_email_context
from campaigns.matching.jobs import offer_new_email_context
from campaigns.models import Campaign, CampaignStatus, NotificationKind, Offer, Share
from linkilike.email_previews import EmailPreview, email_preview_register


def _campaign_status(status: str) -> Callable[[str], dict[str, Any] | None]:
    def build(language: str) -> dict[str, Any] | None:
        campaign = Campaign.objects.select_related("brand").filter(status=status).order_by("-pk").first()
        campaign = campaign or Campaign.objects.select_related("brand").order_by("-pk").first()
        if campaign is None:
            return None
        member = campaign.brand.memberships.select_related("user").first()
        return campaign_status_email_context(campaign=campaign, user=member.user if member else None)

    return build


def _funds_needed(language: str) -> dict[str, Any] | None:
    # A campaign whose review waited for funds, else any in review (its shortfall then reads as shown today).
    campaign = (
        Campaign.objects.select_related("brand")
        .filter(notifications__kind=NotificationKind.FUNDS_NEEDED)
        .order_by("-pk")
        .first()
    ) or Campaign.objects.select_related("brand").filter(status=CampaignStatus.IN_REVIEW).order_by("-pk").first()
    if campaign is None:
        return None
    member = campaign.brand.memberships.select_related("user").first()
    return campaign_status_email_context(campaign=campaign, user=member.user if member else None)


def _caption_waiting(language: str) -> dict[str, Any] | None:
    share = Share.objects.select_related("campaign__brand", "influencer").order_by("-pk").first()
    return caption_waiting_email_context(share=share) if share else None


def _offer_new(language: str) -> dict[str, Any] | None:
    offer = Offer.objects.select_related("campaign__brand", "influencer__user").order_by("-pk").first()
    return offer_new_email_context(offer=offer, language=language) if offer else None


def _caption_decision(language: str) -> dict[str, Any] | None:
    share = Share.objects.select_related("campaign__brand", "influencer__user").order_by("-pk").first()
    return caption_decision_email_context(share=share) if share else None


email_preview_register(
    EmailPreview(
        "campaign-approved",
        _("Campaign approved"),
        "campaigns/email/campaign_approved",
        _campaign_status(CampaignStatus.APPROVED),
    ),
    EmailPreview(
        "campaign-rejected",
        _("Campaign not approved"),
        "campaigns/email/campaign_rejected",
        _campaign_status(CampaignStatus.REJECTED),
    ),
    EmailPreview("funds-needed", _("Review waits for funds"), "campaigns/email/funds_needed", _funds_needed),
    EmailPreview(
        "caption-waiting",
        _("A caption waits for the brand to approve it"),
        "campaigns/email/caption_waiting",
        _caption_waiting,
    ),
    EmailPreview("offer-new", _("New offer for an influencer"), "campaigns/email/offer_new", _offer_new),
    EmailPreview(
        "caption-decision",
        _("Caption approved or changes requested"),
        "influencers/email/caption_decision",
        _caption_decision,
    ),
)
