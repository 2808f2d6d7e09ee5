"""P1: the tracking redirect ``/r/<code>`` under gunicorn, against a bare WSGI 302, and 0 clicks lost.

Three apps under one gunicorn configuration (same workers, same worker class), each loaded by wrk
from loopback for a fixed time, in alternating rounds (the best round of each app counts):

* ``baseline``: ``bench/minimal_wsgi.py``, a 302 from an in-memory dict (the ceiling);
* ``linkilike``: ``linkilike.wsgi:application`` as deployed (the redirect fast path, ADR 11);
* ``full stack``: Django's own WSGI handler, every middleware (the figure before the fast path).

Every request is distinct by design (own User-Agent, and its own client address in
``X-Forwarded-For``, trusted for the run: the click rules key repeats on the address, ADR 10) and a
fixed share of them is not billable by design (bot user agent, HEAD, prefetch; counted by the wrk
script). After the runs the click queue is drained into the database and compared with what wrk
sent: every request recorded, billable = sent - filtered by design (velocity holds, if the rate per
link ever exceeds the limit, are computed independently from the recorded timestamps).

Knobs: ``BENCH_P1_SECONDS`` (10), ``BENCH_P1_ROUNDS`` (3),
``BENCH_P1_CONNECTIONS`` (16), ``BENCH_P1_LINKS`` (2000), ``BENCH_P1_WORKERS`` (3, as production) and
``BENCH_P1_WORKER_CLASS`` (sync, as production).
"""

from __future__ import annotations

import itertools
import os
import re
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from bench.harness import RESULTS_DIR, Report, bench_setup

NAME = "p1_redirect"
SECONDS = int(os.environ.get("BENCH_P1_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_P1_ROUNDS", "3"))
# Production's gunicorn (Dockerfile, docker-compose.yml): 3 workers of gunicorn's default class, sync
# (one request at a time, connection closed after each). Other values (gthread) are information only.
WORKERS = int(os.environ.get("BENCH_P1_WORKERS", "3"))
WORKER_CLASS = os.environ.get("BENCH_P1_WORKER_CLASS", "sync")
# One connection per wrk thread: each thread has at most one request in flight (exact accounting).
CONNECTIONS = THREADS = int(os.environ.get("BENCH_P1_CONNECTIONS", "16"))
LINKS = int(os.environ.get("BENCH_P1_LINKS", "2000"))
WARMUP_SECONDS = 2
TARGET_RATIO = 0.6

APPS = {
    "baseline": "bench.minimal_wsgi:application",
    "linkilike": "linkilike.wsgi:application",
    "full stack": "linkilike.wsgi:django_application",
}
RECORDING_APPS = ("linkilike", "full stack")
#: apps with a per-worker link cache, warmed before measuring (the others keep nothing in a worker).
PROCESS_CACHED_APPS = ("linkilike",)
WARM_VISITS = 3
MAX_WARMUP_SECONDS = 40


@dataclass
class Answered:
    """What wrk got answered per kind, plus the requests still in flight when it stopped (by user agent)."""

    kinds: dict[str, int] = field(default_factory=lambda: {"normal": 0, "bot": 0, "head": 0, "prefetch": 0})
    in_flight: list[tuple[str, str]] = field(default_factory=list)

    def add(self, output: str) -> None:
        lines = re.findall(
            r"^THREAD answered=(\d+) normal=(\d+) bot=(\d+) head=(\d+) prefetch=(\d+) pending=(\w*) ua=(.*)$",
            output,
            re.MULTILINE,
        )
        if not lines:
            raise RuntimeError(f"the wrk script printed no counts:\n{output}")
        for _total, normal, bot, head, prefetch, pending, user_agent in lines:
            for kind, count in (("normal", normal), ("bot", bot), ("head", head), ("prefetch", prefetch)):
                self.kinds[kind] += int(count)
            if pending:
                self.in_flight.append((pending, user_agent))

    @property
    def total(self) -> int:
        return sum(self.kinds.values())


@dataclass
class Runs:
    results: dict[str, list] = field(default_factory=dict)

    def best(self, app: str):
        return max(self.results[app], key=lambda r: r.rps)


def queue_settled(redis, key: str, *, quiet: float = 3.0, timeout: float = 60.0) -> None:
    """Waits until the click queue stops growing: requests still in the listen backlog are served."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        length = int(redis.llen(key))
        if length != last:
            last, since = length, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def main() -> int:
    from bench.servers import exit_on_sigterm

    exit_on_sigterm()
    env = bench_setup(NAME)
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count
    from django.db.models.functions import TruncMinute

    from bench.servers import GunicornConfig, gunicorn, wrk
    from campaigns.models import Click, ClickReason
    from campaigns.tracking.capture import PROCESSING_KEY, QUEUE_KEY, _salted_hash, redis_client, redis_key
    from campaigns.tracking.services import clicks_drain, tracking_link_resolve

    report = Report(NAME, "Tracking redirect vs a bare WSGI 302, 0 clicks lost")
    work = RESULTS_DIR / NAME
    table = work / "links.tsv"
    call_command("bench_seed_links", links=LINKS, out=str(table), stdout=open(os.devnull, "w"))  # noqa: SIM115
    # Links that get clicks have been resolved before: the shared Redis link cache is warm in
    # production (24 h), so warm it through the resolver rather than measure 2,000 first reads.
    for line in table.read_text(encoding="utf-8").splitlines():
        tracking_link_resolve(code=line.split("\t", 1)[0])
    script = Path(__file__).with_suffix(".lua")
    config = GunicornConfig(workers=WORKERS, worker_class=WORKER_CLASS)
    # Each wrk request claims its own address (the wrk script's X-Forwarded-For): behind a proxy, as in
    # production, the click rules see one visitor per request instead of every request from loopback.
    server_env = {**env, "BENCH_REDIRECT_TABLE": str(table), "LINKILIKE_TRACKING_TRUST_X_FORWARDED_FOR": "true"}
    run_ids = itertools.count()  # the wrk script derives unique addresses from (run, thread, request)
    redis = redis_client()
    assert redis is not None, "P1 measures the Redis hand-off"
    queue = redis_key(QUEUE_KEY)
    report.info(
        "setup",
        f"gunicorn {config.workers} {config.worker_class} workers"
        + (f" x {config.threads} threads" if config.worker_class == "gthread" else " (one request each, no keep-alive)")
        + f"; wrk {THREADS} threads, {CONNECTIONS} connections, "
        f"{SECONDS} s x {ROUNDS} rounds (+{WARMUP_SECONDS} s warm-up); {LINKS} links",
    )

    answered = Answered()
    runs = Runs({app: [] for app in APPS})
    cpu: dict[str, list[float]] = {app: [] for app in APPS}
    warm_requests: dict[str, list[int]] = {app: [] for app in PROCESS_CACHED_APPS}
    for _round in range(ROUNDS):
        for app, spec in APPS.items():
            warm_path = "/healthz" if app in RECORDING_APPS else "/"
            with gunicorn(
                spec, config=config, env=server_env, log=work / "gunicorn.log", warm_path=warm_path
            ) as server:
                tag = f"{_round}{app[0]}"
                load = partial(wrk, server.url, threads=THREADS, connections=CONNECTIONS, script=script)
                warms = [load(seconds=WARMUP_SECONDS, args=[str(table), str(THREADS), f"{tag}w", str(next(run_ids))])]
                if app in PROCESS_CACHED_APPS:
                    # Each worker keeps the links it served in memory (ADR 11): in production a worker
                    # lives for hours, here it starts each round. Warm until every link has been
                    # served about 3 times per worker, or the measured run times cold misses.
                    while (
                        sum(w.requests for w in warms) < WARM_VISITS * LINKS * config.workers
                        and len(warms) * WARMUP_SECONDS < MAX_WARMUP_SECONDS
                    ):
                        warms.append(
                            load(
                                seconds=WARMUP_SECONDS,
                                args=[str(table), str(THREADS), f"{tag}w{len(warms)}", str(next(run_ids))],
                            )
                        )
                    warm_requests[app].append(sum(w.requests for w in warms))
                cpu_before = server.cpu_seconds()
                result = load(seconds=SECONDS, args=[str(table), str(THREADS), tag, str(next(run_ids))])
                cpu[app].append((server.cpu_seconds() - cpu_before) / max(result.requests, 1) * 1000)
                if app in RECORDING_APPS:
                    for warm in warms:
                        answered.add(warm.output)
                    answered.add(result.output)
                    queue_settled(redis, queue)
            runs.results[app].append(result)
            print(
                f"    {app:>10}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
                f"errors {result.socket_errors}, non-3xx {result.non_2xx_3xx}, "
                f"server CPU {cpu[app][-1]:.3f} ms/request",
                flush=True,
            )

    baseline, linkilike, full = runs.best("baseline"), runs.best("linkilike"), runs.best("full stack")
    for label, result in (
        ("baseline (bare WSGI 302)", baseline),
        ("linkilike /r/", linkilike),
        ("full Django stack", full),
    ):
        report.info(f"{label} req/s", round(result.rps))
        report.info(f"{label} p50 / p99 ms", f"{result.p50_ms:.2f} / {result.p99_ms:.2f}")
    for app in APPS:
        report.info(f"{app}: server CPU ms per request (min of rounds)", round(min(cpu[app]), 3))
    for app, counts in warm_requests.items():
        report.info(
            f"{app}: warm-up requests per round (target {WARM_VISITS} x {LINKS} links x {config.workers} workers)",
            ", ".join(f"{n:,}" for n in counts),
        )
    ratio = linkilike.rps / baseline.rps
    report.figure(
        "req/s ratio linkilike / baseline", round(ratio, 3), target=f">= {TARGET_RATIO}x", ok=ratio >= TARGET_RATIO
    )
    report.info("before the fast path: full stack / baseline", round(full.rps / baseline.rps, 3))
    report.info(
        "ratio linkilike / baseline per round (machine noise)",
        ", ".join(
            f"{mine.rps / bare.rps:.3f}"
            for bare, mine in zip(runs.results["baseline"], runs.results["linkilike"], strict=True)
        ),
    )
    failures = sum(r.socket_errors + r.non_2xx_3xx for app in RECORDING_APPS for r in runs.results[app])
    report.figure("socket errors + non-3xx answers", failures, target="0", ok=failures == 0)

    # --- 0 lost: drain everything the redirects queued and count it in the database ----------------
    while clicks_drain() or redis.llen(queue) or redis.llen(redis_key(PROCESSING_KEY)):
        pass
    recorded = Click.objects.count()
    by_reason = dict(Click.objects.values_list("reason").annotate(n=Count("id")).values_list("reason", "n"))
    billable = Click.objects.filter(billable=True).count()
    limit = int(settings.TRACKING_VELOCITY_PER_MINUTE)
    per_link_minute = (
        Click.objects.exclude(reason__in=[ClickReason.BOT, ClickReason.HEAD, ClickReason.PREFETCH])
        .annotate(minute=TruncMinute("occurred_at"))
        .values("link_id", "minute")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    velocity_expected = sum(max(0, n - limit) for n in per_link_minute)
    # A request in flight when wrk stopped was recorded if the server got to it: look it up by its user agent.
    reached = [
        kind
        for kind, user_agent in answered.in_flight
        if Click.objects.filter(ua_hash=_salted_hash(user_agent)).exists()
    ]
    expected = answered.total + len(reached)
    by_design = {kind: answered.kinds[kind] + reached.count(kind) for kind in ("bot", "head", "prefetch")}
    filtered = sum(by_design.values()) + velocity_expected
    report.info("requests answered (both Django apps, warm-ups included)", answered.total)
    report.info(
        "in flight when wrk stopped / of them reached the server", f"{len(answered.in_flight)} / {len(reached)}"
    )
    report.info(
        "filtered by design: bots / HEAD / prefetch / velocity",
        f"{by_design['bot']} / {by_design['head']} / {by_design['prefetch']} / {velocity_expected}",
    )
    report.info("recorded by reason", ", ".join(f"{k or 'billable'}={v}" for k, v in sorted(by_reason.items())))
    report.figure("clicks recorded", recorded, target=f"= {expected:,} answered + reached", ok=recorded == expected)
    report.figure(
        "billable clicks",
        billable,
        target=f"= recorded - filtered = {expected - filtered:,}",
        ok=billable == expected - filtered,
    )
    report.figure(
        "not billable by reason = by design",
        "yes" if all(by_reason.get(kind, 0) == count for kind, count in by_design.items()) else "no",
        target="yes",
        ok=all(by_reason.get(kind, 0) == count for kind, count in by_design.items()),
    )
    lost = expected - recorded
    report.figure("clicks lost", lost, target="0", ok=lost == 0)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
