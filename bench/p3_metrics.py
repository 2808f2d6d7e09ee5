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

The double answers zero counts, so nothing is booked: storing stays short, and booking earnings is
the earnings engine's cost (P4; profiled at ~30 queries a snapshot, 90% in ``earnings_accrue``).

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

Targets (issue 10, P3): calls == ceil(posts / batch size); network wall time <= 1.5x
calls x 20 ms / concurrency; the rate limit never exceeded (0 answers 429); 10,000 snapshots.
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
from dataclasses import dataclass, field
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
    zero_counts: bool = False
    calls: list[Call] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self, *, limit: int, window: float, zero_counts: bool) -> None:
        with self.lock:
            self.limit, self.window, self.zero_counts = limit, window, zero_counts
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
        self.state.reset(
            limit=int(query["limit"][0]), window=float(query["window"][0]), zero_counts=query["zero"][0] == "1"
        )
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
            body = {"posts": [_post(uri, zero=state.zero_counts) for uri in uris]}
        self.answer(status, body, headers)
        with state.lock:
            state.in_flight -= 1
            state.calls.append(Call(start, time.time(), len(uris), status))
        return None


def _post(uri: str, *, zero: bool) -> dict[str, Any]:
    seed = 0 if zero else 1 + sum(uri.encode()) % 97
    return {
        "uri": uri,
        "cid": "bafyreibench",
        "author": {"did": uri.split("/")[2], "handle": "bench.example"},
        "record": {"$type": "app.bsky.feed.post", "text": "Our new roast is here #ad", "createdAt": "2026-11-26"},
        "likeCount": seed,
        "repostCount": seed // 3,
        "replyCount": seed // 7,
        "quoteCount": 0,
        "bookmarkCount": seed // 11,
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

    def reset(self, *, limit: int, window: float, zero_counts: bool) -> None:
        query = urlencode({"limit": limit, "window": window, "zero": int(zero_counts)})
        requests.post(f"{self.url}/_bench/reset?{query}", timeout=10).raise_for_status()

    def log(self) -> dict[str, Any]:
        answer = requests.get(f"{self.url}/_bench/log", timeout=30)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body


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


def run_phase(
    double: DoubleProcess,
    *,
    window: str,
    limit: int,
    seconds: float,
    now: Any = None,
    pairs: dict[int, list[str]] | None = None,
) -> Phase:
    """One pull: the beat's sweep (``metrics_pull_due(now=...)``), or ``metrics_pull`` of ``pairs``."""
    from campaigns.metrics.services import metrics_pull, metrics_pull_due
    from campaigns.models import MetricSnapshot
    from networks.rate_limits import most_in_any_window

    double.reset(limit=limit, window=seconds, zero_counts=True)
    with Timer() as timer:
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
    )


def subset(window: str, accounts: int) -> dict[int, list[str]]:
    """The publications of the first ``accounts`` accounts, to pull ``window`` for."""
    from campaigns.models import SharePublication

    first = sorted(set(SharePublication.objects.values_list("share__connected_account_id", flat=True)))[:accounts]
    ids = SharePublication.objects.filter(share__connected_account_id__in=first).values_list("pk", flat=True)
    return {pk: [window] for pk in ids}


def per_account_calls(batch: int) -> int:
    """Calls a per-account plan makes for every seeded post: the sum over accounts of ceil(posts / batch)."""
    from django.db.models import Count

    from campaigns.models import SharePublication

    counts = SharePublication.objects.values("share__connected_account_id").annotate(n=Count("pk"))
    return sum(math.ceil(row["n"] / batch) for row in counts)


def main() -> int:
    bench_setup(NAME)
    from dataclasses import replace
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
        # 1. After: the beat's sweep over all posts, batches across accounts, `concurrency` in flight.
        after = run_phase(
            double,
            now=published_at + timedelta(hours=1, minutes=1),
            window="+1h",
            limit=limit.requests,
            seconds=limit.seconds,
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
    report.info("whole sweep incl. storing (s)", round(after.pull_wall, 1))
    report.info("storing per snapshot (ms)", round((after.pull_wall - after.network_wall) / max(1, POSTS) * 1000, 2))

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
