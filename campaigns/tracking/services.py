"""Writes for tracking links, clicks, holds and click earnings."""

from __future__ import annotations

import logging
import re
import secrets
import statistics
from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, Subquery, Sum
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from redis.exceptions import LockError

from accounts.models import User
from campaigns import captions
from campaigns.audit import CampaignAuditAction
from campaigns.earnings.batch import earnings_accrue_batch
from campaigns.earnings.services import MetricDelta, earnings_accrue
from campaigns.errors import CampaignError
from campaigns.matching.selectors import share_content
from campaigns.models import (
    Campaign,
    Click,
    ClickReason,
    HoldReason,
    MetricSnapshot,
    PublicationState,
    Share,
    ShareHold,
    TrackingLink,
)
from campaigns.tracking.capture import (
    DRAIN_LOCK_KEY,
    LINK_CACHE_TTL,
    PROCESSING_KEY,
    QUEUE_KEY,
    ClickEvent,
    link_cache_key,
    redis_client,
    redis_key,
)
from linkilike.audit import audit_record
from networks.models import ConnectedAccount, Network
from networks.providers.registry import provider_class
from networks.providers.types import AccountRef
from payouts.models import EarningAccrual, EarningLine, Metric, MetricSource

logger = logging.getLogger(__name__)

CODE_BYTES = 7  # token_urlsafe(7) -> 10 url-safe characters, 56 bits
#: every code a link can have: token_urlsafe's alphabet, at most the column's 16 characters.
CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,16}")


def dedupe_window() -> timedelta:
    return timedelta(hours=int(getattr(settings, "TRACKING_DEDUPE_HOURS", 24)))


def velocity_limit() -> int:
    return int(getattr(settings, "TRACKING_VELOCITY_PER_MINUTE", 30))


def ip_rate_limit() -> int:
    """Billable clicks one visitor (address, IPv6 /64) may make across all links within ``ip_rate_window``."""
    return int(getattr(settings, "TRACKING_IP_RATE_LIMIT", 10))


def ip_rate_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "TRACKING_IP_RATE_MINUTES", 10)))


def reach_followers_factor() -> float:
    return float(getattr(settings, "TRACKING_REACH_FOLLOWERS_FACTOR", 10))


# --- links ----------------------------------------------------------------------------


def tracking_target_url(*, share: Share) -> str:
    """The chosen content piece's link with UTM parameters; utm_content names the share."""
    piece = share_content(share=share)
    base = piece.target_url if piece is not None else settings.SITE_URL + "/"
    url = captions.utm_apply(url=base, campaign_slug=share.campaign.slug)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "utm_content"]
    query.append(("utm_content", str(share.pk)))
    return urlunsplit(parts._replace(query=urlencode(query)))


@transaction.atomic
def tracking_link_get_or_create(*, share: Share) -> TrackingLink:
    existing = TrackingLink.objects.filter(share=share).first()
    if existing is not None:
        return existing
    target = tracking_target_url(share=share)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return TrackingLink.objects.create(
                    share=share, code=secrets.token_urlsafe(CODE_BYTES), target_url=target
                )
        except IntegrityError:
            existing = TrackingLink.objects.filter(share=share).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not allocate a unique tracking code")  # pragma: no cover - 2**56 codes


def tracking_link_url(*, link: TrackingLink) -> str:
    return settings.SITE_URL + reverse("tracking-redirect", kwargs={"code": link.code})


def tracking_link_for_share(*, share: Share) -> str:
    """Absolute URL of the share's short link (``/r/<code>``), created on first use. Used by publishing."""
    return tracking_link_url(link=tracking_link_get_or_create(share=share))


def tracking_link_resolve(*, code: str) -> tuple[int, str] | None:
    """(link id, target URL) for a code: from the cache, else one indexed read. Never writes the DB."""
    # The code is whatever a visitor typed after /r/ (NUL and other bytes PostgreSQL refuses in a
    # query included): one that no link can have is unknown, without asking the cache or database.
    if not CODE_SHAPE.fullmatch(code):
        return None
    key = link_cache_key(code)
    cached = cache.get(key)
    if cached is not None:
        return int(cached[0]), str(cached[1])
    row = TrackingLink.objects.filter(code=code).values_list("pk", "target_url").first()
    if row is None:
        return None
    cache.set(key, (row[0], row[1]), LINK_CACHE_TTL)
    return int(row[0]), str(row[1])


# --- earned media value prices ----------------------------------------------------------

EMV_PRICE_MAX_MINOR = 1_000_000


@transaction.atomic
def campaign_emv_prices_update(
    *, campaign: Campaign, impressions_minor: int, engagements_minor: int, clicks_minor: int
) -> Campaign:
    """Sets the prices the earned-media-value ESTIMATE uses (per 1,000 impressions, per engagement, per click)."""
    prices = {"impressions": impressions_minor, "engagements": engagements_minor, "clicks": clicks_minor}
    for value in prices.values():
        if not 0 <= value <= EMV_PRICE_MAX_MINOR:
            raise CampaignError(_("Each price must be between 0 and 10,000."), field="emv_prices")
    campaign.emv_prices = prices
    campaign.save(update_fields=["emv_prices", "updated_at"])
    return campaign


# --- clicks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    billable: bool
    reason: str


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@transaction.atomic
def clicks_record(*, events: list[ClickEvent]) -> list[Click]:
    """Applies the click rules to a batch and inserts it (F1, F2). Replaying a batch inserts nothing new.

    The visitor is ``ClickEvent.ip_hash``: the network address (IPv6 by /64, ``capture.visitor_hash``),
    never the user agent, which the client chooses. Rules, in order: HEAD -> not billable;
    prefetch/prerender -> not billable; bot user agent -> not billable; the share's post was removed
    -> not billable (ADR 9); a billable click of the same (link, visitor) within the dedupe window ->
    duplicate; ``TRACKING_IP_RATE_LIMIT`` billable clicks of the visitor on any links within
    ``TRACKING_IP_RATE_MINUTES`` -> the excess is not billable (one address clicking its way through
    every campaign); more than ``TRACKING_VELOCITY_PER_MINUTE`` billable clicks on one link in one
    minute -> the excess is not billable and the share goes on hold for review.
    """
    if not events:
        return []
    # A replayed event carries its own ``occurred_at``: bounding the lookup by the batch's times lets
    # PostgreSQL read only the month partitions they fall in (ADR 19), not every month's index.
    moments = [datetime.fromtimestamp(e.occurred_at, tz=UTC) for e in events]
    known = set(
        Click.objects.filter(
            event_id__any=[e.event_id for e in events], occurred_at__range=(min(moments), max(moments))
        ).values_list("event_id", flat=True)
    )
    fresh = sorted((e for e in events if e.event_id not in known), key=lambda e: e.occurred_at)
    if not fresh:
        return []
    link_ids = {e.link_id for e in fresh}
    share_of: dict[int, int] = {}
    removed: set[int] = set()
    for link_id, share_id, state in TrackingLink.objects.filter(pk__any=link_ids).values_list(
        "pk", "share_id", "share__publication__state"
    ):
        share_of[link_id] = share_id
        if state == PublicationState.REMOVED:
            removed.add(link_id)
    fresh = [e for e in fresh if e.link_id in share_of]  # a link deleted since the click
    if not fresh:
        return []
    window, rate_window = dedupe_window(), ip_rate_window()
    first = datetime.fromtimestamp(fresh[0].occurred_at, tz=UTC)
    visitors = {e.ip_hash for e in fresh}
    last_seen: dict[tuple[int, str], datetime] = {}
    for link_id, ip_hash, occurred_at in Click.objects.filter(
        link_id__any=link_ids, billable=True, occurred_at__gte=first - window, ip_hash__any=visitors
    ).values_list("link_id", "ip_hash", "occurred_at"):
        key = (link_id, ip_hash)
        if key not in last_seen or occurred_at > last_seen[key]:
            last_seen[key] = occurred_at
    # Billable clicks per visitor on any link, sorted: the rate counts those in (moment - window, moment].
    by_visitor: dict[str, list[datetime]] = defaultdict(list)
    for ip_hash, occurred_at in Click.objects.filter(
        ip_hash__any=visitors, billable=True, occurred_at__gt=first - rate_window
    ).values_list("ip_hash", "occurred_at"):
        by_visitor[ip_hash].append(occurred_at)
    for moments in by_visitor.values():
        moments.sort()
    per_minute: dict[tuple[int, datetime], int] = defaultdict(int)
    for link_id, occurred_at in Click.objects.filter(
        link_id__any=link_ids, billable=True, occurred_at__gte=_minute(first)
    ).values_list("link_id", "occurred_at"):
        per_minute[(link_id, _minute(occurred_at))] += 1

    limit, rate_limit = velocity_limit(), ip_rate_limit()
    rows: list[Click] = []
    held: dict[int, str] = {}
    for event in fresh:
        moment = datetime.fromtimestamp(event.occurred_at, tz=UTC)
        verdict = _Verdict(True, "")
        key = (event.link_id, event.ip_hash)
        recent = by_visitor[event.ip_hash]
        if event.is_head:
            verdict = _Verdict(False, ClickReason.HEAD)
        elif event.is_prefetch:
            verdict = _Verdict(False, ClickReason.PREFETCH)
        elif event.is_bot:
            verdict = _Verdict(False, ClickReason.BOT)
        elif event.link_id in removed:
            verdict = _Verdict(False, ClickReason.POST_REMOVED)
        elif key in last_seen and moment - last_seen[key] < window:
            verdict = _Verdict(False, ClickReason.DUPLICATE)
        elif bisect_right(recent, moment) - bisect_right(recent, moment - rate_window) >= rate_limit:
            verdict = _Verdict(False, ClickReason.IP_RATE)
        elif per_minute[(event.link_id, _minute(moment))] >= limit:
            verdict = _Verdict(False, ClickReason.VELOCITY_HOLD)
            held[share_of[event.link_id]] = _("More than %(limit)s unique clicks in the minute from %(minute)s.") % {
                "limit": limit,
                "minute": _minute(moment).strftime("%Y-%m-%d %H:%M UTC"),
            }
        if verdict.billable:
            last_seen[key] = moment
            insort(recent, moment)
            per_minute[(event.link_id, _minute(moment))] += 1
        rows.append(
            Click(
                link_id=event.link_id,
                event_id=event.event_id,
                occurred_at=moment,
                ip_hash=event.ip_hash,
                ua_hash=event.ua_hash,
                ua_family=event.ua_family[:24],
                referrer_host=event.referrer_host[:200],
                billable=verdict.billable,
                reason=verdict.reason,
            )
        )
    created = Click.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    for share_id, detail in held.items():
        share_hold_open(share_id=share_id, reason=HoldReason.CLICK_VELOCITY, detail=detail)
    return created


def clicks_drain(*, batch_size: int | None = None, max_batches: int = 50) -> int:
    """Moves queued clicks from Redis into Click rows, in batches. Returns how many events it handled.

    Durable: each batch is LMOVEd from the queue onto a processing list, recorded in one
    transaction, and only then deleted from the processing list. A drain that dies in between
    leaves the batch on the processing list; the next drain records it first, and the unique
    ``event_id`` makes that replay insert nothing twice.
    """
    client = redis_client()
    if client is None:
        return 0
    size = batch_size or int(getattr(settings, "TRACKING_DRAIN_BATCH", 500))
    queue, processing = redis_key(QUEUE_KEY), redis_key(PROCESSING_KEY)
    lock = client.lock(redis_key(DRAIN_LOCK_KEY), timeout=300)
    if not lock.acquire(blocking=False):
        return 0
    handled = 0
    try:
        for _batch in range(max_batches):
            raw = client.lrange(processing, 0, -1)
            if not raw:
                pipe = client.pipeline(transaction=False)
                for _item in range(size):
                    pipe.lmove(queue, processing, "RIGHT", "LEFT")
                raw = [item for item in pipe.execute() if item is not None]
            if not raw:
                break
            events = []
            for item in raw:
                try:
                    events.append(ClickEvent.from_json(item))
                except (ValueError, TypeError):
                    logger.warning("dropping a malformed click event: %r", item[:200])
            clicks_record(events=events)
            client.delete(processing)
            handled += len(raw)
    finally:
        try:
            lock.release()
        except LockError:  # the lock expired: another drain may run now; nothing to undo
            logger.warning("click drain lock expired before release")
    return handled


# --- holds (F2) -----------------------------------------------------------------------


@transaction.atomic
def share_hold_open(*, share_id: int, reason: str, detail: str = "") -> ShareHold:
    """Puts a share on hold for review (idempotent: one open hold per share and reason)."""
    existing = ShareHold.objects.filter(share_id=share_id, reason=reason, released_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ShareHold.objects.create(share_id=share_id, reason=reason, detail=detail[:300])
    except IntegrityError:
        return ShareHold.objects.get(share_id=share_id, reason=reason, released_at__isnull=True)


def share_holds_open(*, holds: Sequence[tuple[int, str, str]]) -> int:
    """``share_hold_open`` for many (share id, reason, detail) in one statement, in the given order.

    A share that has an open hold for the reason keeps it (and its detail), as does the first of several
    holds given for the same share and reason. Returns the holds opened.
    """
    if not holds:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO campaigns_sharehold (share_id, reason, detail, created_at, released_at, released_by_id)
            SELECT wanted.share_id, wanted.reason, wanted.detail, %s, NULL, NULL
            FROM (
                SELECT DISTINCT ON (h.share_id, h.reason) h.share_id, h.reason, h.detail, h.position
                FROM unnest(%s::bigint[], %s::text[], %s::text[])
                    WITH ORDINALITY AS h(share_id, reason, detail, position)
                ORDER BY h.share_id, h.reason, h.position
            ) wanted
            WHERE NOT EXISTS (
                SELECT 1 FROM campaigns_sharehold o
                WHERE o.share_id = wanted.share_id AND o.reason = wanted.reason AND o.released_at IS NULL
            )
            ORDER BY wanted.position
            ON CONFLICT DO NOTHING
            """,
            [
                timezone.now(),
                [share_id for share_id, _reason, _detail in holds],
                [reason for _share_id, reason, _detail in holds],
                [detail[:300] for _share_id, _reason, detail in holds],
            ],
        )
        return int(cursor.rowcount)


@transaction.atomic
def share_hold_release(*, hold: ShareHold, released_by: User | None) -> ShareHold:
    """Staff reviewed the share: its click earnings resume (held clicks are paid by the next run)."""
    hold = ShareHold.objects.select_for_update().select_related("share__campaign").get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at = timezone.now()
        hold.released_by = released_by
        hold.save(update_fields=["released_at", "released_by"])
        audit_record(
            action=CampaignAuditAction.SHARE_HOLD_RELEASED,
            target=hold,
            actor=released_by,
            before={"share_id": hold.share_id, "reason": hold.reason, "released_at": None},
            after={"share_id": hold.share_id, "reason": hold.reason, "released_at": hold.released_at.isoformat()},
            brand_id=hold.share.campaign.brand_id,
        )
    return hold


def reach_anomaly_check(*, share: Share, reach: int | None) -> ShareHold | None:
    """F2: reach above followers x k puts the share on hold. The metrics pull may call this per snapshot."""
    detail = reach_anomaly_detail(followers=share.connected_account.followers_count, reach=reach)
    if detail is None:
        return None
    return share_hold_open(share_id=share.pk, reason=HoldReason.REACH_ANOMALY, detail=detail)


def reach_anomaly_detail(*, followers: int | None, reach: int | None) -> str | None:
    """The hold's detail when reach is above followers x k (F2), else None: the rule without the hold."""
    if reach is None or not followers:
        return None
    factor = reach_followers_factor()
    if reach <= followers * factor:
        return None
    return _("Reach %(reach)s is above %(factor)s x %(followers)s followers.") % {
        "reach": reach,
        "factor": f"{factor:g}",
        "followers": followers,
    }


def engagement_anomaly_check(
    *, share: Share, engagements: int | None, history: list[float] | None = None
) -> ShareHold | None:
    """F3: engagements per follower far above the influencer's own median puts the share on hold.

    The history is the latest snapshot of each of the influencer's last shares (other than this one); with
    fewer than ``TRACKING_ENGAGEMENT_ANOMALY_MIN_HISTORY`` of them there is no usual to compare with.
    ``history``: those rates as the caller computed them for many shares at once (the metrics pull's set
    path); read here otherwise.
    """
    followers = share.connected_account.followers_count
    if engagements is None or not followers or not engagement_anomaly_candidate(engagements, followers):
        return None
    if history is None:
        history = _engagement_rates(share)
    detail = engagement_anomaly_detail(engagements=engagements, followers=followers, history=history)
    if detail is None:
        return None
    return share_hold_open(share_id=share.pk, reason=HoldReason.ENGAGEMENT_ANOMALY, detail=detail)


def engagement_anomaly_detail(*, engagements: int | None, followers: int | None, history: list[float]) -> str | None:
    """The hold's detail when the engagements are far above the usual of ``history`` (F3), else None."""
    if engagements is None or not followers or not engagement_anomaly_candidate(engagements, followers):
        return None
    floor = settings.TRACKING_ENGAGEMENT_ANOMALY_FLOOR
    if len(history) < settings.TRACKING_ENGAGEMENT_ANOMALY_MIN_HISTORY:
        return None
    usual = statistics.median(history)
    factor = settings.TRACKING_ENGAGEMENT_ANOMALY_FACTOR
    rate = engagements / followers
    if usual > 0 and rate <= usual * factor:
        return None
    if usual == 0 and engagements < floor * factor:
        return None
    return _(
        "%(engagements)s engagements are %(rate).2f%% of the followers; this influencer usually reaches "
        "%(usual).2f%% (median of %(count)s shares)."
    ) % {"engagements": engagements, "rate": rate * 100, "usual": usual * 100, "count": len(history)}


def peer_engagement_check(*, share: Share, engagers: tuple[AccountRef, ...]) -> ShareHold | None:
    """A like, repost, reply or quote from another influencer's account on the same campaign holds the share.

    Influencers of one campaign liking and reposting each other's posts are paid twice for the same audience;
    a person decides. ``engagers`` are the accounts the network named (``MetricsSnapshot.engagers``): global
    ids (Bluesky DIDs) are compared as ids, per-server ids (Mastodon) by handle and profile address.
    """
    if not engagers:
        return None

    network = share.connected_account.network
    other_influencers = (
        Share.objects.filter(campaign_id=share.campaign_id)
        .exclude(influencer_id=share.influencer_id)
        .values("influencer_id")
    )
    peers = list(
        ConnectedAccount.objects.filter(network=network, influencer_id__in=other_influencers).values_list(
            "external_id", "handle", "profile_url"
        )
    )
    if not peers:
        return None
    global_ids = not provider_class(network).per_instance
    ids = {external_id for external_id, _handle, _url in peers} if global_ids else set()
    handles = {handle.lower(): handle for _id, handle, _url in peers}
    urls = {url for _id, _handle, url in peers if url}
    found = sorted(
        {
            handles.get(ref.handle.lower(), ref.handle)
            for ref in engagers
            if (ref.external_id and ref.external_id in ids)
            or ref.handle.lower() in handles
            or (ref.profile_url and ref.profile_url in urls)
        }
    )
    if not found:
        return None
    return share_hold_open(
        share_id=share.pk,
        reason=HoldReason.PEER_ENGAGEMENT,
        detail=_("Engaged with by another influencer of this campaign: %(accounts)s.") % {"accounts": ", ".join(found)},
    )


def engagement_anomaly_candidate(engagements: int | None, followers: int | None) -> bool:
    """Whether ``engagement_anomaly_check`` compares these engagements with the influencer's history at all."""
    return engagements is not None and engagements >= settings.TRACKING_ENGAGEMENT_ANOMALY_FLOOR and bool(followers)


def _engagement_rates(share: Share) -> list[float]:
    """Engagements per follower of the influencer's last shares, from each share's latest snapshot."""
    recent = list(
        Share.objects.filter(influencer_id=share.influencer_id)
        .exclude(pk=share.pk)
        .order_by("-pk")
        .values_list("pk", "connected_account__followers_count")[: settings.TRACKING_ENGAGEMENT_ANOMALY_HISTORY]
    )
    followers_by_share = {pk: followers for pk, followers in recent if followers}
    latest: dict[int, int] = {}
    rows = (
        MetricSnapshot.objects.filter(
            share_id__any=list(followers_by_share), post_exists=True, engagements__isnull=False
        )
        .order_by("share_id", "collected_at", "pk")
        .values_list("share_id", "engagements")
    )
    for share_id, engagements in rows:  # ordered oldest first: the last one per share wins
        latest[share_id] = engagements or 0  # never None: filtered above
    return [engagements / followers_by_share[share_id] for share_id, engagements in latest.items()]


# --- click earnings -------------------------------------------------------------------


def click_window(hour: datetime) -> str:
    return f"clicks:{hour.astimezone(UTC):%Y-%m-%dT%H}"


class _ClickChunkRefusedError(Exception):
    """The batch refused some windows (the per-row service raises for them): book the chunk per row."""


class _ClickCountChangedError(Exception):
    """A window's clicks changed between counting and marking them (a drain far behind stored one): the
    window is rolled back and counted again by the next run, so every marked click is a paid click."""


#: Windows booked per ``earnings_accrue_batch`` call (one database transaction each) by the hourly accrual.
CLICK_ACCRUE_CHUNK = 5_000


def click_earnings_accrue_due(*, now: datetime | None = None, chunk_size: int = CLICK_ACCRUE_CHUNK) -> int:
    """Books the unique billable clicks of every closed hour as earnings, one window per share and hour.

    An hour is closed ``TRACKING_ACCRUE_SETTLE_MINUTES`` after it ends (the drain has caught up).
    Shares with an open hold are skipped until released; their clicks stay unbooked and are paid by
    the first run after the release. A removed post's clicks are never booked. Clicks on a sandbox
    share of a brand that is not a demo brand are never booked. On PostgreSQL the
    (share, hour) windows are booked in chunks of ``chunk_size``, ordered by hour then share, each
    chunk in one transaction through ``earnings_accrue_batch`` (ADR 14) together with the set-based
    marking of its clicks; a chunk that fails is rolled back and booked one window at a time through
    ``earnings_accrue``, so one bad share does not stop the others. Elsewhere every window takes the
    per-row path. Returns the number of windows booked now (windows booked before count nothing).

    A click stays billable only if it is paid (results count billable clicks, ADR 10): a click for an
    hour booked before is marked LATE, the clicks of a window the reservation or the share's cap could
    not pay in full are marked OVER_BUDGET (``_clicks_over_budget``), a removed post's clicks are
    POST_REMOVED.
    """
    now = now or timezone.now()
    settle = timedelta(minutes=int(getattr(settings, "TRACKING_ACCRUE_SETTLE_MINUTES", 5)))
    cutoff = (now - settle).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    # The removal marks the clicks it sees; one the drain stored while the removal committed is caught here.
    Click.objects.filter(
        billable=True, accrued_at__isnull=True, link__share__publication__state=PublicationState.REMOVED
    ).update(billable=False, reason=ClickReason.POST_REMOVED)
    on_hold = ShareHold.objects.filter(released_at__isnull=True).values("share_id")
    rows = list(
        Click.objects.filter(billable=True, accrued_at__isnull=True, occurred_at__lt=cutoff)
        .exclude(link__share_id__in=Subquery(on_hold))
        .exclude(link__share__publication__state=PublicationState.REMOVED)
        # A sandbox share earns only for a demo brand (``earnings_accrue`` refuses the rest); its clicks
        # stay unbooked rather than failing every run.
        .exclude(link__share__connected_account__network=Network.SANDBOX, link__share__campaign__brand__is_demo=False)
        .annotate(hour=TruncHour("occurred_at", tzinfo=UTC))
        .values("link__share_id", "link__share__campaign_id", "link__share__influencer_id", "hour")
        .annotate(clicks=Count("id"))
        .order_by("hour", "link__share_id")
    )
    if connection.vendor != "postgresql":
        return _click_windows_book_per_row(rows=rows, now=now)
    booked, size = 0, max(1, chunk_size)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        try:
            with transaction.atomic():
                due, late = _split_booked_before(chunk)
                booked_now = 0
                if due:
                    result = earnings_accrue_batch(deltas=[_click_delta(row) for row in due], now=now)
                    if result.refused:
                        # The per-row service raises for these; let the fallback log them one by one.
                        raise _ClickChunkRefusedError(result.refused)
                    booked_now = result.booked_set_based + result.booked_per_row
                _clicks_mark(rows=due, now=now)
                _clicks_mark(rows=late, now=now, late=True)
                _clicks_over_budget(rows=due, now=now)
        except Exception:
            logger.exception(
                "click earnings batch of %s windows from share %s, hour %s failed; booking them one by one",
                len(chunk),
                chunk[0]["link__share_id"],
                chunk[0]["hour"],
            )
            booked += _click_windows_book_per_row(rows=chunk, now=now)
            continue
        booked += booked_now
    return booked


def _split_booked_before(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(windows to book, windows booked before: their clicks came late and are not paid). One query."""
    keys = {str(row["link__share_id"]) for row in rows}
    windows = {click_window(row["hour"]) for row in rows}
    booked = set(
        EarningAccrual.objects.filter(share__share_key__any=keys, window__any=windows).values_list(
            "share__share_key", "window"
        )
    )
    due: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    for row in rows:
        (late if (str(row["link__share_id"]), click_window(row["hour"])) in booked else due).append(row)
    return due, late


def _click_delta(row: dict[str, Any]) -> MetricDelta:
    return MetricDelta(
        share_key=str(row["link__share_id"]),
        campaign_id=row["link__share__campaign_id"],
        influencer_id=row["link__share__influencer_id"],
        window=click_window(row["hour"]),
        unique_clicks=int(row["clicks"]),
        source=MetricSource.MEASURED,
    )


def _clicks_mark(*, rows: list[dict[str, Any]], now: datetime, late: bool = False) -> int:
    """Marks the counted clicks of these (share, hour) windows as accrued: one UPDATE per hour.

    ``late``: the windows were booked before; their clicks are marked not billable (LATE), never paid.
    Otherwise the clicks marked must be the clicks counted (``_ClickCountChangedError``).
    """
    shares_by_hour: dict[datetime, list[int]] = defaultdict(list)
    for row in rows:
        shares_by_hour[row["hour"]].append(row["link__share_id"])
    changes: dict[str, Any] = {"accrued_at": now}
    if late:
        changes.update(billable=False, reason=ClickReason.LATE)
    marked = 0
    for hour, share_ids in shares_by_hour.items():
        marked += Click.objects.filter(
            link__share_id__any=share_ids,
            billable=True,
            accrued_at__isnull=True,
            occurred_at__gte=hour,
            occurred_at__lt=hour + timedelta(hours=1),
        ).update(**changes)
    if not late and marked != sum(int(row["clicks"]) for row in rows):
        raise _ClickCountChangedError(marked)
    return marked


def _clicks_over_budget(*, rows: list[dict[str, Any]], now: datetime) -> None:
    """Whole clicks only: the clicks of a window booked now that its earnings do not pay are not billable.

    The reservation running out (or closed) and the share's cap pay part of a window. The engine keeps
    the window's full count, so the reservation's next refill (a reversal elsewhere) would pay those
    clicks in some later window: the count is taken back instead (window ``clicks:<hour>:unpaid``,
    which also returns a paid fraction of a click), and the window's last unpaid clicks are marked
    OVER_BUDGET. The ledger's click count then equals the billable clicks. Two queries per chunk, plus a
    booking and an UPDATE per window that was not paid in full (only when money runs out).
    """
    if not rows:
        return
    campaign_ids = {row["link__share__campaign_id"] for row in rows}
    prices = {
        pk: int(price)
        for pk, price in Campaign.objects.filter(pk__any=campaign_ids).values_list("pk", "cpc_minor")
        if price
    }
    priced = [row for row in rows if row["link__share__campaign_id"] in prices]
    if not priced:
        return  # no price per click: every click is counted at 0, none is short of money
    earned = {
        (key, window): amount
        for key, window, amount in EarningAccrual.objects.filter(
            share__share_key__any={str(row["link__share_id"]) for row in priced},
            window__any={click_window(row["hour"]) for row in priced},
        ).values_list("share__share_key", "window", "earned_minor")
    }
    for row in priced:
        delta = _click_delta(row)
        price = prices[row["link__share__campaign_id"]]
        paid = min(delta.unique_clicks, max(0, earned.get((delta.share_key, delta.window), 0)) // price)
        unpaid = delta.unique_clicks - paid
        if unpaid <= 0:
            continue
        earnings_accrue(delta=replace(delta, window=f"{delta.window}:unpaid", unique_clicks=-unpaid), now=now)
        hour = row["hour"]
        last = Click.objects.filter(
            link__share_id=row["link__share_id"],
            billable=True,
            occurred_at__gte=hour,
            occurred_at__lt=hour + timedelta(hours=1),
        ).order_by("-occurred_at", "-pk")
        Click.objects.filter(pk__any=list(last.values_list("pk", flat=True)[:unpaid])).update(
            billable=False, reason=ClickReason.OVER_BUDGET
        )


def _click_windows_book_per_row(*, rows: list[dict[str, Any]], now: datetime) -> int:
    """Books each (share, hour) in its own transaction; a failing one is logged and left for the next run."""
    booked = 0
    for row in rows:
        delta = _click_delta(row)
        try:
            with transaction.atomic():
                booked_before = EarningAccrual.objects.filter(
                    share__share_key=delta.share_key, window=delta.window
                ).exists()
                if booked_before:
                    _clicks_mark(rows=[row], now=now, late=True)
                else:
                    earnings_accrue(delta=delta, now=now)
                    _clicks_mark(rows=[row], now=now)
                    _clicks_over_budget(rows=[row], now=now)
        except Exception:
            logger.exception("click earnings for share %s, hour %s failed", row["link__share_id"], row["hour"])
            continue
        if not booked_before:
            booked += 1
    return booked


def _click_window_hour(window: str) -> str:
    """The hour a click window books ("clicks:2026-11-02T10", "...:unpaid") as "2026-11-02T10"."""
    return window.removeprefix("clicks:")[:13]


@transaction.atomic
def share_clicks_unbill(*, share_id: int, now: datetime) -> int:
    """The share's post was removed (ADR 9): its clicks that are not paid for good stop being billable.

    Those are the clicks not booked yet, and the clicks of every hour whose click earnings are still on
    hold (not released to the influencer); the clicks of released hours stay billable and paid. Returns
    the clicks the ledger counted for the hours on hold, which the caller reverses in the removal's
    booking (``campaigns.metrics.removal.publication_remove``). Idempotent once that booking is made.
    """
    hours_on_hold: set[str] = set()
    by_hour: dict[str, list[int]] = defaultdict(list)
    for pk, window, hold_until, pending in EarningAccrual.objects.filter(
        share__share_key=str(share_id), window__startswith="clicks:"
    ).values_list("pk", "window", "hold_until", "pending_minor"):
        hour = _click_window_hour(window)
        by_hour[hour].append(pk)
        # Released means moved to the available balance: past the hold and nothing pending any more.
        if hold_until > now or pending > 0:
            hours_on_hold.add(hour)
    accruals = [pk for hour in hours_on_hold for pk in by_hour[hour]]
    counted = EarningLine.objects.filter(accrual_id__any=accruals, metric=Metric.UNIQUE_CLICKS).aggregate(
        units=Sum("units")
    )["units"]
    unpaid = Q(accrued_at__isnull=True)
    for hour in hours_on_hold:
        start = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC)
        unpaid |= Q(occurred_at__gte=start, occurred_at__lt=start + timedelta(hours=1))
    Click.objects.filter(unpaid, link__share_id=share_id, billable=True).update(
        billable=False, reason=ClickReason.POST_REMOVED
    )
    return int(counted or 0)
