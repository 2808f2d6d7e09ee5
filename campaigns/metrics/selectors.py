"""Reads for metric pulls: which (share, window) pairs are due, what has been accrued so far."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import QuerySet

from campaigns.models import MetricSnapshot, PublicationState, Share, SharePublication
from payouts.models import ShareEarning

#: At most this many publications per sweep (the next sweep takes the rest).
SWEEP_LIMIT = 10_000


def metric_pairs_due(*, now: datetime, windows: list[tuple[str, timedelta]]) -> dict[int, list[str]]:
    """Publication id -> window labels whose time has come and that have no snapshot yet.

    When several windows are due at once (a sweep was missed) all of them are filled from one pull.
    """
    if not windows:
        return {}
    earliest = windows[0][1]
    publications = list(
        SharePublication.objects.filter(state=PublicationState.PUBLISHED, published_at__lte=now - earliest)
        .exclude(external_id="")
        .values_list("pk", "share_id", "published_at")
        .order_by("published_at")[:SWEEP_LIMIT]
    )
    stored: dict[int, set[str]] = defaultdict(set)
    for share_id, window in MetricSnapshot.objects.filter(
        share_id__in=[share_id for _pk, share_id, _at in publications]
    ).values_list("share_id", "window"):
        stored[share_id].add(window)
    due: dict[int, list[str]] = {}
    for pk, share_id, published_at in publications:
        if published_at is None:
            continue
        labels = [label for label, offset in windows if published_at + offset <= now and label not in stored[share_id]]
        if labels:
            due[pk] = labels
    return due


def proof_publication_ids_due_retention(*, now: datetime, after: timedelta) -> list[int]:
    """Proof-of-post publications published at least ``after`` ago and not re-checked since."""
    return list(
        SharePublication.objects.filter(
            state=PublicationState.PUBLISHED, published_at__lte=now - after, retention_checked_at__isnull=True
        )
        .exclude(proof_url="")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )


def accrued_totals_for_share(*, share_key: str) -> tuple[int, int]:
    """(impressions, engagements) the earnings engine has counted for the share so far."""
    row = ShareEarning.objects.filter(share_key=share_key).values_list("impressions", "engagements").first()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def metric_snapshot_list_for_share(*, share: Share) -> QuerySet[MetricSnapshot]:
    return MetricSnapshot.objects.filter(share=share).order_by("collected_at")
