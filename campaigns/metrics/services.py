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
- What is paid leaves out the author's own engagement where the network reveals it (her own like,
  repost, reply, quote, bookmark: ``MetricsSnapshot.own_*``, capability ``own_engagement``); posts of
  campaigns with other influencers on the same network get their engagers named and a share another
  influencer engaged with is held for review (``peer_engagement_check``).
- A read that gives no counts for a post not confirmed gone is unknown, never zero: no snapshot, no
  delta, no reversal; the window is tried again with capped, jittered backoff and given up visibly
  after ``METRICS_RETRY_ATTEMPTS`` tries (``MetricWindowRetry``, the reason on the publication). A count
  missing from an otherwise good read books nothing for that metric. Only a post gone at its source
  (``exists=False``) is REMOVED and reversed.
"""

from __future__ import annotations

import logging
import queue
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import ngettext

from campaigns.earnings.participation import (
    participation_fees_book_due,
    participation_retain_due,
)
from campaigns.earnings.pricing import RETENTION_AFTER
from campaigns.earnings.services import MetricDelta, earnings_accrue
from campaigns.matching.engine import sandbox_allowed
from campaigns.metrics.counts import COUNT_NAMES, METRICS_UNKNOWN, reach_like, snapshot_counts
from campaigns.metrics.removal import publication_remove
from campaigns.metrics.selectors import (
    accrued_totals_for_share,
    metric_pairs_due,
    proof_publication_ids_due_retention,
    publication_peer_checks,
    publications_for_metrics,
)
from campaigns.metrics.services_batch import MetricBatchRefused, MetricRead, batchable, metric_snapshots_store_batch
from campaigns.models import (
    MetricSnapshot,
    MetricWindow,
    MetricWindowRetry,
    PublicationState,
    Share,
    SharePublication,
)
from campaigns.publishing.proof import proof_retention_check
from campaigns.tracking.services import (
    engagement_anomaly_check,
    peer_engagement_check,
    reach_anomaly_check,
)
from linkilike.runtime import collector_paused, switch_interval
from networks.models import ConnectedAccount, Network
from networks.providers.base import NetworkProvider
from networks.providers.exceptions import AccountAttention, AuthExpired, AuthRevoked, NetworkError, RateLimited
from networks.providers.registry import provider_class
from networks.providers.types import Capabilities, MetricsAccess, MetricsSnapshot, Reveal, TokenSet
from networks.rate_limits import RateLimit, RateLimiter
from networks.selectors import provider_get_for_account, provider_get_for_network, token_set_get_for_account
from networks.services import account_network_error_record
from payouts.models import MetricSource

logger = logging.getLogger(__name__)

_WINDOW = re.compile(r"^\+(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def retry_attempts() -> int:
    """Tries of a window without counts before it is given up (the last one included)."""
    return max(1, int(getattr(settings, "METRICS_RETRY_ATTEMPTS", 6)))


def retry_delay(*, attempt: int, rng: random.Random | None = None) -> timedelta:
    """Wait before the next try of a window without counts: 5 min doubling per try, at most 6 h, +-10 % jitter."""
    base = float(getattr(settings, "METRICS_RETRY_BASE_SECONDS", 300))
    cap = float(getattr(settings, "METRICS_RETRY_MAX_SECONDS", 6 * 3600))
    seconds = min(cap, base * 2 ** max(0, attempt - 1))
    return timedelta(seconds=seconds * (rng or random).uniform(0.9, 1.1))


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
    #: Posts whose read gave no counts (still there, or not confirmed gone): tried again later.
    unknown: int = 0


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
    #: App-level reads: each author's session (account id -> tokens), for what only a read as her reveals.
    sessions: dict[int, TokenSet] = field(default_factory=dict)
    #: Publication id -> likes + reposts seen so far, for posts whose engagers are named (their campaign has
    #: other influencers on this network); asked again only when the post has more than that.
    peers: dict[int, int] = field(default_factory=dict)


@dataclass
class _Outcome:
    work: _Work
    results: list[tuple[list[SharePublication], list[MetricsSnapshot]]]
    calls: int = 0
    error: NetworkError | None = None
    unsent: int = 0  # batches not asked for because of ``error``
    failed: list[SharePublication] = field(default_factory=list)  # the batch whose read raised ``error``


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


@collector_paused()  # a sweep makes about a million short-lived objects (linkilike.runtime)
def metrics_pull_due(*, now: datetime | None = None, per_row: bool | None = None) -> PullReport:
    """Pull every due (share, window) pair in as few provider calls as the networks allow."""
    now = now or timezone.now()
    due = metric_pairs_due(now=now, windows=metric_windows())
    report = metrics_pull(pairs=due, now=now, per_row=per_row)
    report.retention_checked = retention_check_due(now=now)
    return report


def retention_check_due(*, now: datetime | None = None) -> int:
    """Posts proven by a pasted link are fetched again after ``RETENTION_AFTER``: still there, still disclosed?

    Posts published through an API are re-checked on every pull (a post the network no longer has is REMOVED);
    one still PUBLISHED after ``RETENTION_AFTER`` has stayed up (``retained_at``, the participation fee kept).
    """
    now = now or timezone.now()
    ids = proof_publication_ids_due_retention(now=now, after=RETENTION_AFTER)
    for publication_id in ids:
        proof_retention_check(publication_id=publication_id, now=now)
    participation_retain_due(now=now, after=RETENTION_AFTER)
    # Participation fees of posts verified published since the last sweep.
    participation_fees_book_due(now=now)
    return len(ids)


def _plan(publications: list[SharePublication], report: PullReport) -> list[_Work]:
    """Batches: across accounts where the network reads metrics app-level, else per account."""
    app_level: dict[tuple[str, str], list[SharePublication]] = defaultdict(list)
    by_account: dict[int, list[SharePublication]] = defaultdict(list)
    accounts: dict[int, ConnectedAccount] = {}
    unusable: set[int] = set()
    named: list[SharePublication] = []
    capabilities_of: dict[str, Capabilities] = {}  # per network, looked up once (not once per post)
    for publication in publications:
        account = publication.share.connected_account
        if not account.is_usable:
            unusable.add(account.pk)
            continue
        capabilities = capabilities_of.get(account.network)
        if capabilities is None:
            capabilities = capabilities_of[account.network] = provider_class(account.network).capabilities
        if capabilities.metrics_access == MetricsAccess.APP:
            app_level[(account.network, account.instance_url)].append(publication)
        else:
            accounts[account.pk] = account
            by_account[account.pk].append(publication)
        # The built-in sandbox's audience is simulated and names nobody: asking it would only cost requests.
        if capabilities.engagers_named and account.network != Network.SANDBOX:
            named.append(publication)
    report.skipped_accounts += len(unusable)
    peers = publication_peer_checks(publications=named)
    sessions_of: dict[int, TokenSet] = {}  # an author's session, read once however many of her posts are due
    work: list[_Work] = []
    for (network, base_url), group in app_level.items():
        capabilities = capabilities_of[network]
        for batch in _batches(group, capabilities.metrics_batch_size):
            sessions: dict[int, TokenSet] = {}
            if capabilities.own_engagement != Reveal.NO:
                # What only a read as the author reveals (Bluesky: her own like and repost) needs her session.
                for publication in batch:
                    account = publication.share.connected_account
                    if account.pk not in sessions_of:
                        sessions_of[account.pk] = token_set_get_for_account(account=account)
                    sessions[account.pk] = sessions_of[account.pk]
            batch_peers = {publication.pk: peers[publication.pk] for publication in batch if publication.pk in peers}
            work.append(
                _Work(network=network, base_url=base_url, batches=[batch], sessions=sessions, peers=batch_peers)
            )
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
                peers={publication.pk: peers[publication.pk] for publication in group if publication.pk in peers},
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
            pool.put(provider_get_for_network(self.network, base_url=work.base_url))
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
                    snapshots = self.refine(provider, work, batch, snapshots, limiter, outcome)
                except NetworkError as error:
                    if self.app_level:
                        self.stopped = error
                    outcome.error, outcome.unsent = error, len(work.batches) - index
                    outcome.failed = batch
                    return outcome
                outcome.results.append((batch, snapshots))
            return outcome
        finally:
            if work.provider is None:
                self.providers[work.base_url].put(provider)

    def refine(
        self,
        provider: NetworkProvider,
        work: _Work,
        batch: list[SharePublication],
        snapshots: list[MetricsSnapshot],
        limiter: RateLimiter | None,
        outcome: _Outcome,
    ) -> list[MetricsSnapshot]:
        """Add what the batch read could not carry: the authors' own part where only a read as each author
        reveals it (one call per author with posts to check), and who liked and reposted posts with peers.

        Each call holds a slot of the limiter like the batch read. A failed check makes that post unknown
        (asked again later) rather than paid unchecked; a rate limit stops the batch as any read would.
        """
        by_external = {publication.external_id: publication for publication in batch}
        if work.sessions:
            pending: dict[int, list[MetricsSnapshot]] = defaultdict(list)
            for snapshot in snapshots:
                publication = by_external.get(snapshot.external_id)
                if publication is not None and provider.own_engagement_pending(snapshot):
                    pending[publication.share.connected_account_id].append(snapshot)
            refined: dict[str, MetricsSnapshot] = {}
            for account_id, group in pending.items():
                with limiter.slot(max_wait=MAX_PACING_WAIT) if limiter is not None else nullcontext():
                    outcome.calls += 1
                    answer = provider.fetch_own_engagement(tokens=work.sessions[account_id], snapshots=group)
                refined.update((snapshot.external_id, snapshot) for snapshot in answer)
            snapshots = [refined.get(snapshot.external_id, snapshot) for snapshot in snapshots]
        if not work.peers:
            return snapshots
        result: list[MetricsSnapshot] = []
        for snapshot in snapshots:
            publication = by_external.get(snapshot.external_id)
            if (
                publication is None
                or publication.pk not in work.peers
                or not snapshot.counts_known
                or (snapshot.likes or 0) + (snapshot.shares or 0) <= work.peers[publication.pk]
            ):
                result.append(snapshot)
                continue
            try:
                with limiter.slot(max_wait=MAX_PACING_WAIT) if limiter is not None else nullcontext():
                    outcome.calls += 1
                    engagers = provider.fetch_engagers(tokens=work.tokens, external_id=snapshot.external_id)
            except RateLimited:
                raise
            except NetworkError as error:
                result.append(replace(snapshot, unknown_reason=f"who engaged could not be read ({error})"))
                continue
            result.append(replace(snapshot, engagers=(*snapshot.engagers, *engagers)))
        return result


@collector_paused()
def metrics_pull(
    *, pairs: dict[int, list[str]], now: datetime | None = None, per_row: bool | None = None
) -> PullReport:
    """Pull the given publications (id -> window labels to fill) in batches and store what they read.

    Requests run concurrently up to each network's allowed concurrency, paced by its rate limit; only this
    thread touches the database. On PostgreSQL the reads are stored in sets (``services_batch``: a few
    statements per table for up to ``METRICS_STORE_CHUNK`` posts); ``per_row=True`` stores them one by one
    with ``metric_snapshot_record`` (other databases, and the reference the set path is tested against).
    """
    now = now or timezone.now()
    report = PullReport()
    if per_row is None:
        per_row = connection.vendor != "postgresql"
    store = _Store(pairs=pairs, now=now, report=report, per_row=per_row)
    work = _plan(publications_for_metrics(ids=list(pairs)), report)
    runners = {network: _NetworkRunner(network) for network in {item.network for item in work}}
    for item in work:
        runners[item.network].prepare(item)
    executors = {
        network: ThreadPoolExecutor(max_workers=runner.concurrency, thread_name_prefix=f"metrics-{network}")
        for network, runner in runners.items()
        if runner.concurrency > 1
    }
    outcomes: list[_Outcome] = []
    with switch_interval(READER_SWITCH_INTERVAL):
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
                store.outcome(runners[item.network].run(item))
            # In sets, what has come back is stored while later reads are in flight (from the first
            # ``store_start()`` reads on): its statements run in PostgreSQL, and the interpreter is left to the
            # readers (ADR 22, ADR 25). One by one, the reads are stored once all are back: per-row storing on
            # this thread made calls take 2-4x their latency.
            if per_row:
                outcomes.extend(future.result() for future in as_completed(futures))
            else:
                _store_as_answered(futures, store)
        finally:
            for executor in executors.values():
                executor.shutdown(wait=True, cancel_futures=True)
    for outcome in outcomes:
        store.outcome(outcome)
    store.flush()
    return report


def _store_as_answered(futures: list[Future[_Outcome]], store: _Store) -> None:
    """Hands each answer to the store as it comes; the store takes what has come so far in one go.

    Whenever every answer that has arrived is queued, the store writes them if there are at least
    ``store_start()`` reads (or at once when a chunk is full): the first store starts after the first 2,000
    reads instead of a whole chunk of 5,000, and each later one takes what came in while the one before
    ran, so less is left to store after the last answer (ADR 25).
    """
    answered: queue.SimpleQueue[Future[_Outcome]] = queue.SimpleQueue()
    for future in futures:
        future.add_done_callback(answered.put)
    remaining = len(futures)
    while remaining:
        store.outcome(answered.get().result())
        remaining -= 1
        while remaining:
            try:
                future = answered.get_nowait()
            except queue.Empty:
                break
            store.outcome(future.result())
            remaining -= 1
        store.caught_up()


def metric_reads_store(*, reads: Sequence[MetricRead], now: datetime, per_row: bool) -> PullReport:
    """Store reads as a pull does after its network calls: in sets, or one by one (``per_row``)."""
    report = PullReport()
    store = _Store(pairs={}, now=now, report=report, per_row=per_row)
    for read in reads:
        store.read(read)
    store.flush()
    return report


#: How often threads take turns while reads are in flight (``linkilike.runtime.switch_interval``): a reader
#: whose answer came waits at most this long for the storing thread to hand over the interpreter.
READER_SWITCH_INTERVAL = 0.002


def store_chunk() -> int:
    """Reads one set-based store takes at most (one database transaction each)."""
    return max(1, int(getattr(settings, "METRICS_STORE_CHUNK", 5_000)))


def store_start() -> int:
    """Reads a sweep's store waits for once it has caught up with the answers (fewer pay more in fixed costs)."""
    return max(1, int(getattr(settings, "METRICS_STORE_START", 2_000)))


class _Store:
    """Stores a pull's reads in the order they come: one by one (``per_row``), or queued and stored in sets.

    The set path queues the reads of existing posts with known counts; an unknown read only backs its
    windows off (no money, no snapshot) and is recorded at once; a post gone at its source or a staff pull
    first stores what is queued, then goes through ``metric_snapshot_record``, so money moves in read order
    either way.
    """

    def __init__(self, *, pairs: dict[int, list[str]], now: datetime, report: PullReport, per_row: bool) -> None:
        self.pairs, self.now, self.report, self.per_row = pairs, now, report, per_row
        self.pending: list[MetricRead] = []
        self.chunk = store_chunk()
        self.start = min(self.chunk, store_start())
        self.declared: dict[str, tuple[str, ...]] = {}

    def outcome(self, outcome: _Outcome) -> None:
        self.report.provider_calls += outcome.calls
        for batch, snapshots in outcome.results:
            by_external = {publication.external_id: publication for publication in batch}
            for snapshot in snapshots:
                target = by_external.get(snapshot.external_id)
                if target is not None:
                    self.read(MetricRead(publication=target, windows=self.pairs[target.pk], snapshot=snapshot))
        _outcome_error_record(outcome, pairs=self.pairs, now=self.now, report=self.report)

    def read(self, read: MetricRead) -> None:
        snapshot = read.snapshot
        if self.per_row or self.unknown(read):
            self.one(read)
        elif batchable(read):
            self.pending.append(read)
            if len(self.pending) >= self.chunk:
                self.flush()
        else:
            self.flush()
            self.one(read)
        if not snapshot.exists:
            self.report.removed += 1
        elif not snapshot.counts_known:
            self.report.unknown += 1

    def caught_up(self) -> None:
        """Every answer so far is queued: store them if there are enough to be worth a transaction."""
        if len(self.pending) >= self.start:
            self.flush()

    def unknown(self, read: MetricRead) -> bool:
        """``_unknown``, with each network's declared metrics looked up once per store."""
        snapshot = read.snapshot
        if not snapshot.exists:
            return False
        if not snapshot.counts_known:
            return True
        network = read.publication.share.connected_account.network
        declared = self.declared.get(network)
        if declared is None:
            declared = self.declared[network] = tuple(provider_class(network).capabilities.metrics)
        return bool(declared) and all(getattr(snapshot, name, None) is None for name in declared)

    def one(self, read: MetricRead) -> None:
        self.report.snapshots += metric_snapshot_record(
            publication=read.publication, windows=read.windows, snapshot=read.snapshot, now=self.now
        )

    def flush(self) -> None:
        reads, self.pending = self.pending, []
        if not reads:
            return
        try:
            self.report.snapshots += metric_snapshots_store_batch(reads=reads, now=self.now)
        except MetricBatchRefused as refused:
            # Rolled back: stored one by one, where earnings_accrue raises on the delta as it always did.
            logger.warning("metrics set store refused (%s): storing %s reads one by one", refused, len(reads))
            for read in reads:
                self.one(read)


def _outcome_error_record(outcome: _Outcome, *, pairs: dict[int, list[str]], now: datetime, report: PullReport) -> None:
    error = outcome.error
    if error is None:
        return
    report.deferred_batches += outcome.unsent
    account_id = outcome.work.account_id
    if account_id is not None and isinstance(error, AuthExpired | AuthRevoked):
        account_network_error_record(account_id=account_id, error=error)
        report.skipped_accounts += 1
        return
    if account_id is not None and isinstance(error, AccountAttention):
        # A permission the account or app lacks: noted on the account for the person and staff. The post is
        # neither refused nor gone; its windows are read again later like after any failed read.
        account_network_error_record(account_id=account_id, error=error)
    if not isinstance(error, RateLimited):
        # The read of this batch failed: its windows back off like a read without counts (a rate limit is
        # paced by the limiter instead, and the batches never sent were not tried).
        for publication in outcome.failed:
            metric_window_retry_record(
                publication=publication,
                windows=pairs[publication.pk],
                reason=str(error) or type(error).__name__,
                now=now,
            )
    # The batches not sent (and a rate-limited one) stay due and are pulled on the next sweep.
    logger.info("metrics pull on %s (account %s) deferred: %s", outcome.work.network, account_id, type(error).__name__)
    if account_id is not None:
        report.skipped_accounts += 1


def _without_counts(snapshot: MetricsSnapshot, network: str) -> bool:
    """A read of an existing post in which every metric the network declares is missing (X without
    ``public_metrics``): unknown, whatever the provider said."""
    declared = provider_class(network).capabilities.metrics
    return bool(declared) and all(getattr(snapshot, name, None) is None for name in declared)


@transaction.atomic
def metric_snapshot_record(
    *, publication: SharePublication, windows: Sequence[str], snapshot: MetricsSnapshot, now: datetime
) -> int:
    """Store the snapshot for each window not stored yet and book the verified delta. Returns rows created.

    A window already stored changes nothing. ``manual`` is overwritten (staff pulls) and books
    under a label of its own moment.
    """
    share = publication.share
    if snapshot.exists and (not snapshot.counts_known or _without_counts(snapshot, share.connected_account.network)):
        reason = snapshot.unknown_reason or "the network answered without counts"
        metric_window_retry_record(publication=publication, windows=windows, reason=reason, now=now)
        return 0
    counts = snapshot_counts(snapshot) if snapshot.exists else {}
    if snapshot.exists:
        peer_engagement_check(share=share, engagers=snapshot.engagers)
    created = 0
    for window in windows:
        values = {name: counts.get(name) for name in (*COUNT_NAMES, "engagements", "own_engagements")}
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
                impressions=reach_like(counts),
                engagements=counts["engagements"],
            )
    if not snapshot.exists:
        publication_remove(publication=publication, now=now)
    else:
        _metric_retries_resolve(publication=publication, windows=windows)
    return created


@transaction.atomic
def metric_window_retry_record(
    *, publication: SharePublication, windows: Sequence[str], reason: str, now: datetime
) -> None:
    """A read gave no counts for these windows: no snapshot, nothing booked; try again later or give up.

    Each window backs off on its own (``retry_delay``); after its last try it is given up and the reason
    is put on the publication, where the brand, the influencer and staff see it.
    """
    share = publication.share
    given_up: list[str] = []
    tries = retry_attempts()
    for window in windows:
        if window == MetricWindow.MANUAL:
            continue  # a staff pull: nothing is scheduled for it
        row, _created = MetricWindowRetry.objects.select_for_update().get_or_create(
            share=share, window=window, defaults={"first_failed_at": now}
        )
        if row.gave_up_at is not None:
            continue
        row.attempts += 1
        row.reason = reason[:500]
        if row.attempts >= tries:
            row.gave_up_at, row.next_attempt_at = now, None
            given_up.append(window)
        else:
            row.next_attempt_at = now + retry_delay(attempt=row.attempts)
        row.save(update_fields=["attempts", "reason", "gave_up_at", "next_attempt_at"])
    if given_up:
        message = ngettext(
            "The counts of the %(windows)s window could not be read after %(tries)s tries (%(reason)s). "
            "Nothing was paid or taken back for it; a later window that can be read catches up.",
            "The counts of the %(windows)s windows could not be read after %(tries)s tries (%(reason)s). "
            "Nothing was paid or taken back for them; a later window that can be read catches up.",
            len(given_up),
        ) % {"windows": ", ".join(given_up), "tries": tries, "reason": reason[:300]}
        SharePublication.objects.filter(pk=publication.pk, state=PublicationState.PUBLISHED).update(
            last_error=message, error_code=METRICS_UNKNOWN, updated_at=now
        )
    logger.info("metrics of share %s unknown for %s: %s", share.pk, ",".join(windows), reason)


def _metric_retries_resolve(*, publication: SharePublication, windows: Sequence[str]) -> None:
    """The windows were read after all: their retries end, and a reason about unread counts goes."""
    MetricWindowRetry.objects.filter(share_id=publication.share_id, window__in=list(windows)).delete()
    SharePublication.objects.filter(pk=publication.pk, error_code=METRICS_UNKNOWN).update(
        last_error="", error_code="", updated_at=timezone.now()
    )


def share_anomalies_check(*, share: Share, counts: dict[str, int | None]) -> None:
    """F2/F3 on every new window: reach above followers x k, engagements far above the influencer's usual.

    A hold keeps the share's earnings pending until staff review it
    (``campaigns.earnings.services.earnings_release_due``).
    """
    reach_anomaly_check(share=share, reach=counts.get("reach") or counts.get("impressions"))
    engagement_anomaly_check(share=share, engagements=counts.get("engagements"))


def _book(*, publication: SharePublication, window: str, impressions: int | None, engagements: int | None) -> None:
    """Book the change against what was accrued so far; a count the read did not give (None) changes nothing."""
    share = publication.share
    if share.connected_account.network == Network.SANDBOX and not sandbox_allowed(share.campaign):
        # A simulated audience never earns money from a brand that is not a demo brand: the snapshot is
        # kept (it is what the network said), nothing is booked. ``earnings_accrue`` refuses it too.
        return
    before_impressions, before_engagements = accrued_totals_for_share(share_key=str(share.pk))
    delta = MetricDelta(
        share_key=str(share.pk),
        campaign_id=share.campaign_id,
        influencer_id=share.influencer_id,
        window=window,
        impressions=impressions - before_impressions if impressions is not None else 0,
        engagements=engagements - before_engagements if engagements is not None else 0,
        unique_clicks=0,
        source=MetricSource.NETWORK_REPORTED,
    )
    if delta.impressions == 0 and delta.engagements == 0:
        return
    earnings_accrue(delta=delta)
