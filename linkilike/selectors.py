"""Reads that span the apps, for staff: what waits for a decision now (the admin index shows it).

Composition (ADR 18): it reads campaigns and payouts, so it lives above both.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import ngettext

from campaigns.models import Campaign, CampaignStatus, Match, MatchStatus, PublicationState, ShareHold, SharePublication
from payouts.models import PayoutRequest, PayoutStatus


@dataclass(frozen=True)
class StaffQueue:
    count: int
    label: str
    #: The admin list, filtered to exactly what is counted.
    url: str


def staff_queue_list() -> list[StaffQueue]:
    """Counts with links to filtered changelists: campaigns to review, matches to moderate, shares on hold,
    payouts to approve. Each filter is one the changelist offers (``list_filter``), so the link opens it."""
    campaigns = Campaign.objects.filter(status=CampaignStatus.IN_REVIEW).count()
    matches = Match.objects.filter(status=MatchStatus.PROPOSED).count()
    holds = ShareHold.objects.filter(released_at__isnull=True).count()
    payouts = PayoutRequest.objects.filter(status=PayoutStatus.REQUESTED).count()
    # Posts no public read could see ("you post, we verify"): staff spot-check them (campaigns.publishing.proof).
    proofs = SharePublication.objects.filter(state=PublicationState.PROOF_REVIEW).count()
    return [
        StaffQueue(
            count=campaigns,
            label=ngettext("campaign to review", "campaigns to review", campaigns),
            url=reverse("admin:campaigns_campaign_changelist") + f"?status__exact={CampaignStatus.IN_REVIEW}",
        ),
        StaffQueue(
            count=matches,
            label=ngettext("match to moderate", "matches to moderate", matches),
            url=reverse("admin:campaigns_match_changelist") + f"?status__exact={MatchStatus.PROPOSED}",
        ),
        StaffQueue(
            count=holds,
            label=ngettext("share on hold", "shares on hold", holds),
            url=reverse("admin:campaigns_sharehold_changelist") + "?released_at__isempty=1",
        ),
        StaffQueue(
            count=proofs,
            label=ngettext("post to spot-check", "posts to spot-check", proofs),
            url=reverse("admin:campaigns_sharepublication_changelist")
            + f"?state__exact={PublicationState.PROOF_REVIEW}",
        ),
        StaffQueue(
            count=payouts,
            label=ngettext("payout to approve", "payouts to approve", payouts),
            url=reverse("admin:payouts_payoutrequest_changelist") + f"?status__exact={PayoutStatus.REQUESTED}",
        ),
    ]
