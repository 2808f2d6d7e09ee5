"""Rollup and counter tables keep room for their updates; text-pattern indexes nobody uses are gone (ADR 23)."""

from __future__ import annotations

import pytest
from django.db import connection

from campaigns.earnings.batch import earnings_accrue_batch
from linkilike.table_tuning import ROLLUP_FILLFACTOR
from payouts.tests.helpers import delta, funded_campaign, influencer

pytestmark = pytest.mark.django_db

TUNED = (
    "payouts_shareearning",
    "payouts_ledgeraccount",
    "campaigns_shareresult",
    "campaigns_campaignresultgroup",
    "campaigns_campaignresulthour",
)


def _rows(sql: str, params: object = None) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def test_rollup_and_counter_tables_leave_room_on_their_pages() -> None:
    options = {
        str(table): [str(setting) for setting in settings or ()]
        for table, settings in _rows("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(%s)", [list(TUNED)])
    }
    wanted = f"fillfactor={ROLLUP_FILLFACTOR}"
    assert {table: wanted in options.get(table, []) for table in TUNED} == dict.fromkeys(TUNED, True)


def test_keys_compared_whole_have_no_text_pattern_index() -> None:
    pattern = _rows(
        """SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text = ANY(%s)
        AND pg_get_indexdef(indexrelid) LIKE '%%varchar_pattern_ops%%'""",
        [["payouts_shareearning", "payouts_ledgeraccount", "payouts_ledgertransaction"]],
    )
    assert pattern == []
    # The unique indexes that every lookup by key uses stay.
    unique = {row[0] for row in _rows("SELECT indexrelid::regclass::text FROM pg_index WHERE indisunique")}
    assert {"payouts_shareearning_share_key_key", "payouts_ledgeraccount_key_key"} <= unique


def _updates(table: str) -> tuple[int, int]:
    """(updates, of which on the same page) of ``table`` in this transaction."""
    [(updated, hot)] = _rows(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s", [table]
    )
    return int(updated), int(hot)  # type: ignore[call-overload]


def test_an_earnings_batch_updates_the_share_totals_in_place() -> None:
    """Hundreds of shares opened and updated in one transaction (several full pages): every update stays on
    its page, so none writes into the table's indexes. With full pages (fillfactor 100) almost none did."""
    campaign, person = funded_campaign(budget=10_000_000), influencer()
    shares = 600
    before = _updates("payouts_shareearning")
    result = earnings_accrue_batch(
        deltas=[delta(campaign, person, "+1h", share=f"share-{i}", impressions=1_000) for i in range(shares)]
    )
    assert result.booked_set_based == shares
    updated, hot = (now - then for now, then in zip(_updates("payouts_shareearning"), before, strict=True))
    assert updated == shares
    assert hot == shares, f"{hot} of {updated} updates stayed on their page"
