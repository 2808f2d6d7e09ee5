"""The set-based earnings path books exactly what the per-row service books (ADR 14).

Each scenario is run twice on the same database state: once delta by delta through
``earnings_accrue`` (a delta the service refuses is skipped, as the click accrual does), then
rolled back and run through ``earnings_accrue_batch``. Everything money-related is compared:
every account balance (by key), every transaction with its entries and idempotency key, every
accrual with its explanation lines and what it still holds, every share's cumulative counts.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from campaigns.earnings import services as earnings
from campaigns.earnings.batch import earnings_accrue_batch
from campaigns.earnings.budget import campaign_budget_release
from campaigns.earnings.services import MetricDelta
from payouts.errors import PayoutsError
from payouts.models import AccountKind, EarningAccrual, LedgerTransaction, TransactionKind
from payouts.tests.helpers import assert_same, delta, funded_campaign, influencer, snapshot

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


class _Rollback(Exception):
    pass


def per_row(deltas: list[MetricDelta]) -> None:
    for item in deltas:
        try:
            with transaction.atomic():
                earnings.earnings_accrue(delta=item, now=NOW)
        except (PayoutsError, ObjectDoesNotExist):
            continue


def both_ways(deltas: list[MetricDelta]) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """(per-row snapshot, batch snapshot, batch result) from the same starting state."""
    try:
        with transaction.atomic():
            per_row(deltas)
            expected = snapshot()
            raise _Rollback
    except _Rollback:
        pass
    result = earnings_accrue_batch(deltas=deltas, now=NOW)
    return expected, snapshot(), result


def _scenario(seed: int) -> list[MetricDelta]:
    """Several campaigns (roomy, tight budget, per-share cap, no CPM), shares of several influencers,
    mostly growing metrics with falls (purged fakes), repeated windows and a delta for a share of
    another campaign (refused)."""
    rng = random.Random(seed)
    campaigns = [
        funded_campaign(budget=1_000_000),
        funded_campaign(budget=2_500 + seed * 300),
        funded_campaign(budget=50_000, per_share_cap_minor=700),
        funded_campaign(budget=40_000, cpm_minor=7, cpe_minor=None, platform_fee_bps=1234),
    ]
    people = [influencer() for _ in range(4)]
    shares = [(f"s{c}-{n}", campaign, people[(c + n) % 4]) for c, campaign in enumerate(campaigns) for n in range(4)]
    deltas = []
    for window in range(10):
        for key, campaign, person in rng.sample(shares, k=len(shares)):
            fall = rng.random() < 0.2
            sign = -1 if fall else 1
            deltas.append(
                delta(
                    campaign,
                    person,
                    f"w{window}",
                    share=key,
                    impressions=sign * rng.randrange(0, 900),
                    engagements=sign * rng.randrange(0, 12),
                    unique_clicks=sign * rng.randrange(0, 4),
                )
            )
    deltas.insert(5, deltas[2])  # the same (share, window) twice: books once
    key, campaign, _person = shares[0]
    deltas.append(delta(campaigns[1], people[0], "w9", share=key))  # share of another campaign: refused
    return deltas


@pytest.mark.parametrize("seed", range(4))
def test_batch_books_exactly_what_the_per_row_service_books(seed):
    deltas = _scenario(seed)
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.deltas == len(deltas)
    assert result.refused == 1
    assert result.skipped == 1
    assert result.booked_set_based > 0
    assert result.booked_set_based + result.booked_per_row + result.skipped + result.refused == len(deltas)


def test_reversals_within_the_hold_are_set_based_and_take_from_the_newest_earnings_first():
    campaign = funded_campaign(budget=1_000_000)
    person = influencer()
    deltas = [
        delta(campaign, person, "w1", engagements=50),
        delta(campaign, person, "w2", engagements=30),
        delta(campaign, person, "w3", engagements=-40),
        delta(campaign, person, "w4", engagements=5),
        delta(campaign, person, "w5", engagements=-20),
    ]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_per_row == 0
    held = dict(EarningAccrual.objects.values_list("window", "pending_minor"))
    # 500 and 300 held, -400 takes the 300 and 100 of the 500, +50, -200 takes the 50 and 150 more.
    assert held == {"w1": 250, "w2": 0, "w3": 0, "w4": 0, "w5": 0}


def test_a_batch_after_per_row_bookings_continues_from_the_booked_state():
    campaign = funded_campaign(budget=20_000, per_share_cap_minor=3_000)
    person = influencer()
    per_row([delta(campaign, person, f"w{n}", impressions=1_234, engagements=7) for n in range(3)])
    deltas = [delta(campaign, person, f"w{n}", impressions=999, engagements=-9) for n in range(3, 8)]
    deltas.append(delta(campaign, person, "w1", engagements=1_000))  # booked before: nothing new
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.skipped == 1


def test_when_the_reservation_runs_out_the_batch_caps_like_the_per_row_path():
    campaign = funded_campaign(budget=1_000)
    person = influencer()
    deltas = [delta(campaign, person, f"w{n}", share=f"s{n % 3}", engagements=30) for n in range(9)]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_per_row > 0
    assert actual["accounts"][f"campaign_reserved:campaign={campaign.pk}:EUR"] >= 0
    earned = sum(share[5] + share[6] for share in actual["shares"].values())
    assert earned <= 1_000


def test_a_released_reservation_earns_nothing_and_reversals_refill_the_brand():
    campaign = funded_campaign(budget=5_000)
    person = influencer()
    per_row([delta(campaign, person, "w1", engagements=100)])
    campaign.status = "completed"
    campaign.save(update_fields=["status"])
    campaign_budget_release(campaign=campaign)
    deltas = [delta(campaign, person, "w2", engagements=10), delta(campaign, person, "w3", engagements=-30)]
    expected, actual, _result = both_ways(deltas)
    assert_same(expected, actual)


def test_running_the_same_batch_again_books_nothing():
    deltas = _scenario(11)
    first = earnings_accrue_batch(deltas=deltas, now=NOW)
    before = snapshot()
    again = earnings_accrue_batch(deltas=deltas, now=NOW + timedelta(hours=1))
    assert snapshot() == before
    assert again.booked_set_based == again.booked_per_row == again.transactions == 0
    assert again.skipped == first.deltas - first.refused


def test_unverified_metrics_are_refused_for_the_whole_batch():
    campaign = funded_campaign()
    person = influencer()
    bad = MetricDelta(
        share_key="x", campaign_id=campaign.pk, influencer_id=person.pk, window="w1", engagements=3, source="claimed"
    )
    with pytest.raises(PayoutsError):
        earnings_accrue_batch(deltas=[delta(campaign, person, "w0", engagements=1), bad], now=NOW)
    assert not EarningAccrual.objects.exists()


def test_a_batch_posts_one_transaction_per_campaign_and_direction():
    """Each delta keeps its accrual; the ledger gets one transaction for a campaign's earnings of the batch and
    one for its reversals, each with one entry per account, and the accruals point to theirs (ADR 24)."""
    first, second = funded_campaign(budget=1_000_000), funded_campaign(budget=1_000_000)
    people = [influencer() for _ in range(3)]
    deltas = [
        delta(campaign, person, window, share=f"{campaign.pk}-{person.pk}", engagements=40)
        for window in ("w1", "w2")
        for campaign in (first, second)
        for person in people
    ]
    deltas.append(delta(first, people[0], "w3", share=f"{first.pk}-{people[0].pk}", engagements=-10))
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_set_based == len(deltas)
    assert result.booked_per_row == 0

    batch = list(
        LedgerTransaction.objects.filter(kind__in=[TransactionKind.EARNING, TransactionKind.EARNING_REVERSAL])
        .prefetch_related("entries__account", "accruals")
        .order_by("pk")
    )
    assert [(txn.campaign_id, txn.kind, txn.accruals.count()) for txn in batch] == [
        (first.pk, TransactionKind.EARNING, 6),
        (first.pk, TransactionKind.EARNING_REVERSAL, 1),
        (second.pk, TransactionKind.EARNING, 6),
    ]
    earning = batch[0]
    assert earning.influencer_id is None
    assert earning.brand_id == first.brand_id
    assert earning.description == "Earnings of 6 windows"
    assert batch[1].description == "Metrics fell in 1 window"
    # One entry per account: the reservation, the three influencers' pending accounts, the platform's fees.
    kinds = sorted(entry.account.kind for entry in earning.entries.all())
    assert kinds == sorted(
        [AccountKind.CAMPAIGN_RESERVED, AccountKind.PLATFORM_FEES] + [AccountKind.INFLUENCER_PENDING] * 3
    )
    accruals = EarningAccrual.objects.filter(campaign=first, earned_minor__gt=0)
    assert sum(accrual.earned_minor + accrual.fee_minor for accrual in accruals) == -sum(
        entry.amount_minor for entry in earning.entries.all() if entry.account.kind == AccountKind.CAMPAIGN_RESERVED
    )
    # The same batch again books nothing; the next batch gets transactions of its own.
    assert earnings_accrue_batch(deltas=deltas, now=NOW).transactions == 0
    later = earnings_accrue_batch(
        deltas=[delta(first, people[1], "w9", share=f"{first.pk}-{people[1].pk}", engagements=9)]
    )
    assert later.transactions == 1
    assert LedgerTransaction.objects.filter(kind=TransactionKind.EARNING, campaign=first).count() == 2


def test_after_the_budget_runs_out_the_later_deltas_are_set_based():
    """The capped delta goes through the per-row service; the campaign's later deltas earn nothing and are
    booked set-based in the next round (not one by one)."""
    campaign = funded_campaign(budget=1_000)
    person = influencer()
    deltas = [delta(campaign, person, f"w{n}", share=f"s{n % 3}", engagements=30 + n) for n in range(30)]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_per_row == 1
    assert result.booked_set_based == 29
    assert EarningAccrual.objects.filter(earned_minor=0).count() >= 20


def test_a_reversal_after_the_budget_ran_out_refills_it_and_the_next_deltas_earn_again():
    campaign = funded_campaign(budget=1_000)
    person = influencer()
    deltas = [
        delta(campaign, person, "w0", share="s0", engagements=40),  # paid in full
        delta(campaign, person, "w1", share="s1", engagements=100),  # capped: the budget runs out
        *(delta(campaign, person, f"w{n}", share="s1", engagements=5) for n in range(2, 8)),  # earn nothing
        delta(campaign, person, "w8", share="s0", engagements=-35),  # a reversal refills the reservation
        *(delta(campaign, person, f"w{n}", share=f"s{n % 2}", engagements=5) for n in range(9, 20)),
    ]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    earned = dict(EarningAccrual.objects.values_list("window", "earned_minor"))
    assert earned["w8"] < 0
    assert all(earned[f"w{n}"] == 0 for n in range(2, 8))
    assert sum(earned[f"w{n}"] for n in range(9, 20)) > 0
    # One by one: the capped delta (and the minor unit it may leave), the reversal, the capped delta after it.
    assert 3 <= result.booked_per_row <= 5
    assert result.booked_set_based + result.booked_per_row == len(deltas)


def test_a_closed_reservation_books_later_deltas_set_based_and_reversals_one_by_one():
    campaign = funded_campaign(budget=5_000)
    person = influencer()
    per_row([delta(campaign, person, "w0", share="s0", engagements=100)])
    campaign.status = "completed"
    campaign.save(update_fields=["status"])
    campaign_budget_release(campaign=campaign)
    deltas = [delta(campaign, person, f"w{n}", share=f"s{n % 2}", engagements=10) for n in range(1, 7)]
    deltas.append(delta(campaign, person, "w7", share="s0", engagements=-150))
    deltas += [delta(campaign, person, f"w{n}", share=f"s{n % 2}", impressions=500) for n in range(8, 12)]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_per_row == 1
    assert not EarningAccrual.objects.filter(window__in=["w1", "w2", "w8", "w9"]).exclude(earned_minor=0).exists()


def test_past_the_last_round_every_remaining_delta_goes_through_the_per_row_service(monkeypatch):
    monkeypatch.setattr("campaigns.earnings.batch.MAX_ROUNDS", 1)
    campaign = funded_campaign(budget=1_000)
    person = influencer()
    deltas = [delta(campaign, person, f"w{n}", share=f"s{n % 3}", engagements=30) for n in range(12)]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_per_row == len(deltas) - result.booked_set_based > 1


@pytest.mark.parametrize("seed", range(6))
def test_tight_budgets_with_falls_book_exactly_what_the_per_row_service_books(seed):
    """Budgets that run out early, falls that refill them, a fee that makes a minor unit cost two, and a
    per-share cap: every round judged as the per-row path would."""
    rng = random.Random(1_000 + seed)
    campaigns = [
        funded_campaign(budget=rng.randrange(300, 3_000)),
        funded_campaign(budget=rng.randrange(300, 3_000), platform_fee_bps=rng.choice([0, 1, 5_000, 9_999])),
        funded_campaign(budget=rng.randrange(300, 3_000), per_share_cap_minor=400),
    ]
    people = [influencer() for _ in range(3)]
    shares = [(f"t{c}-{n}", campaign, people[n % 3]) for c, campaign in enumerate(campaigns) for n in range(3)]
    deltas = [
        delta(
            campaign,
            person,
            f"w{window}",
            share=key,
            impressions=rng.randrange(-300, 900),
            engagements=rng.randrange(-15, 20),
            unique_clicks=rng.randrange(-2, 4),
        )
        for window in range(12)
        for key, campaign, person in rng.sample(shares, k=len(shares))
    ]
    expected, actual, result = both_ways(deltas)
    assert_same(expected, actual)
    assert result.booked_set_based + result.booked_per_row == len(deltas)
