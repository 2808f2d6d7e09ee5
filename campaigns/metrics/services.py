"""Metric pulls on a schedule after publishing, snapshots per (share, window), earnings from verified deltas.

- Windows come from ``settings.CAMPAIGN_METRICS_WINDOWS`` ("+1h", "+6h", ... "+28d").
- ``metrics_pull_due`` finds due (share, window) pairs and asks the networks in batches of
  ``capabilities.metrics_batch_size``: across accounts where the network reads metrics app-level
  (``MetricsAccess.APP``: Bluesky's public getPosts), else per account with its token. Requests run
  concurrently up to the network's ``metrics_concurrency``, paced under its ``metrics_rate_limit``
  by a limiter shared through Redis (ADR 13).
- One ``MetricSnapshot`` per (share, window): a window already stored is never pulled or booked
  again (T6). Deltas are booked against what has been accrued so far, so a falling count books
  a reversal (F4) and a post the network no longer has stops earning and gives back its
  unheld earnings.
"""

from __future__ import annotations

import logging
import queue
import re
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.metrics.selectors import (
    accrued_totals_for_share,
    metric_pairs_due,
    proof_publication_ids_due_retention,
)
from campaigns.models import MetricSnapshot, MetricWindow, PublicationState, Share, SharePublication
from campaigns.tracking.services import engagement_anomaly_check, reach_anomaly_check
from networks.models import ConnectedAccount
from networks.providers.base import NetworkProvider
from networks.providers.exceptions import AuthExpired, AuthRevoked, NetworkError
from networks.providers.registry import provider_class, provider_get
from networks.providers.types import MetricsAccess, MetricsSnapshot, TokenSet
from networks.rate_limits import RateLimit, RateLimiter
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
    #: Batches left for the next sweep (transient error, rate limit, pacing would wait too long).
    deferred_batches: int = 0


#: The longest a pull waits for the rate limiter before leaving a batch to the next sweep.
MAX_PACING_WAIT = 60.0


@dataclass
class _Work:
    """One unit for a worker thread: one APP batch, or every batch of one account (sequential, as its token)."""

    network: str
    batches: list[list[SharePublication]]
    #: The server the accounts live on (app-level reads: Bluesky looks posts missing on the AppView up there).
    base_url: str = ""
    account_id: int | None = None  # None: an app-level read
    provider: NetworkProvider | None = None
    tokens: TokenSet | None = None


@dataclass
class _Outcome:
    work: _Work
    results: list[tuple[list[SharePublication], list[MetricsSnapshot]]]
    calls: int = 0
    error: NetworkError | None = None
    unsent: int = 0  # batches not asked for because of ``error``


def _batches(items: Sequence[SharePublication], size: int) -> list[list[SharePublication]]:
    size = max(1, size)
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def network_metrics_limits(network: str) -> tuple[int, RateLimit | None]:
    """(requests in flight, rate limit) for metric reads: the provider's, or ``settings.NETWORK_METRICS_LIMITS``."""
    capabilities = provider_class(network).capabilities
    override: dict[str, Any] = getattr(settings, "NETWORK_METRICS_LIMITS", {}).get(network, {})
    concurrency = int(override.get("concurrency", capabilities.metrics_concurrency))
    pair = capabilities.metrics_rate_limit
    if "requests" in override:
        pair = (int(override["requests"]), float(override["seconds"]))
    return max(1, concurrency), (RateLimit(requests=pair[0], seconds=pair[1]) if pair else None)


def metrics_pull_due(*, now: datetime | None = None) -> PullReport:
    """Pull every due (share, window) pair in as few provider calls as the networks allow."""
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


def _plan(publications: list[SharePublication], report: PullReport) -> list[_Work]:
    """Batches: across accounts where the network reads metrics app-level, else per account."""
    app_level: dict[tuple[str, str], list[SharePublication]] = defaultdict(list)
    by_account: dict[int, list[SharePublication]] = defaultdict(list)
    accounts: dict[int, ConnectedAccount] = {}
    unusable: set[int] = set()
    for publication in publications:
        account = publication.share.connected_account
        if not account.is_usable:
            unusable.add(account.pk)
            continue
        if provider_class(account.network).capabilities.metrics_access == MetricsAccess.APP:
            app_level[(account.network, account.instance_url)].append(publication)
        else:
            accounts[account.pk] = account
            by_account[account.pk].append(publication)
    report.skipped_accounts += len(unusable)
    work: list[_Work] = []
    for (network, base_url), group in app_level.items():
        size = provider_class(network).capabilities.metrics_batch_size
        work.extend(_Work(network=network, base_url=base_url, batches=[batch]) for batch in _batches(group, size))
    for account_id, group in by_account.items():
        account = accounts[account_id]
        provider = provider_get_for_account(account=account)
        work.append(
            _Work(
                network=account.network,
                batches=_batches(group, type(provider).capabilities.metrics_batch_size),
                account_id=account_id,
                provider=provider,
                tokens=token_set_get_for_account(account=account),
            )
        )
    return work


class _NetworkRunner:
    """Runs one network's work with at most ``concurrency`` requests in flight, paced by its rate limit.

    Worker threads only speak HTTP; every database read and write stays on the calling thread.
    """

    def __init__(self, network: str) -> None:
        self.network = network
        self.concurrency, self.limit = network_metrics_limits(network)
        self.stopped: NetworkError | None = None  # an app-level failure stops the network's other batches
        self.app_level = provider_class(network).capabilities.metrics_access == MetricsAccess.APP
        #: App-level providers per server, one per thread (an HTTP session is not shared between threads);
        #: made here, on the calling thread, because making one may read the database.
        self.providers: dict[str, queue.SimpleQueue[NetworkProvider]] = {}

    def prepare(self, work: _Work) -> None:
        if work.provider is not None or work.base_url in self.providers:
            return
        pool: queue.SimpleQueue[NetworkProvider] = queue.SimpleQueue()
        for _ in range(self.concurrency):
            pool.put(provider_get(self.network, base_url=work.base_url))
        self.providers[work.base_url] = pool

    def limiter(self, work: _Work) -> RateLimiter | None:
        if self.limit is None:
            return None
        # APP limits count per app; ACCOUNT limits per account (Mastodon: 300 per 5 minutes per account).
        name = f"metrics:{self.network}" if work.account_id is None else f"metrics:{self.network}:{work.account_id}"
        return RateLimiter(name=name, limit=self.limit)

    def run(self, work: _Work) -> _Outcome:
        outcome = _Outcome(work=work, results=[])
        provider = work.provider or self.providers[work.base_url].get()
        limiter = self.limiter(work)
        try:
            for index, batch in enumerate(work.batches):
                if self.stopped is not None:
                    outcome.error, outcome.unsent = self.stopped, len(work.batches) - index
                    return outcome
                by_external = [publication.external_id for publication in batch]
                try:
                    with limiter.slot(max_wait=MAX_PACING_WAIT) if limiter is not None else nullcontext():
                        outcome.calls += 1
                        if work.tokens is None:
                            snapshots = provider.fetch_metrics_app(external_ids=by_external)
                        else:
                            snapshots = provider.fetch_metrics(tokens=work.tokens, external_ids=by_external)
                except NetworkError as error:
                    if self.app_level:
                        self.stopped = error
                    outcome.error, outcome.unsent = error, len(work.batches) - index
                    return outcome
                outcome.results.append((batch, snapshots))
            return outcome
        finally:
            if work.provider is None:
                self.providers[work.base_url].put(provider)


def metrics_pull(*, pairs: dict[int, list[str]], now: datetime | None = None) -> PullReport:
    """Pull the given publications (id -> window labels to fill) in batches, storing each as it arrives.

    Requests run concurrently up to each network's allowed concurrency, paced by its rate limit; only this
    thread touches the database.
    """
    now = now or timezone.now()
    report = PullReport()
    publications = list(
        SharePublication.objects.select_related("share__connected_account", "share__campaign").filter(
            pk__in=list(pairs), state=PublicationState.PUBLISHED
        )
    )
    work = _plan(publications, report)
    runners = {network: _NetworkRunner(network) for network in {item.network for item in work}}
    for item in work:
        runners[item.network].prepare(item)
    executors = {
        network: ThreadPoolExecutor(max_workers=runner.concurrency, thread_name_prefix=f"metrics-{network}")
        for network, runner in runners.items()
        if runner.concurrency > 1
    }
    outcomes: list[_Outcome] = []
    try:
        futures: list[Future[_Outcome]] = []
        inline: list[_Work] = []
        for item in work:
            executor = executors.get(item.network)
            if executor is None:
                inline.append(item)
            else:
                futures.append(executor.submit(runners[item.network].run, item))
        for item in inline:
            _store_outcome(runners[item.network].run(item), pairs=pairs, now=now, report=report)
        # Stored once every concurrent read is back: storing on this thread meanwhile would compete with the
        # readers for the interpreter (profiled: calls took 2-4x their latency) and storing is the slow part.
        outcomes = [future.result() for future in as_completed(futures)]
    finally:
        for executor in executors.values():
            executor.shutdown(wait=True, cancel_futures=True)
    for outcome in outcomes:
        _store_outcome(outcome, pairs=pairs, now=now, report=report)
    return report


def _store_outcome(outcome: _Outcome, *, pairs: dict[int, list[str]], now: datetime, report: PullReport) -> None:
    report.provider_calls += outcome.calls
    for batch, snapshots in outcome.results:
        by_external = {publication.external_id: publication for publication in batch}
        for snapshot in snapshots:
            target = by_external.get(snapshot.external_id)
            if target is None:
                continue
            report.snapshots += metric_snapshot_record(
                publication=target, windows=pairs[target.pk], snapshot=snapshot, now=now
            )
            if not snapshot.exists:
                report.removed += 1
    error = outcome.error
    if error is None:
        return
    report.deferred_batches += outcome.unsent
    account_id = outcome.work.account_id
    if account_id is not None and isinstance(error, AuthExpired | AuthRevoked):
        account_network_error_record(account_id=account_id, error=error)
        report.skipped_accounts += 1
        return
    # Transient or rate limited: the pairs stay due and are pulled on the next sweep.
    logger.info("metrics pull on %s (account %s) deferred: %s", outcome.work.network, account_id, type(error).__name__)
    if account_id is not None:
        report.skipped_accounts += 1


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
                share_anomalies_check(share=share, counts=counts)
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


def share_anomalies_check(*, share: Share, counts: dict[str, int | None]) -> None:
    """F2/F3 on every new window: reach above followers x k, engagements far above the influencer's usual.

    A hold keeps the share's earnings pending until staff review it (``payouts.services.earnings_release_due``).
    """
    reach_anomaly_check(share=share, reach=counts.get("reach") or counts.get("impressions"))
    engagement_anomaly_check(share=share, engagements=counts.get("engagements"))


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
