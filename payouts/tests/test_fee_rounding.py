"""One rounding rule for the platform fee (ADR 7): the fee on a share's cumulative earnings, rounded half up
to the minor unit, the same in Python (``earnings_accrue``) and in SQL (``earnings_accrue_batch``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.earnings import services as earnings
from campaigns.earnings.batch import platform_fee_sql
from campaigns.earnings.services import platform_fee_minor
from payouts.models import ShareEarning
from payouts.tests.helpers import delta, funded_campaign, influencer
from payouts.tests.test_earnings_batch import both_ways

EARNED = st.integers(min_value=0, max_value=10**13)
BPS = st.integers(min_value=0, max_value=10_000)


def _exact(earned: int, bps: int) -> int:
    return int((Decimal(earned) * bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(
    ("earned", "bps", "fee"),
    [
        (0, 1500, 0),
        (90, 1500, 14),  # 13.5: a half rounds up
        (180, 1500, 27),
        (10, 1500, 2),  # 1.5
        (30, 1500, 5),  # 4.5
        (3, 1500, 0),  # 0.45
        (4, 1500, 1),  # 0.6
        (1, 5000, 1),  # 0.5
        (1, 4999, 0),  # 0.4999
        (99_999, 1, 10),  # 9.9999
        (5_000, 1, 1),  # 0.5
        (4_999, 1, 0),
        (123, 0, 0),
        (123, 10_000, 123),
    ],
)
def test_fee_boundaries(earned: int, bps: int, fee: int) -> None:
    assert platform_fee_minor(earned_minor=earned, fee_bps=bps) == fee


@given(earned=EARNED, bps=BPS)
def test_fee_is_the_exact_fee_rounded_half_up_and_fee_plus_net_is_gross(earned: int, bps: int) -> None:
    fee = platform_fee_minor(earned_minor=earned, fee_bps=bps)
    assert fee == _exact(earned, bps)
    # Never more than half a minor unit away from the exact fee, and exactly half only rounds up.
    assert abs(fee * 10_000 - earned * bps) <= 5_000
    gross = earned + fee  # what the brand pays: the influencer's net plus the fee
    assert gross - fee == earned
    assert gross >= earned


@given(earned=EARNED, more=EARNED, bps=BPS)
def test_the_fee_never_falls_as_earnings_grow(earned: int, more: int, bps: int) -> None:
    """``_affordable`` searches on this: more earnings never cost less fee."""
    assert platform_fee_minor(earned_minor=earned + more, fee_bps=bps) >= platform_fee_minor(
        earned_minor=earned, fee_bps=bps
    )


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(EARNED, BPS), min_size=1, max_size=50))
def test_sql_rounds_exactly_like_python(pairs: list[tuple[int, int]]) -> None:
    rows = ", ".join(["(%s::bigint, %s::bigint)"] * len(pairs))
    params = [value for pair in pairs for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {platform_fee_sql('e', 'b')} FROM (VALUES {rows}) AS v(e, b)", params)  # noqa: S608
        got = [row[0] for row in cursor.fetchall()]
    assert got == [platform_fee_minor(earned_minor=e, fee_bps=b) for e, b in pairs]


@pytest.mark.django_db
def test_brands_pay_the_same_rate_per_row_and_set_based() -> None:
    """0.90 earned pays 0.14 and 1.80 pays 0.27, whether booked one by one or in a batch."""
    small = funded_campaign(budget=10_000, cpe_minor=9, cpm_minor=None, cpc_minor=None)
    large = funded_campaign(budget=10_000, cpe_minor=18, cpm_minor=None, cpc_minor=None)
    person = influencer()
    deltas = [
        delta(small, person, "+1h", share="small", engagements=10),
        delta(large, person, "+1h", share="large", engagements=10),
        # Cumulative: 15 engagements -> 1.35 earned, fee 0.2025 -> 0.20; 16 -> 1.44, fee 0.216 -> 0.22.
        delta(small, person, "+6h", share="small", engagements=5),
        delta(small, person, "+24h", share="small", engagements=1),
    ]
    expected, actual, _result = both_ways(deltas)
    assert actual["shares"]["small"][-2:] == expected["shares"]["small"][-2:] == (144, 22)
    assert actual["shares"]["large"][-2:] == expected["shares"]["large"][-2:] == (180, 27)
    assert ShareEarning.objects.get(share_key="small").fee_minor == 22


@pytest.mark.django_db
def test_per_row_booking_on_a_half_minor_unit() -> None:
    campaign = funded_campaign(budget=10_000, cpe_minor=9, cpm_minor=None, cpc_minor=None)
    accrual = earnings.earnings_accrue(delta=delta(campaign, influencer(), "+1h", engagements=10))
    assert (accrual.earned_minor, accrual.fee_minor) == (90, 14)
