"""The matching engine: which influencers fit a campaign, how well, and why.

Everything that depends on the number of influencers happens in SQL: targeting filters,
topic overlap (counted on the profile-topic through table), the best eligible account's
followers, account health and recent exposure are annotations on ONE queryset. Python then
loops over the rows only to do arithmetic, so scoring 5,000 influencers issues the same
handful of queries as scoring 50 (asserted in tests).

Targeting (all must hold):

- at least one connected account that is usable (healthy or expiring) on a network the
  campaign targets (a sandbox account counts as Mastodon: the sandbox speaks its API, but
  only for a demo brand's campaign, see ``account_networks_for``), whose followers are inside
  the campaign's follower band (an account with unknown followers fails a band, as we cannot
  say it fits);
- the profile's country is one of the campaign's countries (when it names any);
- the profile speaks one of the campaign's languages (when it names any);
- minimum engagement rate: Linkilike has no verified engagement data per influencer yet, so
  an unknown rate does NOT exclude anyone (``_engagement_rate`` is the hook; once shares are
  measured, an influencer with a known rate below the minimum will be filtered out).

Score (integer 0-1000, ``MATCH_SCORE_MAX``), the sum of:

- topic (max 400): 400 x shared topics / campaign topics; a campaign without topics gives 200;
- audience (max 250): how close the best account's followers sit to the middle of the band
  on a log scale (the geometric mean of min and max): 250 at the middle, 0 at the edges;
  a band open on one side gives 190, no band 125;
- performance (max 150): past verified performance on similar campaigns; with no history
  (everyone, for now) a neutral 75 (``_past_performance`` is the hook);
- health (max 100): 100 with a healthy account, 50 when the only eligible accounts are
  expiring;
- exposure penalty: minus 100 per offer accepted in the last 14 days, at most minus 300.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.models import MATCH_SCORE_MAX, Campaign, Offer, OfferStatus
from influencers.models import InfluencerProfile, Topic
from linkilike.i18n import label_in_sentence
from networks.models import AccountStatus, ConnectedAccount, Network
from networks.providers.registry import account_networks_serving

TOPIC_WEIGHT = 400
AUDIENCE_WEIGHT = 250
PERFORMANCE_WEIGHT = 150
HEALTH_WEIGHT = 100
EXPOSURE_PENALTY_EACH = 100
EXPOSURE_PENALTY_MAX = 300
EXPOSURE_WINDOW = timedelta(days=14)

USABLE_STATUSES = (AccountStatus.HEALTHY, AccountStatus.EXPIRING)


def sandbox_allowed(campaign: Campaign) -> bool:
    """Whether ``campaign`` may reach sandbox accounts: only a demo brand's campaign may.

    The sandbox's audience is simulated; were it open to every campaign targeting Mastodon, a
    simulated audience would earn real money from a real brand.
    """
    return bool(campaign.brand.is_demo)


def account_networks_for(campaign: Campaign) -> list[str]:
    """Account network codes that satisfy the campaign's network targeting.

    The one place the sandbox gate of matching and offers is decided: the engine's set-based query
    (``eligible_accounts``), the one-by-one scorer, the accounts an offer can be accepted for and the
    influencer's account choice all take their networks from here, so none of them can reach a
    sandbox account for a brand that is not a demo brand, nor a demo brand any other account.
    """
    allow_sandbox = sandbox_allowed(campaign)
    codes: list[str] = []
    for code in campaign.networks or []:
        for alias in account_networks_serving(code):
            if alias == Network.SANDBOX and not allow_sandbox:
                continue
            # The other way round too: a demo brand's budget is pretend money from the demo seed,
            # so its campaigns reach the simulated audience only, never a real person's account.
            if allow_sandbox and alias != Network.SANDBOX:
                continue
            if alias not in codes:
                codes.append(alias)
    return codes


def eligible_accounts(campaign: Campaign) -> QuerySet[ConnectedAccount]:
    """Connected accounts that can carry this campaign: usable, targeted network, inside the band."""
    accounts = ConnectedAccount.objects.filter(status__in=USABLE_STATUSES, network__in=account_networks_for(campaign))
    if campaign.followers_min is not None:
        accounts = accounts.filter(followers_count__gte=campaign.followers_min)
    if campaign.followers_max is not None:
        accounts = accounts.filter(followers_count__lte=campaign.followers_max)
    return accounts


def _languages_filter(languages: list[str]) -> Q:
    """Profile speaks any of ``languages``: a text match on the JSON list, same SQL on PostgreSQL and SQLite.

    (JSONField ``contains`` is not available on SQLite.) Quoting the code keeps "en" from
    matching "en-GB".
    """
    query = Q()
    for code in languages:
        query |= Q(languages_text__contains=f'"{code}"')
    return query


def eligible_influencers(campaign: Campaign) -> QuerySet[InfluencerProfile]:
    """Profiles passing every targeting filter (see the module docstring), as one query."""
    accounts = eligible_accounts(campaign)
    profiles = InfluencerProfile.objects.filter(Exists(accounts.filter(influencer=OuterRef("pk"))))
    countries = [str(code) for code in (campaign.countries or [])]
    if countries:
        profiles = profiles.filter(country__in=countries)
    languages = [code for code in (campaign.languages or []) if code]
    if languages:
        profiles = profiles.annotate(languages_text=Cast("languages", TextField())).filter(_languages_filter(languages))
    return profiles


def _engagement_rate() -> Any:
    """Hook: verified engagement rate per influencer. None for everyone until shares are measured."""
    return Value(None, output_field=IntegerField())


def _past_performance() -> Any:
    """Hook: count of past campaigns with verified metrics. 0 for everyone until shares are measured."""
    return Value(0, output_field=IntegerField())


#: Topic overlap is one bit per campaign topic, so one subquery says both how many and which
#: topics match (a BIGINT holds 63; the curated list has fewer topics than that).
MAX_BITMASK_TOPICS = 62


def scored_influencers(campaign: Campaign, *, topic_ids: list[int], now: Any = None) -> QuerySet[InfluencerProfile]:
    """``eligible_influencers`` annotated with every number the score needs (still one query).

    ``m_topic_bits`` has bit ``i`` set when the profile has ``topic_ids[i]``.
    """
    if len(topic_ids) > MAX_BITMASK_TOPICS:
        raise ValueError(f"at most {MAX_BITMASK_TOPICS} campaign topics can be scored")
    now = now or timezone.now()
    accounts = eligible_accounts(campaign).filter(influencer=OuterRef("pk"))
    through = InfluencerProfile.topics.through
    topic_bits: Any = Value(0, output_field=BigIntegerField())
    if topic_ids:
        bits = (
            through.objects.filter(influencerprofile_id=OuterRef("pk"), topic_id__in=topic_ids)
            .order_by()
            .values("influencerprofile_id")
            .annotate(
                bits=Sum(
                    Case(
                        *[When(topic_id=pk, then=Value(1 << i)) for i, pk in enumerate(topic_ids)],
                        default=Value(0),
                        output_field=BigIntegerField(),
                    )
                )
            )
            .values("bits")  # type: ignore[misc]
        )
        topic_bits = Coalesce(Subquery(bits, output_field=BigIntegerField()), 0)
    # NULLS LAST: without a follower band an account with unknown followers may qualify, but it must
    # not be called the best one (PostgreSQL sorts NULL first in descending order).
    best = accounts.order_by(F("followers_count").desc(nulls_last=True), "pk")
    recent_accepted = (
        Offer.objects.filter(
            influencer=OuterRef("pk"), status=OfferStatus.ACCEPTED, accepted_at__gte=now - EXPOSURE_WINDOW
        )
        .order_by()
        .values("influencer_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return eligible_influencers(campaign).annotate(
        m_topic_bits=topic_bits,
        m_followers=Subquery(best.values("followers_count")[:1]),
        m_network=Subquery(best.values("network")[:1]),
        m_healthy=Exists(accounts.filter(status=AccountStatus.HEALTHY)),
        m_recent_accepted=Coalesce(Subquery(recent_accepted, output_field=IntegerField()), 0),
        m_engagement_rate=_engagement_rate(),
        m_past_campaigns=_past_performance(),
    )


def format_count(n: int | None) -> str:
    """4200 -> "4.2k", 12000 -> "12k", 950 -> "950" (language-neutral enough for explanations)."""
    if n is None:
        return "?"
    if n >= 1_000_000:
        value = f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".")
        return f"{value}M"
    if n >= 1000:
        value = f"{n / 1000:.1f}".rstrip("0").rstrip(".")
        return f"{value}k"
    return str(n)


def audience_fit(*, followers: int, band_min: int | None, band_max: int | None) -> float:
    """0..1: 1 at the band's geometric middle, 0 at its edges (log scale); fixed values for open bands."""
    if band_min is None and band_max is None:
        return 0.5
    if band_min is None or band_max is None:
        return 0.76
    low, high = max(band_min, 1), max(band_max, 1)
    if high <= low:
        return 1.0
    middle = math.sqrt(low * high)
    half_width = math.log(high) - math.log(middle)
    distance = abs(math.log(max(followers, 1)) - math.log(middle))
    return max(0.0, min(1.0, 1 - distance / half_width))


@dataclass(frozen=True)
class ScoreInput:
    topic_slugs_matched: list[str]
    campaign_topic_slugs: list[str]
    followers: int | None
    network: str | None
    band_min: int | None
    band_max: int | None
    healthy: bool
    recent_accepted: int
    past_campaigns: int = 0
    #: Shared topics as counted in SQL; defaults to ``len(topic_slugs_matched)``.
    matched_count: int | None = None


def score_parts_build(data: ScoreInput) -> dict[str, Any]:
    """The score's parts, each with its inputs and points (what ``Match.score_parts`` stores)."""
    total_topics = len(data.campaign_topic_slugs)
    matched = data.matched_count if data.matched_count is not None else len(data.topic_slugs_matched)
    topic_points = round(TOPIC_WEIGHT * matched / total_topics) if total_topics else TOPIC_WEIGHT // 2
    fit = audience_fit(followers=data.followers or 0, band_min=data.band_min, band_max=data.band_max)
    audience_points = round(AUDIENCE_WEIGHT * fit)
    # No verified history exists yet: neutral half points (the hook ``_past_performance`` feeds this).
    performance_points = PERFORMANCE_WEIGHT // 2
    health_points = HEALTH_WEIGHT if data.healthy else HEALTH_WEIGHT // 2
    penalty = min(EXPOSURE_PENALTY_MAX, EXPOSURE_PENALTY_EACH * data.recent_accepted)
    total = topic_points + audience_points + performance_points + health_points - penalty
    return {
        "version": 1,
        "total": max(0, min(MATCH_SCORE_MAX, total)),
        "topic": {
            "points": topic_points,
            "max": TOPIC_WEIGHT,
            "matched": data.topic_slugs_matched,
            "matched_count": matched,
            "campaign_count": total_topics,
        },
        "audience": {
            "points": audience_points,
            "max": AUDIENCE_WEIGHT,
            "followers": data.followers,
            "network": data.network,
            "band_min": data.band_min,
            "band_max": data.band_max,
            "fit": round(fit, 3),
        },
        "performance": {
            "points": performance_points,
            "max": PERFORMANCE_WEIGHT,
            "past_campaigns": data.past_campaigns,
            "neutral": data.past_campaigns == 0,
        },
        "health": {"points": health_points, "max": HEALTH_WEIGHT, "healthy": data.healthy},
        "exposure_penalty": {
            "points": -penalty,
            "accepted_recently": data.recent_accepted,
            "window_days": EXPOSURE_WINDOW.days,
        },
    }


def _topic_label(slug: str) -> str:
    return label_in_sentence(Topic(slug=slug).label)


def _band_text(band_min: int | None, band_max: int | None) -> str:
    if band_min is not None and band_max is not None:
        return _("in the %(min)s-%(max)s band") % {"min": format_count(band_min), "max": format_count(band_max)}
    if band_min is not None:
        return _("above the minimum of %(min)s") % {"min": format_count(band_min)}
    if band_max is not None:
        return _("below the maximum of %(max)s") % {"max": format_count(band_max)}
    return _("(no follower band)")


def explanation_render(parts: dict[str, Any]) -> str:
    """A human-readable explanation of ``parts`` in the active language."""
    topic = parts["topic"]
    if topic["campaign_count"] == 0:
        topic_text = _("topics: the campaign targets no topics")
    elif topic["matched_count"] == 0:
        topic_text = _("topics: none of %(total)s match") % {"total": topic["campaign_count"]}
    else:
        topic_text = _("topics: %(names)s match %(matched)s of %(total)s") % {
            "names": ", ".join(_topic_label(slug) for slug in topic["matched"]),
            "matched": topic["matched_count"],
            "total": topic["campaign_count"],
        }
    audience = parts["audience"]
    audience_text = _("audience %(followers)s followers %(band)s") % {
        "followers": format_count(audience["followers"]),
        "band": _band_text(audience["band_min"], audience["band_max"]),
    }
    performance = parts["performance"]
    if performance["past_campaigns"] == 0:
        performance_text = _("no past campaigns yet")
    else:
        performance_text = ngettext(
            "%(count)s past campaign", "%(count)s past campaigns", performance["past_campaigns"]
        ) % {"count": performance["past_campaigns"]}
    health_text = _("account healthy") if parts["health"]["healthy"] else _("account token expiring soon")
    pieces = [topic_text, audience_text, performance_text, health_text]
    exposure = parts["exposure_penalty"]
    if exposure["accepted_recently"]:
        pieces.append(
            ngettext(
                "%(count)s offer accepted in the last %(days)s days (%(points)s)",
                "%(count)s offers accepted in the last %(days)s days (%(points)s)",
                exposure["accepted_recently"],
            )
            % {"count": exposure["accepted_recently"], "days": exposure["window_days"], "points": exposure["points"]}
        )
    return "; ".join(pieces)


def explanation_for_audit(parts: dict[str, Any]) -> str:
    """The English explanation stored on the match for the audit trail."""
    with translation.override("en"):
        return explanation_render(parts)


@dataclass(frozen=True)
class Scored:
    influencer_id: int
    score: int
    parts: dict[str, Any]


def campaign_score(
    campaign: Campaign, *, exclude_influencer_ids: QuerySet[Any] | None = None, now: Any = None
) -> list[Scored]:
    """Score every eligible influencer of ``campaign`` (optionally skipping a subquery of ids).

    Two queries whatever the number of influencers: the campaign's topics, and the annotated
    eligible profiles.
    """
    topics = list(campaign.topics.order_by("slug").values_list("pk", "slug"))
    topic_ids = [pk for pk, _slug in topics]
    campaign_slugs = [slug for _pk, slug in topics]
    rows_qs = scored_influencers(campaign, topic_ids=topic_ids, now=now)
    if exclude_influencer_ids is not None:
        rows_qs = rows_qs.exclude(pk__in=exclude_influencer_ids)
    rows = list(
        rows_qs.order_by("pk").values(  # type: ignore[misc]
            "pk", "m_topic_bits", "m_followers", "m_network", "m_healthy", "m_recent_accepted", "m_past_campaigns"
        )
    )
    # Many influencers share a topic combination: decode each bitmask once.
    slugs_for_bits: dict[int, list[str]] = {}
    scored: list[Scored] = []
    for row in rows:
        bits = int(row["m_topic_bits"] or 0)
        matched = slugs_for_bits.get(bits)
        if matched is None:
            matched = slugs_for_bits[bits] = [slug for i, slug in enumerate(campaign_slugs) if bits >> i & 1]
        parts = score_parts_build(
            ScoreInput(
                topic_slugs_matched=list(matched),
                campaign_topic_slugs=campaign_slugs,
                followers=row["m_followers"],
                network=row["m_network"],
                band_min=campaign.followers_min,
                band_max=campaign.followers_max,
                healthy=bool(row["m_healthy"]),
                recent_accepted=row["m_recent_accepted"] or 0,
                past_campaigns=row["m_past_campaigns"] or 0,
            )
        )
        scored.append(Scored(influencer_id=row["pk"], score=parts["total"], parts=parts))
    return scored


def influencer_score_one(
    campaign: Campaign, profile: InfluencerProfile, *, campaign_topic_slugs: list[str], now: Any = None
) -> Scored | None:
    """Score ONE influencer with plain Python over its own rows: None when targeting excludes it.

    The same rules as ``eligible_influencers``/``scored_influencers``, written independently
    (targeting is checked in Python, not by reusing the querysets), with the shared arithmetic
    of ``score_parts_build``. It issues up to three queries per influencer, so it is for one
    influencer at a time (tests and the P5 benchmark compare it with ``campaign_score``), never
    for a population.
    """
    now = now or timezone.now()
    countries = {str(code) for code in (campaign.countries or [])}
    if countries and str(profile.country or "") not in countries:
        return None
    languages = [code for code in (campaign.languages or []) if code]
    if languages and not any(code in (profile.languages or []) for code in languages):
        return None
    networks = set(account_networks_for(campaign))
    band_min, band_max = campaign.followers_min, campaign.followers_max

    def in_band(followers: int | None) -> bool:
        if band_min is None and band_max is None:
            return True
        if followers is None:
            return False
        return (band_min is None or followers >= band_min) and (band_max is None or followers <= band_max)

    eligible = [
        account
        for account in ConnectedAccount.objects.filter(influencer=profile)
        if account.status in USABLE_STATUSES and account.network in networks and in_band(account.followers_count)
    ]
    if not eligible:
        return None
    # Most followers first, unknown followers last, then the oldest account.
    best = min(eligible, key=lambda a: (a.followers_count is None, -(a.followers_count or 0), a.pk))
    wanted = set(campaign_topic_slugs)
    matched = sorted(slug for slug in profile.topics.values_list("slug", flat=True) if slug in wanted)
    recent_accepted = Offer.objects.filter(
        influencer=profile, status=OfferStatus.ACCEPTED, accepted_at__gte=now - EXPOSURE_WINDOW
    ).count()
    parts = score_parts_build(
        ScoreInput(
            topic_slugs_matched=matched,
            campaign_topic_slugs=campaign_topic_slugs,
            followers=best.followers_count,
            network=best.network,
            band_min=band_min,
            band_max=band_max,
            healthy=any(account.status == AccountStatus.HEALTHY for account in eligible),
            recent_accepted=recent_accepted,
        )
    )
    return Scored(influencer_id=profile.pk, score=parts["total"], parts=parts)


def ranking(scored: list[Scored]) -> list[Scored]:
    """Best first; equal scores by influencer id so the order is deterministic."""
    return sorted(scored, key=lambda item: (-item.score, item.influencer_id))


__all__ = [
    "account_networks_for",
    "campaign_score",
    "eligible_accounts",
    "eligible_influencers",
    "explanation_for_audit",
    "explanation_render",
    "influencer_score_one",
    "ranking",
    "sandbox_allowed",
    "score_parts_build",
]
