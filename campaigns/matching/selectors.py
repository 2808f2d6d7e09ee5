"""Reads for matching and offers: conflicts, captions to start from, caption checks, earnings estimates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.captions import (
    TRACKING_LINK_PLACEHOLDER,
    _has_tag,
    caption_compose,
    caption_fit,
    disclosure_for,
)
from campaigns.earnings.pricing import (
    RETENTION_AFTER,
    campaign_participation_fee,
    campaign_participation_priced,
    participation_bands,
)
from campaigns.earnings.services import metric_amounts
from campaigns.matching.engine import (
    USABLE_STATUSES,
    account_networks_for,
    sandbox_allowed,
)
from campaigns.models import Campaign, CaptionVariant, ContentPiece, Offer, OfferStatus, Share
from influencers.models import InfluencerProfile
from linkilike.i18n import money_format
from networks.models import ConnectedAccount, Network
from networks.providers.registry import campaign_network_of, campaign_networks

#: Stands in for the share's own tracking link in ``Share.caption_text`` until the publishing
#: pipeline creates the link and replaces this exact string with it.
SHARE_LINK_PLACEHOLDER = TRACKING_LINK_PLACEHOLDER


def exclusivity_window() -> timedelta:
    return timedelta(days=int(getattr(settings, "MATCHING_EXCLUSIVITY_DAYS", 30)))


def conflict_flags_for(
    *, campaign: Campaign, influencer_ids: Any, now: datetime | None = None
) -> dict[int, list[dict[str, Any]]]:
    """Competitor conflicts per influencer, in one query.

    A conflict: the influencer accepted an offer from ANOTHER brand with the same (non-empty)
    ``Brand.category`` within the exclusivity window (``MATCHING_EXCLUSIVITY_DAYS``, default 30).
    ``influencer_ids`` may be a list or a subquery.
    """
    category = (campaign.brand.category or "").strip()
    if not category:
        return {}
    now = now or timezone.now()
    window = exclusivity_window()
    rows = (
        Offer.objects.filter(
            influencer_id__in=influencer_ids,
            status=OfferStatus.ACCEPTED,
            accepted_at__gte=now - window,
            campaign__brand__category__iexact=category,
        )
        .exclude(campaign__brand_id=campaign.brand_id)
        .values_list("influencer_id", "pk", "campaign__brand__name", "campaign__name", "accepted_at")
        .order_by("accepted_at")
    )
    flags: dict[int, list[dict[str, Any]]] = {}
    for influencer_id, offer_id, brand_name, campaign_name, accepted_at in rows:
        flags.setdefault(influencer_id, []).append(
            {
                "kind": "competitor",
                "category": category,
                "brand": brand_name,
                "campaign": campaign_name,
                "offer_id": offer_id,
                "until": (accepted_at + window).isoformat() if accepted_at else "",
            }
        )
    return flags


def conflict_text(flags: list[dict[str, Any]]) -> str:
    """One line per conflict, for the admin queue."""
    lines = []
    for flag in flags:
        until = flag.get("until", "")[:10]
        lines.append(
            _("Works for competitor %(brand)s (%(category)s), exclusive until %(until)s")
            % {"brand": flag.get("brand", "?"), "category": flag.get("category", "?"), "until": until}
        )
    return "; ".join(lines)


def offer_list_for_influencer(*, influencer: InfluencerProfile, status: str | None = None) -> QuerySet[Offer]:
    offers = Offer.objects.filter(influencer=influencer).select_related("campaign", "campaign__brand", "match")
    if status:
        offers = offers.filter(status=status)
    return offers.order_by("-created_at")


def offer_get_for_influencer(*, influencer: InfluencerProfile, pk: int | str) -> Offer:
    """Raises ``Offer.DoesNotExist`` for another influencer's offer (views answer 404)."""
    return offer_list_for_influencer(influencer=influencer).get(pk=pk)


def share_list_for_offer(*, offer: Offer) -> QuerySet[Share]:
    return offer.shares.select_related("connected_account").order_by("pk")


def offer_accounts_usable(*, offer: Offer) -> QuerySet[ConnectedAccount]:
    """The influencer's accounts an offer can be shared to: usable and on a targeted network."""
    return ConnectedAccount.objects.filter(
        influencer_id=offer.influencer_id,
        status__in=USABLE_STATUSES,
        network__in=account_networks_for(offer.campaign),
    ).order_by("network", "handle")


def influencer_sandbox_only_for(*, campaign: Campaign, influencer_id: int) -> bool:
    """True when the sandbox gate is all that connects the influencer to the campaign: a sandbox
    account, no account on a network the campaign may use, and a brand that is not a demo brand.

    Any status counts for the other accounts: one that needs reconnecting can still take an offer.
    """
    if sandbox_allowed(campaign):
        return False
    accounts = ConnectedAccount.objects.filter(influencer_id=influencer_id)
    return (
        accounts.filter(network=Network.SANDBOX).exists()
        and not accounts.filter(network__in=account_networks_for(campaign)).exists()
    )


def caption_rules_network(account_network: str) -> str:
    """The network whose caption rules apply to an account (the sandbox follows Mastodon's)."""
    return campaign_network_of(account_network)


def offer_content(*, offer: Offer) -> ContentPiece | None:
    return offer.campaign.content.prefetch_related("variants").order_by("position", "pk").first()


def share_content(*, share: Share) -> ContentPiece | None:
    """The piece the influencer chose when accepting; the campaign's first piece for older shares."""
    if share.content_id is not None:
        return share.content
    return offer_content(offer=share.offer)


def offer_language(*, offer: Offer, content: ContentPiece | None, variant: CaptionVariant | None = None) -> str:
    """The language of the text the influencer chose; without a choice, the first of the influencer's
    languages the content has a text in; else the first text's language.

    The disclosure follows it (``#Werbung`` for a German text), so a chosen text always wins over the
    influencer's language order.
    """
    if variant is not None and variant.language:
        return str(variant.language)
    variants = list(content.variants.all()) if content else []
    available = [variant.language for variant in variants]
    for language in offer.influencer.languages or []:
        if language in available:
            return str(language)
    if available:
        return available[0]
    return (offer.campaign.languages or ["en"])[0]


def offer_disclosure(*, offer: Offer, language: str) -> str:
    return disclosure_for(disclosures=offer.campaign.disclosures or {}, language=language)


def share_language(*, share: Share) -> str:
    """The language of the text the share's caption started from; the offer's language for older shares."""
    return share.language or offer_language(offer=share.offer, content=share_content(share=share))


def share_disclosure(*, share: Share) -> str:
    """The disclosure the share's caption must keep (resubmitted, published, checked on the network)."""
    return offer_disclosure(offer=share.offer, language=share_language(share=share))


def share_caption_default(
    *,
    offer: Offer,
    content: ContentPiece | None = None,
    language: str | None = None,
    variant: CaptionVariant | None = None,
) -> str:
    """The caption an influencer starts editing from: disclosure, the brand's text, link placeholder, hashtags."""
    content = content or offer_content(offer=offer)
    language = language or offer_language(offer=offer, content=content, variant=variant)
    text = ""
    hashtags: list[str] = []
    if content is not None:
        hashtags = list(content.hashtags or [])
        variants = list(content.variants.all())
        chosen = variant if variant is not None and variant.content_id == content.pk else None
        chosen = chosen or next((v for v in variants if v.language == language), variants[0] if variants else None)
        text = chosen.text if chosen else ""
    return caption_compose(
        text=text,
        disclosure=offer_disclosure(offer=offer, language=language),
        link=SHARE_LINK_PLACEHOLDER,
        hashtags=hashtags,
    )


def caption_problems(
    *, campaign: Campaign, caption_text: str, disclosure: str, account_network: str, has_media: bool
) -> list[str]:
    """Why an (edited) caption cannot be used on this network; empty when it can.

    Rules: the disclosure and the link must stay, and the caption must fit the network.
    """
    problems: list[str] = []
    if not caption_text.strip():
        problems.append(_("The caption is empty."))
    if not _has_tag(caption_text, disclosure):
        problems.append(
            _("Keep the disclosure %(tag)s in the caption: the law and the brand require it.") % {"tag": disclosure}
        )
    if SHARE_LINK_PLACEHOLDER not in caption_text:
        problems.append(
            _("Keep the link %(link)s in the caption: it becomes your tracking link, which is how clicks are paid.")
            % {"link": SHARE_LINK_PLACEHOLDER}
        )
    code = caption_rules_network(account_network)
    if code in campaign_networks():
        fit = caption_fit(
            caption=caption_text,
            network_code=code,
            has_media=has_media,
            hashtag_count=caption_text.count("#"),
        )
        problems.extend(fit.problems)
    return problems


@dataclass(frozen=True)
class AccountEstimate:
    account_id: int
    network: str
    followers: int
    low_minor: int
    high_minor: int
    #: The participation fee this account's share is promised (its audience band), part of low and high.
    participation_minor: int = 0


@dataclass(frozen=True)
class OfferEstimate:
    """What an influencer could earn with an offer. Always an estimate, never a promise."""

    currency: str
    low_minor: int
    high_minor: int
    words: str
    is_estimate: bool = True
    accounts: list[AccountEstimate] = field(default_factory=list)


#: Share of followers assumed to see / engage / click, (low, high). Rough, labelled as an estimate.
REACH_RATE = (0.10, 0.30)
ENGAGEMENT_RATE = (0.01, 0.05)
CLICK_RATE = (0.002, 0.01)


def _account_value(*, campaign: Campaign, network: str, followers: int, which: int) -> int:
    info = campaign_networks().get(caption_rules_network(network))
    reports_reach = bool(info and info.reports_reach)
    reach = int(followers * REACH_RATE[which]) if reports_reach else 0
    # "You post, we verify": the network's counts are never read, so no engagement is paid (or estimated).
    engagements = 0 if info is not None and info.proof_of_post else int(followers * ENGAGEMENT_RATE[which])
    amounts = metric_amounts(
        campaign=campaign,
        impressions=reach,
        engagements=engagements,
        unique_clicks=int(followers * CLICK_RATE[which]),
        participation_price_minor=campaign_participation_fee(campaign, followers=followers),
    )
    total = amounts.total
    if campaign.per_share_cap_minor is not None:
        total = min(total, campaign.per_share_cap_minor)
    return total


def offer_estimate_get(*, offer: Offer) -> OfferEstimate:
    """A range of what sharing this offer to all usable accounts could earn, in plain words."""
    campaign = offer.campaign
    accounts = [
        AccountEstimate(
            account_id=account.pk,
            network=account.network,
            followers=account.followers_count or 0,
            low_minor=_account_value(
                campaign=campaign, network=account.network, followers=account.followers_count or 0, which=0
            ),
            high_minor=_account_value(
                campaign=campaign, network=account.network, followers=account.followers_count or 0, which=1
            ),
            participation_minor=campaign_participation_fee(campaign, followers=account.followers_count or 0),
        )
        for account in offer_accounts_usable(offer=offer)
    ]
    low = sum(a.low_minor for a in accounts)
    high = sum(a.high_minor for a in accounts)
    currency = campaign.currency
    if not accounts:
        words = _("Connect an account on one of the campaign's networks to see what you could earn.")
    else:
        words = ngettext(
            "Estimate: about %(low)s to %(high)s if you share to your account.",
            "Estimate: about %(low)s to %(high)s if you share to your %(count)s accounts.",
            len(accounts),
        ) % {"low": money_format(low, currency), "high": money_format(high, currency), "count": len(accounts)}
        words += " " + _(
            "You are paid for verified results only (reach where the network reports it, engagement, unique clicks),"
        )
        if campaign.per_share_cap_minor is not None:
            words += " " + _("up to %(cap)s per share.") % {"cap": money_format(campaign.per_share_cap_minor, currency)}
        else:
            words = words.rstrip(",") + "."
        participation = sum(a.participation_minor for a in accounts)
        if participation:
            words += " " + _(
                "Of that, %(fee)s is the participation fee, paid for each post that stays up with its disclosure "
                "for %(days)s days."
            ) % {"fee": money_format(participation, currency), "days": RETENTION_AFTER.days}
    return OfferEstimate(currency=currency, low_minor=low, high_minor=high, words=words, accounts=accounts)


def offer_pay_terms(*, offer: Offer) -> list[str]:
    """The campaign's prices in plain words, one line each."""
    campaign = offer.campaign
    lines = []
    if campaign.cpm_minor:
        lines.append(
            _("%(price)s per 1,000 people reached (on networks that report reach)")
            % {"price": money_format(campaign.cpm_minor, campaign.currency)}
        )
    if campaign.cpe_minor:
        lines.append(
            _("%(price)s per like, reshare or reply") % {"price": money_format(campaign.cpe_minor, campaign.currency)}
        )
    proof_networks = [
        str(info.label)
        for code, info in campaign_networks().items()
        if info.proof_of_post and code in (campaign.networks or [])
    ]
    if proof_networks and (campaign.cpm_minor or campaign.cpe_minor):
        lines.append(
            _("On %(networks)s (you post, we verify) only the participation fee and clicks are paid.")
            % {"networks": ", ".join(proof_networks)}
        )
    if campaign.cpc_minor:
        lines.append(
            _("%(price)s per unique click on your link")
            % {"price": money_format(campaign.cpc_minor, campaign.currency)}
        )
    participation = participation_terms(campaign=campaign)
    if participation:
        lines.append(participation)
    if campaign.per_share_cap_minor is not None:
        lines.append(
            _("at most %(cap)s per share") % {"cap": money_format(campaign.per_share_cap_minor, campaign.currency)}
        )
    return lines


def participation_terms(*, campaign: Campaign) -> str:
    """The participation fee in plain words ("" when the campaign pays none): flat, or by audience band."""
    if not campaign_participation_priced(campaign):
        return ""
    currency, days = campaign.currency, RETENTION_AFTER.days
    bands = participation_bands(campaign.participation_bands)
    if not bands:
        return _("%(amount)s for each post that stays up with its disclosure for %(days)s days") % {
            "amount": money_format(campaign.participation_fee_minor or 0, currency),
            "days": days,
        }
    parts = []
    for band in bands:
        if band.up_to is None:
            parts.append(_("%(amount)s for a larger audience") % {"amount": money_format(band.fee_minor, currency)})
        else:
            parts.append(
                _("%(amount)s up to %(followers)s followers")
                % {
                    "amount": money_format(band.fee_minor, currency),
                    "followers": number_format(band.up_to, force_grouping=True),
                }
            )
    if bands[-1].up_to is not None and campaign.participation_fee_minor:
        parts.append(
            _("%(amount)s for a larger audience") % {"amount": money_format(campaign.participation_fee_minor, currency)}
        )
    return _("a participation fee for each post that stays up with its disclosure for %(days)s days: %(bands)s") % {
        "days": days,
        "bands": "; ".join(parts),
    }
