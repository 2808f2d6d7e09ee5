"""P2: the brand's results page and API at scale.

A campaign with 2,000 shares, 50,000 metric snapshots and 200,000 clicks must answer in at most
1.5x the time of the same brand's campaign with 10 shares (same data per share), with the same
number of SQL queries. Seeded by ``manage.py bench_seed_results`` into a fresh database; measured
in-process with Django's test client (logged in as a brand analyst): warm-up, then the median of
several runs, small and large interleaved so machine noise hits both alike.

    .venv/bin/python -m bench.p2_results            # full size
    .venv/bin/python -m bench.p2_results --explain  # also EXPLAIN ANALYZE the large page's queries

Profile and optimisation history (``--profile``: one warm request each, its slowest queries; 2 shared
cores under load from other jobs, so absolute times are inflated, ratios are what counts):

0. before: per-share correlated subqueries over raw snapshots/clicks, raw scans for the chart.
   page 512 ms small / 37,277 ms large; API 300 / 39,659 ms; 13 / 10 queries. Slowest: over-time
   snapshot gains 19.5 s (a previous-snapshot subquery per snapshot), by-influencer 8.4 s, by-network
   7.3 s, daily clicks 1.4 s, accrual sum 84 ms.
1. ShareResult + CampaignResultHour rollups (triggers) and snapshot/click indexes:
   page 403 / 431 ms, API 149 / 141 ms (profile); full run page ratio 1.44, API 1.58 (FAIL), the
   grouped 2,000-share joins 25-50 ms, and rollup tables bloated by the bulk load (52k dead rows).
2. VACUUM after seeding (steady state; fillfactor 70 + eager autovacuum on the rollup tables):
   by-network 51 -> 17 ms, hours 27 -> 8 ms (EXPLAIN ANALYZE execution times).
3. CampaignResultGroup (per network / influencer rollup): the breakdowns read 5 + 50 rows instead of
   grouping 2,000 shares. Full run: page 620 / 681 ms (ratio 1.10), API 226 / 300 ms (1.33), queries
   12 / 12 and 9 / 9. Write cost of the triggers (also printed): 7.2 -> 10.6 ms per snapshot
   (one per statement), 290 -> 307 ms per 600-click drain-style insert. A quieter run: page 203 / 215 ms
   (1.06), API 96 / 103 ms (1.07), writes 1.9 -> 6.4 ms per snapshot, 181 -> 239 ms per 600 clicks.
   Later runs: var/bench/p2_results.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from bench.harness import Report, bench_setup

TARGET_RATIO = 1.5
#: Recorded before the rollups (same script, --profile; see the module docstring), for the report.
BEFORE = {
    "before rollups: page small / large (ms)": "512 / 37,277",
    "before rollups: api small / large (ms)": "300 / 39,659",
}


def _measure(client: Any, url: str, runs: int) -> tuple[float, int, int]:
    """(median seconds, queries of the last run, response bytes) after one warm-up request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    queries = 0
    for _run in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            body = response.content
            times.append(time.perf_counter() - start)
        assert response.status_code == 200
        queries = len(captured)
    return statistics.median(times), queries, len(body)


def _profile(report: Report, client: Any, label: str, url: str) -> None:
    """One request: its time and its slowest queries (the profile that picks what to optimise)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        start = time.perf_counter()
        response = client.get(url)
        seconds = time.perf_counter() - start
    assert response.status_code == 200
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    report.info(
        f"profile {label}: total ms / SQL ms / queries", f"{seconds * 1000:.1f} / {sql_ms:.1f} / {len(captured)}"
    )
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:5]
    for query in slowest:
        print(f"      {float(query['time']) * 1000:8.1f} ms  {query['sql'][:160]}", flush=True)


def _write_cost(report: Report, campaign: Any, count: int = 200) -> None:
    """What the rollup triggers add to writing snapshots and click batches (rolled back afterwards)."""
    import secrets

    from django.db import connection, transaction

    from campaigns.models import Click, MetricSnapshot, Share, TrackingLink

    shares = list(Share.objects.filter(campaign=campaign).values_list("pk", flat=True)[:count])
    links = list(TrackingLink.objects.filter(share_id__in=shares).values_list("pk", flat=True))

    def run(label: str) -> tuple[float, float]:
        with transaction.atomic():
            if label == "off":
                with connection.cursor() as cursor:
                    cursor.execute("ALTER TABLE campaigns_metricsnapshot DISABLE TRIGGER USER")
                    cursor.execute("ALTER TABLE campaigns_click DISABLE TRIGGER USER")
            start = time.perf_counter()
            for share_id in shares:  # one snapshot per statement, as a metric pull writes them
                MetricSnapshot.objects.create(share_id=share_id, window=f"x-{label}", reach=10**6, engagements=10**4)
            snapshots = (time.perf_counter() - start) / len(shares)
            batch = [
                Click(
                    link_id=link,
                    event_id=secrets.token_hex(16),
                    occurred_at=timezone_now(),
                    ip_hash="w",
                    ua_hash="w",
                    billable=True,
                )
                for link in links
                for _n in range(3)
            ]
            start = time.perf_counter()
            Click.objects.bulk_create(batch, batch_size=500, ignore_conflicts=True)  # as the drain does
            clicks = time.perf_counter() - start
            transaction.set_rollback(True)
        return snapshots, clicks

    from django.utils.timezone import now as timezone_now

    off, on = run("off"), run("on")
    report.info("write: ms per snapshot, triggers off / on", f"{off[0] * 1000:.2f} / {on[0] * 1000:.2f}")
    report.info(
        f"write: ms per {len(links) * 3}-click insert, triggers off / on", f"{off[1] * 1000:.1f} / {on[1] * 1000:.1f}"
    )


def _explain(client: Any, url: str) -> None:
    """EXPLAIN ANALYZE every query of one request, slowest first (profiling aid, not a target)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    timed = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        timed.append((float(query["time"]), sql, plan))
    timed.sort(reverse=True)
    for seconds, sql, plan in timed[:4]:
        print(f"\n--- {seconds * 1000:.1f} ms: {sql[:300]}...\n{plan}\n", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--influencers", type=int, default=400)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", action="store_true", help="one request each, slowest queries, then stop")
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database (migrate only)")
    args = parser.parse_args()

    bench_setup("p2_results", fresh=not args.reuse)
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment
    from django.urls import reverse

    from accounts.models import User
    from brands.models import Brand
    from campaigns.models import Campaign, Click, MetricSnapshot, Share

    setup_test_environment()  # the test client's template/context signals and ALLOWED_HOSTS testserver
    # No collectstatic in a benchmark: plain static URLs (the same for both campaigns).
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()
    report = Report("p2_results", "Results page and API: 2,000 shares vs 10")
    for label, value in BEFORE.items():
        report.info(label, value)
    if not args.reuse:
        started = time.perf_counter()
        call_command("bench_seed_results", influencers=args.influencers)
        report.info("seed seconds", round(time.perf_counter() - started, 1))

    brand = Brand.objects.get(slug__startswith="bench-")
    large, small = (Campaign.objects.get(brand=brand, slug=f"autumn-{label}") for label in ("large", "small"))
    for label, campaign in (("large", large), ("small", small)):
        shares = Share.objects.filter(campaign=campaign)
        report.info(
            f"{label}: shares / snapshots / clicks",
            f"{shares.count():,} / {MetricSnapshot.objects.filter(share__in=shares).count():,} / "
            f"{Click.objects.filter(link__share__in=shares).count():,}",
        )

    client = Client()
    client.force_login(User.objects.get(email="bench-results@example.test"))
    urls = {
        "page": lambda c: reverse("campaigns:detail", args=[brand.slug, c.pk]) + "?tab=results",
        "api": lambda c: reverse("brand-campaign-results", args=[brand.slug, c.pk]),
    }
    if args.profile:
        for kind, url_of in urls.items():
            for label, campaign in (("small", small), ("large", large)):
                client.get(url_of(campaign))  # warm-up
                _profile(report, client, f"{kind} {label}", url_of(campaign))
        if args.explain:
            _explain(client, urls["page"](large))
        return report.finish()
    for kind, url_of in urls.items():
        # Interleave: small, large, small, large... so a noisy neighbour slows both.
        small_times, large_times = [], []
        small_q = large_q = 0
        for _round in range(3):
            seconds, small_q, small_bytes = _measure(client, url_of(small), args.runs)
            small_times.append(seconds)
            seconds, large_q, large_bytes = _measure(client, url_of(large), args.runs)
            large_times.append(seconds)
        t_small, t_large = statistics.median(small_times), statistics.median(large_times)
        ratio = t_large / t_small
        report.info(f"{kind}: time small (ms, median)", round(t_small * 1000, 1))
        report.info(f"{kind}: time large (ms, median)", round(t_large * 1000, 1))
        report.info(f"{kind}: response bytes small / large", f"{small_bytes:,} / {large_bytes:,}")
        report.figure(
            f"{kind}: time ratio large/small", round(ratio, 2), target=f"<= {TARGET_RATIO}x", ok=ratio <= TARGET_RATIO
        )
        report.figure(f"{kind}: queries small / large", f"{small_q} / {large_q}", target="equal", ok=small_q == large_q)
    _write_cost(report, large)
    if args.explain:
        _explain(client, urls["page"](large))
    return report.finish()


if __name__ == "__main__":
    sys.exit(main())
