"""Drill Q1: a publish due now starts within seconds while 10,000 metric pulls wait (docs/SCALING.md §2).

Real ``celery worker`` processes on the test Redis (a database of its own) and PostgreSQL, publishing to
the recording double (``_double.py``) through the production ``MastodonProvider``. The drill runs the
same load twice, in one run:

1. **one shared queue** (the old setup): every task goes to Celery's default queue, consumed by one pool
   of ``SHARED_CONCURRENCY`` processes;
2. **queues by kind** (``CELERY_TASK_ROUTES``): the publish and metrics groups of ``WORKER_QUEUE_GROUPS``,
   each its own pool consuming its ``-Q`` list, with the same number of processes in all.

In each, ``PUBLISHES`` shares are scheduled one every ``PUBLISH_EVERY`` seconds as production schedules
them (``share_publication_schedule``: the publish task is sent on commit), first with empty queues, then
right after ``BACKLOG`` metric pulls were queued (the real ``metrics_pull_due`` task, routed as settings
route it; no metric window is due in the drill's database, so each pull is short and reads nothing).
A probe loaded into the workers (``_q1_probe.py``) notes when each publish task starts; the drill
prints the p95 delay from scheduling to start for all four cases.

Run: ``.venv/bin/python -m tests.drills.q1_queues``. Exit 0 only if, with queues by kind, the p95 delay
behind the backlog is at most ``TARGET_P95`` seconds and the backlog was still there when the last
publish started (otherwise the figure would prove nothing).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

BACKLOG = int(os.environ.get("DRILL_Q1_BACKLOG", "10000"))
PUBLISHES = int(os.environ.get("DRILL_Q1_PUBLISHES", "20"))
PUBLISH_EVERY = 0.25
TARGET_P95 = 3.0
#: Processes in the one shared pool, and in each of the two routed pools (the same total).
SHARED_CONCURRENCY = 4
GROUP_CONCURRENCY = 2
#: How long the shared-queue run waits for publishes stuck behind the backlog (draining 10,000 pulls
#: takes about two minutes on a loaded 2-core machine); one still waiting then counts with the time it
#: has waited so far, and the printed p95 is a lower bound.
SHARED_WAIT = 30.0
ROUTED_WAIT = 30.0
#: Celery's default queue, where every task went before queues by kind.
OLD_QUEUE = "celery"

from tests.drills._servers import DRILL_ENV  # noqa: E402

os.environ.update(DRILL_ENV)  # read by linkilike.settings, so set before Django (and the workers) start

from bench.harness import Report, bench_setup  # noqa: E402

ENV = bench_setup("drill_q1")

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from kombu.exceptions import ChannelError  # noqa: E402

from campaigns.metrics.tasks import metrics_pull_due  # noqa: E402
from campaigns.models import Share  # noqa: E402
from campaigns.publishing.services import share_publication_schedule  # noqa: E402
from campaigns.publishing.tasks import publication_publish  # noqa: E402
from linkilike.celery import app  # noqa: E402
from tests.drills._q1_probe import started_key  # noqa: E402
from tests.drills._seed import shares_seed  # noqa: E402
from tests.drills._servers import Worker, double_start, say, stop, wait_for  # noqa: E402

PROBE = "tests.drills._q1_probe"


@dataclass(frozen=True)
class Delays:
    seconds: list[float]
    #: Publishes that had not started when the drill stopped waiting (their delay is a lower bound).
    waiting: int

    @property
    def p95(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[math.ceil(0.95 * len(ordered)) - 1]

    def shown(self) -> str:
        if not self.waiting:
            return f"{self.p95:.2f} s"
        return f">= {self.p95:.2f} s ({self.waiting} of {len(self.seconds)} not started when the drill stopped waiting)"


def queue_of(task_name: str) -> str:
    return str(settings.CELERY_TASK_ROUTES[task_name]["queue"])


def group_of(queue: str) -> tuple[str, tuple[str, ...]]:
    return next((group, qs) for group, qs in settings.WORKER_QUEUE_GROUPS.items() if queue in qs)


@contextmanager
def one_shared_queue() -> Iterator[None]:
    """The old setup on the sending side: no routes, every task into Celery's default queue."""
    saved = app.conf.task_routes
    app.conf.task_routes = {"*": {"queue": OLD_QUEUE}}
    app.amqp.flush_routes()
    del app.amqp.router  # rebuilt from the routes above on next use
    try:
        yield
    finally:
        app.conf.task_routes = saved
        app.amqp.flush_routes()
        del app.amqp.router


def queued(queue: str) -> int:
    with app.connection_for_write() as conn:
        try:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
        except ChannelError:  # on Redis a drained queue no longer exists
            return 0


def workers_for(pools: dict[str, tuple[tuple[str, ...], int]], var: Path) -> list[Worker]:
    return [
        Worker(
            env=ENV,
            concurrency=concurrency,
            log_path=var / f"worker-{name}.log",
            name=f"q1-{name}",
            options=("-Q", ",".join(queues), f"--include={PROBE}"),
        )
        for name, (queues, concurrency) in pools.items()
    ]


def workers_start(workers: list[Worker]) -> None:
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.wait_ready()
    # Consuming, not only forked: every worker answers a ping over the broker.
    wait_for(lambda: len(app.control.ping(timeout=1.0)) >= len(workers), timeout=60, what="workers answering")


def backlog_send(count: int) -> float:
    """Queue ``count`` metric pulls as the sweep's schedule would (one connection for all), in seconds."""
    began = time.monotonic()
    with app.producer_or_acquire() as producer:
        for _ in range(count):
            metrics_pull_due.apply_async(producer=producer)
    return time.monotonic() - began


def publishes_measure(share_ids: list[int], *, wait: float) -> Delays:
    """Schedule one share every PUBLISH_EVERY s; each delay runs from scheduling to the task's start."""
    scheduled: dict[int, float] = {}
    for share_id in share_ids:
        share = Share.objects.get(pk=share_id)
        at = time.time()
        publication = share_publication_schedule(share=share)
        assert publication is not None
        scheduled[publication.pk] = at
        time.sleep(PUBLISH_EVERY)
    deadline = time.monotonic() + wait
    while True:
        started = cache.get_many([started_key(pk) for pk in scheduled])
        if len(started) == len(scheduled) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    now = time.time()
    seconds = [started[started_key(pk)] - at for pk, at in scheduled.items() if started_key(pk) in started]
    still = [now - at for pk, at in scheduled.items() if started_key(pk) not in started]
    return Delays(seconds=seconds + still, waiting=len(still))


def broker_flush() -> None:
    """Between the runs: nothing queued, in flight or noted is carried into the next one."""
    redis.Redis.from_url(ENV["CELERY_BROKER_URL"]).flushdb()


def main() -> int:
    report = Report("drill_q1", "Q1: a publish due now starts within seconds behind 10,000 queued metric pulls")
    var = Path(ENV["LINKILIKE_VAR_DIR"])
    double = double_start(latency_ms=20)
    publish_queue = queue_of(publication_publish.name)
    metrics_queue = queue_of(metrics_pull_due.name)
    publish_group, publish_queues = group_of(publish_queue)
    metrics_group, metrics_queues = group_of(metrics_queue)
    assert publish_group != metrics_group, "publishing and metrics share a worker group"
    setups = {
        "one shared queue": ({"shared": ((OLD_QUEUE,), SHARED_CONCURRENCY)}, OLD_QUEUE, SHARED_WAIT),
        "queues by kind": (
            {publish_group: (publish_queues, GROUP_CONCURRENCY), metrics_group: (metrics_queues, GROUP_CONCURRENCY)},
            metrics_queue,
            ROUTED_WAIT,
        ),
    }
    figures: dict[tuple[str, str], Delays] = {}
    left_behind: dict[str, int] = {}
    ahead: dict[str, int] = {}
    try:
        seeded = shares_seed(count=4 * PUBLISHES, instance_url=double.url)
        batches = iter(seeded.share_ids[n : n + PUBLISHES] for n in range(0, 4 * PUBLISHES, PUBLISHES))
        for setup, (pools, backlog_queue, wait) in setups.items():
            broker_flush()
            say(
                f"{setup}: starting "
                + ", ".join(f"{n} (-Q {','.join(q)}, {c} processes)" for n, (q, c) in pools.items())
            )
            routing = one_shared_queue() if setup == "one shared queue" else nullcontext()
            with routing:
                workers = workers_for(pools, var)
                try:
                    workers_start(workers)
                    idle = publishes_measure(next(batches), wait=wait)
                    say(f"{setup}: empty queues, p95 {idle.shown()}")
                    sent_in = backlog_send(BACKLOG)
                    ahead[setup] = queued(backlog_queue)
                    say(f"{setup}: {BACKLOG:,} metric pulls queued in {sent_in:.1f} s ({ahead[setup]:,} waiting)")
                    loaded = publishes_measure(next(batches), wait=wait)
                    left_behind[setup] = queued(backlog_queue)
                    say(f"{setup}: behind the backlog, p95 {loaded.shown()}; {left_behind[setup]:,} pulls still queued")
                finally:
                    for worker in workers:
                        worker.stop()
            figures[(setup, "idle")], figures[(setup, "loaded")] = idle, loaded
        broker_flush()

        report.info("metric pulls queued ahead of the publishes", BACKLOG)
        report.info("publishes measured per case", PUBLISHES)
        report.info("pool processes in each setup", SHARED_CONCURRENCY)
        for setup in setups:
            report.info(f"{setup}: metric pulls waiting when the publishes began", ahead[setup])
            report.info(f"{setup}: p95 schedule-to-start, empty queues", figures[(setup, "idle")].shown())
            report.info(f"{setup}: p95 schedule-to-start, behind the backlog", figures[(setup, "loaded")].shown())
        report.info(
            "one shared queue: pulls still queued when the drill stopped waiting", left_behind["one shared queue"]
        )
        routed = figures[("queues by kind", "loaded")]
        report.figure(
            "queues by kind: p95 schedule-to-start behind the backlog, s",
            round(routed.p95, 2),
            target=f"<= {TARGET_P95}",
            ok=routed.waiting == 0 and routed.p95 <= TARGET_P95,
        )
        report.figure(
            "queues by kind: metric pulls still queued when the last publish had started",
            left_behind["queues by kind"],
            target="> 0 (the backlog was really there)",
            ok=left_behind["queues by kind"] > 0,
        )
    finally:
        stop(double.proc)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
