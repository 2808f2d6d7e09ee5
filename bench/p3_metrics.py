"""P3 Metrics pull: 10,000 published posts on a batchable network double with 20 ms per call.

The double is a Bluesky AppView (``app.bsky.feed.getPosts``, <= 25 URIs a call, public) served over
real HTTP on loopback. It sleeps 20 ms per call, records every call (start, end, URIs, status) and
enforces a sliding-window rate limit, answering 429 ``RateLimitExceeded`` with Bluesky's
``ratelimit-*`` headers when it is exceeded. It runs in a process of its own. The pulls go through
the production path, one metrics window each:

1. after: the beat's sweep (``campaigns.metrics.services.metrics_pull_due``) over all posts, batches
   filled across accounts, 8 in flight, under the network's own limit (3,000 / 5 min);
2. before: ``metrics_pull`` as it was before ADR 13 (per account, one call at a time, set up by giving
   the network ``MetricsAccess.ACCOUNT`` and concurrency 1) on the posts of 100 accounts; the calls
   that plan makes for all posts are counted from the database;
3. rate-bound: ``metrics_pull`` of 2,000 posts with the double's limit cut to 20 calls a second, so the
   limiter must pace.

0. differential: the posts of ``DIFF_ACCOUNTS`` accounts pulled for +1h and then +6h (half
   the counts fallen: reversals), stored one by one (``per_row=True``) and in sets from the same state,
   each in a transaction rolled back after; snapshots, retries, holds, accruals, ledger and balances,
   results rollups compared.

Phase 1 has counts (in replies and quotes: see ``_post``), so every post books a delta; the sweep's
whole time, storing and booking included, is held against 3x the network's lower bound.
The other phases answer zero counts.

Profile and optimisations (figures from runs on the shared 2-core bench machine, load 9-17):

- Batches across accounts (ADR 13): 10,000 posts over 1,000 accounts, 1,000 calls -> 400.
- 8 calls in flight instead of one: network lower bound 20 s (1,000 x 20 ms, serial) -> 1.0 s.
- Store after the reads, not meanwhile: storing on the pulling thread while reads were in flight
  made each read take 44-94 ms instead of 20 (1,000 posts: 1.23 s for 40 calls, 12x the bound).
- cProfile of one read: ~10 ms CPU, 6 of them requests re-reading proxies/.netrc/CA settings from
  the environment on every call (fixed in ``networks.providers.http``); the double answered
  HTTP/1.0 (a new connection per call) and, once on keep-alive, stalled 40 ms per call on Nagle's
  algorithm (headers and body are two writes). Reads alone (400 calls, 8 threads, limiter on):
  7.74 s -> 2.16 s (limiter off: 7.06 s -> 1.61 s).
- Limiter: counting a call from its start plus a 50 ms margin let the double see 22 calls in one
  second against 20 (4 answers 429); counting until a window after its answer: 20 vs 20, none.
- Storing while reading (ADR 22): each 5,000-read chunk is stored as soon as its reads are back; the
  cyclic collector is paused for the sweep (its passes took about 0.5 s of a sweep); threads switch every
  2 ms while reads are in flight; long id lists go as one array parameter (three 10,000-value ``__in``
  lists took 0.25 s to compile). Whole sweep 4.47x -> 2.60-2.81x its bound on that round's machine.

Targets (issue 10, P3): calls == ceil(posts / batch size); network wall time <= 1.5x
calls x 20 ms / concurrency; the rate limit never exceeded (0 answers 429); 10,000 snapshots.
Issue 22: 10,000 accruals; the whole sweep <= 3x calls x 20 ms / concurrency; the differential identical.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from bench.harness import Report, Timer, bench_setup

NAME = "p3_metrics"
POSTS = int(os.environ.get("BENCH_P3_POSTS", "10000"))
CAMPAIGNS = 10
LATENCY = 0.020
BEFORE_ACCOUNTS = 100
#: Accounts (10 posts each) whose reads are stored both ways for the differential check.
DIFF_ACCOUNTS = int(os.environ.get("BENCH_P3_DIFF_ACCOUNTS", "50"))
#: The whole sweep, storing included, within this many times the network's lower bound.
SWEEP_TARGET = 3.0
PACED_ACCOUNTS = 200
TIGHT = {"requests": 20, "seconds": 1.0}


@dataclass
class Call:
    start: float
    end: float
    uris: int
    status: int


@dataclass
class DoubleState:
    limit: int = 3000
    window: float = 300.0
    latency: float = LATENCY
    #: "zero": every count 0; "up": counts from the URI; "mixed": half the posts' counts halved (a reversal),
    #: the others doubled.
    counts: str = "up"
    calls: list[Call] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, *, limit: int, window: float, counts: str) -> None:
        with self.lock:
            self.limit, self.window, self.counts = limit, window, counts
            self.calls, self.arrivals = [], []
            self.in_flight = self.max_in_flight = 0


class AppViewHandler(BaseHTTPRequestHandler):
    state: DoubleState
    protocol_version = "HTTP/1.1"  # keep-alive, as the real AppView
    disable_nagle_algorithm = True  # headers and body leave in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.state.reset(limit=int(query["limit"][0]), window=float(query["window"][0]), counts=query["counts"][0])
        self.answer(200, {})

    def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        start = time.time()
        parts = urlsplit(self.path)
        if parts.path == "/_bench/log":
            with self.state.lock:
                log = {
                    "calls": [[c.start, c.end, c.uris, c.status] for c in self.state.calls],
                    "arrivals": self.state.arrivals,
                    "max_in_flight": self.state.max_in_flight,
                }
            return self.answer(200, log)
        uris = parse_qs(parts.query).get("uris", [])
        state = self.state
        with state.lock:
            # Sliding window on arrival: the strictest reading of "N requests per window".
            recent = [t for t in state.arrivals if t > start - state.window]
            limited = len(recent) >= state.limit
            state.arrivals.append(start)
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            remaining = max(0, state.limit - len(recent) - 1)
        time.sleep(state.latency)
        headers = {
            "ratelimit-limit": str(state.limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(time.time() + state.window)),
            "ratelimit-policy": f"{state.limit};w={int(state.window)}",
        }
        if parts.path != "/xrpc/app.bsky.feed.getPosts" or not 1 <= len(uris) <= 25:
            body: dict[str, Any] = {"error": "InvalidRequest", "message": "uris: 1 to 25 at-uris"}
            status = 400
        elif limited:
            status, body = 429, {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
        else:
            status = 200
            body = {"posts": [_post(uri, counts=state.counts) for uri in uris]}
        self.answer(status, body, headers)
        with state.lock:
            state.in_flight -= 1
            state.calls.append(Call(start, time.time(), len(uris), status))
        return None


def _post(uri: str, *, counts: str) -> dict[str, Any]:
    """A post view. Counts sit in replies and quotes only: a like, repost or bookmark count makes the provider
    ask each author's PDS, with her session, whether she is among them (one call per author per batch), and
    that read is not what this benchmark measures (see docs/BENCHMARKS.md)."""
    seed = 0 if counts == "zero" else 1 + sum(uri.encode()) % 97
    if counts == "mixed":
        seed = seed // 2 if seed % 2 else seed * 2
    return {
        "uri": uri,
        "cid": "bafyreibench",
        "author": {"did": uri.split("/")[2], "handle": "bench.example"},
        "record": {"$type": "app.bsky.feed.post", "text": "Our new roast is here #ad", "createdAt": "2026-11-26"},
        "likeCount": 0,
        "repostCount": 0,
        "replyCount": seed,
        "quoteCount": seed // 3,
        "bookmarkCount": 0,
        "indexedAt": "2026-11-26T00:00:00Z",
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def serve_double() -> None:
    """The double's own process (``--double``): prints its URL, serves until killed."""
    handler = type("Handler", (AppViewHandler,), {"state": DoubleState()})
    server = _Server(("127.0.0.1", 0), handler)
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


class DoubleProcess:
    """The double in a process of its own, so it never competes with the pull for one interpreter lock."""

    def __enter__(self) -> DoubleProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.p3_metrics", "--double"], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def reset(self, *, limit: int, window: float, counts: str = "zero") -> None:
        query = urlencode({"limit": limit, "window": window, "counts": counts})
        requests.post(f"{self.url}/_bench/reset?{query}", timeout=10).raise_for_status()

    def log(self) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/_bench/log", timeout=30)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


#: (module, function, label): the sweep's phases, timed while the sweep runs (inclusive: a phase that calls
#: another includes it; ``Profile.rows`` reports the store's parts and its commit separately).
PROFILED = (
    ("campaigns.metrics.services", "metric_pairs_due", "due pairs read"),
    ("campaigns.metrics.services", "publications_for_metrics", "publications loaded"),
    ("campaigns.metrics.services", "_plan", "plan (batches, peers)"),
    ("campaigns.metrics.services", "publication_peer_checks", "plan: peer-check reads"),
    ("campaigns.metrics.services", "_Store.outcome", "reads handed to the store (incl. the store of a full chunk)"),
    ("campaigns.metrics.services", "metric_snapshots_store_batch", "store, one transaction per chunk"),
    ("campaigns.metrics.services_batch", "peer_engagement_check", "store: peer checks"),
    ("campaigns.metrics.services_batch", "_stage_copy", "store: snapshot COPY into the stage"),
    ("campaigns.metrics.services_batch", "_stage_insert", "store: snapshot INSERT (+ rollup trigger)"),
    ("campaigns.metrics.services_batch", "_anomalies_check", "store: anomaly checks (histories, rules)"),
    ("campaigns.metrics.services_batch", "_holds_open", "store: holds opened"),
    ("campaigns.metrics.services_batch", "_deltas", "store: deltas computed"),
    ("campaigns.metrics.services_batch", "earnings_accrue_batch", "store: earnings booked (earnings batch)"),
    ("campaigns.metrics.services_batch", "_retries_resolve", "store: retries/reasons cleared"),
    ("campaigns.metrics.services", "retention_check_due", "retention checks"),
)
#: Statements of the store and the earnings batch timed one by one (first words of the SQL -> label).
BATCH_STATEMENTS = (
    ("WITH recent AS MATERIALIZED", "anomalies: history query"),
    ("INSERT INTO campaigns_sharehold", "anomalies: holds insert"),
    ("INSERT INTO earnings_delta_stage", "earnings: stage insert"),
    ("DELETE FROM earnings_delta_stage", "earnings: sandbox refusals"),
    ("ANALYZE earnings_delta_stage", "earnings: ANALYZE stage"),
    ("INSERT INTO payouts_shareearning", "earnings: share rows opened"),
    ("CREATE TEMPORARY TABLE earnings_batch_calc", "earnings: calc (window functions)"),
    ("CREATE TEMPORARY TABLE earnings_batch_book", "earnings: book table"),
    ("INSERT INTO payouts_ledgerentry", "earnings: ledger entries"),
    ("INSERT INTO payouts_ledgertransaction", "earnings: ledger transactions"),
    ("INSERT INTO payouts_earningaccrual", "earnings: accruals"),
    ("INSERT INTO payouts_earningline", "earnings: accrual lines"),
    ("UPDATE payouts_shareearning", "earnings: share totals"),
)


class Profile:
    """Seconds in each of ``PROFILED`` and in the earnings batch's statements during one sweep."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.statements: dict[str, float] = {}

    @contextmanager
    def active(self) -> Iterator[None]:
        import importlib

        from django.db import connection

        originals = []
        for module_name, path, label in PROFILED:
            owner: Any = importlib.import_module(module_name)
            *parents, function = path.split(".")
            for parent in parents:
                owner = getattr(owner, parent)
            original = owner.__dict__.get(function)
            if original is None:
                continue
            originals.append((owner, function, original))
            setattr(owner, function, self._timed(original, label))

        def statement(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            start = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                text = " ".join(str(sql).split())
                label = next((name for prefix, name in BATCH_STATEMENTS if text.startswith(prefix)), None)
                if label is not None:
                    self.statements[label] = self.statements.get(label, 0.0) + time.perf_counter() - start

        try:
            with connection.execute_wrapper(statement):
                yield
        finally:
            for owner, function, original in originals:
                setattr(owner, function, original)

    def _timed(self, function: Any, label: str) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - start
                self.calls[label] = self.calls.get(label, 0) + 1

        return timed

    def rows(self) -> list[tuple[str, float]]:
        """(label, seconds) in sweep order; the store's commit is what its transaction took beyond its parts."""
        rows = [(label, self.seconds[label]) for _module, _function, label in PROFILED if label in self.seconds]
        store = self.seconds.get("store, one transaction per chunk", 0.0)
        parts = sum(seconds for label, seconds in rows if label.startswith("store: ") and "holds opened" not in label)
        rows.append(("store: commit and the rest", store - parts))
        rows.extend(sorted(self.statements.items(), key=lambda item: -item[1]))
        return rows


@dataclass
class Phase:
    calls: int
    rejected: int
    network_wall: float
    pull_wall: float
    max_in_flight: int
    max_in_window: int
    snapshots: int
    report_calls: int
    accruals: int = 0


def run_phase(
    double: DoubleProcess,
    *,
    window: str,
    limit: int,
    seconds: float,
    now: Any = None,
    pairs: dict[int, list[str]] | None = None,
    counts: str = "zero",
    profile: Profile | None = None,
) -> Phase:
    """One pull: the beat's sweep (``metrics_pull_due(now=...)``), or ``metrics_pull`` of ``pairs``."""
    from campaigns.metrics.services import metrics_pull, metrics_pull_due
    from campaigns.models import MetricSnapshot
    from networks.rate_limits import most_in_any_window
    from payouts.models import EarningAccrual

    double.reset(limit=limit, window=seconds, counts=counts)
    with profile.active() if profile is not None else nullcontext(), Timer() as timer:
        report = metrics_pull_due(now=now) if pairs is None else metrics_pull(pairs=pairs)
    log = double.log()
    calls = [Call(*row) for row in log["calls"]]
    return Phase(
        calls=sum(1 for call in calls if call.status == 200),
        rejected=sum(1 for call in calls if call.status == 429),
        network_wall=(max(c.end for c in calls) - min(c.start for c in calls)) if calls else 0.0,
        pull_wall=timer.seconds,
        max_in_flight=int(log["max_in_flight"]),
        max_in_window=most_in_any_window(log["arrivals"], seconds),
        snapshots=MetricSnapshot.objects.filter(window=window).count(),
        report_calls=report.provider_calls,
        accruals=EarningAccrual.objects.filter(window=window).count(),
    )


def subset(window: str, accounts: int) -> dict[int, list[str]]:
    """The publications of the first ``accounts`` accounts, to pull ``window`` for."""
    from campaigns.models import SharePublication

    first = sorted(set(SharePublication.objects.values_list("share__connected_account_id", flat=True)))[:accounts]
    ids = SharePublication.objects.filter(share__connected_account_id__in=first).values_list("pk", flat=True)
    return {pk: [window] for pk in ids}


class _Rollback(Exception):
    pass


def stored_state() -> dict[str, Any]:
    """What storing left: snapshots, retry rows, holds, accruals with their lines, the ledger (earnings as
    flows per campaign and account, ADR 24) and balances, the results rollups; without database ids or
    wall-clock moments (accruals land in the hour of their booking, so campaign hours are compared by their
    snapshot columns and their spend per campaign)."""
    from django.db.models import Sum

    from campaigns.models import (
        CampaignResultGroup,
        CampaignResultHour,
        MetricSnapshot,
        MetricWindowRetry,
        ShareHold,
        ShareResult,
    )
    from payouts.tests.helpers import snapshot as ledger_snapshot

    state = ledger_snapshot()
    state["accruals"] = {key: value[:7] + value[8:] for key, value in state["accruals"].items()}  # hold_until
    fields = [f.name for f in MetricSnapshot._meta.fields if f.name not in ("id", "share")]
    hour_fields = ("campaign_id", "hour", "snapshots", "reach_gain", "engagements_gain")
    state.update(
        snapshots=sorted(MetricSnapshot.objects.values_list("share_id", *fields)),
        retries=sorted(MetricWindowRetry.objects.values_list("share_id", "window", "attempts", "reason")),
        holds=sorted(ShareHold.objects.values_list("share_id", "reason", "detail")),
        share_results=sorted(ShareResult.objects.values_list()),
        result_hours=sorted(CampaignResultHour.objects.filter(snapshots__gt=0).values_list(*hour_fields)),
        spend=sorted(
            CampaignResultHour.objects.values("campaign_id")
            .annotate(earned=Sum("earned_minor"), fee=Sum("fee_minor"))
            .values_list("campaign_id", "earned", "fee")
        ),
        result_groups=sorted(
            CampaignResultGroup.objects.exclude(shares=0).values_list(
                "campaign_id", "key", "shares", "reach", "impressions", "engagements", "unique_clicks", "earned_minor"
            )
        ),
    )
    return state


@dataclass
class Differential:
    same: bool
    differing: list[str]
    snapshots: int
    accruals: int
    reversals: int
    per_row_seconds: float
    set_seconds: float


def differential(double: DoubleProcess, *, limit: int, seconds: float) -> Differential:
    """The posts of ``DIFF_ACCOUNTS`` accounts pulled twice (+1h, then +6h with half the counts fallen: reversals),
    stored one by one and in sets from the same state (each in a transaction rolled back after)."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from campaigns.metrics.services import metrics_pull

    first, second = subset("+1h", DIFF_ACCOUNTS), subset("+6h", DIFF_ACCOUNTS)
    now = timezone.now()  # one moment for both runs: snapshots carry it

    def run(per_row: bool) -> tuple[dict[str, Any], float]:
        captured: dict[str, Any] = {}
        try:
            with transaction.atomic():
                with Timer() as timer:
                    double.reset(limit=limit, window=seconds, counts="up")
                    metrics_pull(pairs=first, now=now, per_row=per_row)
                    double.reset(limit=limit, window=seconds, counts="mixed")
                    metrics_pull(pairs=second, now=now + timedelta(hours=5), per_row=per_row)
                captured = stored_state()
                raise _Rollback
        except _Rollback:
            pass
        return captured, timer.seconds

    per_row, per_row_seconds = run(True)
    set_based, set_seconds = run(False)
    differing = [part for part in per_row if per_row[part] != set_based.get(part)]
    return Differential(
        same=not differing,
        differing=differing,
        snapshots=len(per_row["snapshots"]),
        accruals=len(per_row["accruals"]),
        reversals=sum(1 for value in per_row["accruals"].values() if value[4] < 0),
        per_row_seconds=per_row_seconds,
        set_seconds=set_seconds,
    )


@contextmanager
def own_part_reads_off() -> Iterator[None]:
    """Bluesky asks, per post with replies or quotes (getPostThread, getQuotes) and per author with likes,
    reposts or bookmarks (her PDS, with her session), which of them are the author's own. Those reads are
    network calls beyond the ceil(posts / 25) this benchmark's bound counts; they are switched off while
    posts have counts, so the phase measures the batch reads plus storing and booking."""
    from networks.providers.bluesky import BlueskyProvider
    from networks.providers.types import Reveal

    capabilities = BlueskyProvider.capabilities
    original = BlueskyProvider._own_replies_and_quotes
    BlueskyProvider.capabilities = replace(capabilities, own_engagement=Reveal.NO)
    BlueskyProvider._own_replies_and_quotes = lambda self, snapshot: replace(  # type: ignore[method-assign]
        snapshot, own_replies=0, own_quotes=0
    )
    try:
        yield
    finally:
        BlueskyProvider.capabilities = capabilities
        BlueskyProvider._own_replies_and_quotes = original  # type: ignore[method-assign]


def per_account_calls(batch: int) -> int:
    """Calls a per-account plan makes for every seeded post: the sum over accounts of ceil(posts / batch)."""
    from django.db.models import Count

    from campaigns.models import SharePublication

    counts = SharePublication.objects.values("share__connected_account_id").annotate(n=Count("pk"))
    return sum(math.ceil(row["n"] / batch) for row in counts)


def main() -> int:
    bench_setup(NAME)
    from datetime import timedelta

    from django.conf import settings
    from django.core.management import call_command

    from campaigns.metrics import services as metrics
    from campaigns.models import SharePublication
    from networks.providers.bluesky import BlueskyProvider
    from networks.providers.types import MetricsAccess

    logging.getLogger("networks.http").setLevel(logging.WARNING)  # one line per call would drown the figures
    report = Report(NAME, "Metrics pull: 10,000 posts on a batchable network, 20 ms a call")
    with Timer() as seeding:
        call_command("bench_seed_publications", posts=POSTS, campaigns=CAMPAIGNS, age_minutes=90, verbosity=0)
    report.info("seeding (s)", round(seeding.seconds, 1))

    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h"]
    published_at = SharePublication.objects.order_by("published_at").values_list("published_at", flat=True)[0]
    assert published_at is not None
    capabilities = BlueskyProvider.capabilities
    batch = capabilities.metrics_batch_size
    concurrency, limit = metrics.network_metrics_limits("bluesky")
    assert limit is not None
    # Every phase's double answers zero counts: nothing to book, so storing stays short. Booking earnings is
    # the earnings engine's cost (P4); here it would only lengthen the run, not change a network figure.
    with DoubleProcess() as double:
        settings.BLUESKY_APPVIEW_URL = double.url
        # 0. Differential: the same reads stored one by one and in sets (rolled back after each).
        with own_part_reads_off():
            diff = differential(double, limit=limit.requests, seconds=limit.seconds)
        # 1. After: the beat's sweep over all posts, batches across accounts, `concurrency` in flight; the
        # double answers counts, so every post books a delta (set-based storing and booking).
        profile = Profile()
        with own_part_reads_off():
            after = run_phase(
                double,
                now=published_at + timedelta(hours=1, minutes=1),
                window="+1h",
                limit=limit.requests,
                seconds=limit.seconds,
                counts="up",
                profile=profile,
            )
        # 2. Before ADR 13: batches per account, one call at a time, on the posts of 100 accounts.
        BlueskyProvider.capabilities = replace(
            capabilities, metrics_access=MetricsAccess.ACCOUNT, metrics_concurrency=1
        )
        try:
            before_pairs = subset("+6h", BEFORE_ACCOUNTS)
            before = run_phase(double, pairs=before_pairs, window="+6h", limit=limit.requests, seconds=limit.seconds)
        finally:
            BlueskyProvider.capabilities = capabilities
        # 3. Rate-bound: the double allows 20 calls a second; the limiter must keep the pull below it.
        settings.NETWORK_METRICS_LIMITS = {"bluesky": TIGHT}
        paced_pairs = subset("+24h", PACED_ACCOUNTS)
        paced = run_phase(
            double, pairs=paced_pairs, window="+24h", limit=int(TIGHT["requests"]), seconds=TIGHT["seconds"]
        )

    expected_calls = math.ceil(POSTS / batch)
    lower_bound = expected_calls * LATENCY / concurrency
    report.info("posts", POSTS)
    report.info("accounts (posts spread over)", math.ceil(POSTS / CAMPAIGNS))
    report.info("batch size (getPosts uris)", batch)
    report.info("allowed concurrency", concurrency)
    report.info("network rate limit", f"{limit.requests} per {limit.seconds} s")
    report.figure(
        "HTTP calls vs ceil(posts/batch)",
        f"{after.calls} vs {expected_calls}",
        target="equal",
        ok=after.calls == expected_calls == after.report_calls,
    )
    report.info("lower bound calls x 20 ms / concurrency (s)", round(lower_bound, 3))
    report.info("network wall, first call sent to last answer (s)", round(after.network_wall, 3))
    ratio = after.network_wall / lower_bound
    report.figure("network wall / lower bound", round(ratio, 3), target="<= 1.5x", ok=ratio <= 1.5)
    report.figure(
        "max calls in flight vs allowed concurrency",
        f"{after.max_in_flight} vs {concurrency}",
        target="never above",
        ok=after.max_in_flight <= concurrency,
    )
    report.figure(
        f"max calls in any {limit.seconds} s vs limit",
        f"{after.max_in_window} vs {limit.requests} (429 answers: {after.rejected})",
        target="never exceeded",
        ok=after.max_in_window <= limit.requests and after.rejected == 0,
    )
    report.figure("snapshots stored", after.snapshots, target=f"== {POSTS:,}", ok=after.snapshots == POSTS)
    report.figure("accruals booked by the sweep", after.accruals, target=f"== {POSTS:,}", ok=after.accruals == POSTS)
    report.info("whole sweep incl. storing and booking (s)", round(after.pull_wall, 3))
    report.info(
        "storing and booking per snapshot (ms)", round((after.pull_wall - after.network_wall) / max(1, POSTS) * 1000, 3)
    )
    report.info("sweep phase: network reads, first call to last answer (s)", round(after.network_wall, 3))
    for label, seconds in profile.rows():
        report.info(f"sweep phase: {label} (s)", round(seconds, 3))
    sweep_ratio = after.pull_wall / lower_bound
    report.figure(
        "whole sweep / network lower bound",
        round(sweep_ratio, 2),
        target=f"<= {SWEEP_TARGET:g}x",
        ok=sweep_ratio <= SWEEP_TARGET,
    )
    report.info(
        f"differential: {diff.snapshots:,} snapshots, {diff.accruals:,} accruals ({diff.reversals:,} reversals)",
        f"per-row {diff.per_row_seconds:.2f} s, set-based {diff.set_seconds:.2f} s (network reads included)",
    )
    report.figure(
        "differential: set path vs per-row path (snapshots, deltas, rollups, balances)",
        "identical" if diff.same else f"differ in {', '.join(diff.differing)}",
        target="identical",
        ok=diff.same and diff.accruals > 0 and diff.reversals > 0,
    )

    before_posts = len(before_pairs)
    report.info(
        f"before (per account, serial), {before_posts:,} posts of {BEFORE_ACCOUNTS} accounts: HTTP calls",
        f"{before.calls} (after: {math.ceil(before_posts / batch)})",
    )
    report.info("before: first call to last answer, storing interleaved (s)", round(before.network_wall, 2))
    report.info("before: per-account plan for all posts: HTTP calls", per_account_calls(batch))
    report.info("before -> after, all posts: HTTP calls", f"{per_account_calls(batch):,} -> {after.calls:,}")
    report.info(
        "before -> after, all posts: network lower bound (s)",
        f"{per_account_calls(batch) * LATENCY:.1f} (serial) -> {lower_bound:.2f}",
    )

    paced_calls = math.ceil(len(paced_pairs) / batch)
    paced_bound = (math.ceil(paced_calls / TIGHT["requests"]) - 1) * TIGHT["seconds"] + LATENCY
    report.info(
        f"rate-bound: {len(paced_pairs):,} posts, double's limit",
        f"{int(TIGHT['requests'])} per {TIGHT['seconds']} s",
    )
    report.info("rate-bound: HTTP calls", paced.calls)
    report.info("rate-bound: lower bound from the limit (s)", round(paced_bound, 2))
    report.info("rate-bound: network wall (s)", round(paced.network_wall, 2))
    report.figure(
        f"rate-bound: max calls in any {TIGHT['seconds']} s vs limit",
        f"{paced.max_in_window} vs {int(TIGHT['requests'])} (429 answers: {paced.rejected})",
        target="never exceeded",
        ok=paced.max_in_window <= TIGHT["requests"] and paced.rejected == 0 and paced.calls == paced_calls,
    )
    return report.finish()


if __name__ == "__main__":
    if "--double" in sys.argv:
        serve_double()
    else:
        raise SystemExit(main())
