"""P6: mixed load for 60 s against gunicorn on PostgreSQL and Redis (DEBUG off): 0 errors, p95 per endpoint.

Brand members browse dashboards, campaign lists, campaign results and funds; influencers browse their
home, offers, shares, earnings and results; API clients list campaigns and read results with token
authentication (``bench/locustfile.py``). Data, sessions and tokens come from ``bench_seed_load``.

Knobs: ``BENCH_P6_SECONDS`` (60), ``BENCH_P6_USERS`` (24), ``BENCH_P6_WORKERS`` (cores).
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from bench.harness import RESULTS_DIR, Report, bench_setup

NAME = "p6_load"
SECONDS = int(os.environ.get("BENCH_P6_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_P6_USERS", "24"))
WORKERS = int(os.environ.get("BENCH_P6_WORKERS", str(os.cpu_count() or 2)))


def main() -> int:
    from bench.servers import exit_on_sigterm

    exit_on_sigterm()
    env = bench_setup(NAME)
    from django.core.management import call_command

    from bench.servers import GunicornConfig, gunicorn, stop

    report = Report(NAME, "Mixed load: brands, influencers, API clients")
    work = RESULTS_DIR / NAME
    seed = work / "seed.json"
    from django.conf import settings

    # Production storage (hashed, compressed): pages need the manifest. Kept between runs (slow to build).
    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        call_command("collectstatic", interactive=False, verbosity=0)
    call_command("bench_seed_load", out=str(seed), stdout=sys.stdout)
    config = GunicornConfig(workers=WORKERS)
    report.info(
        "setup",
        f"gunicorn {config.workers} {config.worker_class} workers x {config.threads} threads; "
        f"{USERS} users for {SECONDS} s",
    )
    prefix = work / "locust"
    with gunicorn(
        "linkilike.wsgi:application", config=config, env=env, log=work / "gunicorn.log", warm_path="/healthz"
    ) as server:
        argv = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            "--headless",
            "--users",
            str(USERS),
            "--spawn-rate",
            str(max(USERS // 5, 1)),
            "--run-time",
            f"{SECONDS}s",
            "--stop-timeout",
            "10",
            "--host",
            server.url,
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        process = subprocess.Popen(  # noqa: S603 - our own fixed argv
            argv, env={**env, "BENCH_P6_SEED": str(seed)}, start_new_session=True
        )
        try:
            process.wait(timeout=SECONDS + 120)
        finally:
            stop(process)

    with (prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8") as rows:
        stats = list(csv.DictReader(rows))
    failures = 0
    print(f"    {'endpoint':<50} {'requests':>8} {'fails':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for row in stats:
        print(
            f"    {row['Type'] + ' ' + row['Name']:<50} {row['Request Count']:>8} {row['Failure Count']:>6} "
            f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
        if row["Name"] == "Aggregated":
            failures = int(row["Failure Count"])
            report.info("requests", int(row["Request Count"]))
            report.info("requests per second", float(row["Requests/s"]))
            report.info("p95 all endpoints, ms", row["95%"])
        else:
            report.info(f"p95 {row['Name']}, ms", row["95%"])
    failed_rows = prefix.parent / f"{prefix.name}_failures.csv"
    if failures and failed_rows.exists():
        print(failed_rows.read_text(encoding="utf-8")[:2000])
    endpoints = sum(1 for row in stats if row["Name"] != "Aggregated" and int(row["Request Count"]) > 0)
    report.figure("endpoints exercised", endpoints, target=">= 11", ok=endpoints >= 11)
    report.figure("errors", failures, target="0", ok=failures == 0)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
