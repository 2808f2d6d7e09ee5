"""Drill T1: publishing at most once while Celery workers are SIGKILLed (docs/RELIABILITY.md, T1).

1,000 READY shares on Mastodon accounts whose server is the recording double (``_double.py``: real
HTTP, honours ``Idempotency-Key`` like Mastodon, records every create call). The production
``MastodonProvider`` publishes them through a real ``celery worker`` (prefork, settings' acks and
prefetch), enqueued the way production does (``publications_queue_due`` -> ``delay`` on commit). Every
2-4 s the drill SIGKILLs a pool child in the middle of its work or the whole worker (then starts it
again), while the periodic sweep (``publications_run_due``, as beat sends it) re-queues and resolves.
After the kills stop it waits for the (shortened) lease to run out and lets the sweep resolve every
expired claim by asking the network. Then it compares the double's record with the database.

Run: ``.venv/bin/python -m tests.drills.t1_sigkill``. Exit 0 only if no share reached the network twice
and nothing is left QUEUED, PUBLISHING or UNKNOWN.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter, defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

SHARES = int(os.environ.get("DRILL_T1_SHARES", "1000"))
LEASE_SECONDS = 8
#: A sent task not received within this long is assumed lost (killed worker's prefetch) and sent again.
REDISPATCH_SECONDS = 45
KILL_EVERY = (2.0, 4.0)
#: Share of kills that take a whole worker (main process and pool) instead of one pool child.
WHOLE_WORKER_SHARE = 0.35
#: Kills stop when no share is left waiting, or after this long; the sweep then finishes what is left.
KILL_PHASE_SECONDS = 240
SWEEP_EVERY = 20.0
SETTLE_TIMEOUT = 150
WORKERS = 2
CONCURRENCY = 2

from tests.drills._servers import DRILL_ENV  # noqa: E402

# Read by linkilike.settings, so set before Django (and the worker) start.
os.environ.update(
    DRILL_ENV,
    LINKILIKE_PUBLISHING_LEASE_SECONDS=str(LEASE_SECONDS),
    LINKILIKE_PUBLISHING_REDISPATCH_SECONDS=str(REDISPATCH_SECONDS),
)

from bench.harness import Report, bench_setup  # noqa: E402

ENV = bench_setup("drill_t1")

from django.db.models import Count  # noqa: E402

from campaigns.models import PublicationState, SharePublication  # noqa: E402
from campaigns.publishing import tasks  # noqa: E402
from campaigns.publishing.services import publications_queue_due  # noqa: E402
from tests.drills._seed import shares_seed  # noqa: E402
from tests.drills._servers import Worker, double_start, say, stop  # noqa: E402

UNSETTLED = (PublicationState.QUEUED, PublicationState.PUBLISHING)


def states() -> Counter[str]:
    return Counter(
        dict(SharePublication.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    )


@dataclass
class Killer:
    """SIGKILLs a pool child (its task dies mid-call) or a whole worker every few seconds, from a thread."""

    workers: list[Worker]
    rng: random.Random
    stop: threading.Event = field(default_factory=threading.Event)
    child_kills: int = 0
    worker_kills: int = 0

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(*KILL_EVERY)):
            ready = [worker for worker in self.workers if worker.ready()]
            if not ready:
                continue  # all restarting: nothing working to kill
            victim = self.rng.choice(ready)
            # A whole worker only while another one works on, so the run keeps moving.
            if len(ready) > 1 and self.rng.random() < WHOLE_WORKER_SHARE:
                victim.kill_all()
                self.worker_kills += 1
                victim.start()
            else:
                with suppress(ProcessLookupError):
                    os.kill(self.rng.choice(victim.pool_children()), signal.SIGKILL)
                    self.child_kills += 1  # the pool forks a replacement


def main() -> int:
    report = Report("drill_t1", "T1: at-most-once publishing while workers are SIGKILLed")
    var = Path(ENV["LINKILIKE_VAR_DIR"])
    double = double_start(latency_ms=80)
    workers = [
        Worker(env=ENV, concurrency=CONCURRENCY, log_path=var / f"worker{n}.log", name=f"drill{n}")
        for n in range(WORKERS)
    ]
    killer = Killer(workers=workers, rng=random.Random(11))
    thread = threading.Thread(target=killer.run, daemon=True)
    try:
        seeded = shares_seed(count=SHARES, instance_url=double.url)
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()
        started = time.monotonic()
        thread.start()
        # As production's sweep queues READY shares: one publish task per share, sent on commit.
        requested = 0
        while queued := publications_queue_due():
            requested += queued
        report.info("publishes requested", requested)

        last_sweep = time.monotonic()
        while time.monotonic() - started < KILL_PHASE_SECONDS:
            time.sleep(3)
            counts = states()
            say(
                f"t={time.monotonic() - started:5.1f}s kills={killer.child_kills}+{killer.worker_kills} "
                + " ".join(f"{state}={n}" for state, n in sorted(counts.items()))
            )
            if counts[PublicationState.QUEUED] == 0:
                break
            if time.monotonic() - last_sweep >= SWEEP_EVERY:
                tasks.publications_run_due.delay()  # as beat sends it
                last_sweep = time.monotonic()
        killer.stop.set()
        thread.join()
        kill_seconds = time.monotonic() - started
        for worker in workers:
            if not worker.alive():
                worker.start()

        # No more kills: let the leases of the last victims run out; the sweep asks the network.
        time.sleep(LEASE_SECONDS + 1)
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline:
            tasks.publications_run_due.delay()
            time.sleep(5)
            counts = states()
            say(f"t={time.monotonic() - started:5.1f}s " + " ".join(f"{s}={n}" for s, n in sorted(counts.items())))
            if sum(counts[s] for s in UNSETTLED) == 0:
                break
        total_seconds = time.monotonic() - started
        child_kills, worker_kills = killer.child_kills, killer.worker_kills

        record = double.record()
        calls = record["calls"]
        created = [call for call in calls if call["created"]]
        posts_per_share: dict[str, int] = Counter(call["marker"] for call in created)
        keys_per_share: dict[str, set[str]] = defaultdict(set)
        for call in calls:
            keys_per_share[call["marker"]].add(call["key"])
        duplicates = sum(n - 1 for n in posts_per_share.values() if n > 1)
        multi_key = sum(1 for keys in keys_per_share.values() if len(keys) > 1)
        status_of_marker = {call["marker"]: call["status_id"] for call in created}

        counts = states()
        rows = SharePublication.objects.values_list("share_id", "state", "external_id", "attempt")
        mismatched = posted_not_published = 0
        published_markers = set()
        for share_id, state, external_id, _attempt in rows:
            marker = seeded.markers[share_id]
            if state == PublicationState.PUBLISHED:
                published_markers.add(marker)
                if status_of_marker.get(marker) != external_id:
                    mismatched += 1
        posted_not_published = sum(1 for marker in status_of_marker if marker not in published_markers)

        report.info("SIGKILLs of a pool child mid-task", child_kills)
        report.info("SIGKILLs of the whole worker (then restarted)", worker_kills)
        report.figure(
            "kills performed", child_kills + worker_kills, target=">= 20", ok=child_kills + worker_kills >= 20
        )
        report.info("kill phase, s", round(kill_seconds, 1))
        report.info("create-post calls received by the double", len(calls))
        report.info("  of which answered from an earlier call's key (resolve/retry)", len(calls) - len(created))
        report.figure(
            "posts recorded by the double", len(created), target=f"= {requested}", ok=len(created) == requested
        )
        report.figure("duplicates (a share posted twice)", duplicates, target="0", ok=duplicates == 0)
        report.figure("shares sent under more than one key", multi_key, target="0", ok=multi_key == 0)
        report.figure(
            "published",
            counts[PublicationState.PUBLISHED],
            target=f"= {requested}",
            ok=counts[PublicationState.PUBLISHED] == requested,
        )
        report.figure("failed", counts[PublicationState.FAILED], target="0", ok=counts[PublicationState.FAILED] == 0)
        report.figure("unknown", counts[PublicationState.UNKNOWN], target="0", ok=counts[PublicationState.UNKNOWN] == 0)
        stuck = sum(counts[s] for s in UNSETTLED)
        report.figure("stuck after lease + reconcile (queued/publishing)", stuck, target="0", ok=stuck == 0)
        report.figure(
            "published rows whose post id differs from the double's", mismatched, target="0", ok=mismatched == 0
        )
        report.figure(
            "posts on the network not marked published", posted_not_published, target="0", ok=posted_not_published == 0
        )
        report.info("total time, s", round(total_seconds, 1))
        report.info("lease, s", LEASE_SECONDS)
    finally:
        killer.stop.set()
        for worker in workers:
            worker.stop()
        stop(double.proc)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
