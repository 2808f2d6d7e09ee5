"""Reads for the influencer's offers inbox. Every function takes the influencer (the scope) explicitly.

Offers, shares and matches are modelled in ``campaigns.models`` and changed by
``campaigns.matching.services``; this module only shapes them for the pages under ``/i/offers/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from campaigns.captions import NetworkFit, caption_compose, caption_fit, disclosure_for
from campaigns.earnings.pricing import RETENTION_AFTER, campaign_participation_priced
from campaigns.matching.engine import account_networks_for
from campaigns.matching.selectors import (
    SHARE_LINK_PLACEHOLDER,
    caption_problems,
    caption_rules_network,
    participation_terms,
)
from campaigns.models import Campaign, CaptionVariant, ContentPiece, Offer, OfferStatus, Share
from influencers.models import InfluencerProfile, Topic
from linkilike.i18n import label_in_sentence
from networks.models import ConnectedAccount
from networks.providers.registry import campaign_networks, network_label
from networks.providers.types import NetworkInfo
from payouts.money import money_format

#: Inbox tabs: key -> (label, the offer statuses it shows).
OFFER_TABS: dict[str, tuple[str | Promise, tuple[str, ...]]] = {
    "new": (_("New"), (OfferStatus.NEW,)),
    "accepted": (_("Accepted"), (OfferStatus.ACCEPTED,)),
    "declined": (_("Declined"), (OfferStatus.DECLINED,)),
    "expired": (_("Expired"), (OfferStatus.EXPIRED, OfferStatus.WITHDRAWN)),
}


def campaign_network_for_account(account: ConnectedAccount) -> str:
    """The network whose caption rules apply to the account (the sandbox follows Mastodon's)."""
    return caption_rules_network(account.network)


def offer_queryset_for_influencer(*, influencer: InfluencerProfile) -> QuerySet[Offer]:
    return (
        Offer.objects.filter(influencer=influencer)
        .select_related("campaign", "campaign__brand")
        .prefetch_related(
            Prefetch("campaign__content", queryset=ContentPiece.objects.prefetch_related("variants")),
        )
    )


def offer_list_for_influencer(*, influencer: InfluencerProfile, tab: str = "new") -> QuerySet[Offer]:
    statuses = OFFER_TABS.get(tab, OFFER_TABS["new"])[1]
    queryset = offer_queryset_for_influencer(influencer=influencer).filter(status__in=statuses)
    if tab == "new":
        # The offer closing soonest first; offers without an end last.
        return queryset.order_by("expires_at", "-created_at")
    return queryset.order_by("-created_at")


def offer_tab_counts_for_influencer(*, influencer: InfluencerProfile) -> dict[str, int]:
    aggregates = Offer.objects.filter(influencer=influencer).aggregate(
        **{key: Count("pk", filter=Q(status__in=statuses)) for key, (_label, statuses) in OFFER_TABS.items()}
    )
    return {key: int(value or 0) for key, value in aggregates.items()}


def offer_latest_new_for_influencer(*, influencer: InfluencerProfile, limit: int = 3) -> list[Offer]:
    return list(offer_list_for_influencer(influencer=influencer, tab="new").order_by("-created_at")[:limit])


def pay_terms_for_campaign(*, campaign: Campaign) -> str:
    """The prices in plain words: "You earn €5.00 per 1,000 people reached, …, up to €40.00 for this share." """
    currency = campaign.currency
    parts = []
    if campaign.cpm_minor:
        parts.append(
            gettext("%(amount)s per 1,000 people reached (where the network reports reach)")
            % {"amount": money_format(campaign.cpm_minor, currency)}
        )
    if campaign.cpe_minor:
        parts.append(
            gettext("%(amount)s per engagement (like, reply, reshare)")
            % {"amount": money_format(campaign.cpe_minor, currency)}
        )
    if campaign.cpc_minor:
        parts.append(
            gettext("%(amount)s per person who clicks the link")
            % {"amount": money_format(campaign.cpc_minor, currency)}
        )
    participation = participation_terms(campaign=campaign)
    if participation:
        parts.append(participation)
    if not parts:
        return gettext("This campaign has no prices set yet.")
    terms = ", ".join(parts)
    if campaign.per_share_cap_minor:
        return gettext("You earn %(terms)s, up to %(cap)s for this share.") % {
            "terms": terms,
            "cap": money_format(campaign.per_share_cap_minor, currency),
        }
    return gettext("You earn %(terms)s.") % {"terms": terms}


def participation_note_for_campaign(*, campaign: Campaign) -> str:
    """When a participation fee is earned and when it is taken back ("" when the campaign pays none)."""
    if not campaign_participation_priced(campaign):
        return ""
    return gettext(
        "The participation fee is booked once your post is up and is earned when it has stayed up with its "
        "disclosure for %(days)s days; if the post is removed or loses its disclosure before that, the fee is "
        "taken back. Your fee is set by your follower count when you accept and does not change later."
    ) % {"days": RETENTION_AFTER.days}


@dataclass(frozen=True)
class AccountOption:
    account: ConnectedAccount
    network_code: str
    network_label: str
    selectable: bool
    reason: str | Promise = ""
    reconnect: bool = False


def account_options_for_offer(*, offer: Offer) -> list[AccountOption]:
    """Every connected account of the offer's influencer, and whether it can take this campaign."""
    targeted = set(account_networks_for(offer.campaign))
    options = []
    for account in ConnectedAccount.objects.filter(influencer_id=offer.influencer_id).order_by("network", "handle"):
        code = campaign_network_for_account(account)
        label = network_label(account.network)
        if account.network != code and account.network not in targeted and code in (offer.campaign.networks or []):
            # The campaign targets Mastodon, which a sandbox account stands in for; say why it still cannot take it.
            options.append(AccountOption(account, code, label, False, _("The sandbox is for demo campaigns only")))
        elif account.network not in targeted:
            options.append(AccountOption(account, code, label, False, _("Not targeted by this campaign")))
        elif not account.is_usable:
            options.append(AccountOption(account, code, label, False, _("Needs reconnecting"), reconnect=True))
        else:
            options.append(AccountOption(account, code, label, True))
    return options


def offer_variants(*, offer: Offer) -> list[CaptionVariant]:
    return [variant for piece in offer.campaign.content.all() for variant in piece.variants.all()]


def offer_variant_pick(*, offer: Offer, variant_id: str | None = None) -> CaptionVariant | None:
    """The text the editor starts from: the one asked for, else the first in a language the influencer speaks."""
    variants = offer_variants(offer=offer)
    if variant_id and variant_id.isdigit():
        for variant in variants:
            if variant.pk == int(variant_id):
                return variant
    languages = list(offer.influencer.languages or [])
    for language in languages:
        for variant in variants:
            if variant.language == language:
                return variant
    return variants[0] if variants else None


def offer_content_piece(*, offer: Offer, variant: CaptionVariant | None = None) -> ContentPiece | None:
    pieces = list(offer.campaign.content.all())
    if variant is not None:
        for piece in pieces:
            if piece.pk == variant.content_id:
                return piece
    return pieces[0] if pieces else None


def offer_caption_initial(*, offer: Offer, variant: CaptionVariant | None) -> str:
    """The caption as the editor shows it first: disclosure, the brand's text, the link and the hashtags."""
    if variant is None:
        return ""
    piece = offer_content_piece(offer=offer, variant=variant)
    return caption_compose(
        text=variant.text,
        disclosure=disclosure_for(disclosures=offer.campaign.disclosures, language=variant.language),
        link=SHARE_LINK_PLACEHOLDER,
        hashtags=piece.hashtags if piece else (),
    )


def offer_disclosure(*, offer: Offer, language: str) -> str:
    return disclosure_for(disclosures=offer.campaign.disclosures, language=language)


@dataclass(frozen=True)
class CaptionPreview:
    #: Problems on every network (the disclosure or the link was removed, the caption is empty).
    problems: list[str] = field(default_factory=list)
    fits: list[NetworkFit] = field(default_factory=list)
    #: The content piece the post goes out with: its image is part of how the post looks.
    piece: ContentPiece | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and all(fit.fits for fit in self.fits)


def offer_caption_preview(
    *, offer: Offer, text: str, language: str, network_codes: list[str] | None = None
) -> CaptionPreview:
    """The caption exactly as typed, checked against the brand's rules and each network's limits.

    ``network_codes`` narrows the networks to those the influencer can post to (all targeted otherwise).
    """
    campaign = offer.campaign
    piece = offer_content_piece(offer=offer)
    has_media = bool(piece and piece.media)
    # No network named: only the rules that hold everywhere (disclosure, link, not empty).
    problems = caption_problems(
        campaign=campaign,
        caption_text=text,
        disclosure=offer_disclosure(offer=offer, language=language),
        account_network="",
        has_media=has_media,
    )
    networks = campaign_networks()
    codes = [code for code in campaign.networks if code in networks]
    if network_codes:
        codes = [code for code in codes if code in set(network_codes)] or codes
    fits = [
        caption_fit(caption=text, network_code=code, has_media=has_media, hashtag_count=text.count("#"))
        for code in codes
    ]
    if problems:
        # Without the disclosure or the link the caption is refused on every network, however short it is:
        # no network may say it fits.
        fits = [replace(fit, fits=False) for fit in fits]
    return CaptionPreview(problems=problems, fits=fits, piece=piece)


def network_codes_of_options(options: list[AccountOption]) -> list[str]:
    return list(dict.fromkeys(option.network_code for option in options if option.selectable))


def network_rules_for_campaign(*, campaign: Campaign) -> list[NetworkInfo]:
    """Length and link rules of each network the campaign targets (for the caption editor)."""
    networks = campaign_networks()
    return [networks[code] for code in campaign.networks if code in networks]


def share_list_for_offer(*, offer: Offer) -> QuerySet[Share]:
    return (
        Share.objects.filter(offer=offer, influencer_id=offer.influencer_id)
        # The publication: the state the offer page shows (``share_state_get``).
        .select_related("connected_account", "publication")
        .order_by("pk")
    )


def offer_explanation(*, offer: Offer) -> str:
    """Why the influencer was matched, in plain words of the active language ("" when the parts are missing).

    Influencers see no scores, points or bands: those are for staff (``explanation_render``, and the stored
    English ``Match.explanation``, which is therefore no fallback here).
    """
    parts = offer.match.score_parts if offer.match_id else None
    if not parts:
        return ""
    try:
        return _explanation_for_influencer(parts)
    except (KeyError, TypeError):
        return ""


def _explanation_for_influencer(parts: dict[str, Any]) -> str:
    sentences: list[str] = []
    topics = [label_in_sentence(Topic(slug=slug).label) for slug in parts["topic"]["matched"]]
    if topics:
        sentences.append(
            ngettext(
                "You post about %(topics)s, a topic the brand is looking for.",
                "You post about %(topics)s, topics the brand is looking for.",
                len(topics),
            )
            % {"topics": ", ".join(topics)}
        )
    audience = parts["audience"]
    followers = audience["followers"]
    if followers is not None:
        numbers = {
            "count": number_format(followers, force_grouping=True),
            "min": number_format(audience["band_min"] or 0, force_grouping=True),
            "max": number_format(audience["band_max"] or 0, force_grouping=True),
        }
        if audience["band_min"] is not None and audience["band_max"] is not None:
            text = ngettext(
                "You have %(count)s follower; the brand looks for accounts with %(min)s to %(max)s.",
                "You have %(count)s followers; the brand looks for accounts with %(min)s to %(max)s.",
                followers,
            )
        elif audience["band_min"] is not None:
            text = ngettext(
                "You have %(count)s follower; the brand looks for accounts with at least %(min)s.",
                "You have %(count)s followers; the brand looks for accounts with at least %(min)s.",
                followers,
            )
        elif audience["band_max"] is not None:
            text = ngettext(
                "You have %(count)s follower; the brand looks for accounts with up to %(max)s.",
                "You have %(count)s followers; the brand looks for accounts with up to %(max)s.",
                followers,
            )
        else:
            text = ngettext("You have %(count)s follower.", "You have %(count)s followers.", followers)
        sentences.append(text % numbers)
    if not parts["health"]["healthy"]:
        sentences.append(gettext("Your account's access runs out soon: reconnect it so your post can go out."))
    exposure = parts["exposure_penalty"]
    if exposure["accepted_recently"]:
        # The exposure penalty in plain words: recent offers make new ones a little rarer, so others get a turn.
        sentences.append(
            ngettext(
                "You accepted %(count)s offer in the last %(days)s days; to give others a turn, new offers "
                "come a little less often for a while.",
                "You accepted %(count)s offers in the last %(days)s days; to give others a turn, new offers "
                "come a little less often for a while.",
                exposure["accepted_recently"],
            )
            % {"count": exposure["accepted_recently"], "days": exposure["window_days"]}
        )
    return " ".join(sentences)
