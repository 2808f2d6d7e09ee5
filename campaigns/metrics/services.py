"""Metric pulls on a schedule after publishing, snapshots per (share, window), earnings from verified deltas.

- Windows come from ``settings.CAMPAIGN_METRICS_WINDOWS`` ("+1h", "+6h", ... "+28d").
- ``metrics_pull_due`` finds due (share, window) pairs, groups them per connected account and
  asks the network in batches of ``capabilities.metrics_batch_size``.
- One ``MetricSnapshot`` per (share, window): a window already stored is never pulled or booked
  again (T6). Deltas are booked against what has been accrued so far, so a falling count books
  a reversal (F4) and a post the network no longer has stops earning and gives back its
  unheld earnings.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.metrics.selectors import (
    accrued_totals_for_share,
    metric_pairs_due,
    proof_publication_ids_due_retention,
)
from campaigns.models import MetricSnapshot, MetricWindow, PublicationState, SharePublication
from networks.models import ConnectedAccount
from networks.providers.exceptions import AuthExpired, AuthRevoked, NetworkError
from networks.providers.types import MetricsSnapshot
from networks.selectors import provider_get_for_account, token_set_get_for_account
from networks.services import account_network_error_record
from payouts.models import MetricSource
from payouts.services import MetricDelta, earnings_accrue

logger = logging.getLogger(__name__)

_WINDOW = re.compile(r"^\+(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
#: When posts proven by a pasted link are fetched again.
RETENTION_AFTER = timedelta(days=7)
ENGAGEMENT_FIELDS = ("likes", "reposts", "replies", "quotes", "bookmarks", "saves")


def window_offset(label: str) -> timedelta:
    match = _WINDOW.match(label)
    if match is None:
        raise ValueError(f"metrics window {label!r} is not like '+6h'")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def metric_windows() -> list[tuple[str, timedelta]]:
    """(label, offset after publishing), earliest first."""
    labels = getattr(settings, "CAMPAIGN_METRICS_WINDOWS", ["+1h", "+6h", "+24h", "+72h", "+7d", "+28d"])
    return sorted(((label, window_offset(label)) for label in labels), key=lambda pair: pair[1])


@dataclass
class PullReport:
    snapshots: int = 0
    provider_calls: int = 0
    removed: int = 0
    skipped_accounts: int = 0
    retention_checked: int = 0


def _batches(items: Sequence[SharePublication], size: int) -> Iterable[Sequence[SharePublication]]:
    size = max(1, size)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def metrics_pull_due(*, now: datetime | None = None) -> PullReport:
    """Pull every due (share, window) pair; one provider call per batch per account."""
    now = now or timezone.now()
    due = metric_pairs_due(now=now, windows=metric_windows())
    report = metrics_pull(pairs=due, now=now)
    report.retention_checked = retention_check_due(now=now)
    return report


def retention_check_due(*, now: datetime | None = None) -> int:
    """Posts proven by a pasted link are fetched again after ``RETENTION_AFTER``: still there, still disclosed?

    Posts published through an API are re-checked on every pull (a post the network no longer has is REMOVED).
    """
    from campaigns.publishing.proof import proof_retention_check

    now = now or timezone.now()
    ids = proof_publication_ids_due_retention(now=now, after=RETENTION_AFTER)
    for publication_id in ids:
        proof_retention_check(publication_id=publication_id, now=now)
    return len(ids)


def metrics_pull(*, pairs: dict[int, list[str]], now: datetime | None = None) -> PullReport:
    """Pull the given publications (id -> window labels to fill) grouped per account, in batches."""
    now = now or timezone.now()
    report = PullReport()
    publications = list(
        SharePublication.objects.select_related("share__connected_account", "share__campaign").filter(
            pk__in=list(pairs), state=PublicationState.PUBLISHED
        )
    )
    by_account: dict[int, list[SharePublication]] = defaultdict(list)
    accounts: dict[int, ConnectedAccount] = {}
    for publication in publications:
        account = publication.share.connected_account
        accounts[account.pk] = account
        by_account[account.pk].append(publication)
    for account_id, group in by_account.items():
        account = accounts[account_id]
        if not account.is_usable:
            report.skipped_accounts += 1
            continue
        provider = provider_get_for_account(account=account)
        tokens = token_set_get_for_account(account=account)
        for batch in _batches(group, type(provider).capabilities.metrics_batch_size):
            by_external = {publication.external_id: publication for publication in batch}
            try:
                report.provider_calls += 1
                snapshots = provider.fetch_metrics(tokens=tokens, external_ids=list(by_external))
            except (AuthExpired, AuthRevoked) as error:
                account_network_error_record(account_id=account_id, error=error)
                report.skipped_accounts += 1
                break
            except NetworkError as error:
                # Transient or rate limited: the pair stays due and is pulled on the next sweep.
                logger.info("metrics pull for account %s deferred: %s", account_id, type(error).__name__)
                report.skipped_accounts += 1
                break
            for snapshot in snapshots:
                target = by_external.get(snapshot.external_id)
                if target is None:
                    continue
                stored = metric_snapshot_record(
                    publication=target, windows=pairs[target.pk], snapshot=snapshot, now=now
                )
                report.snapshots += stored
                if not snapshot.exists:
                    report.removed += 1
    return report


def _counts(snapshot: MetricsSnapshot) -> dict[str, int | None]:
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
    counts["engagements"] = sum(value or 0 for value in reported) if reported else None
    return counts


def _reach_like(counts: dict[str, int | None]) -> int:
    for name in ("reach", "impressions", "views"):
        value = counts.get(name)
        if value is not None:
            return int(value)
    return 0


@transaction.atomic
def metric_snapshot_record(
    *, publication: SharePublication, windows: Sequence[str], snapshot: MetricsSnapshot, now: datetime
) -> int:
    """Store the snapshot for each window not stored yet and book the verified delta. Returns rows created.

    A window already stored changes nothing. ``manual`` is overwritten (staff pulls) and books
    under a label of its own moment.
    """
    share = publication.share
    counts = _counts(snapshot) if snapshot.exists else {}
    created = 0
    for window in windows:
        values = {name: counts.get(name) for name in (*_counts_names(), "engagements")}
        if window == MetricWindow.MANUAL:
            MetricSnapshot.objects.update_or_create(
                share=share,
                window=window,
                defaults={**values, "collected_at": now, "post_exists": snapshot.exists},
            )
            booking = f"manual:{now:%Y%m%dT%H%M%S}"
        else:
            _row, was_created = MetricSnapshot.objects.get_or_create(
                share=share,
                window=window,
                defaults={**values, "collected_at": now, "post_exists": snapshot.exists},
            )
            if not was_created:
                continue
            created += 1
            booking = window
        if snapshot.exists:
            _book(
                publication=publication,
                window=booking,
                impressions=_reach_like(counts),
                engagements=counts["engagements"] or 0,
            )
    if not snapshot.exists:
        publication_remove(publication=publication, now=now)
    return created


def _counts_names() -> tuple[str, ...]:
    return (
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


def _book(*, publication: SharePublication, window: str, impressions: int, engagements: int) -> None:
    share = publication.share
    before_impressions, before_engagements = accrued_totals_for_share(share_key=str(share.pk))
    delta = MetricDelta(
        share_key=str(share.pk),
        campaign_id=share.campaign_id,
        influencer_id=share.influencer_id,
        window=window,
        impressions=impressions - before_impressions,
        engagements=engagements - before_engagements,
        unique_clicks=0,
        source=MetricSource.NETWORK_REPORTED,
    )
    if delta.impressions == 0 and delta.engagements == 0:
        return
    earnings_accrue(delta=delta)


@transaction.atomic
def publication_remove(*, publication: SharePublication, now: datetime | None = None) -> SharePublication:
    """The post is gone (or lost its disclosure): REMOVED, stops earning, unheld earnings are reversed."""
    now = now or timezone.now()
    locked = SharePublication.objects.select_for_update().select_related("share").get(pk=publication.pk)
    if locked.state == PublicationState.REMOVED:
        return locked
    locked.state = PublicationState.REMOVED
    locked.removed_at = now
    locked.retention_checked_at = now
    locked.save(update_fields=["state", "removed_at", "retention_checked_at", "updated_at"])
    share = locked.share
    impressions, engagements = accrued_totals_for_share(share_key=str(share.pk))
    if impressions or engagements:
        earnings_accrue(
            delta=MetricDelta(
                share_key=str(share.pk),
                campaign_id=share.campaign_id,
                influencer_id=share.influencer_id,
                window=MetricWindow.REMOVED,
                impressions=-impressions,
                engagements=-engagements,
                source=MetricSource.NETWORK_REPORTED,
            ),
            now=now,
        )
    return locked
