"""The brand overview's guidance: the first steps of a new brand and what waits for the member now.

Both read real data across the brand's apps (profile, ledger, campaigns, members), so they live here,
in the highest app the overview already draws on, rather than in ``brands`` (which imports none of them).
Every function takes the brand (and the member, for what they may act on) explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from brands.models import Brand, BrandAction, Invitation, Membership
from campaigns.models import Campaign, CampaignStatus, CaptionStatus, Share
from campaigns.selectors import campaign_funding_gap
from payouts.models import LedgerTransaction, TransactionKind
from payouts.money import money_format


@dataclass(frozen=True)
class ChecklistStep:
    key: str
    label: str
    done: bool
    #: Empty when the member's role cannot take the step (they see it, without a link).
    url: str


def brand_checklist_for_brand(*, brand: Brand, membership: Membership) -> list[ChecklistStep]:
    """Profile, funds, first campaign, a colleague: empty once every step is done."""
    slug = {"brand_slug": brand.slug}
    steps = [
        (
            "profile",
            _("Add your logo and website, so influencers recognise you"),
            bool(brand.logo and brand.website),
            BrandAction.MANAGE_BRAND,
            reverse("brands:settings", kwargs=slug),
        ),
        (
            "fund",
            _("Add funds: a campaign is approved once its whole budget can be reserved"),
            LedgerTransaction.objects.filter(brand=brand, kind=TransactionKind.FUNDING).exists(),
            BrandAction.FUND,
            reverse("payouts:funds", kwargs=slug),
        ),
        (
            "campaign",
            _("Create your first campaign"),
            Campaign.objects.filter(brand=brand).exists(),
            BrandAction.EDIT_CAMPAIGNS,
            reverse("campaigns:create", kwargs=slug),
        ),
        (
            "invite",
            _("Invite a colleague, so someone else can approve captions while you are away"),
            brand.memberships.count() > 1 or Invitation.objects.filter(brand=brand).exists(),
            BrandAction.MANAGE_MEMBERS,
            reverse("brands:members", kwargs=slug),
        ),
    ]
    if all(done for _key, _label, done, _action, _url in steps):
        return []
    return [
        ChecklistStep(key=key, label=label, done=done, url=url if membership.can(action) else "")
        for key, label, done, action, url in steps
    ]


@dataclass(frozen=True)
class WaitingItem:
    kind: str
    count: int
    text: str
    url: str


def brand_waiting_list_for_brand(*, brand: Brand, membership: Membership) -> list[WaitingItem]:
    """What waits for this member now, each with where to act: only what their role lets them do."""
    items: list[WaitingItem] = []
    if membership.can(BrandAction.APPROVE_CAPTIONS):
        rows = (
            Share.objects.filter(campaign__brand=brand, caption_status=CaptionStatus.PENDING_APPROVAL)
            .values("campaign_id", "campaign__name")
            .annotate(count=Count("pk"))
            .order_by("campaign__name", "campaign_id")
        )
        for row in rows:
            items.append(
                WaitingItem(
                    kind="captions",
                    count=row["count"],
                    text=ngettext(
                        "%(count)s caption to approve in “%(campaign)s”",
                        "%(count)s captions to approve in “%(campaign)s”",
                        row["count"],
                    )
                    % {"count": row["count"], "campaign": row["campaign__name"]},
                    url=reverse("campaigns:captions", kwargs={"brand_slug": brand.slug, "pk": row["campaign_id"]}),
                )
            )
    if membership.can(BrandAction.FUND):
        funds_url = reverse("payouts:funds", kwargs={"brand_slug": brand.slug})
        for campaign in Campaign.objects.filter(brand=brand, status=CampaignStatus.IN_REVIEW).order_by("name"):
            gap = campaign_funding_gap(campaign=campaign)
            if gap is not None:
                items.append(
                    WaitingItem(
                        kind="funds",
                        count=1,
                        text=_("“%(campaign)s” waits for funds: %(shortfall)s is missing")
                        % {"campaign": campaign.name, "shortfall": money_format(gap.shortfall_minor, gap.currency)},
                        url=funds_url,
                    )
                )
    if membership.can(BrandAction.EDIT_CAMPAIGNS):
        for campaign in Campaign.objects.filter(
            brand=brand, status=CampaignStatus.REJECTED, archived_at__isnull=True
        ).order_by("name"):
            items.append(
                WaitingItem(
                    kind="rejected",
                    count=1,
                    text=_("“%(campaign)s” was not approved: change it and submit it again")
                    % {"campaign": campaign.name},
                    url=reverse("campaigns:detail", kwargs={"brand_slug": brand.slug, "pk": campaign.pk}),
                )
            )
    return items
