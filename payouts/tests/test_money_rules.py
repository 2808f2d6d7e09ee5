"""M5 and M6: no float money anywhere, rounding never creates or loses a cent, reconcile proves 0 drift."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.earnings.services import _affordable, earnings_accrue, metric_amounts, platform_fee_minor
from payouts.money import money_decimal_string, money_parse
from tests.factories.payouts import CampaignFactory

MONEY_NAME = re.compile(r"(_minor$|amount|price|budget|balance|fee|cost|payout|earn|spend|spent)")


def test_no_model_field_in_the_project_holds_money_as_float_or_decimal():
    """Rates and scores may be floats (e.g. a persona's activity); money never is."""
    offenders = []
    for model in apps.get_models():
        if model.__module__.split(".")[0] in {"django", "allauth", "rest_framework", "django_celery_beat"}:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, (models.FloatField, models.DecimalField)) and MONEY_NAME.search(field.name):
                offenders.append(f"{model.__name__}.{field.name} holds money as {type(field).__name__}")
            elif field.name.endswith("_minor") and not isinstance(field, models.BigIntegerField):
                offenders.append(f"{model.__name__}.{field.name} is not a BigIntegerField")
    assert offenders == []


@settings(max_examples=300, deadline=None)
@given(
    cpm=st.integers(0, 5_000),
    cpe=st.integers(0, 500),
    cpc=st.integers(0, 500),
    windows=st.lists(st.tuples(st.integers(0, 50_000), st.integers(0, 500), st.integers(0, 200)), max_size=30),
)
def test_cumulative_pricing_never_creates_or_loses_a_cent(cpm, cpe, cpc, windows):
    """Booking the difference of cumulative values adds up exactly to the value of the final totals,
    however the counts are split into windows (a per-window floor would lose cents)."""
    campaign = CampaignFactory.build(cpm_minor=cpm, cpe_minor=cpe, cpc_minor=cpc)
    counts = [0, 0, 0]
    booked = 0
    previous = 0
    for impressions, engagements, clicks in windows:
        counts = [counts[0] + impressions, counts[1] + engagements, counts[2] + clicks]
        value = metric_amounts(
            campaign=campaign, impressions=counts[0], engagements=counts[1], unique_clicks=counts[2]
        ).total
        assert value >= previous
        booked += value - previous
        previous = value
    exact_numerator = counts[0] * cpm  # the true CPM value is this / 1000
    assert booked == exact_numerator // 1000 + counts[1] * cpe + counts[2] * cpc
    assert 0 <= exact_numerator - (exact_numerator // 1000) * 1000 < 1000  # less than one cent short, never over


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    want=st.integers(0, 10**9), earned=st.integers(0, 10**9), bps=st.integers(0, 5_000), remaining=st.integers(0, 10**9)
)
def test_affordable_is_the_largest_amount_that_fits_with_its_fee(want, earned, bps, remaining):
    fee_before = platform_fee_minor(earned_minor=earned, fee_bps=bps)
    got = _affordable(want=want, earned_before=earned, fee_before=fee_before, fee_bps=bps, remaining=remaining)

    def cost(extra: int) -> int:
        return extra + platform_fee_minor(earned_minor=earned + extra, fee_bps=bps) - fee_before

    assert 0 <= got <= want
    assert cost(got) <= remaining
    if got < want:
        assert cost(got + 1) > remaining


@given(minor=st.integers(0, 10**12))
def test_amount_formatting_round_trips(minor):
    assert money_parse(money_decimal_string(minor)) == minor


@pytest.mark.django_db
def test_reconcile_command_reports_zero_drift_and_catches_tampering():
    from payouts.tests.helpers import delta, funded_campaign, influencer

    campaign = funded_campaign()
    earnings_accrue(delta=delta(campaign, influencer(), "w1", engagements=10))
    out = StringIO()
    call_command("ledger_reconcile", stdout=out)
    assert "0 drift" in out.getvalue()
    with connection.cursor() as cursor:  # a cached balance changed behind the ledger's back
        cursor.execute(
            "UPDATE payouts_ledgeraccount SET balance_minor = balance_minor + 1 WHERE kind = 'platform_fees'"
        )
    with pytest.raises(CommandError):
        call_command("ledger_reconcile", stdout=StringIO())
