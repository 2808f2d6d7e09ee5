"""Brand-side reads for issue 6: the captions waiting for approval and the campaign's influencers tab.

Every function takes the campaign, which the caller fetched through the brand scope. Only
influencers matched to that campaign appear, and only what they agreed to show: display
name, country, topics and the public handles of the accounts a share goes to (never email).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from brands.models import ROLE_ACTIONS, BrandAction
from campaigns.captions import NetworkFit, caption_fit
from campaigns.matching.engine import USABLE_STATUSES, account_networks_for, explanation_render
from campaigns.matching.selectors import caption_rules_network
from campaigns.models import (
    Campaign,
    CaptionStatus,
    Match,
    MatchStatus,
    OfferStatus,
    Share,
)
from campaigns.publishing.selectors import ShareStateView, share_state_get
from networks.models import ConnectedAccount
from networks.providers.registry import campaign_networks


def caption_pending_list_for_campaign(*, campaign: Campaign) -> QuerySet[Share]:
    return (
        Share.objects.filter(campaign=campaign, caption_status=CaptionStatus.PENDING_APPROVAL)
        .select_related("influencer", "connected_account", "offer")
        .order_by("created_at", "pk")
    )


def caption_pending_count_for_campaign(*, campaign: Campaign) -> int:
    return Share.objects.filter(campaign=campaign, caption_status=CaptionStatus.PENDING_APPROVAL).count()


def caption_approver_list_for_campaign(*, campaign: Campaign) -> list[User]:
    """Active members whose role may approve captions (owners and managers, never analysts)."""
    roles = [role for role, actions in ROLE_ACTIONS.items() if BrandAction.APPROVE_CAPTIONS in actions]
    return list(
        User.objects.filter(memberships__brand_id=campaign.brand_id, memberships__role__in=roles, is_active=True)
        .distinct()
        .order_by("email")
    )


def caption_recent_decisions_for_campaign(*, campaign: Campaign, limit: int = 10) -> list[Share]:
    return list(
        Share.objects.filter(
            campaign=campaign, caption_status__in=(CaptionStatus.APPROVED, CaptionStatus.CHANGES_REQUESTED)
        )
        .select_related("influencer", "connected_account")
        .order_by("-caption_decided_at", "-pk")[:limit]
    )


def share_caption_fit(*, share: Share) -> NetworkFit | None:
    """The caption as it will look on the share's network, with the network's limits checked."""
    code = caption_rules_network(share.connected_account.network)
    if code not in campaign_networks():
        return None
    return caption_fit(
        caption=share.caption_text,
        network_code=code,
        has_media=bool(share.campaign.content.exclude(media="").exists()),
        hashtag_count=share.caption_text.count("#"),
    )


#: What the brand sees for each stage (the order is the order of the tab's rows).
STAGE_LABELS: dict[str, str | Promise] = {
    "sharing": _("Sharing"),
    "accepted": _("Accepted"),
    "offered": _("Offered"),
    "matched": _("Matched, in review"),
    "declined": _("Declined"),
    "expired": _("Offer closed"),
}
STAGE_ORDER = list(STAGE_LABELS)


@dataclass(frozen=True)
class InfluencerRow:
    match: Match
    stage: str
    explanation: str
    topics: list[str]
    networks: list[str]
    shares: list[Share] = field(default_factory=list)

    @property
    def stage_label(self) -> str | Promise:
        return STAGE_LABELS[self.stage]

    @property
    def display_name(self) -> str:
        return self.match.influencer.display_name

    @property
    def country(self) -> object:
        return self.match.influencer.country

    @property
    def share_states(self) -> list[tuple[Share, ShareStateView]]:
        """Each share with the state people see (the publication's, not ``Share.status``)."""
        return [(share, share_state_get(share=share)) for share in self.shares]


def _stage(match: Match, shares: list[Share]) -> str:
    offer = getattr(match, "offer", None)
    if offer is None:
        return "matched"
    if offer.status == OfferStatus.ACCEPTED:
        return "sharing" if any(share_state_get(share=share).is_sharing for share in shares) else "accepted"
    if offer.status == OfferStatus.NEW:
        return "offered"
    if offer.status == OfferStatus.DECLINED:
        return "declined"
    return "expired"


def _explanation(match: Match) -> str:
    if match.score_parts:
        try:
            return explanation_render(match.score_parts)
        except (KeyError, TypeError):
            pass
    return match.explanation


def campaign_influencer_list(*, campaign: Campaign) -> list[InfluencerRow]:
    """The influencers matched to the campaign (not rejected or withdrawn by moderation), by stage then score."""
    matches = (
        Match.objects.filter(campaign=campaign)
        .exclude(status__in=(MatchStatus.REJECTED, MatchStatus.WITHDRAWN))
        .select_related("influencer", "offer")
        .prefetch_related(
            "influencer__topics",
            Prefetch(
                "influencer__shares",
                queryset=Share.objects.filter(campaign=campaign)
                .select_related("connected_account", "publication")
                .order_by("pk"),
                to_attr="campaign_shares",
            ),
            Prefetch(
                "influencer__connected_accounts",
                queryset=ConnectedAccount.objects.filter(
                    status__in=USABLE_STATUSES, network__in=account_networks_for(campaign)
                ).only("pk", "influencer_id", "network"),
                to_attr="campaign_accounts",
            ),
        )
    )
    rows = []
    for match in matches:
        influencer = match.influencer
        shares: list[Share] = getattr(influencer, "campaign_shares", [])
        stage = _stage(match, shares)
        accounts = [share.connected_account for share in shares] or getattr(influencer, "campaign_accounts", [])
        networks = sorted({str(account.get_network_display()) for account in accounts})
        rows.append(
            InfluencerRow(
                match=match,
                stage=stage,
                explanation=_explanation(match),
                topics=[topic.label for topic in influencer.topics.all()],
                networks=networks,
                shares=shares,
            )
        )
    rows.sort(key=lambda row: (STAGE_ORDER.index(row.stage), -row.match.score, row.match.pk))
    return rows
