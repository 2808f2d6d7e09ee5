"""Set-based storing of metric reads (ADR 20): snapshots, deltas and rollups of many posts at once.

``metric_snapshots_store_batch`` stores what ``campaigns.metrics.services.metric_snapshot_record`` stores
read by read, for reads of posts that exist and whose counts are known, in a handful of statements per
table and one database transaction:

1. The snapshot rows go into a temporary staging table by ``COPY`` and from there into
   ``campaigns_metricsnapshot`` with one ``INSERT ... SELECT ... ON CONFLICT (share, window) DO NOTHING
   RETURNING``: a window stored before (a re-run, a concurrent sweep) is neither stored nor booked again.
   The results rollups follow from the snapshot table's statement trigger (migration 0017): one upsert
   of the shares' results and one of the campaign hours for the whole statement.
2. Each new window of an existing post gets the checks the per-row path makes (reach above followers x k,
   engagements far above the influencer's usual: the latter's history computed for all shares in two
   queries, seeing exactly the snapshots the per-row path would have seen at that read's turn).
3. The deltas (cumulative counts minus what was counted so far, one per new window, in read order)
   are booked by ``campaigns.earnings.batch.earnings_accrue_batch``: the same accruals, lines and balances
   as ``earnings_accrue`` called once per delta (ADR 14), in one ledger transaction per campaign and
   direction (ADR 24).
4. The windows' retry rows are deleted and a "counts unknown" reason is cleared, one statement each.

What the per-row path does differently stays with it (the caller sends those reads there): unknown reads
(``MetricWindowRetry``), posts gone at their source (REMOVED and reversed), staff pulls (``manual``).
PostgreSQL only.
"""

# The SQL below is built from module constants only; values travel through COPY or as parameters.
# ruff: noqa: S608
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.earnings.batch import earnings_accrue_batch
from campaigns.earnings.services import MetricDelta
from campaigns.matching.engine import sandbox_allowed
from campaigns.metrics.counts import COUNT_NAMES, METRICS_UNKNOWN, reach_like, snapshot_counts
from campaigns.metrics.selectors import accrued_totals_for_shares, influencer_recent_shares
from campaigns.models import HoldReason, MetricSnapshot, MetricWindow, SharePublication
from campaigns.tracking.services import (
    engagement_anomaly_candidate,
    engagement_anomaly_detail,
    peer_engagement_check,
    reach_anomaly_detail,
    share_holds_open,
)
from networks.models import Network
from networks.providers.types import MetricsSnapshot
from payouts.models import MetricSource

STAGE_TABLE = "metric_snapshot_stage"
#: Snapshot columns written from a read, in the staging table's order after ``seq`` and ``share_id``.
_VALUE_COLUMNS = (*COUNT_NAMES, "engagements", "own_engagements")


@dataclass(frozen=True)
class MetricRead:
    """One post's read: the windows it fills (label order) and what the network answered."""

    publication: SharePublication
    windows: Sequence[str]
    snapshot: MetricsSnapshot


class MetricBatchRefused(Exception):
    """The earnings batch refused a delta the per-row service would have raised on: nothing of the batch is
    kept, and the caller stores its reads one by one (where ``earnings_accrue`` raises as it always did)."""


def batchable(read: MetricRead) -> bool:
    """Whether the set path stores this read: an existing post, counts known, no staff (``manual``) window."""
    return read.snapshot.exists and read.snapshot.counts_known and MetricWindow.MANUAL not in read.windows


def metric_snapshots_store_batch(*, reads: Sequence[MetricRead], now: datetime) -> int:
    """Store the reads' snapshots and book their deltas in sets, as the per-row path would in this order.

    Returns the snapshot rows created. Raises ``MetricBatchRefused`` (after rolling everything back) when
    the earnings batch refuses a delta.
    """
    if not reads:
        return 0
    if any(not batchable(read) for read in reads):
        raise ValueError("the set path stores existing posts with known counts only")
    with transaction.atomic():
        return _store(reads=reads, now=now)


class _Share(NamedTuple):
    """What storing a read needs of its share, read once from the loaded objects (a related-object access
    costs microseconds, and a chunk has thousands of reads)."""

    share_id: int
    campaign_id: int
    influencer_id: int
    followers: int | None
    #: False: a sandbox share of a brand that is not a demo brand (snapshot kept, nothing booked).
    earns: bool


def _share_facts(read: MetricRead) -> _Share:
    share = read.publication.share
    account = share.connected_account
    earns = account.network != Network.SANDBOX or sandbox_allowed(share.campaign)
    return _Share(share.pk, share.campaign_id, share.influencer_id, account.followers_count, earns)


def _store(*, reads: Sequence[MetricRead], now: datetime) -> int:
    """``metric_snapshots_store_batch`` inside its transaction."""
    counts = [snapshot_counts(read.snapshot) for read in reads]
    for read in reads:
        if read.snapshot.engagers:
            peer_engagement_check(share=read.publication.share, engagers=read.snapshot.engagers)
    created = _snapshots_insert(reads=reads, counts=counts, now=now)
    if created:
        shares = [_share_facts(read) for read in reads]
        _anomalies_check(reads=reads, shares=shares, counts=counts, created=created, now=now)
        deltas = _deltas(reads=reads, shares=shares, counts=counts, created=created)
        if deltas:
            result = earnings_accrue_batch(deltas=deltas)
            if result.refused:
                raise MetricBatchRefused(f"{result.refused} of {len(deltas)} deltas refused")
    _retries_resolve(reads=reads)
    return len(created)


def _snapshots_insert(
    *, reads: Sequence[MetricRead], counts: list[dict[str, int | None]], now: datetime
) -> dict[tuple[int, str], tuple[int, int]]:
    """COPY the rows into the staging table, insert the new ones in read order.

    Returns (share id, window) -> (snapshot id, index of its read) of the rows created now.
    """
    _stage_copy(reads=reads, counts=counts)
    inserted = _stage_insert(now=now)
    position = {read.publication.share_id: index for index, read in enumerate(reads)}
    return {(share_id, window): (pk, position[share_id]) for pk, share_id, window in inserted}


def _stage_copy(*, reads: Sequence[MetricRead], counts: list[dict[str, int | None]]) -> None:
    """The reads' rows (one per window, ``seq`` in read order) into a fresh staging table, by COPY (CSV: the
    csv module quotes the window labels, and a count not reported goes as an unquoted empty field, NULL)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    seq = 0
    for read, values in zip(reads, counts, strict=True):
        row = [None if (value := values.get(name)) is None else int(value) for name in _VALUE_COLUMNS]
        share_id = read.publication.share_id
        for window in read.windows:
            writer.writerow((seq, share_id, window, *row))
            seq += 1
    buffer.seek(0)
    value_columns = ", ".join(f"{name} bigint" for name in _VALUE_COLUMNS)
    names = ", ".join(_VALUE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE_TABLE} (seq integer PRIMARY KEY, share_id bigint NOT NULL, "
            f'"window" varchar(16) NOT NULL, {value_columns}) ON COMMIT DROP'
        )
        copy = f'COPY {STAGE_TABLE} (seq, share_id, "window", {names}) FROM STDIN WITH (FORMAT csv)'
        cursor.copy_expert(copy, buffer)


def _stage_insert(*, now: datetime) -> list[tuple[int, int, str]]:
    """The staged rows not stored yet into the snapshot table, in read order: (id, share id, window) of each.

    The snapshot table's statement trigger updates the rollups (migration 0017) within this statement.
    """
    names = ", ".join(_VALUE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO campaigns_metricsnapshot
                (share_id, "window", collected_at, {names}, shares, post_exists, source)
            SELECT share_id, "window", %s, {names}, NULL, true, %s
            FROM {STAGE_TABLE} ORDER BY seq
            ON CONFLICT (share_id, "window") DO NOTHING
            RETURNING id, share_id, "window"
            """,
            [now, MetricSnapshot._meta.get_field("source").get_default()],
        )
        inserted = cursor.fetchall()
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")
    return [(pk, share_id, window) for pk, share_id, window in inserted]


def _anomalies_check(
    *,
    reads: Sequence[MetricRead],
    shares: list[_Share],
    counts: list[dict[str, int | None]],
    created: dict[tuple[int, str], tuple[int, int]],
    now: datetime,
) -> None:
    """F2/F3 for every new window, in read order, as ``share_anomalies_check`` would make them one by one:
    the engagement histories in one query, the rules in Python, the holds opened in one statement."""
    histories = _engagement_histories(reads=reads, shares=shares, counts=counts, created=created, now=now)
    holds: list[tuple[int, str, str]] = []
    for index, (read, share, values) in enumerate(zip(reads, shares, counts, strict=True)):
        for window in read.windows:
            if (share.share_id, window) not in created:
                continue
            reach = values.get("reach") or values.get("impressions")
            detail = reach_anomaly_detail(followers=share.followers, reach=reach) if reach is not None else None
            if detail is not None:
                holds.append((share.share_id, HoldReason.REACH_ANOMALY, detail))
            if index in histories:
                detail = engagement_anomaly_detail(
                    engagements=values.get("engagements"), followers=share.followers, history=histories[index]
                )
                if detail is not None:
                    holds.append((share.share_id, HoldReason.ENGAGEMENT_ANOMALY, detail))
    if holds:
        _holds_open(holds)


def _holds_open(holds: list[tuple[int, str, str]]) -> None:
    """The holds the checks called for, in their order (an open hold of the same share and reason stays)."""
    share_holds_open(holds=holds)


def _engagement_histories(
    *,
    reads: Sequence[MetricRead],
    shares: list[_Share],
    counts: list[dict[str, int | None]],
    created: dict[tuple[int, str], tuple[int, int]],
    now: datetime,
) -> dict[int, list[float]]:
    """Read index -> the rates ``_engagement_rates`` would have read at that read's turn, for the reads whose
    engagements are compared with a history at all.

    At read i the per-row path sees every snapshot stored before the batch and the snapshots of reads 0..i-1
    of the batch, never those of later reads; the latest per share (by collected_at, id) counts. One query
    reads the influencers' last shares with their latest snapshot from before this store; what this store
    wrote is added per read in Python.
    """
    stored_reads = {index for _pk, index in created.values()}
    candidates = [
        (index, share)
        for index, (share, values) in enumerate(zip(shares, counts, strict=True))
        if index in stored_reads and engagement_anomaly_candidate(values.get("engagements"), share.followers)
    ]
    if not candidates:
        return {}
    limit = int(settings.TRACKING_ENGAGEMENT_ANOMALY_HISTORY)
    recent = influencer_recent_shares(
        influencer_ids=[share.influencer_id for _index, share in candidates],
        limit=limit + 1,
        excluding=[pk for pk, _index in created.values()],
    )
    # What this store wrote, per share: (read index, (collected_at, id, engagements)) in read order; a
    # read's snapshots are all of an existing post, collected now.
    written: dict[int, list[tuple[int, tuple[datetime, int, int]]]] = defaultdict(list)
    for (share_id, _window), (pk, index) in sorted(created.items(), key=lambda item: (item[1][1], item[1][0])):
        engagements = counts[index].get("engagements")
        if engagements is not None:
            written[share_id].append((index, (now, pk, int(engagements))))
    histories: dict[int, list[float]] = {}
    for index, share in candidates:
        rates: list[float] = []
        others = [other for other in recent[share.influencer_id] if other.share_id != share.share_id][:limit]
        for other in others:
            if not other.followers:
                continue
            latest = other.latest
            for stored_by, row in written.get(other.share_id, ()):
                if stored_by >= index:
                    break
                if latest is None or row > latest:
                    latest = row
            if latest is not None:
                rates.append(latest[2] / other.followers)
        histories[index] = rates
    return histories


def _deltas(
    *,
    reads: Sequence[MetricRead],
    shares: list[_Share],
    counts: list[dict[str, int | None]],
    created: dict[tuple[int, str], tuple[int, int]],
) -> list[MetricDelta]:
    """One delta per new window of a post that may earn, against what was counted before it (``_book``)."""
    accrued = accrued_totals_for_shares(share_keys=[str(share.share_id) for share in shares])
    deltas: list[MetricDelta] = []
    source = MetricSource.NETWORK_REPORTED
    for read, share, values in zip(reads, shares, counts, strict=True):
        if not share.earns:
            continue  # a simulated audience earns only from a demo brand: the snapshot is kept, nothing booked
        key = str(share.share_id)
        impressions, engagements = reach_like(values), values.get("engagements")
        for window in read.windows:
            if (share.share_id, window) not in created:
                continue
            before_impressions, before_engagements = accrued.get(key, (0, 0))
            delta = MetricDelta(
                share_key=key,
                campaign_id=share.campaign_id,
                influencer_id=share.influencer_id,
                window=window,
                impressions=impressions - before_impressions if impressions is not None else 0,
                engagements=engagements - before_engagements if engagements is not None else 0,
                unique_clicks=0,
                source=source,
            )
            if delta.impressions == 0 and delta.engagements == 0:
                continue
            deltas.append(delta)
            # What earnings_accrue counts after this delta: the cumulative counts (never below zero).
            accrued[key] = (
                max(0, before_impressions + delta.impressions),
                max(0, before_engagements + delta.engagements),
            )
    return deltas


def _retries_resolve(*, reads: Sequence[MetricRead]) -> None:
    """The windows were read: their retry rows go, and so does a reason about unread counts."""
    shares = [read.publication.share_id for read in reads for _window in read.windows]
    windows = [window for read in reads for window in read.windows]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DELETE FROM campaigns_metricwindowretry r
            USING unnest(%s::bigint[], %s::text[]) AS done(share_id, "window")
            WHERE r.share_id = done.share_id AND r."window" = done."window"
            """,
            [shares, windows],
        )
    SharePublication.objects.filter(pk__any=[read.publication.pk for read in reads], error_code=METRICS_UNKNOWN).update(
        last_error="", error_code="", updated_at=timezone.now()
    )
