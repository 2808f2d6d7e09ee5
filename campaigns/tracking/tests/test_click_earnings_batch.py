"""The hourly click accrual books through the set-based earnings path (ADR 14) in chunks.

The reference is the per-row path: the same due windows booked one ``earnings_accrue`` call at a
time, run first on the same database state and rolled back. Everything money-related is compared
with the snapshot of the earnings batch tests (balances, transactions with entries, accruals with
lines, shares).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from campaigns.earnings import batch as earnings_batch
from campaigns.earnings.services import MetricDelta
from campaigns.models import Click, HoldReason, TrackingLink
from campaigns.tracking import services
from payouts.models import EarningAccrual, ShareEarning
from payouts.tests.helpers import assert_same, funded_campaign, snapshot
from tests.factories.tracking import ClickFactory, ShareFactory, TrackingLinkFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)


class _Rollback(Exception):
    pass


def _per_row_batch(*, deltas: Iterable[MetricDelta], now: datetime | None = None) -> earnings_batch.BatchResult:
    """``earnings_accrue_batch`` as the per-row loop it replaces (what it does off PostgreSQL)."""
    return earnings_batch._per_row(list(deltas), now=now or NOW)


def _links(*, campaigns: int = 3) -> list[TrackingLink]:
    """Three shares each of a roomy campaign, of one whose reservation runs out mid-run (the batch hands
    the rest of it to the per-row service) and of one with a per-share cap; clicks over four closed hours."""
    kinds = [
        funded_campaign(budget=1_000_000, cpc_minor=10, cpm_minor=None, cpe_minor=None),
        funded_campaign(budget=400, cpc_minor=25, cpm_minor=None, cpe_minor=None),
        funded_campaign(budget=100_000, cpc_minor=30, cpm_minor=None, cpe_minor=None, per_share_cap_minor=200),
    ][:campaigns]
    links: list[TrackingLink] = [
        TrackingLinkFactory.create(share=ShareFactory.create(offer__match__campaign=c)) for c in kinds for _ in range(3)
    ]
    for number, link in enumerate(links):
        for hour in (7, 8, 10, 11):
            for minute in range((number * 7 + hour) % 5 + 1):
                ClickFactory(link=link, occurred_at=NOW.replace(hour=hour, minute=minute))
    return links


def _unmarked_due() -> int:
    return Click.objects.filter(billable=True, accrued_at__isnull=True, occurred_at__lt=NOW.replace(minute=0)).count()


def test_the_batch_path_books_what_the_per_row_path_books_and_marks_every_click(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    links = _links()
    held = links[1]
    services.share_hold_open(share_id=held.share.pk, reason=HoldReason.CLICK_VELOCITY)
    held_clicks = Click.objects.filter(link=held).count()

    try:
        with transaction.atomic(), monkeypatch.context() as patched:
            patched.setattr(services, "earnings_accrue_batch", _per_row_batch)
            # The same chunks as the run below: a chunk settles its windows the budget could not pay after
            # booking them (``_clicks_over_budget``), so the chunking is part of what is booked; the two runs
            # differ only in the engine that books.
            expected_booked = services.click_earnings_accrue_due(now=NOW, chunk_size=5)
            expected: dict[str, Any] = snapshot()
            raise _Rollback
    except _Rollback:
        pass
    assert expected_booked == 8 * 4  # nine shares minus the held one, four closed hours each

    results: list[earnings_batch.BatchResult] = []
    real_batch = services.earnings_accrue_batch

    def recording_batch(*, deltas: list[MetricDelta], now: datetime) -> earnings_batch.BatchResult:
        results.append(real_batch(deltas=deltas, now=now))
        return results[-1]

    monkeypatch.setattr(services, "earnings_accrue_batch", recording_batch)
    assert services.click_earnings_accrue_due(now=NOW, chunk_size=5) == expected_booked
    assert [r.deltas for r in results] == [5, 5, 5, 5, 5, 5, 2]  # 32 windows in chunks of five
    assert sum(r.booked_set_based for r in results) > 0
    # The tight campaign ran out: its later windows went through the per-row service inside the batch.
    assert sum(r.booked_per_row for r in results) > 0
    assert_same(expected, snapshot())
    assert _unmarked_due() == held_clicks  # every booked click is marked; the held share's wait
    assert not EarningAccrual.objects.filter(share__share_key=str(held.share.pk)).exists()


def test_a_failing_chunk_falls_back_to_per_row_booking(monkeypatch: pytest.MonkeyPatch) -> None:
    links = _links(campaigns=1)  # the roomy campaign
    # One share's window refuses per row: its earnings share belongs to another campaign.
    other = funded_campaign(budget=1_000, cpc_minor=10)
    bad = links[0]
    ShareEarning.objects.create(share_key=str(bad.share.pk), campaign=other, influencer=bad.share.influencer)

    def failing_batch(**_kwargs: Any) -> earnings_batch.BatchResult:
        raise RuntimeError("batch failed")

    monkeypatch.setattr(services, "earnings_accrue_batch", failing_batch)
    assert services.click_earnings_accrue_due(now=NOW, chunk_size=4) == 2 * 4
    assert EarningAccrual.objects.count() == 2 * 4
    assert not EarningAccrual.objects.filter(share__share_key=str(bad.share.pk)).exists()
    assert _unmarked_due() == Click.objects.filter(link=bad).count()  # the bad share's clicks wait


def test_a_refused_window_sends_its_chunk_per_row_and_the_good_windows_still_book() -> None:
    links = _links(campaigns=1)
    other = funded_campaign(budget=1_000, cpc_minor=10)
    bad = links[1]
    ShareEarning.objects.create(share_key=str(bad.share.pk), campaign=other, influencer=bad.share.influencer)

    assert services.click_earnings_accrue_due(now=NOW, chunk_size=5) == 2 * 4
    assert not EarningAccrual.objects.filter(share__share_key=str(bad.share.pk)).exists()
    assert _unmarked_due() == Click.objects.filter(link=bad).count()
    for link in (links[0], links[2]):
        clicks = Click.objects.filter(link=link).count()
        assert ShareEarning.objects.get(share_key=str(link.share.pk)).earned_minor == clicks * 10


def test_running_again_books_nothing() -> None:
    _links()
    first = services.click_earnings_accrue_due(now=NOW, chunk_size=7)
    assert first == 9 * 4
    before = snapshot()
    assert services.click_earnings_accrue_due(now=NOW, chunk_size=7) == 0
    assert services.click_earnings_accrue_due(now=NOW + timedelta(hours=1)) == 0
    assert_same(before, snapshot())

    # Late clicks for hours already booked are marked but neither booked nor counted again.
    Click.objects.update(accrued_at=None)
    assert services.click_earnings_accrue_due(now=NOW, chunk_size=7) == 0
    assert_same(before, snapshot())
    assert _unmarked_due() == 0
