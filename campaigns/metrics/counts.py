"""What a metric read's counts mean for a snapshot row: pure functions shared by the per-row and the set path."""

from __future__ import annotations

from networks.providers.types import MetricsSnapshot

#: The engagement counts that make up ``MetricSnapshot.engagements`` (less the author's own).
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "quotes", "bookmarks", "saves")
#: ``SharePublication.error_code`` of a published post whose counts could not be read for a window.
METRICS_UNKNOWN = "metrics_unknown"
#: The count columns of ``MetricSnapshot`` filled from a read (``engagements`` and ``own_engagements`` aside).
COUNT_NAMES = (
    "impressions",
    "reach",
    "views",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "bookmarks",
    "saves",
    "link_clicks",
)


def snapshot_counts(snapshot: MetricsSnapshot) -> dict[str, int | None]:
    """The snapshot row's counts: what the network reported (None: not reported), the paid engagements."""
    counts: dict[str, int | None] = {
        "impressions": snapshot.impressions,
        "reach": snapshot.reach,
        "likes": snapshot.likes,
        "reposts": snapshot.shares,
        "replies": snapshot.replies,
        "quotes": snapshot.quotes,
        "bookmarks": snapshot.bookmarks,
        "link_clicks": snapshot.clicks,
        "views": getattr(snapshot, "views", None),
        "saves": getattr(snapshot, "saves", None),
    }
    reported = [counts[name] for name in ENGAGEMENT_FIELDS if counts.get(name) is not None]
    own = snapshot.own_total
    counts["own_engagements"] = own
    # Paid: what the network reports less the author's own likes, reposts, replies, quotes and bookmarks.
    counts["engagements"] = max(0, sum(value or 0 for value in reported) - (own or 0)) if reported else None
    return counts


def reach_like(counts: dict[str, int | None]) -> int | None:
    """The audience figure that is paid per thousand: reach, else impressions, else views."""
    for name in ("reach", "impressions", "views"):
        value = counts.get(name)
        if value is not None:
            return int(value)
    return None
