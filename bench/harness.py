"""Shared plumbing for the benchmarks.

Each benchmark runs on production-like settings (DEBUG off) against its own fresh PostgreSQL database
``linkilike_bench_<name>`` and its own Redis database, so benchmarks never touch test or demo data and
can run one after another on one machine. Figures are printed as a table and kept in
``var/bench/<name>.json`` for ``bench/summary.py`` (which writes docs/BENCHMARKS.md).

Usage in a benchmark module::

    from bench.harness import Report, bench_setup
    bench_setup("p2_results")          # env + fresh database + migrate + django.setup()
    report = Report("p2_results", "Results page at scale")
    report.figure("time ratio large/small", 1.21, target="<= 1.5x", ok=1.21 <= 1.5)
    report.info("queries", 23)
    raise SystemExit(report.finish())
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "var" / "bench"

PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BASE = os.environ.get("BENCH_PG_BASE", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("BENCH_REDIS_BASE", "redis://127.0.0.1:6379")

# One Redis database per benchmark (0 is the default for demos and tests).
REDIS_DB = {
    "p1_redirect": 11,
    "p2_results": 12,
    "p3_metrics": 13,
    "p4_earnings": 14,
    "p5_matching": 15,
    "p6_load": 10,
    "drill_q1": 8,  # flushed between its phases, so never shared with another run
}


def bench_env(name: str) -> dict[str, str]:
    """The environment a benchmark's Django processes (this one, gunicorn, a worker) run with."""
    redis_url = f"{REDIS_BASE}/{REDIS_DB.get(name, 9)}"
    return {
        "DJANGO_SETTINGS_MODULE": "linkilike.settings",
        "DJANGO_DEBUG": "0",
        "LINKILIKE_TESTING": "0",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else-0123456789",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": f"{PG_BASE}/linkilike_bench_{name}",
        "DATABASE_CONN_MAX_AGE": "60",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LINKILIKE_VAR_DIR": str(BASE_DIR / "var" / "bench" / name),
        "LINKILIKE_BENCH": "1",  # installs the bench app: its seeding commands (bench/management/commands)
        # Production refuses to start without its payment providers' settings; no benchmark calls them.
        "PAYOUTS_PLATFORM_ACCOUNT_NAME": "Linkilike Bench GmbH",
        "PAYOUTS_PLATFORM_IBAN": "AT291200000123456789",
        "PAYOUTS_PLATFORM_BIC": "BKAUATWW",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "PAYPAL_CLIENT_ID": "paypal-bench",
        "PAYPAL_CLIENT_SECRET": "paypal-bench-secret",
    }


def fresh_database(name: str) -> None:
    """Drop and create ``linkilike_bench_<name>``."""
    import psycopg2

    conn = psycopg2.connect(PG_ADMIN_DSN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "linkilike_bench_{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "linkilike_bench_{name}"')
    conn.close()


def bench_setup(name: str, *, fresh: bool = True) -> dict[str, str]:
    """Point this process at the benchmark's database and Redis, set Django up and migrate.

    Returns the environment, for subprocesses (gunicorn, workers) that must share it.
    """
    env = bench_env(name)
    os.environ.update(env)
    Path(env["LINKILIKE_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(BASE_DIR))
    if fresh:
        fresh_database(name)
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return {**os.environ, **env}


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


@dataclass
class Figure:
    label: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: printed for information, not a target


@dataclass
class Report:
    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def figure(self, label: str, value: Any, *, target: str, ok: bool) -> None:
        """A figure with a target: a miss makes the benchmark exit non-zero."""
        self.figures.append(Figure(label, _fmt(value), target, bool(ok)))
        self._echo(self.figures[-1])

    def info(self, label: str, value: Any) -> None:
        """A figure printed for information (times, counts, before/after notes)."""
        self.figures.append(Figure(label, _fmt(value)))
        self._echo(self.figures[-1])

    def _echo(self, fig: Figure) -> None:
        mark = "" if fig.ok is None else ("  PASS" if fig.ok else "  FAIL")
        target = f"  (target {fig.target})" if fig.target else ""
        print(f"  [{self.name}] {fig.label}: {fig.value}{target}{mark}", flush=True)

    def finish(self) -> int:
        failed = [f for f in self.figures if f.ok is False]
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        payload = {
            "name": self.name,
            "title": self.title,
            "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "seconds": round(time.time() - self.started, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "passed": not failed,
            "figures": [asdict(f) for f in self.figures],
        }
        (RESULTS_DIR / f"{self.name}.json").write_text(json.dumps(payload, indent=2))
        verdict = "PASSED" if not failed else f"FAILED ({', '.join(f.label for f in failed)})"
        print(f"== {self.name}: {self.title}: {verdict} in {payload['seconds']} s", flush=True)
        return 1 if failed else 0


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
