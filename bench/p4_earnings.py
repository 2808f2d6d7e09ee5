"""P4 Earnings: metric deltas into ledger entries, set-based vs the per-row ORM loop (ADR 14).

Seeds two identical copies (A, B) of campaigns, influencers and 1,000,000 metric deltas each
(``manage.py bench_seed_deltas``), then, all in this run:

1. per-row: ``earnings_accrue`` once per delta, each in its own transaction (as the metrics pull and
   the click accrual call it), over the first ``--subset`` deltas of copy A (all of them with
   ``--full``; the estimate for all is printed either way);
2. set-based: ``earnings_accrue_batch`` over the same deltas of copy B -> every accrual, line and
   balance, and the ledger's flows (what each account received per campaign and transaction kind: the
   per-row path posts one transaction per delta, the batch one per campaign and direction, ADR 24),
   compared with copy A: must be identical;
3. set-based over the remaining deltas of copy B (the throughput figure for the ratio), and over all
   deltas of copy A (its first ``--subset`` are already booked: skipped) -> the full copies compared;
4. the same batch again on copy B: books nothing; ``ledger_reconcile``: 0 drift.

    .venv/bin/python -m bench.p4_earnings [--deltas 1000000] [--subset 20000] [--full]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.harness import Report, Timer, bench_setup

NAME = "p4_earnings"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
#: The columns of ``bench_metric_delta`` a delta is made of (the counts the seed writes; the staging
#: table's other counts, if the pricing policy has more, stay at their default 0).
DELTA_COLUMNS = (
    "share_key",
    "campaign_id",
    "influencer_id",
    "window",
    "impressions",
    "engagements",
    "unique_clicks",
    "source",
)


def _rows(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def per_row_loop(copy: str, lo: int, hi: int) -> tuple[int, float]:
    """(deltas, seconds): the existing service, one transaction per delta."""
    from django.db import transaction

    from campaigns.earnings.services import MetricDelta, earnings_accrue

    deltas = [
        MetricDelta(**dict(zip(DELTA_COLUMNS, row, strict=True)))
        for row in _rows(
            f"""SELECT {", ".join(f'"{c}"' for c in DELTA_COLUMNS)}
            FROM bench_metric_delta WHERE copy = %s AND seq >= %s AND seq < %s ORDER BY seq""",  # noqa: S608
            [copy, lo, hi],
        )
    ]
    with Timer() as timer:
        for delta in deltas:
            with transaction.atomic():
                earnings_accrue(delta=delta, now=NOW)
    return len(deltas), timer.seconds


class StatementProfile:
    """Seconds per SQL statement (first words), through Django's execute wrapper: where the batch spends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            label = " ".join(sql.split()[:6])[:70]
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

    def top(self, count: int = 8) -> list[tuple[str, float]]:
        return sorted(self.seconds.items(), key=lambda item: -item[1])[:count]


#: The tables a batch writes: their planner statistics are refreshed after every bulk phase (see analyze()).
WRITTEN_TABLES = (
    "payouts_shareearning",
    "payouts_earningaccrual",
    "payouts_earningline",
    "payouts_ledgertransaction",
    "payouts_ledgerentry",
    "payouts_ledgeraccount",
)


def analyze() -> float:
    """Refreshes the planner statistics of the tables a batch wrote; returns the seconds it took.

    PostgreSQL's autovacuum analyzes a table once about 10 % of it changed; a batch of a million deltas
    changes all of them at once, and on this machine autovacuum is off (``SHOW autovacuum``). Without
    fresh statistics the next batch is planned for the empty tables of before (a nested loop over
    millions of accruals: a re-run took more than 7 minutes instead of seconds).
    """
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(WRITTEN_TABLES)}")
    return time.perf_counter() - started


def set_based(
    copy: str, lo: int, hi: int, profile: StatementProfile | None = None
) -> tuple[Any, float, float, dict[str, float]]:
    """(BatchResult, seconds in total, of which the commit, seconds per phase): one transaction for the range.

    Phases: ``staging`` (the deltas into the staging table, checks, share rows, locks), then the batch's own
    (``earnings_accrue_batch(phases=...)``), then ``commit`` (what PostgreSQL checks at commit).
    """
    from contextlib import nullcontext

    from django.db import connection, transaction

    from campaigns.earnings.batch import earnings_accrue_batch, earnings_delta_stage_create

    phases: dict[str, float] = {}
    started = time.perf_counter()
    with connection.execute_wrapper(profile) if profile else nullcontext(), transaction.atomic():
        stage = earnings_delta_stage_create()
        with connection.cursor() as cursor:
            columns = ", ".join(f'"{c}"' for c in ("seq", *DELTA_COLUMNS))
            cursor.execute(
                f"""INSERT INTO {stage} ({columns}) SELECT {columns} FROM bench_metric_delta
                WHERE copy = %s AND seq >= %s AND seq < %s""",  # noqa: S608 - constant table name
                [copy, lo, hi],
            )
        phases["staging"] = time.perf_counter() - started
        result = earnings_accrue_batch(now=NOW, phases=phases)
        committing = time.perf_counter()
    ended = time.perf_counter()
    phases["commit"] = ended - committing
    return result, ended - started, ended - committing, phases


COMPARE_SQL = """
WITH acc AS (
    SELECT substr(s.share_key, 1, 1) AS copy, substr(s.share_key, 3) AS share, a."window",
        concat_ws('|', a.earned_minor, a.fee_minor, a.pending_minor, a.source, a.currency, a.hold_until,
            t.kind, t.description IS NOT NULL,
            (SELECT string_agg(concat_ws(':', l.metric, l.units, l.price_minor, l.per_units, l.amount_minor), ','
                ORDER BY l.id) FROM payouts_earningline l WHERE l.accrual_id = a.id)) AS signature
    FROM payouts_earningaccrual a JOIN payouts_shareearning s ON s.id = a.share_id
    LEFT JOIN payouts_ledgertransaction t ON t.id = a.ledger_transaction_id
)
SELECT count(*) FILTER (WHERE x.signature IS DISTINCT FROM y.signature), count(x.share), count(y.share)
FROM (SELECT * FROM acc WHERE copy = 'A') x FULL JOIN (SELECT * FROM acc WHERE copy = 'B') y
    ON x.share = y.share AND x."window" = y."window"
"""

# The ledger's earnings per campaign: what each account received, by transaction kind. The per-row path posts
# a transaction per delta, the batch one per campaign and direction (ADR 24): the sums must be equal.
FLOWS_SQL = """
WITH flows AS (
    SELECT upper(mc.copy) AS copy, mc.idx AS campaign_idx, t.kind AS txn_kind, a.kind AS account_kind,
        COALESCE(mi.idx, ma.idx, -1) AS owner_idx, sum(e.amount_minor) AS amount
    FROM payouts_ledgerentry e
    JOIN payouts_ledgertransaction t ON t.id = e.transaction_id AND t.kind IN ('earning', 'earning_reversal')
    JOIN bench_map mc ON mc.kind = 'c' AND mc.id = t.campaign_id
    JOIN payouts_ledgeraccount a ON a.id = e.account_id
    LEFT JOIN bench_map mi ON mi.kind = 'i' AND mi.id = a.influencer_id
    LEFT JOIN bench_map ma ON ma.kind = 'c' AND ma.id = a.campaign_id
    GROUP BY 1, 2, 3, 4, 5
)
SELECT count(*) FILTER (WHERE x.amount IS DISTINCT FROM y.amount), count(x.amount), count(y.amount)
FROM (SELECT * FROM flows WHERE copy = 'A') x FULL JOIN (SELECT * FROM flows WHERE copy = 'B') y
    ON x.campaign_idx = y.campaign_idx AND x.txn_kind = y.txn_kind AND x.account_kind = y.account_kind
    AND x.owner_idx = y.owner_idx
"""

SHARES_SQL = """
SELECT count(*) FILTER (WHERE (x.impressions, x.engagements, x.unique_clicks, x.earned_minor, x.fee_minor)
    IS DISTINCT FROM (y.impressions, y.engagements, y.unique_clicks, y.earned_minor, y.fee_minor))
FROM (SELECT * FROM payouts_shareearning WHERE share_key LIKE 'A-%%') x
FULL JOIN (SELECT * FROM payouts_shareearning WHERE share_key LIKE 'B-%%') y
    ON substr(x.share_key, 3) = substr(y.share_key, 3)
"""

# Every account owned by a copy's campaign, influencer or brand, matched through the seed's index map.
ACCOUNTS_SQL = """
WITH owned AS (
    SELECT m.copy, a.kind, m.kind AS owner_kind, m.idx, a.balance_minor
    FROM payouts_ledgeraccount a JOIN bench_map m
        ON (m.kind = 'c' AND a.campaign_id = m.id) OR (m.kind = 'i' AND a.influencer_id = m.id)
    UNION ALL
    SELECT substr(b.slug, 13, 1), a.kind, 'b', 0, a.balance_minor
    FROM payouts_ledgeraccount a JOIN brands_brand b ON b.id = a.brand_id WHERE b.slug LIKE 'bench-brand-%%'
)
SELECT count(*) FILTER (WHERE x.balance_minor IS DISTINCT FROM y.balance_minor), count(x.kind), count(y.kind),
    COALESCE(sum(x.balance_minor) FILTER (WHERE x.kind = 'influencer_pending'), 0)
FROM (SELECT * FROM owned WHERE upper(copy) = 'A') x
FULL JOIN (SELECT * FROM owned WHERE upper(copy) = 'B') y
    ON x.kind = y.kind AND x.owner_kind = y.owner_kind AND x.idx = y.idx
"""


def compare(report: Report, label: str) -> bool:
    accrual_diff, accruals_a, accruals_b = _rows(COMPARE_SQL)[0]
    (share_diff,) = _rows(SHARES_SQL)[0]
    account_diff, accounts_a, accounts_b, pending = _rows(ACCOUNTS_SQL)[0]
    flow_diff, flows_a, flows_b = _rows(FLOWS_SQL)[0]
    same = (
        accrual_diff == 0
        and share_diff == 0
        and account_diff == 0
        and flow_diff == 0
        and accruals_a == accruals_b
        and flows_a == flows_b
    )
    report.info(
        f"{label}: A vs B",
        f"{accruals_a:,} / {accruals_b:,} accruals, {accounts_a:,} / {accounts_b:,} accounts, "
        f"{flows_a:,} / {flows_b:,} ledger flows (campaign, kind, account), "
        f"differences: accruals+lines {accrual_diff}, ledger flows {flow_diff}, shares {share_diff}, "
        f"balances {account_diff} (influencer pending {pending:,} minor)",
    )
    return bool(same)


#: The same run before per-statement reference checks (per-row deferred foreign-key checks at commit,
#: no work_mem for the batch).
BEFORE = (
    "980,000 deltas in one batch 120.3 s, of which commit 45.4 s; amounts (window functions) 17.1 s, "
    "entries 12.4 s, transactions 10.2 s, lines 7.9 s, accruals 7.8 s, copy into the booking table 5.5 s"
)


def _phases(report: Report, label: str, phases: dict[str, float]) -> None:
    report.info(label, ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--deltas", type=int, default=1_000_000)
    parser.add_argument("--subset", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help="run the per-row loop over every delta (hours)")
    args = parser.parse_args()
    total = args.deltas
    subset = total if args.full else min(args.subset, total)

    bench_setup(NAME)
    from django.core.management import call_command

    report = Report(NAME, "Earnings: metric deltas into the ledger, set-based vs per-row")
    with Timer() as seed:
        call_command("bench_seed_deltas", deltas=total)
    (seeded,) = _rows("SELECT count(*) FROM bench_metric_delta WHERE copy = 'A'")[0]
    total = int(seeded)
    subset = min(subset, total)
    # The size is a target of its own: a smaller --deltas run (for trying things out) cannot pass.
    report.figure("seeded deltas per copy (2 copies)", total, target=">= 1,000,000", ok=total >= 1_000_000)
    report.info("seed seconds", round(seed.seconds, 1))

    done, loop_seconds = per_row_loop("A", 0, subset)
    row_rate = done / loop_seconds
    report.info(f"per-row loop: copy A, deltas 0..{subset:,} (seconds)", round(loop_seconds, 1))
    report.info("per-row rows/s", round(row_rate, 1))
    report.info(f"per-row estimate for all {total:,} deltas (hours)", round(total / row_rate / 3600, 2))

    analyzing = analyze()
    small, small_seconds, small_commit, small_phases = set_based("B", 0, subset)
    _phases(report, "  phases", small_phases)
    report.info(
        f"set-based: copy B, same deltas 0..{subset:,} (seconds, of which commit)",
        f"{small_seconds:.1f} ({small_commit:.1f})",
    )
    report.info("set-based rows/s on the same subset", round(subset / small_seconds, 1))
    report.info("  of which booked per-row inside the batch (budget ran out)", small.booked_per_row)
    same_subset = compare(report, f"after deltas 0..{subset:,}")
    report.figure(
        "balances identical on the subset (per-row A vs set-based B)", _yes(same_subset), target="yes", ok=same_subset
    )

    rest = total - subset
    if rest:
        profile = StatementProfile()
        analyzing += analyze()
        big, big_seconds, big_commit, big_phases = set_based("B", subset, total, profile)
        big_rate = rest / big_seconds
        _phases(report, "  phases", big_phases)
        report.info(
            f"set-based: copy B, deltas {subset:,}..{total:,} in one batch (seconds, of which commit)",
            f"{big_seconds:.1f} ({big_commit:.1f})",
        )
        report.info(
            "  accruals set-based / per-row in the batch / skipped / refused",
            f"{big.booked_set_based:,} / {big.booked_per_row:,} / {big.skipped:,} / {big.refused:,}",
        )
        report.info("  ledger transactions / entries created", f"{big.transactions:,} / {big.entries:,}")
        report.info("  commit (deferred checks) seconds", round(big_commit, 1))
        for label, seconds in profile.top():
            report.info(f"  profile: {label}", f"{seconds:.1f} s")
    else:
        big, big_rate, big_seconds = small, subset / small_seconds, 0.0
    # The target: all deltas of copy B (the subset batch, then the rest), staged, booked, checked and
    # committed; the comparison between the two batches and ANALYZE (autovacuum's job in production) not counted.
    end_to_end = small_seconds + big_seconds
    report.info("before (docs/BENCHMARKS.md, 2026-11-26, quiet machine)", BEFORE)
    report.figure(
        f"{total:,} deltas booked, checked and committed end to end (copy B, 2 batches), seconds",
        round(end_to_end, 1),
        target="<= 60",
        ok=end_to_end <= 60,
    )
    report.info("set-based rows/s (large batch)", round(big_rate, 1))
    report.figure(
        "throughput ratio set-based / per-row",
        round(big_rate / row_rate, 1),
        target=">= 20x",
        ok=big_rate / row_rate >= 20,
    )

    if rest:
        analyzing += analyze()
        full, full_seconds, full_commit, full_phases = set_based("A", 0, total)
        _phases(report, "  phases", full_phases)
        report.info(
            f"set-based: copy A, all {total:,} deltas (first {subset:,} already booked) (seconds, commit)",
            f"{full_seconds:.1f} ({full_commit:.1f}), {total / full_seconds:,.0f} rows/s, skipped {full.skipped:,}",
        )
        same_full = compare(report, f"all {total:,} deltas")
        report.figure(
            "balances identical on all deltas (A: per-row then set-based, B: set-based)",
            _yes(same_full),
            target="yes",
            ok=same_full,
        )

    rerun_profile = StatementProfile()
    analyzing += analyze()
    again, again_seconds, _, _again_phases = set_based("B", 0, total, rerun_profile)
    for label, seconds in rerun_profile.top(3):
        report.info(f"  re-run profile: {label}", f"{seconds:.1f} s")
    report.figure(
        "re-run of the whole batch on copy B books nothing",
        f"{again.transactions} transactions, {again.skipped:,} skipped in {again_seconds:.1f} s",
        target="0 transactions",
        ok=again.transactions == 0 and again.booked_per_row == 0,
    )

    report.info("ANALYZE before each batch (autovacuum is off here), seconds", round(analyzing, 1))
    (entries,) = _rows("SELECT count(*) FROM payouts_ledgerentry")[0]
    (transactions,) = _rows("SELECT count(*) FROM payouts_ledgertransaction WHERE kind LIKE 'earning%%'")[0]
    report.info("ledger entries in the database (both copies)", int(entries))
    report.info("earning transactions in the database (both copies)", int(transactions))
    from payouts.selectors import ledger_reconcile_report

    reconcile = ledger_reconcile_report()
    drift = len(reconcile.drifts) + len(reconcile.unbalanced_transactions) + len(reconcile.negative_internal_accounts)
    report.figure("ledger_reconcile drift", drift, target="0", ok=drift == 0)
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
