"""Drill T5: Redis restarted, then PostgreSQL restarted, while work runs (docs/RELIABILITY.md, T5).

The drill starts its own Redis (port 6391, no persistence: a restart loses every queued message) and
its own throwaway PostgreSQL cluster (port 5491); the shared servers on 6379/5432 are never touched.
A real ``celery worker`` publishes shares to the recording double (Mastodon over HTTP), pulls their
metrics windows and books the earnings (``metric_snapshot_record`` -> ``earnings_accrue``), driven by
the periodic tasks production's beat sends (``publications_run_due``, ``metrics_pull_due``), which the
drill sends on a short period. Shares come due throughout the run. Mid-run Redis is shut down without
saving and started again; later PostgreSQL is restarted (``pg_ctl restart -m fast``, which cuts every
connection). The same worker process must carry on through both.

Then: every share published exactly once, every (share, window) snapshot stored, every snapshot's
earnings booked exactly once, ``ledger_reconcile`` 0 drift and no unbalanced transaction.

Run: ``.venv/bin/python -m tests.drills.t5_restarts``.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.drills._servers import DRILL_ENV, Double, Postgres, Redis, Worker, double_start, say, stop

SHARES = int(os.environ.get("DRILL_T5_SHARES", "150"))
REDIS_PORT = 6391
PG_PORT = 5491
WINDOWS = ("+0m", "+1m")
#: Shares come due spread over this long, so publishes happen before, during and after both outages.
SPREAD_SECONDS = 100
REDIS_RESTART_AT = 35
REDIS_OUTAGE = 8.0
PG_RESTART_AT = 75
PG_OUTAGE = 6.0
TICK = 6.0  # how often the "beat" sends the sweeps
RUN_TIMEOUT = 300
LEASE_SECONDS = 10


@dataclass
class Chaos:
    """The outages, on their own thread so the run (and the driver's beat) carries on through them."""

    redis: Redis
    pg: Postgres
    started: float
    redis_down: float = 0.0
    pg_down: float = 0.0
    finished: threading.Event = field(default_factory=threading.Event)

    def _at(self, seconds: float) -> None:
        time.sleep(max(0.0, self.started + seconds - time.monotonic()))

    def run(self) -> None:
        try:
            self._at(REDIS_RESTART_AT)
            t0 = time.monotonic()
            self.redis.stop()  # shutdown nosave: every queued message and cache key is gone
            say(f"t={t0 - self.started:5.1f}s Redis down")
            time.sleep(REDIS_OUTAGE)
            self.redis.start()
            self.redis_down = time.monotonic() - t0
            say(f"t={time.monotonic() - self.started:5.1f}s Redis up again (empty) after {self.redis_down:.1f}s")
            self._at(PG_RESTART_AT)
            t0 = time.monotonic()
            self.pg.stop_fast()  # pg_ctl stop -m fast: every session cut, open transactions rolled back
            say(f"t={t0 - self.started:5.1f}s PostgreSQL down")
            time.sleep(PG_OUTAGE)
            self.pg.start()
            self.pg_down = time.monotonic() - t0
            say(f"t={time.monotonic() - self.started:5.1f}s PostgreSQL up again after {self.pg_down:.1f}s")
        finally:
            self.finished.set()


def configure_env(pg: Postgres) -> None:
    # bench/harness.py reads these when imported: the drill's own servers instead of the shared ones.
    os.environ.update(
        DRILL_ENV,
        BENCH_PG_ADMIN_DSN=f"{pg.dsn_base}/postgres",
        BENCH_PG_BASE=pg.dsn_base,
        BENCH_REDIS_BASE=f"redis://127.0.0.1:{REDIS_PORT}",
        LINKILIKE_PUBLISHING_LEASE_SECONDS=str(LEASE_SECONDS),
        LINKILIKE_METRICS_WINDOWS=",".join(WINDOWS),
    )


def send(task: Any) -> bool:
    """Send a periodic task as beat would; while Redis is down, beat's send fails too and it tries next tick."""
    try:
        task.apply_async(retry=False)
    except Exception:  # noqa: BLE001 - broker down: the next tick sends again
        return False
    return True


def progress() -> dict[str, int]:
    from django.db import close_old_connections

    from campaigns.models import MetricSnapshot, PublicationState, SharePublication
    from payouts.models import EarningAccrual

    try:
        close_old_connections()
        return {
            "published": SharePublication.objects.filter(state=PublicationState.PUBLISHED).count(),
            "snapshots": MetricSnapshot.objects.count(),
            "accruals": EarningAccrual.objects.count(),
        }
    except Exception:  # noqa: BLE001 - the database is restarting
        from django.db import connection

        connection.close()
        return {}


def run(report: Any, env: dict[str, str], pg: Postgres, redis: Redis, double: Double) -> None:
    from django.core.management import call_command
    from django.db.models import Count
    from django.utils import timezone

    from campaigns.metrics import tasks as metric_tasks
    from campaigns.models import MetricSnapshot, PublicationState, Share, SharePublication
    from campaigns.publishing import tasks as publishing_tasks
    from payouts.models import EarningAccrual
    from tests.drills._seed import shares_seed

    seeded = shares_seed(count=SHARES, instance_url=double.url, funded_minor=1_000_000)
    worker = Worker(env=env, concurrency=2, log_path=Path(env["LINKILIKE_VAR_DIR"]) / "worker.log")
    worker.start()
    chaos = Chaos(redis=redis, pg=pg, started=0.0)
    thread = threading.Thread(target=chaos.run, daemon=True)
    try:
        worker.wait_ready()
        worker_pid = worker.proc.pid if worker.proc else 0
        # Shares come due one after another from now on, through both outages.
        now = timezone.now()
        for index, share_id in enumerate(seeded.share_ids):
            due = now + timedelta(seconds=SPREAD_SECONDS * index / SHARES)
            Share.objects.filter(pk=share_id).update(scheduled_at=due)
        started = chaos.started = time.monotonic()
        thread.start()
        sends = failed_sends = 0
        done_at: float | None = None
        while time.monotonic() - started < RUN_TIMEOUT:
            elapsed = time.monotonic() - started
            for task in (publishing_tasks.publications_run_due, metric_tasks.metrics_pull_due):
                sends += 1
                failed_sends += not send(task)
            figures = progress()
            say(f"t={elapsed:5.1f}s " + " ".join(f"{k}={v}" for k, v in figures.items()))
            if (
                chaos.finished.is_set()
                and figures.get("published") == SHARES
                and figures.get("snapshots") == SHARES * len(WINDOWS)
                and figures.get("accruals") == SHARES * len(WINDOWS)
            ):
                done_at = elapsed
                break
            time.sleep(TICK)
        worker_survived = worker.alive() and worker.proc is not None and worker.proc.pid == worker_pid
    finally:
        if thread.is_alive():
            thread.join(timeout=60)
        worker.stop()
    redis_down, pg_down = chaos.redis_down, chaos.pg_down

    # --- the checks ---------------------------------------------------------------------
    from django.db import connection

    connection.close()
    states = Counter(
        dict(SharePublication.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n"))
    )
    record = double.record()
    created = [call for call in record["calls"] if call["created"]]
    duplicates = sum(n - 1 for n in Counter(call["marker"] for call in created).values() if n > 1)
    published_ids = set(
        SharePublication.objects.filter(state=PublicationState.PUBLISHED).values_list("share_id", flat=True)
    )
    snapshot_keys = set(MetricSnapshot.objects.values_list("share_id", "window"))
    missing_windows = sum(1 for share in published_ids for window in WINDOWS if (share, window) not in snapshot_keys)
    accrual_keys = Counter(EarningAccrual.objects.values_list("share__share_key", "window"))
    booked_twice = sum(1 for n in accrual_keys.values() if n > 1)
    # Every stored window with a change books once; the double's counts grow on every read, so every
    # window of a live post has a change.
    unbooked = sum(1 for share, window in snapshot_keys if (str(share), window) not in accrual_keys)
    booked_without_snapshot = sum(1 for share, window in accrual_keys if (int(share), window) not in snapshot_keys)
    out = io.StringIO()
    try:
        call_command("ledger_reconcile", stdout=out)
        reconciles = True
    except Exception:  # noqa: BLE001 - CommandError on drift; the output says which
        reconciles = False
    reconcile_line = out.getvalue().strip().splitlines()[0] if out.getvalue().strip() else "(no output)"
    drift = int(reconcile_line.split("drift=")[1].split()[0]) if "drift=" in reconcile_line else -1
    unbalanced = int(reconcile_line.split("unbalanced=")[1].split()[0]) if "unbalanced=" in reconcile_line else -1
    log = (Path(env["LINKILIKE_VAR_DIR"]) / "worker.log").read_text(errors="replace")

    report.info("Redis outage, s (shutdown nosave ... start, data lost)", round(redis_down, 1))
    report.info("PostgreSQL outage, s (pg_ctl stop -m fast ... start)", round(pg_down, 1))
    report.info("periodic sends (beat) / failed while Redis was down", f"{sends} / {failed_sends}")
    report.info(
        "worker: broker connection lost / task runs failed (redone by a later sweep)",
        f"{log.count('Connection to broker lost')} / {log.count('raised unexpected')}",
    )
    report.figure(
        "same worker process throughout (survived both)",
        "yes" if worker_survived else "no",
        target="yes",
        ok=worker_survived,
    )
    outages = bool(redis_down and pg_down)
    report.figure("both outages happened", "yes" if outages else "no", target="yes", ok=outages)
    report.info("work finished at, s", round(done_at, 1) if done_at is not None else "not finished")
    report.figure(
        "shares published",
        states[PublicationState.PUBLISHED],
        target=f"= {SHARES}",
        ok=states[PublicationState.PUBLISHED] == SHARES,
    )
    stuck = sum(n for state, n in states.items() if state != PublicationState.PUBLISHED)
    report.figure("publications not published (queued/publishing/unknown/failed)", stuck, target="0", ok=stuck == 0)
    report.figure("duplicate posts on the double", duplicates, target="0", ok=duplicates == 0)
    report.figure("posts recorded by the double", len(created), target=f"= {SHARES}", ok=len(created) == SHARES)
    report.figure("window snapshots missing", missing_windows, target="0", ok=missing_windows == 0)
    report.info("window snapshots stored", len(snapshot_keys))
    report.info("accruals booked", sum(accrual_keys.values()))
    report.figure("snapshots without their accrual (lost money)", unbooked, target="0", ok=unbooked == 0)
    report.figure(
        "accruals without a snapshot (half-written)",
        booked_without_snapshot,
        target="0",
        ok=booked_without_snapshot == 0,
    )
    report.figure("accruals booked twice", booked_twice, target="0", ok=booked_twice == 0)
    report.info("ledger_reconcile", reconcile_line)
    report.figure("ledger drift", drift, target="0", ok=reconciles and drift == 0)
    report.figure("unbalanced ledger transactions", unbalanced, target="0", ok=unbalanced == 0)


def main() -> int:
    pg = Postgres(port=PG_PORT)
    redis = Redis(port=REDIS_PORT)
    double: Double | None = None
    try:
        redis.stop()  # a leftover from an interrupted run
        redis.start()
        pg.init()
        pg.start()
        configure_env(pg)
        from bench.harness import Report, bench_setup

        env = bench_setup("drill_t5")
        report = Report("drill_t5", "T5: Redis then PostgreSQL restarted during publishes, pulls and accruals")
        double = double_start(latency_ms=20)
        run(report, env, pg, redis, double)
        return report.finish()
    finally:
        if double is not None:
            stop(double.proc)
        redis.stop()
        pg.stop()


if __name__ == "__main__":
    raise SystemExit(main())
