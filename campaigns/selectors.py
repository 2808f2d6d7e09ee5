"""Reads of campaigns. Every function takes its scope (the brand) explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext

from accounts.models import User
from brands.models import Brand, BrandRole
from campaigns.captions import (
    TRACKING_LINK_PLACEHOLDER,
    NetworkFit,
    caption_compose,
    caption_fit,
    disclosure_for,
)
from campaigns.earnings.selectors import campaign_reserved_minor
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CaptionVariant,
    ContentPiece,
    Notification,
    NotificationKind,
)
from campaigns.pricing import Estimate, NetworkReach, assumptions_for, budget_estimate
from networks.capabilities import audience_reported, capability_matrix
from networks.providers.registry import campaign_networks, network_info, network_label
from payouts.models import EarningAccrual
from payouts.selectors import brand_balance_minor


def campaign_list_for_brand(*, brand: Brand, archived: bool = False) -> QuerySet[Campaign]:
    return Campaign.objects.filter(brand=brand, archived_at__isnull=not archived).order_by("-created_at")


def campaign_get_for_brand(*, brand: Brand, pk: int | str) -> Campaign:
    campaign = Campaign.objects.filter(brand=brand, pk=pk).first() if str(pk).isdigit() else None
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def review_recipient_list_for_campaign(*, campaign: Campaign) -> list[User]:
    """Owners and managers of the brand hear about review outcomes."""
    return list(
        User.objects.filter(
            Q(memberships__brand=campaign.brand),
            Q(memberships__role__in=(BrandRole.OWNER, BrandRole.MANAGER)),
            is_active=True,
        ).distinct()
    )


def notification_list_for_brand(*, brand: Brand, limit: int = 5) -> list[Notification]:
    return list(Notification.objects.filter(brand=brand).select_related("campaign")[:limit])


def notification_message(*, kind: str, name: str, detail: str = "") -> str | None:
    """A notice in the active language; None for a kind worded where it is created (its stored message)."""
    if kind == NotificationKind.CAMPAIGN_APPROVED:
        return gettext("“%(name)s” was approved; its budget is reserved.") % {"name": name}
    if kind == NotificationKind.CAMPAIGN_REJECTED:
        return gettext("“%(name)s” was not approved: %(reason)s") % {"name": name, "reason": detail}
    if kind == NotificationKind.CAMPAIGN_COMPLETED:
        return gettext("“%(name)s” has ended; the unspent budget is back in your balance.") % {"name": name}
    if kind == NotificationKind.FUNDS_NEEDED:  # the amount missing today is on the campaign's page
        return gettext("“%(name)s” waits for funds: we approve it once its whole budget can be reserved.") % {
            "name": name
        }
    return None


@dataclass(frozen=True)
class NoticeLine:
    notification: Notification
    text: str


def notice_lines_for_brand(*, brand: Brand, limit: int = 5) -> list[NoticeLine]:
    """The dashboard's notices worded in the reader's language.

    ``Notification.message`` is in the language of whoever caused the notice (staff approving in English);
    the words are made again from the kind, the campaign's name and the quoted ``detail``. Rows stored
    before ``detail`` existed keep their message where the words need it.
    """
    lines = []
    for notice in notification_list_for_brand(brand=brand, limit=limit):
        text = None
        if notice.campaign is not None and (notice.kind != NotificationKind.CAMPAIGN_REJECTED or notice.detail):
            text = notification_message(kind=notice.kind, name=notice.campaign.name, detail=notice.detail)
        lines.append(NoticeLine(notification=notice, text=text or notice.message))
    return lines


def network_reach_for(*, networks: list[str]) -> NetworkReach:
    """The chosen networks split by whether their providers report a count CPM is paid on (labels, in order)."""
    with_reach: list[str] = []
    without_reach: list[str] = []
    clicks_only: list[str] = []
    for code in dict.fromkeys(networks):
        label = network_label(code)
        (with_reach if audience_reported(code) else without_reach).append(label)
        info = network_info(code)
        if info is not None and info.proof_of_post:
            clicks_only.append(label)
    return NetworkReach(
        with_reach=tuple(with_reach), without_reach=tuple(without_reach), clicks_only=tuple(clicks_only)
    )


def campaign_estimate(*, campaign: Campaign) -> Estimate:
    return budget_estimate(
        budget_minor=campaign.budget_minor or 0,
        platform_fee_bps=campaign.platform_fee_bps,
        cpm_minor=campaign.cpm_minor,
        cpe_minor=campaign.cpe_minor,
        cpc_minor=campaign.cpc_minor,
        per_share_cap_minor=campaign.per_share_cap_minor,
        participation_fee_minor=campaign.participation_fee_minor,
        participation_bands=campaign.participation_bands or [],
        assumptions=assumptions_for(followers_min=campaign.followers_min, followers_max=campaign.followers_max),
        reach=network_reach_for(networks=list(campaign.networks or [])),
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


# --- money around the lifecycle (issue "What people see" 11, 12) ----------------------------------


@dataclass(frozen=True)
class CloseSummary:
    """What ending or cancelling the campaign now does to the money, for the confirmation."""

    #: Still reserved and not earned: goes back to the brand's balance.
    unspent_minor: int
    #: Earned by influencers so far, and the part of it still on hold (paid when the hold ends).
    earned_minor: int
    on_hold_minor: int
    #: The budget was reserved once (approved): influencers may have earned from it.
    was_approved: bool


def campaign_close_summary(*, campaign: Campaign) -> CloseSummary:
    from django.db.models import Sum

    totals = EarningAccrual.objects.filter(campaign=campaign).aggregate(
        earned=Sum("earned_minor"), on_hold=Sum("pending_minor")
    )
    return CloseSummary(
        unspent_minor=max(campaign_reserved_minor(campaign=campaign), 0) if campaign.approved_at else 0,
        earned_minor=totals["earned"] or 0,
        on_hold_minor=totals["on_hold"] or 0,
        was_approved=campaign.approved_at is not None,
    )


#: Before approval the budget is only promised: these statuses get the "is the balance enough?" check.
FUNDING_CHECKED_STATUSES = frozenset({CampaignStatus.DRAFT, CampaignStatus.REJECTED, CampaignStatus.IN_REVIEW})


@dataclass(frozen=True)
class FundingGap:
    balance_minor: int
    budget_minor: int
    currency: str
    #: Staff tried to approve since the last submission and could not reserve the budget.
    review_blocked: bool

    @property
    def shortfall_minor(self) -> int:
        return self.budget_minor - self.balance_minor


def campaign_funding_gap(*, campaign: Campaign) -> FundingGap | None:
    """The budget the brand's balance does not cover yet, while the campaign waits for approval.

    Approval reserves the whole budget at once (``campaigns.earnings.budget.campaign_budget_reserve``), so a
    shortfall here is what would stop review. None when the balance covers it or nothing is reserved yet.
    """
    if campaign.status not in FUNDING_CHECKED_STATUSES or campaign.budget_minor <= 0:
        return None
    balance = brand_balance_minor(brand=campaign.brand, currency=campaign.currency)
    if balance >= campaign.budget_minor:
        return None
    blocked = campaign.status == CampaignStatus.IN_REVIEW and funds_needed_notice_exists(campaign=campaign)
    return FundingGap(
        balance_minor=balance, budget_minor=campaign.budget_minor, currency=campaign.currency, review_blocked=blocked
    )


def funds_needed_notice_exists(*, campaign: Campaign) -> bool:
    """The brand was already told, for this submission, that review waits for funds."""
    notices = Notification.objects.filter(campaign=campaign, kind=NotificationKind.FUNDS_NEEDED)
    if campaign.submitted_at is not None:
        notices = notices.filter(created_at__gte=campaign.submitted_at)
    return notices.exists()


def network_choices_for_campaign(*, keep: list[str]) -> list[tuple[str, str]]:
    """The networks a campaign may target: those this platform can connect accounts on (app credentials
    present, ``networks.capabilities``), plus any in ``keep`` (what the campaign targets already)."""
    configured = {row.network for row in capability_matrix() if row.configured}
    return [(code, str(info.label)) for code, info in campaign_networks().items() if code in configured or code in keep]
