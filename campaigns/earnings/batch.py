"""Set-based earnings: many verified metric deltas booked in a few SQL statements (ADR 14).

``earnings_accrue_batch`` books what calling ``campaigns.earnings.services.earnings_accrue`` once per delta,
in the order given, would book: the same accruals, explanation lines, amounts and balances. The ledger gets
one transaction per campaign and direction (earnings, reversals) with one entry per account, where the
per-row service posts one per delta: every account receives the same sums (ADR 24). It gets there by
splitting the work:

* The common case, a positive delta on a campaign whose reservation still covers it, depends only on
  the share's cumulative counts and on the campaign's running spend. Both are window functions over
  the deltas (``SUM``/``MIN``/``LAG`` per share and per campaign, in delta order), so these deltas
  are priced, checked against the reservation and written with ``INSERT ... SELECT`` (transactions,
  entries, accruals, lines) and one ``UPDATE ... FROM`` per table (balances, shares).
* From the first delta of a campaign that needs sequential judgement — the reservation would be
  overdrawn (the per-row path caps it with ``_affordable``), a reversal that takes from the available
  balance (reversals take from earnings on hold newest first, then the available balance, then write
  off) — that one delta goes through ``earnings_accrue`` itself, in the same database transaction, and
  the campaign's later deltas wait for the next round, which judges them against what it left. Those
  per-row deltas see exactly the state the per-row path would have shown them: the set-based part only
  wrote earlier deltas of that campaign, and its bookings elsewhere (pending balances, fees, other
  campaigns) are credits that no later judgement reads.
* A campaign whose budget is spent (a capped delta leaves less than one minor unit with its fee; a
  reservation that is not open pays nothing) earns nothing more: its deltas move the shares' counts,
  set-based, with accruals and lines of zero earnings, until one would take earnings back (a reversal
  refills the reservation: one by one again) or could still afford a minor unit.

The database triggers of migration 0002 stay in force: entries are immutable and every transaction
must balance at commit. PostgreSQL only; other databases take the per-row path.
"""

# The SQL below is built from module constants (table names, account kinds) only; every value
# from outside travels as a query parameter or through the staging table.
# ruff: noqa: S608
from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.earnings.budget import CLOSED_CAMPAIGN_STATUSES, RELEASE_KEY, RESERVE_KEY
from campaigns.earnings.pricing import PRICING
from campaigns.earnings.services import EARNING_BATCH_KEY, SHARE_ID_KEY, MetricDelta, earnings_accrue
from networks.models import Network
from payouts.errors import PayoutsError
from payouts.keys import sql_literal
from payouts.models import AccountKind, Metric, MetricSource, TransactionKind
from payouts.rules import hold_period
from payouts.services.ledger import CAMPAIGN_ACCOUNT_KEY, INFLUENCER_ACCOUNT_KEY, PLATFORM_ACCOUNT_KEY

logger = logging.getLogger(__name__)

STAGE_TABLE = "earnings_delta_stage"
_CALC = "earnings_batch_calc"
#: The deltas of ``_CALC`` booked set-based (a view: ``clean`` rows, with their accrual and transaction ids).
_BOOK = "earnings_batch_book"
#: ``work_mem`` for the batch's statements (restored after): the window-function pass sorts the whole batch
#: several times, and with the default 4 MB a million deltas spill every sort to disk.
BATCH_WORK_MEM = "256MB"
#: Planner settings for the batch's statements (restored after). Memoize off: over a million deltas the
#: planner cached the per-row VALUES lists of the entries and explanation lines (a cache that never hits:
#: 5.0 s instead of 3.8 for the lines' rows).
BATCH_SETTINGS = {"work_mem": BATCH_WORK_MEM, "enable_memoize": "off", "jit": "off"}

#: The share's cumulative counts the pricing policy reads (``MetricDelta`` fields, stage columns).
COUNTS = PRICING.counts
#: Columns of the staging table, in the order ``_stage`` writes them.
STAGE_COLUMNS = ("seq", "share_key", "campaign_id", "influencer_id", "window", *COUNTS, "source")


def _each(template: str, separator: str = ", ") -> str:
    """``template`` once per count (``{c}``), joined: the SQL follows the pricing policy's counts."""
    return separator.join(template.format(c=count) for count in COUNTS)


def _lit(text: str) -> str:
    return sql_literal(str(text))


@dataclass(frozen=True)
class BatchResult:
    deltas: int
    #: Deltas booked by the set-based statements (one accrual each, a transaction when money moved).
    booked_set_based: int
    #: Deltas handed to ``earnings_accrue`` in order: a capped delta, a reversal that takes from the available
    #: balance or refills a spent budget, one that fits in what a spent budget has left, all after ``MAX_ROUNDS``.
    booked_per_row: int
    #: Already booked before, or a repeat of a (share, window) earlier in the batch: books nothing.
    skipped: int
    #: Unknown campaign or influencer, a share that belongs to another campaign or influencer, or a
    #: delta that could earn for a sandbox share of a brand that is not a demo brand.
    refused: int
    transactions: int
    entries: int


def earnings_delta_stage_create() -> str:
    """Creates (empty) the session's staging table for one batch and returns its name.

    Callers that already hold the deltas in the database fill it with ``INSERT INTO ... SELECT``
    (``seq`` is the booking order); others use ``earnings_accrue_batch(deltas=...)``.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE {STAGE_TABLE} (
                seq bigint PRIMARY KEY,
                share_key varchar(120) NOT NULL,
                campaign_id bigint NOT NULL,
                influencer_id bigint NOT NULL,
                "window" varchar(80) NOT NULL,
                {_each("{c} bigint NOT NULL DEFAULT 0", ", ")},
                source varchar(12) NOT NULL
            ) ON COMMIT DROP
            """
        )
    return STAGE_TABLE


def _stage(deltas: Iterable[MetricDelta]) -> None:
    """The deltas into the staging table with one ``COPY`` (CSV: the csv module quotes keys and windows)."""
    earnings_delta_stage_create()
    fields = ("share_key", "campaign_id", "influencer_id", "window", *COUNTS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for seq, delta in enumerate(deltas):
        writer.writerow((seq, *(getattr(delta, name) for name in fields), delta.source))
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {STAGE_TABLE} ({', '.join(_quoted(STAGE_COLUMNS))}) FROM STDIN WITH (FORMAT csv)", buffer
        )


def _quoted(columns: Iterable[str]) -> list[str]:
    return [f'"{column}"' for column in columns]


class _Phases:
    """Seconds per phase of one batch, added into the caller's ``phases`` dict (the benchmark prints them)."""

    def __init__(self, into: dict[str, float] | None) -> None:
        self.into = into
        self.current: tuple[str, float] | None = None

    def switch(self, name: str | None) -> None:
        """Ends the running phase (if any) and starts ``name`` (``None``: none)."""
        now = time.perf_counter()
        if self.current is not None and self.into is not None:
            self.into[self.current[0]] = self.into.get(self.current[0], 0.0) + now - self.current[1]
        self.current = None if name is None else (name, now)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.into is not None:
                self.into[name] = self.into.get(name, 0.0) + time.perf_counter() - started


@transaction.atomic
def earnings_accrue_batch(
    *,
    deltas: Iterable[MetricDelta] | None = None,
    now: datetime | None = None,
    phases: dict[str, float] | None = None,
) -> BatchResult:
    """Books many deltas as ``earnings_accrue`` would one by one, in the given order. Idempotent.

    Without ``deltas`` the caller has filled ``earnings_delta_stage`` in this transaction. ``phases``, when
    given, receives the seconds spent per phase (staging, amounts, ledger transactions, entries, balances,
    accruals, per-row); what the commit then spends is the caller's to measure.
    """
    now = now or timezone.now()
    if connection.vendor != "postgresql":
        return _per_row(list(deltas or []), now=now)
    phase = _Phases(phases)
    with phase("staging"):
        if deltas is not None:
            _stage(deltas)
    # For this batch only; an error rolls the setting back with the batch's savepoint or transaction.
    before = {name: _fetch_one("SELECT current_setting(%s)", [name])[0] for name in BATCH_SETTINGS}
    for name, value in BATCH_SETTINGS.items():
        _fetch_one("SELECT set_config(%s, %s, true)", [name, value])
    result = _book_staged(now=now, phase=phase)
    for name, value in before.items():
        _fetch_one("SELECT set_config(%s, %s, true)", [name, value])
    # Dropped now rather than at commit: a caller may book several batches in one transaction.
    _execute(f"DROP VIEW IF EXISTS {_BOOK}")
    _execute(f"DROP TABLE IF EXISTS {STAGE_TABLE}, {_CALC}")
    return result


def _per_row(deltas: list[MetricDelta], *, now: datetime) -> BatchResult:
    for delta in deltas:
        earnings_accrue(delta=delta, now=now)
    return BatchResult(len(deltas), 0, len(deltas), 0, 0, 0, 0)


def _fetch_one(sql: str, params: Any = None) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - aggregate queries always return one row
    return tuple(row)


def _rows(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def _execute(sql: str, params: Any = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def platform_fee_sql(earned: str, bps: str) -> str:
    """``PRICING.fee_sql``: the fee on ``earned`` rounded half up (ADR 7)."""
    return PRICING.fee_sql(earned, bps)


#: The deltas of ``_CALC`` that were not clean, each with its campaign's first such ``seq``.
_NOT_CLEAN = f"(SELECT k.*, min(k.seq) OVER (PARTITION BY k.campaign_id) AS first FROM {_CALC} k WHERE NOT k.clean) k"
#: At most this many rounds per batch (see ``_book_staged``); what is left then goes through the per-row service.
MAX_ROUNDS = 25


def _book_staged(*, now: datetime, phase: _Phases) -> BatchResult:
    """Books the staged deltas in rounds.

    Each round books set-based every campaign's clean deltas (up to its first delta that needs sequential
    judgement), then that one delta per campaign through ``earnings_accrue``; the campaign's later deltas
    go to the next round, judged against what the per-row booking left (a capped delta leaves the
    reservation all but empty: its later deltas earn nothing, set-based, until a reversal refills it).
    After ``MAX_ROUNDS`` the rest goes through ``earnings_accrue`` in order, as every later delta of such a
    campaign did before rounds.
    """
    with phase("staging"):
        total, valid_total = _checked_and_locked()
    if not total:
        return BatchResult(0, 0, 0, 0, 0, 0, 0)
    booked = per_row = transactions = entries = considered = 0
    for round_number in range(1, MAX_ROUNDS + 1):
        with phase("amounts"):
            _compute_amounts()
        (rows, clean, money_moves) = _fetch_one(
            "SELECT count(*), count(*) FILTER (WHERE clean), count(*) FILTER (WHERE clean AND earned <> 0) "
            f"FROM {_CALC}"
        )
        rest = int(rows) - int(clean)
        if round_number == 1:
            considered = int(rows)
        if money_moves:
            written = _write_money(phase=phase)
            transactions, entries = transactions + written[0], entries + written[1]
        _write_accruals(now=now, phase=phase, money_moves=bool(money_moves))
        if money_moves:
            _balances_write(phase=phase)
        booked += int(clean)
        if not rest:
            break
        with phase("per-row"):
            per_row += _book_per_row(now=now, first_only=round_number < MAX_ROUNDS)
            if round_number == MAX_ROUNDS or not _restage_rest():
                break
    return BatchResult(
        deltas=total,
        booked_set_based=booked,
        booked_per_row=per_row,
        skipped=int(valid_total) - considered,
        refused=total - int(valid_total),
        transactions=transactions,
        entries=entries,
    )


def _restage_rest() -> int:
    """The staging table keeps only the deltas no round has booked yet (``_book_per_row`` booked each
    campaign's first one that was not clean); ``_CALC`` and ``_BOOK`` go, for the next round's. Returns
    the deltas left."""
    _execute(f"TRUNCATE {STAGE_TABLE}")
    left = _execute(
        f"""
        INSERT INTO {STAGE_TABLE} ({", ".join(_quoted(STAGE_COLUMNS))})
        SELECT seq, share_key, campaign_id, influencer_id, "window", {_each("d_{c}")}, source
        FROM {_NOT_CLEAN} WHERE seq > first
        """
    )
    _execute(f"DROP VIEW {_BOOK}")
    _execute(f"DROP TABLE {_CALC}")
    if left:
        _execute(f"ANALYZE {STAGE_TABLE}")
    return left


def _checked_and_locked() -> tuple[int, int]:
    """Refuses unverified sources, drops the sandbox deltas that may not earn, opens the shares and takes
    the locks; returns the deltas staged (0: nothing to do) and of them those of known shares, influencers
    and campaigns (repeats included)."""
    (total,) = _fetch_one(f"SELECT count(*) FROM {STAGE_TABLE}")
    if not total:
        return 0, 0
    (bad_sources,) = _fetch_one(
        f"SELECT count(*) FROM {STAGE_TABLE} WHERE source NOT IN %s", [tuple(MetricSource.values)]
    )
    if bad_sources:
        raise PayoutsError(_("Only verified metrics (reported by the network or measured by us) earn money."))
    # earnings_accrue refuses a delta that could earn for a sandbox share of a brand that is not a demo
    # brand (sandbox_earning_refused): the same deltas leave the batch here and are counted as refused.
    _execute(
        f"""
        DELETE FROM {STAGE_TABLE} s
        USING campaigns_campaign c, brands_brand b, campaigns_share sh, networks_connectedaccount a
        WHERE c.id = s.campaign_id AND b.id = c.brand_id AND NOT b.is_demo
            AND GREATEST({_each("s.{c}")}) > 0
            AND sh.id = CASE WHEN s.share_key ~ %(share_id)s THEN s.share_key::bigint END
            AND sh.campaign_id = s.campaign_id
            AND a.id = sh.connected_account_id AND a.network = %(sandbox)s
        """,
        {"share_id": f"^{SHARE_ID_KEY}$", "sandbox": Network.SANDBOX.value},
    )
    _execute(f"ANALYZE {STAGE_TABLE}")

    # Same lock order as earnings_accrue (campaign, share, accounts), each in primary-key order.
    _execute(
        f"""SELECT id FROM campaigns_campaign WHERE id IN (SELECT DISTINCT campaign_id FROM {STAGE_TABLE})
        ORDER BY id FOR UPDATE"""
    )
    # earnings_accrue opens the share on its first delta (before the idempotency check).
    _execute(
        f"""
        INSERT INTO payouts_shareearning (share_key, campaign_id, influencer_id, {_each("{c}")},
            earned_minor, fee_minor, updated_at)
        SELECT s.share_key, s.campaign_id, s.influencer_id, {_each("0")}, 0, 0, %(now)s
        FROM {STAGE_TABLE} s JOIN (
            -- Each new share's first delta (grouped by hash: sorting a million deltas by key took a second).
            SELECT min(s.seq) AS seq
            FROM {STAGE_TABLE} s
            JOIN campaigns_campaign c ON c.id = s.campaign_id
            JOIN influencers_influencerprofile i ON i.id = s.influencer_id
            WHERE NOT EXISTS (SELECT 1 FROM payouts_shareearning e WHERE e.share_key = s.share_key)
            GROUP BY s.share_key
        ) first ON first.seq = s.seq
        ORDER BY s.seq
        ON CONFLICT (share_key) DO NOTHING
        """,
        {"now": timezone.now()},
    )
    _execute(
        f"""SELECT id FROM payouts_shareearning WHERE share_key IN (SELECT share_key FROM {STAGE_TABLE})
        ORDER BY id FOR UPDATE"""
    )
    # A delta of an unknown influencer, or of a share opened for another campaign or influencer, is refused
    # (earnings_accrue raises on it): it leaves the batch here, so every later statement joins a delta to
    # its share by key alone, which the planner estimates right (a three-column join it took for one row,
    # and planned nested loops over a million).
    _execute(
        f"""
        DELETE FROM {STAGE_TABLE} s WHERE NOT EXISTS (
            SELECT 1 FROM payouts_shareearning sh JOIN influencers_influencerprofile i ON i.id = sh.influencer_id
            WHERE sh.share_key = s.share_key AND sh.campaign_id = s.campaign_id
                AND sh.influencer_id = s.influencer_id
        )
        """
    )
    (valid_total,) = _fetch_one(f"SELECT count(*) FROM {STAGE_TABLE}")
    # A repeat of a (share, window) earlier in the batch books nothing (earnings_accrue finds the first one's
    # accrual): it leaves too, so no later step filters on a window function (which the planner cannot
    # estimate: it took the amounts pass's million rows for two and joined the campaigns by nested loop).
    _execute(
        f"""
        DELETE FROM {STAGE_TABLE} s USING {STAGE_TABLE} t
        WHERE t.share_key = s.share_key AND t."window" = s."window" AND t.seq < s.seq
        """
    )
    _execute(f"ANALYZE {STAGE_TABLE}")
    return int(total), int(valid_total)


def _compute_amounts() -> None:
    """``_CALC``: every delta with what the per-row service would book, and ``_BOOK``, the clean ones."""
    reserve_key = RESERVE_KEY.sql(campaign="c.id")
    release_key = RELEASE_KEY.sql(campaign="c.id")
    reserved_key = CAMPAIGN_ACCOUNT_KEY.sql(
        kind=_lit(AccountKind.CAMPAIGN_RESERVED), campaign="c.id", currency="c.currency"
    )
    closed = ", ".join(_lit(status) for status in sorted(CLOSED_CAMPAIGN_STATUSES))
    components = list(enumerate(PRICING.components))
    after = {count: f"b.n1_{count}" for count in COUNTS}
    before = {count: f"b.nb_{count}" for count in COUNTS}
    priced = ",\n                ".join(
        f"{PRICING.amount_sql(component, after, 'c')} AS v1_{i}, "
        f"{PRICING.amount_sql(component, before, 'c')} AS vb_{i}, "
        f"{PRICING.line_sql(component, 'c', before, after)[0]} AS lp_{i}"
        for i, component in components
    )
    value_after = " + ".join(f"v1_{i}" for i, _component in components)
    accrual_id = _next_id("payouts_earningaccrual")
    # Sums are cast back to bigint: PostgreSQL sums bigint into numeric, and numeric arithmetic made every
    # later column numeric (wider rows, slower arithmetic and sorts).
    # Every figure earnings_accrue computes for a delta, assuming nothing earlier in its campaign was
    # capped: counts floored at zero (running sum minus its running minimum below zero), prices on
    # the cumulative counts, the cap, the fee on cumulative earnings, the campaign's running spend.
    _execute(
        f"""
        CREATE TEMPORARY TABLE {_CALC} ON COMMIT DROP AS
        WITH held AS (
            SELECT a.share_id, sum(a.pending_minor)::bigint AS pending0 FROM payouts_earningaccrual a
            WHERE a.pending_minor > 0 AND a.share_id IN (
                SELECT sh.id FROM payouts_shareearning sh WHERE sh.share_key IN (SELECT share_key FROM {STAGE_TABLE})
            )
            GROUP BY a.share_id
        ),
        valid AS (
            SELECT s.seq, s.share_key, s.campaign_id, s.influencer_id, s."window", s.source,
                {_each("s.{c} AS d_{c}")},
                sh.id AS share_id, {_each("sh.{c} AS b0_{c}")},
                sh.earned_minor AS earned0, sh.fee_minor AS fee0, COALESCE(held.pending0, 0) AS pending0
            FROM {STAGE_TABLE} s
            JOIN payouts_shareearning sh ON sh.share_key = s.share_key
            LEFT JOIN held ON held.share_id = sh.id
            WHERE NOT EXISTS (
                SELECT 1 FROM payouts_earningaccrual a WHERE a.share_id = sh.id AND a."window" = s."window"
            )
        ),
        running AS (
            SELECT v.*,
                {_each("b0_{c} + (sum(d_{c}) OVER share_order)::bigint AS s_{c}")}
            FROM valid v
            WINDOW share_order AS (PARTITION BY share_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
        ),
        counted AS (
            SELECT r.*,
                {_each("s_{c} - LEAST(0, min(s_{c}) OVER share_order) AS n1_{c}")}
            FROM running r
            WINDOW share_order AS (PARTITION BY share_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
        ),
        before AS (
            SELECT k.*,
                {_each("COALESCE(lag(n1_{c}) OVER share_order, b0_{c}) AS nb_{c}")}
            FROM counted k
            WINDOW share_order AS (PARTITION BY share_id ORDER BY seq)
        ),
        -- From here on only what later steps and the writes read: the running sums and the share's counts
        -- before the batch stay behind (narrower rows for the four window passes and two sorts that follow).
        priced AS (
            SELECT b.seq, b.share_key, b.campaign_id, b.influencer_id, b."window", b.source, b.share_id,
                {_each("b.d_{c}")}, {_each("b.n1_{c}")}, {_each("b.nb_{c}")},
                b.earned0, b.fee0, b.pending0,
                c.brand_id, c.currency, c.platform_fee_bps AS bps,
                {priced},
                c.{PRICING.cap_field}
            FROM before b JOIN campaigns_campaign c ON c.id = b.campaign_id
        ),
        targeted AS (
            SELECT p.*, {PRICING.capped_sql(value_after, "p")} AS target
            FROM priced p
        ),
        -- Materialized: once per campaign (inlined, its subqueries ran once per delta).
        budget AS MATERIALIZED (
            SELECT c.id AS campaign_id, r.remaining,
                -- Spent: less than one minor unit with its fee left (what a capped delta leaves).
                r.remaining < 2 + c.platform_fee_bps / 10000 AS spent
            FROM campaigns_campaign c
            -- What earnings_accrue takes as remaining: the reservation's balance, 0 when it is not open.
            CROSS JOIN LATERAL (SELECT CASE WHEN
                c.status NOT IN ({closed})
                AND EXISTS (SELECT 1 FROM payouts_ledgertransaction t WHERE t.idempotency_key = {reserve_key})
                AND NOT EXISTS (SELECT 1 FROM payouts_ledgertransaction t WHERE t.idempotency_key = {release_key})
                THEN COALESCE((SELECT a.balance_minor FROM payouts_ledgeraccount a WHERE a.key = {reserved_key}), 0)
                ELSE 0 END AS remaining
            ) r
            WHERE c.id IN (SELECT DISTINCT campaign_id FROM {STAGE_TABLE})
        ),
        -- In a campaign whose budget is spent nothing earns (a reversal is judged one by one below): every
        -- delta leaves the share's earnings where they were.
        earned AS (
            SELECT t.*, g.remaining, g.spent,
                CASE WHEN g.spent THEN earned0 ELSE COALESCE(lag(target) OVER share_order, earned0) END AS e_before,
                CASE WHEN g.spent THEN 0 ELSE target - COALESCE(lag(target) OVER share_order, earned0) END AS earned
            FROM targeted t JOIN budget g ON g.campaign_id = t.campaign_id
            WINDOW share_order AS (PARTITION BY share_id ORDER BY seq)
        ),
        feed AS (
            SELECT e.*,
                CASE WHEN earned = 0 THEN 0
                    ELSE {platform_fee_sql("e_before + earned", "bps")}
                        - CASE WHEN count(*) FILTER (WHERE earned <> 0) OVER earlier > 0
                            THEN {platform_fee_sql("e_before", "bps")} ELSE fee0 END
                END AS fee_delta,
                pending0 + (sum(earned) OVER share_order)::bigint AS p_after
            FROM earned e
            WINDOW earlier AS (PARTITION BY share_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                share_order AS (PARTITION BY share_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
        ),
        -- Hard: what earnings_accrue decides from state an earlier delta of the campaign changes. With the
        -- budget spent, a delta that would take earnings back, or one that could still afford a minor unit
        -- (earnings_accrue's cost of an extra e only grows with e, so none fits when one does not).
        judged AS (
            SELECT f.*,
                CASE WHEN spent THEN target < earned0
                    OR (target > earned0 AND 1 + {platform_fee_sql("earned0 + 1", "bps")} - fee0 <= remaining)
                ELSE (earned < 0 AND p_after < 0)
                    OR (earned > 0 AND (sum(earned + fee_delta) OVER campaign_order)::bigint > remaining)
                END AS hard
            FROM feed f
            WINDOW campaign_order AS (PARTITION BY f.campaign_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
        ),
        cleaned AS (
            SELECT j.*,
                j.seq < COALESCE(min(seq) FILTER (WHERE hard) OVER (PARTITION BY campaign_id), j.seq + 1) AS clean
            FROM judged j
        )
        -- Ids drawn in delta order within each campaign (PostgreSQL evaluates volatile output columns after
        -- the sort, and the campaign pass above already left the rows in this order): a share's accruals
        -- stack by id, newest on top, as the per-row service creates them. Across campaigns the order is
        -- free, as between two bookings that run at the same time.
        SELECT k.*, CASE WHEN k.clean THEN {accrual_id} END AS accrual_id
        FROM cleaned k
        ORDER BY k.campaign_id, k.seq
        """
    )
    # Statistics for the statements that read it (a temporary table is never analyzed on its own).
    _execute(f"ANALYZE {_CALC}")
    _execute(f"CREATE TEMPORARY VIEW {_BOOK} AS SELECT * FROM {_CALC} WHERE clean")


def _next_id(table: str) -> str:
    """``nextval`` of ``table``'s id sequence, named by a constant: ``pg_get_serial_sequence`` in the
    statement would look the sequence up in the catalog once per row (2.3 s per million rows, 0.3 s so)."""
    (sequence,) = _fetch_one("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    return f"nextval({_lit(sequence)}::regclass)"


def _write_money(*, phase: _Phases) -> tuple[int, int]:
    """Accounts, transactions and entries of the set-based earnings (balances: ``_balances_write``).

    One ledger transaction per campaign and direction (earnings, reversals) for the whole batch, with one
    entry per account: the campaign's reservation, each influencer's pending account, the platform's fees
    (ADR 24). Each delta keeps its own accrual and explanation lines, which point to that transaction.
    Returns (transactions, entries) written.
    """
    stamp = timezone.now()
    pending, fees = _lit(AccountKind.INFLUENCER_PENDING), _lit(AccountKind.PLATFORM_FEES)
    available, write_off = _lit(AccountKind.INFLUENCER_AVAILABLE), _lit(AccountKind.EXTERNAL_WRITE_OFF)

    def influencer_key(kind: str, alias: str = "") -> str:
        return INFLUENCER_ACCOUNT_KEY.sql(kind=kind, influencer=f"{alias}influencer_id", currency=f"{alias}currency")

    def platform_key(kind: str, alias: str = "") -> str:
        return PLATFORM_ACCOUNT_KEY.sql(kind=kind, currency=f"{alias}currency")

    reserved_key = CAMPAIGN_ACCOUNT_KEY.sql(
        kind=_lit(AccountKind.CAMPAIGN_RESERVED), campaign="t.campaign_id", currency="t.currency"
    )
    phase.switch("ledger transactions")
    # One pass over the booked deltas: what moves per (campaign, influencer, currency) and direction. The
    # accounts are opened and looked up by key from these few rows, and the entries and balance totals
    # summed from them (not from every delta).
    _execute(
        f"""
        CREATE TEMPORARY TABLE earnings_batch_pairs ON COMMIT DROP AS
        SELECT campaign_id, brand_id, influencer_id, currency, earned > 0 AS earning,
            sum(earned)::bigint AS earned, sum(fee_delta)::bigint AS fee,
            count(*) AS windows, min(accrual_id) AS first_accrual
        FROM {_BOOK} WHERE earned <> 0 GROUP BY campaign_id, brand_id, influencer_id, currency, earned > 0
        """
    )
    # earnings_accrue opens these lazily the same way (ledger_account_get_or_create); a reversal opens
    # the available and write-off accounts even when it takes nothing from them.
    _execute(
        f"""
        INSERT INTO payouts_ledgeraccount (key, kind, currency, is_external, brand_id, campaign_id, influencer_id,
            balance_minor, created_at)
        SELECT key, kind, currency, kind = {write_off}, NULL, NULL, influencer_id, 0, %(stamp)s FROM (
            SELECT DISTINCT {influencer_key(pending)} AS key, {pending} AS kind, currency, influencer_id
            FROM earnings_batch_pairs
            UNION
            SELECT DISTINCT {platform_key(fees)}, {fees}, currency, NULL::bigint FROM earnings_batch_pairs
            UNION
            SELECT DISTINCT {influencer_key(available)}, {available}, currency, influencer_id
            FROM earnings_batch_pairs WHERE NOT earning
            UNION
            SELECT DISTINCT {platform_key(write_off)}, {write_off}, currency, NULL::bigint
            FROM earnings_batch_pairs WHERE NOT earning
        ) wanted
        ORDER BY key
        ON CONFLICT (key) DO NOTHING
        """,
        {"stamp": stamp},
    )
    # The entries join these accounts by id (a key built and matched per entry cost seconds per million).
    _execute(
        f"""
        CREATE TEMPORARY TABLE earnings_batch_routes ON COMMIT DROP AS
        SELECT t.campaign_id, t.influencer_id, t.currency, r.id AS reserved_id, p.id AS pending_id, f.id AS fee_id
        FROM (SELECT DISTINCT campaign_id, influencer_id, currency FROM earnings_batch_pairs) t
        JOIN payouts_ledgeraccount r ON r.key = {reserved_key}
        JOIN payouts_ledgeraccount p ON p.key = {influencer_key(pending, "t.")}
        JOIN payouts_ledgeraccount f ON f.key = {platform_key(fees, "t.")}
        """
    )
    (routes,) = _fetch_one("SELECT count(*) FROM earnings_batch_routes")
    (wanted,) = _fetch_one("SELECT count(DISTINCT (campaign_id, influencer_id, currency)) FROM earnings_batch_pairs")
    if routes != wanted:
        raise PayoutsError(_("A ledger account the earnings move through is missing."))
    # What each account receives, per transaction (campaign and direction): the entries, and summed per
    # account the balance changes.
    _execute(
        """
        CREATE TEMPORARY TABLE earnings_batch_moves ON COMMIT DROP AS
        SELECT p.campaign_id, p.earning, p.currency, x.account_id, sum(x.amount)::bigint AS amount
        FROM earnings_batch_pairs p
        JOIN earnings_batch_routes r
            ON r.campaign_id = p.campaign_id AND r.influencer_id = p.influencer_id AND r.currency = p.currency
        CROSS JOIN LATERAL (VALUES
            (r.reserved_id, -(p.earned + p.fee)),
            (r.pending_id, p.earned),
            (r.fee_id, p.fee)
        ) AS x(account_id, amount)
        GROUP BY p.campaign_id, p.earning, p.currency, x.account_id
        HAVING sum(x.amount) <> 0
        """
    )
    _execute(
        """
        CREATE TEMPORARY TABLE earnings_batch_accounts ON COMMIT DROP AS
        SELECT account_id, sum(amount)::bigint AS total FROM earnings_batch_moves GROUP BY account_id
        """
    )
    # The transactions, from the same few rows: ids drawn here, in (campaign, direction) order; the
    # idempotency key names the campaign and the batch's first accrual of that direction (accrual ids are
    # never reused).
    _execute(
        f"""
        CREATE TEMPORARY TABLE earnings_batch_txns ON COMMIT DROP AS
        SELECT g.*, {_next_id("payouts_ledgertransaction")} AS txn_id FROM (
            SELECT campaign_id, brand_id, earning, sum(windows)::bigint AS windows,
                min(first_accrual) AS first_accrual
            FROM earnings_batch_pairs GROUP BY campaign_id, brand_id, earning
            ORDER BY campaign_id, earning DESC
        ) g
        """
    )
    groups = _rows("SELECT txn_id, earning, windows FROM earnings_batch_txns ORDER BY txn_id")
    descriptions = [
        (
            ngettext("Earnings of %(count)d window", "Earnings of %(count)d windows", windows)
            if earning
            else ngettext("Metrics fell in %(count)d window", "Metrics fell in %(count)d windows", windows)
        )
        % {"count": windows}
        for _txn, earning, windows in groups
    ]
    _execute(
        f"""
        INSERT INTO payouts_ledgertransaction (id, kind, idempotency_key, description, reverses_id, brand_id,
            campaign_id, influencer_id, recorded_by_id, created_at)
        SELECT t.txn_id, CASE WHEN t.earning THEN %(earning_kind)s ELSE %(reversal_kind)s END,
            {EARNING_BATCH_KEY.sql(campaign="t.campaign_id", accrual="t.first_accrual")},
            left(d.description, 300), NULL, t.brand_id, t.campaign_id, NULL, NULL, %(stamp)s
        FROM earnings_batch_txns t
        JOIN unnest(%(ids)s::bigint[], %(descriptions)s::text[]) AS d(txn_id, description) ON d.txn_id = t.txn_id
        ORDER BY t.txn_id
        """,
        {
            "earning_kind": TransactionKind.EARNING.value,
            "reversal_kind": TransactionKind.EARNING_REVERSAL.value,
            "ids": [row[0] for row in groups],
            "descriptions": descriptions,
            "stamp": stamp,
        },
    )
    phase.switch("entries")
    entries = _execute(
        """
        INSERT INTO payouts_ledgerentry (transaction_id, account_id, amount_minor, currency)
        SELECT t.txn_id, m.account_id, m.amount, m.currency
        FROM earnings_batch_moves m
        JOIN earnings_batch_txns t ON t.campaign_id = m.campaign_id AND t.earning = m.earning
        ORDER BY t.txn_id, m.account_id
        """
    )
    phase.switch(None)
    return len(groups), entries


def _balances_write(*, phase: _Phases) -> None:
    """The accounts' cached balances, locked last (in id order and ``FOR NO KEY UPDATE``, as the ledger
    service locks them).

    Entries do not need the accounts locked (their reference check takes ``FOR KEY SHARE``, which a balance
    update does not conflict with), so the lock is taken only here: a concurrent booking that credits the
    same influencer or fee account waits for this statement and the commit, not for the whole batch. The
    per-row part that follows reads these balances.
    """
    with phase("balances"):
        _execute(
            "SELECT id FROM payouts_ledgeraccount WHERE id IN (SELECT account_id FROM earnings_batch_accounts) "
            "ORDER BY id FOR NO KEY UPDATE"
        )
        _execute(
            """
            UPDATE payouts_ledgeraccount a SET balance_minor = a.balance_minor + t.total
            FROM earnings_batch_accounts t WHERE a.id = t.account_id
            """
        )
        _execute(
            "DROP TABLE earnings_batch_pairs, earnings_batch_routes, earnings_batch_moves, earnings_batch_accounts, "
            "earnings_batch_txns"
        )


def _write_accruals(*, now: datetime, phase: _Phases, money_moves: bool) -> None:
    """Accruals, their explanation lines and the shares' cumulative counts.

    With ``money_moves`` each accrual that moved money points to its campaign's transaction of the batch
    (``earnings_batch_txns``, written by ``_write_money``)."""
    stamp = timezone.now()
    # A reversal takes from the share's earnings on hold newest first (_earnings_reverse). Levels of
    # that stack: what an accrual still holds after the batch is the part of its slice
    # (held below it, held below it + its amount] that the share's pending total never fell under.
    phase.switch("accruals")
    _execute(
        f"""
        UPDATE payouts_earningaccrual a
        SET pending_minor = GREATEST(0, LEAST(o.pending_minor, m.lowest - o.below))
        FROM (
            SELECT id, share_id, pending_minor,
                (sum(pending_minor) OVER (PARTITION BY share_id ORDER BY id ROWS UNBOUNDED PRECEDING))::bigint
                    - pending_minor AS below
            FROM payouts_earningaccrual
            WHERE pending_minor > 0 AND share_id IN (SELECT share_id FROM {_BOOK} WHERE earned < 0)
        ) o
        JOIN (
            SELECT share_id, min(p_after) AS lowest FROM {_BOOK} GROUP BY share_id HAVING min(p_after) < min(pending0)
        ) m ON m.share_id = o.share_id
        WHERE a.id = o.id AND GREATEST(0, LEAST(o.pending_minor, m.lowest - o.below)) <> o.pending_minor
        """
    )
    # The batch's transactions are few (one per campaign and direction): a hash join.
    txn_join = (
        " LEFT JOIN earnings_batch_txns t ON t.campaign_id = b.campaign_id AND t.earning = (b.earned > 0)"
        " AND b.earned <> 0"
    )
    txn, txn_join = ("t.txn_id", txn_join) if money_moves else ("NULL", "")
    _execute(
        f"""
        INSERT INTO payouts_earningaccrual (id, share_id, "window", campaign_id, influencer_id, source, currency,
            earned_minor, fee_minor, pending_minor, hold_until, ledger_transaction_id, created_at)
        SELECT b.accrual_id, b.share_id, b."window", b.campaign_id, b.influencer_id, b.source, b.currency,
            b.earned, b.fee_delta,
            CASE WHEN b.earned > 0 THEN GREATEST(0, LEAST(b.earned,
                min(b.p_after) OVER later - (b.p_after - b.earned))) ELSE 0 END,
            %(hold_until)s, {txn}, %(stamp)s
        FROM {_BOOK} b{txn_join}
        WINDOW later AS (PARTITION BY b.share_id ORDER BY b.seq ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)
        ORDER BY b.accrual_id
        """,
        {"hold_until": now + hold_period(), "stamp": stamp},
    )
    # Same lines as campaigns.earnings.services._explain: one per pricing component that moved, then what
    # the cap took. One SELECT per kind of line, joined by UNION ALL (a lateral VALUES list per accrual ran
    # a nested loop over every accrual).
    kinds = []
    for i, component in enumerate(PRICING.components):
        before = {count: f"b.nb_{count}" for count in component.counts}
        after = {count: f"b.n1_{count}" for count in component.counts}
        units = component.units_sql(before, after)
        per_units = PRICING.line_sql(component, "b", before, after)[1]
        kinds.append((i, _lit(component.metric), units, f"b.lp_{i}", per_units, f"b.v1_{i} - b.vb_{i}"))
    moved = " + ".join(f"(b.v1_{i} - b.vb_{i})" for i in range(len(PRICING.components)))
    kinds.append((len(kinds), _lit(Metric.CAP), "0", "0", "1", f"b.earned - ({moved})"))
    lines = "\n            UNION ALL\n            ".join(
        f"SELECT b.accrual_id, {position} AS position, {metric}::varchar AS metric, ({units})::bigint AS units, "
        f"({price})::bigint AS price, ({per_units})::integer AS per_units, ({amount})::bigint AS amount "
        f"FROM {_BOOK} b"
        for position, metric, units, price, per_units, amount in kinds
    )
    phase.switch("explanation lines")
    _execute(
        f"""
        INSERT INTO payouts_earningline (accrual_id, metric, units, price_minor, per_units, amount_minor)
        SELECT x.accrual_id, x.metric, x.units, x.price, x.per_units, x.amount
        FROM (
            {lines}
        ) x
        WHERE x.units <> 0 OR x.amount <> 0
        ORDER BY x.accrual_id, x.position
        """
    )
    phase.switch("shares")
    _execute(
        f"""
        UPDATE payouts_shareearning sh
        SET {_each("{c} = last.n1_{c}")},
            earned_minor = sh.earned_minor + last.earned_sum, fee_minor = sh.fee_minor + last.fee_sum,
            updated_at = %(stamp)s
        FROM (
            SELECT DISTINCT ON (share_id) share_id, {_each("n1_{c}")},
                (sum(earned) OVER (PARTITION BY share_id))::bigint AS earned_sum,
                (sum(fee_delta) OVER (PARTITION BY share_id))::bigint AS fee_sum
            FROM {_BOOK} ORDER BY share_id, seq DESC
        ) last
        WHERE sh.id = last.share_id
        """,
        {"stamp": stamp},
    )

    phase.switch(None)


def _book_per_row(*, now: datetime, first_only: bool) -> int:
    """Deltas that were not clean through the per-row service, in order: each campaign's first one
    (``first_only``) or all of them."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT share_key, campaign_id, influencer_id, "window", source, {_each("d_{c}")}
            FROM {_NOT_CLEAN} WHERE NOT %s OR seq = first ORDER BY seq""",
            [first_only],
        )
        rows = cursor.fetchall()
    for share_key, campaign_id, influencer_id, window, source, *counts in rows:
        earnings_accrue(
            delta=MetricDelta(
                share_key=share_key,
                campaign_id=campaign_id,
                influencer_id=influencer_id,
                window=window,
                source=source,
                **dict(zip(COUNTS, counts, strict=True)),
            ),
            now=now,
        )
    return len(rows)
