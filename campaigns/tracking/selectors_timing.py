"""When the numbers on results and earnings pages are from, and when they change next.

Results grow in steps, not continuously: the network's counts are read at the metric windows after each
post (``settings.CAMPAIGN_METRICS_WINDOWS``, ADR 9), clicks show within seconds (the drain, ADR 10), and
clicks turn into earnings only once their hour has closed plus ``TRACKING_ACCRUE_SETTLE_MINUTES``
(``campaigns.tracking.services.click_earnings_accrue_due``). A page that shows "Billable clicks 2" next to
earnings without them must say why, and a count read an hour ago must not look live; these reads give the
times to show beside the numbers. Each costs a constant number of queries, whatever the number of shares; a
campaign's reads do not grow with its clicks (``CampaignPendingHour``, migration 0020) and stop early in its
posts (``_next_count_at_in_order``): P2 (ADR 12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.translation import ngettext

from campaigns.metrics.services import metric_windows
from campaigns.models import (
    Campaign,
    CampaignPendingHour,
    Click,
    MetricSnapshot,
    MetricWindowRetry,
    PublicationState,
    Share,
    ShareHold,
    SharePublication,
    ShareResult,
)
from campaigns.tracking.selectors import rollups_enabled
from linkilike.db_routing import analytics_read
from linkilike.i18n import and_list

if TYPE_CHECKING:
    from influencers.models import InfluencerProfile


def settle_delay() -> timedelta:
    """How long after an hour ends its clicks are booked (the drain has caught up by then)."""
    return timedelta(minutes=int(getattr(settings, "TRACKING_ACCRUE_SETTLE_MINUTES", 5)))


@dataclass(frozen=True)
class PendingClickHour:
    """Billable clicks of one closed or running hour that are not booked as earnings yet."""

    hour: datetime
    count: int
    #: The hour's end plus the settle delay: the booking run after this pays them.
    booked_after: datetime
    #: The booking time has passed (the next run books them; only late if the worker is behind).
    overdue: bool

    @property
    def hour_end(self) -> datetime:
        return self.hour + timedelta(hours=1)


@dataclass(frozen=True)
class OverdueClicks:
    """The pending clicks of every hour whose booking time has passed, as one line (the booking run takes them
    all; a worker far behind or a month of unbooked clicks is not a line per hour)."""

    count: int
    #: The first of those hours.
    since: datetime
    hours: int


@dataclass(frozen=True)
class ClicksPending:
    """Counted (billable) clicks not in the earnings yet: by hour, and those of shares on hold for review."""

    hours: list[PendingClickHour] = field(default_factory=list)
    held: int = 0

    @property
    def total(self) -> int:
        return sum(row.count for row in self.hours) + self.held

    @property
    def overdue(self) -> OverdueClicks | None:
        rows = [row for row in self.hours if row.overdue]
        if not rows:
            return None
        return OverdueClicks(count=sum(row.count for row in rows), since=rows[0].hour, hours=len(rows))

    @property
    def upcoming(self) -> list[PendingClickHour]:
        """The hours still to be booked at their time (the running hour and the one settling: a line each)."""
        return [row for row in self.hours if not row.overdue]


@dataclass(frozen=True)
class ResultsTiming:
    now: datetime
    #: The newest network count the figures include (None: none read yet).
    counts_as_of: datetime | None
    #: When the next network count of a live post is due (None: every post has had its last one).
    next_count_at: datetime | None
    #: "1 hour, 6 hours, 24 hours, 72 hours, 7 days and 28 days": when counts are read after a post.
    schedule: str
    clicks: ClicksPending

    @property
    def next_count_due_now(self) -> bool:
        """Due already: the next pull (every minute) reads it."""
        return self.next_count_at is not None and self.next_count_at <= self.now


def _pending(hours: dict[datetime, int], held: int, now: datetime) -> ClicksPending:
    settle = settle_delay()
    return ClicksPending(
        hours=[
            PendingClickHour(
                hour=hour,
                count=count,
                booked_after=hour + timedelta(hours=1) + settle,
                overdue=hour + timedelta(hours=1) + settle <= now,
            )
            for hour, count in sorted(hours.items())
            if count > 0
        ],
        held=held,
    )


def clicks_pending_for_shares(shares: QuerySet[Share], *, now: datetime | None = None) -> ClicksPending:
    """The shares' billable clicks not booked yet, per UTC hour, and those waiting for a hold's review (1 query).

    Mirrors what ``click_earnings_accrue_due`` books: a removed post's clicks are never booked (they stop
    being billable), a held share's clicks wait for staff. Reads the clicks themselves: the campaign's
    results read ``clicks_pending_for_campaign`` (a rollup); this is the influencer's few shares, SQLite,
    and the reference the rollup is tested against.
    """
    now = now or timezone.now()
    held = ShareHold.objects.filter(share_id=OuterRef("link__share_id"), released_at__isnull=True)
    rows = (
        Click.objects.filter(link__share__in=shares, billable=True, accrued_at__isnull=True)
        .exclude(link__share__publication__state=PublicationState.REMOVED)
        .annotate(hour=TruncHour("occurred_at", tzinfo=UTC), held=Exists(held))
        .order_by()
        .values("hour", "held")
        .annotate(n=Count("pk"))
    )
    hours: dict[datetime, int] = {}
    on_hold = 0
    for row in rows:
        if row["held"]:
            on_hold += int(row["n"])
        else:
            hours[row["hour"]] = hours.get(row["hour"], 0) + int(row["n"])
    return _pending(hours, on_hold, now)


def clicks_pending_for_campaign(*, campaign: Campaign, now: datetime | None = None, raw: bool = False) -> ClicksPending:
    """``clicks_pending_for_shares`` of the campaign's shares, from the ``CampaignPendingHour`` rollup.

    The rollup counts every billable click not booked yet, per hour (migration 0020). The clicks of the few
    shares set aside (an open hold: shown as held; a removed post: not shown) are read from those shares'
    own clicks within the waiting hours and moved out of their hours. At most 3 queries (1 when nothing
    waits, 2 when no share is set aside), none reading the other shares' clicks. ``raw`` (and SQLite)
    computes from the clicks (consistency checks).
    """
    now = now or timezone.now()
    shares = Share.objects.filter(campaign=campaign)
    if raw or not rollups_enabled():
        return clicks_pending_for_shares(shares, now=now)
    hours = dict(CampaignPendingHour.objects.filter(campaign=campaign, clicks__gt=0).values_list("hour", "clicks"))
    if not hours:
        return ClicksPending()
    removed = SharePublication.objects.filter(share__campaign=campaign, state=PublicationState.REMOVED)
    held_shares = ShareHold.objects.filter(share__campaign=campaign, released_at__isnull=True)
    aside = set(held_shares.values_list("share_id", flat=True).union(removed.values_list("share_id", flat=True)))
    on_hold = 0
    if aside:
        rows = (
            Click.objects.filter(
                link__share_id__in=aside,
                billable=True,
                accrued_at__isnull=True,
                occurred_at__gte=min(hours),
                occurred_at__lt=max(hours) + timedelta(hours=1),
            )
            .annotate(
                hour=TruncHour("occurred_at", tzinfo=UTC),
                held=Exists(held_shares.filter(share_id=OuterRef("link__share_id"))),
                removed=Exists(removed.filter(share_id=OuterRef("link__share_id"))),
            )
            .order_by()
            .values("hour", "held", "removed")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            hours[row["hour"]] = hours.get(row["hour"], 0) - int(row["n"])
            if row["held"] and not row["removed"]:
                on_hold += int(row["n"])
    return _pending({hour: int(count) for hour, count in hours.items()}, on_hold, now)


def _window_words(label: str, offset: timedelta) -> str:
    """ "+24h" -> "24 hours" (in the label's own unit, as the schedule was written), "+2m" -> "2 minutes"."""
    unit, count = label[-1:], label[1:-1]
    if not count.isdigit():
        unit, count = "m", str(int(offset.total_seconds() // 60))
    number = int(count)
    if unit == "d":
        return ngettext("%(count)s day", "%(count)s days", number) % {"count": number}
    if unit == "h":
        return ngettext("%(count)s hour", "%(count)s hours", number) % {"count": number}
    return ngettext("%(count)s minute", "%(count)s minutes", number) % {"count": number}


def schedule_words(windows: list[tuple[str, timedelta]]) -> str:
    """The metric windows in words: "1 hour, 6 hours, 24 hours, 72 hours, 7 days and 28 days"."""
    return and_list([_window_words(label, offset) for label, offset in windows])


def _counts_as_of(shares: QuerySet[Share]) -> datetime | None:
    """The newest snapshot the results include (the rollup's latest per share on PostgreSQL, ADR 12)."""
    if rollups_enabled():
        latest: datetime | None = ShareResult.objects.filter(share__in=shares).aggregate(at=Max("latest_at"))["at"]
        return latest
    newest: datetime | None = MetricSnapshot.objects.filter(share__in=shares).aggregate(at=Max("collected_at"))["at"]
    return newest


def _next_count_at(shares: QuerySet[Share], windows: list[tuple[str, timedelta]]) -> datetime | None:
    """The earliest (published + window) of a live post whose window is not read (nor given up) yet.

    One query: per window, the earliest publication still missing it (the metric pull's own rule,
    ``campaigns.metrics.selectors.metric_pairs_due``); a window already due counts as due now.
    """
    if not windows:
        return None
    if rollups_enabled():
        return _next_count_at_in_order(shares, windows)
    return _next_count_at_aggregate(shares, windows)


def _next_count_at_aggregate(shares: QuerySet[Share], windows: list[tuple[str, timedelta]]) -> datetime | None:
    """``_next_count_at`` in one aggregate (SQLite, and the reference the PostgreSQL walk is tested against)."""
    missing = {}
    for index, (label, _offset) in enumerate(windows):
        read = MetricSnapshot.objects.filter(share_id=OuterRef("share_id"), window=label)
        given_up = MetricWindowRetry.objects.filter(
            share_id=OuterRef("share_id"), window=label, gave_up_at__isnull=False
        )
        missing[f"w{index}"] = Min("published_at", filter=~Q(Exists(read)) & ~Q(Exists(given_up)))
    earliest = (
        SharePublication.objects.filter(share__in=shares, state=PublicationState.PUBLISHED, published_at__isnull=False)
        .exclude(external_id="")
        .aggregate(**missing)
    )
    due = [
        earliest[f"w{index}"] + offset
        for index, (_label, offset) in enumerate(windows)
        if earliest[f"w{index}"] is not None
    ]
    return min(due) if due else None


def _next_count_at_in_order(shares: QuerySet[Share], windows: list[tuple[str, timedelta]]) -> datetime | None:
    """``_next_count_at`` on PostgreSQL, one query that stops at the first post missing each window.

    The posts are sorted by publication time once (a materialised CTE); per window a scalar subquery walks
    them in that order and stops at the first one whose window is neither read nor given up. The aggregate
    of the generic version looked the window up for every post and window (2,000 posts: 12,000 lookups,
    40-50 ms, P2). The posts missing a window are usually the oldest ones (windows not due yet) or a
    recent one: most walks stop at once, and none looks up more than the aggregate did.
    """
    try:
        posts_sql, posts_params = (
            SharePublication.objects.filter(
                share__in=shares, state=PublicationState.PUBLISHED, published_at__isnull=False
            )
            .exclude(external_id="")
            .order_by("published_at", "share_id")
            .values("share_id", "published_at")
            .query.sql_with_params()
        )
    except EmptyResultSet:  # no shares (``.none()``)
        return None
    # A CTE scan returns the rows in the order they were stored: the walk below follows publication time.
    # Scalar subqueries, not EXISTS: PostgreSQL looks each post's (share, window) key up as the walk reaches
    # it; an EXISTS becomes an anti-join or a hashed subplan that first reads every snapshot of the window.
    walk = (
        "(SELECT p.published_at FROM posts p WHERE "
        '(SELECT 1 FROM campaigns_metricsnapshot m WHERE m.share_id = p.share_id AND m."window" = %s LIMIT 1) '
        "IS NULL AND (SELECT 1 FROM campaigns_metricwindowretry r WHERE r.share_id = p.share_id "
        'AND r."window" = %s AND r.gave_up_at IS NOT NULL LIMIT 1) IS NULL LIMIT 1)'
    )
    sql = f"WITH posts AS MATERIALIZED ({posts_sql}) SELECT {', '.join([walk] * len(windows))}"
    params = [*posts_params, *(label for label, _offset in windows for _twice in range(2))]
    # The planner prices each walk as a scan of every post (it cannot know the walk stops early): from about
    # 2,000 posts that passes jit_above_cost, and compiling the query (40-80 ms) costs far more than running it.
    with transaction.atomic(using=shares.db), connections[shares.db].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        earliest = cursor.fetchone()
    due = [at + offset for at, (_label, offset) in zip(earliest, windows, strict=True) if at is not None]
    return min(due) if due else None


def results_timing_for_shares(
    shares: QuerySet[Share], *, now: datetime | None = None, clicks: ClicksPending | None = None
) -> ResultsTiming:
    """When the shares' results are from and when they change next (3 queries, or 2 and ``clicks``)."""
    now = now or timezone.now()
    windows = metric_windows()
    return ResultsTiming(
        now=now,
        counts_as_of=_counts_as_of(shares),
        next_count_at=_next_count_at(shares, windows),
        schedule=schedule_words(windows),
        clicks=clicks_pending_for_shares(shares, now=now) if clicks is None else clicks,
    )


@analytics_read
def results_timing_get_for_campaign(*, campaign: Campaign, now: datetime | None = None) -> ResultsTiming:
    now = now or timezone.now()
    return results_timing_for_shares(
        Share.objects.filter(campaign=campaign), now=now, clicks=clicks_pending_for_campaign(campaign=campaign, now=now)
    )


@analytics_read
def results_timing_get_for_influencer(*, influencer: InfluencerProfile, now: datetime | None = None) -> ResultsTiming:
    return results_timing_for_shares(Share.objects.filter(influencer=influencer), now=now)


def clicks_pending_for_influencer(*, influencer: InfluencerProfile, now: datetime | None = None) -> ClicksPending:
    """The influencer's counted clicks not in the earnings yet (the earnings page; read from the primary,
    like the balances beside it)."""
    return clicks_pending_for_shares(Share.objects.filter(influencer=influencer), now=now)
