"""Unique billable clicks become earnings once per (share, hour); held shares wait for review."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Click, HoldReason
from campaigns.tracking import services
from payouts.models import EarningAccrual, MetricSource, ShareEarning
from payouts.tests.helpers import funded_campaign
from tests.factories.tracking import ClickFactory, ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


def _link(cpc: int = 10) -> object:
    campaign = funded_campaign(budget=100_000, cpc_minor=cpc, cpm_minor=None, cpe_minor=None)
    share = ShareFactory(offer__match__campaign=campaign)
    return TrackingLinkFactory(share=share)


def test_clicks_of_a_closed_hour_earn_once_per_window() -> None:
    link = _link(cpc=10)
    for minute in range(4):
        ClickFactory(link=link, occurred_at=NOW.replace(hour=10, minute=minute))
    ClickFactory(link=link, occurred_at=NOW.replace(hour=11, minute=5))
    ClickFactory(link=link, occurred_at=NOW.replace(hour=10, minute=9), billable=False, reason="bot")
    ClickFactory(link=link, occurred_at=NOW.replace(hour=12, minute=1))  # the current hour is still open

    assert services.click_earnings_accrue_due(now=NOW) == 2
    accruals = {a.window: a for a in EarningAccrual.objects.all()}
    assert set(accruals) == {"clicks:2026-11-20T10", "clicks:2026-11-20T11"}
    assert accruals["clicks:2026-11-20T10"].earned_minor == 40
    assert accruals["clicks:2026-11-20T10"].source == MetricSource.MEASURED
    share = ShareEarning.objects.get(share_key=str(link.share.pk))
    assert (share.unique_clicks, share.earned_minor) == (5, 50)

    # Running again (or a redelivered task) books nothing new.
    assert services.click_earnings_accrue_due(now=NOW) == 0
    assert EarningAccrual.objects.count() == 2
    assert ShareEarning.objects.get(pk=share.pk).earned_minor == 50
    assert Click.objects.filter(billable=True, accrued_at__isnull=True).count() == 1  # 12:01, still open


def test_booking_the_same_window_twice_is_a_no_op() -> None:
    link = _link(cpc=10)
    ClickFactory(link=link, occurred_at=NOW.replace(hour=9))
    services.click_earnings_accrue_due(now=NOW)
    # A click that shows up late for an hour already booked does not double-book the window.
    Click.objects.update(accrued_at=None)
    services.click_earnings_accrue_due(now=NOW)
    assert EarningAccrual.objects.count() == 1
    assert ShareEarning.objects.get(share_key=str(link.share.pk)).earned_minor == 10


def test_a_share_on_hold_earns_nothing_until_released() -> None:
    link = _link(cpc=10)
    ClickFactory(link=link, occurred_at=NOW.replace(hour=8))
    hold = services.share_hold_open(share_id=link.share.pk, reason=HoldReason.CLICK_VELOCITY)
    assert services.click_earnings_accrue_due(now=NOW) == 0
    assert not EarningAccrual.objects.exists()

    services.share_hold_release(hold=hold, released_by=None)
    assert services.click_earnings_accrue_due(now=NOW + timedelta(hours=5)) == 1
    assert ShareEarning.objects.get(share_key=str(link.share.pk)).earned_minor == 10
