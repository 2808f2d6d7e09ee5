"""M1: a Hypothesis state machine over fund / reserve / accrue / hold-release / payout / payout-fails /
reverse / refund / release, and participation fees (a real share's fee booked set-based when its post
is up, kept by the retention check, taken back when the post goes before it), checking after every step that

* every transaction balances per currency,
* no internal (non-external) account is below zero,
* reserved + spent <= budget for every campaign,
* every balance in the database equals an in-memory shadow model.

CI runs 25 examples of 30 steps; a drill runs ``LEDGER_STATEFUL_EXAMPLES=1000
LEDGER_STATEFUL_STEPS=50 .venv/bin/pytest payouts/tests/test_ledger_stateful.py``.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from campaigns.earnings.budget import campaign_budget_release, campaign_budget_reserve
from campaigns.earnings.participation import participation_fees_book_due, participation_retain_due
from campaigns.earnings.pricing import RETENTION_AFTER
from campaigns.earnings.selectors import campaign_reserved_minor
from campaigns.earnings.services import PARTICIPATION_WINDOW, MetricDelta, earnings_accrue, earnings_release_due
from campaigns.metrics.removal import publication_remove
from campaigns.models import Offer, PublicationState, SharePublication
from payouts import selectors
from payouts.errors import BelowMinimumPayout, InsufficientFunds
from payouts.models import AccountKind, EarningAccrual, LedgerAccount, LedgerEntry, PayoutStatus
from payouts.services.batches import payout_batches_run
from payouts.services.destinations import payout_destination_add
from payouts.services.ledger import brand_fund, brand_refund, ledger_transaction_reverse, platform_account
from payouts.services.payouts import payout_approve, payout_mark_failed, payout_request
from tests.factories.brands import BrandFactory
from tests.factories.campaigns import OfferFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.payouts import CampaignFactory
from tests.factories.tracking import ShareFactory

EXAMPLES = int(os.environ.get("LEDGER_STATEFUL_EXAMPLES", "25"))
STEPS = int(os.environ.get("LEDGER_STATEFUL_STEPS", "50" if EXAMPLES >= 1000 else "30"))
FEE_BPS = 1500
PRICES = {"cpm_minor": 600, "cpe_minor": 10, "cpc_minor": 15}
_serial = itertools.count()


def _value(counts: tuple[int, int, int, int], cap: int | None) -> int:
    # The last count is the participation fee while the participation is booked (0 once taken back).
    impressions, engagements, clicks, participation = counts
    value = impressions * PRICES["cpm_minor"] // 1000 + engagements * PRICES["cpe_minor"] + clicks * PRICES["cpc_minor"]
    value += participation
    return min(value, cap) if cap is not None else value


def _fee(earned: int) -> int:
    # An independent oracle of the one rounding rule (ADR 7): the exact fee rounded half up.
    return (earned * FEE_BPS + 5_000) // 10_000


@dataclass
class ShadowCampaign:
    obj: object
    brand: int
    budget: int
    cap: int | None
    reserved: int = 0
    spent: int = 0
    open: bool = False


@dataclass
class ShadowShare:
    campaign: int
    influencer: int
    counts: tuple[int, int, int, int] = (0, 0, 0, 0)
    earned: int = 0
    fee: int = 0
    #: [accrual pk, pending, hold_until, waits for the retention check] in booking order
    pending: list[list] = field(default_factory=list)
    #: A participation share (a real ``campaigns.Share``): its publication, its promised fee, its state.
    publication: object = None
    participation_fee: int = 0
    retained: bool = False
    removed: bool = False


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = timezone.now()
        self.brands = [BrandFactory(), BrandFactory()]
        self.influencers = [InfluencerProfileFactory(), InfluencerProfileFactory()]
        self.destinations = [
            payout_destination_add(influencer=person, kind="sepa", holder_name="Holder", iban="AT611904300234573201")
            for person in self.influencers
        ]
        self.brand_available = [0, 0]
        self.campaigns: list[ShadowCampaign] = []
        self.shares: dict[str, ShadowShare] = {}
        self.available = [0, 0]
        self.in_flight = [0, 0]
        self.fees = 0
        self.fundings: list[tuple[object, int, int]] = []  # (transaction, brand index, amount)
        self.reversed: set[int] = set()
        self.payouts: list[object] = []
        self.fee_baseline = platform_account(kind=AccountKind.PLATFORM_FEES, currency="EUR").balance_minor

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # --- rules ---

    @rule(brand=st.integers(0, 1), amount=st.integers(1, 40_000))
    def fund(self, brand: int, amount: int) -> None:
        txn = brand_fund(
            brand=self.brands[brand],
            amount_minor=amount,
            currency="EUR",
            source="bank_transfer",
            reference=f"M1-{next(_serial)}",
        )
        self.brand_available[brand] += amount
        self.fundings.append((txn, brand, amount))

    @rule(brand=st.integers(0, 1), budget=st.integers(1, 30_000), cap=st.none() | st.integers(1, 3_000))
    def reserve(self, brand: int, budget: int, cap: int | None) -> None:
        campaign = CampaignFactory(brand=self.brands[brand], budget_minor=budget, per_share_cap_minor=cap, **PRICES)
        shadow = ShadowCampaign(obj=campaign, brand=brand, budget=budget, cap=cap)
        self.campaigns.append(shadow)
        if self.brand_available[brand] >= budget:
            campaign_budget_reserve(campaign=campaign)
            self.brand_available[brand] -= budget
            shadow.reserved, shadow.open = budget, True
        else:
            with pytest.raises(InsufficientFunds):
                campaign_budget_reserve(campaign=campaign)

    @precondition(lambda self: self.campaigns)
    @rule(
        data=st.data(),
        person=st.integers(0, 1),
        share=st.integers(0, 2),
        impressions=st.integers(-3_000, 20_000),
        engagements=st.integers(-60, 300),
        clicks=st.integers(-20, 100),
    )
    def accrue(self, data: st.DataObject, person: int, share: int, impressions: int, engagements: int, clicks: int):
        index = data.draw(st.integers(0, len(self.campaigns) - 1))
        campaign = self.campaigns[index]
        key = f"c{index}-i{person}-s{share}"
        state = self.shares.setdefault(key, ShadowShare(campaign=index, influencer=person))
        window = f"w{next(_serial)}"
        accrual = earnings_accrue(
            delta=MetricDelta(
                share_key=f"{id(self)}-{key}",
                campaign_id=campaign.obj.pk,
                influencer_id=self.influencers[person].pk,
                window=window,
                impressions=impressions,
                engagements=engagements,
                unique_clicks=clicks,
            ),
            now=self.now,
        )
        state.counts = (
            max(0, state.counts[0] + impressions),
            max(0, state.counts[1] + engagements),
            max(0, state.counts[2] + clicks),
            state.counts[3],
        )
        self._shadow_booking(state, campaign, person, accrual)

    def _shadow_booking(self, state: ShadowShare, campaign: ShadowCampaign, person: int, accrual: Any) -> None:
        """What the booking of ``state``'s new counts must have done, checked against ``accrual``."""
        wanted = _value(state.counts, campaign.cap) - state.earned
        earned = accrual.earned_minor
        if wanted >= 0:
            remaining = campaign.reserved if campaign.open else 0
            cost = earned + _fee(state.earned + earned) - state.fee
            assert 0 <= earned <= wanted
            assert cost <= remaining
            if earned < wanted:  # the most the reservation allowed, not a cent less
                assert earned + 1 + _fee(state.earned + earned + 1) - state.fee > remaining
            fee = _fee(state.earned + earned) - state.fee if earned else 0
            assert accrual.fee_minor == fee
            campaign.reserved -= earned + fee
            campaign.spent += earned + fee
            if earned:
                gated = accrual.window == PARTICIPATION_WINDOW
                state.pending.append([accrual.pk, earned, accrual.hold_until, gated])
        else:
            assert earned == wanted
            fee = _fee(state.earned + earned) - state.fee
            assert accrual.fee_minor == fee
            taken = -earned
            for piece in reversed(state.pending):
                take = min(piece[1], taken)
                piece[1] -= take
                taken -= take
            from_available = min(taken, self.available[person])
            self.available[person] -= from_available
            refill = -earned - fee
            if campaign.open:
                campaign.reserved += refill
            else:
                self.brand_available[campaign.brand] += refill
            campaign.spent -= refill
        state.earned += earned
        state.fee += fee
        self.fees += fee

    @precondition(lambda self: self.campaigns)
    @rule(data=st.data(), person=st.integers(0, 1), fee=st.integers(1, 4_000))
    def participate(self, data: st.DataObject, person: int, fee: int) -> None:
        """A share promised ``fee`` goes up: the sweep books its participation (set-based)."""
        index = data.draw(st.integers(0, len(self.campaigns) - 1))
        campaign = self.campaigns[index]
        offer = Offer.objects.filter(campaign=campaign.obj, influencer=self.influencers[person]).first()
        if offer is None:  # one offer per campaign and influencer; one share per account of it
            offer = OfferFactory.create(match__campaign=campaign.obj, match__influencer=self.influencers[person])
        share = ShareFactory(offer=offer, participation_fee_minor=fee)
        publication = SharePublication.objects.create(
            share=share,
            state=PublicationState.PUBLISHED,
            idempotency_key=f"M1-{next(_serial)}",
            published_at=self.now - timedelta(days=1),
        )
        result = participation_fees_book_due(now=self.now)
        assert result.deltas == 1
        state = ShadowShare(campaign=index, influencer=person, publication=publication, participation_fee=fee)
        self.shares[f"p{share.pk}"] = state
        state.counts = (0, 0, 0, fee)
        accrual = EarningAccrual.objects.get(share__share_key=str(share.pk), window=PARTICIPATION_WINDOW)
        self._shadow_booking(state, campaign, person, accrual)

    @precondition(lambda self: any(s.publication and not s.retained and not s.removed for s in self.shares.values()))
    @rule()
    def retention_passes(self) -> None:
        """Every post still up has stayed up for the retention period: its fee is kept, released after its hold."""
        participation_retain_due(now=self.now + RETENTION_AFTER, after=RETENTION_AFTER)
        for state in self.shares.values():
            if state.publication is not None and not state.removed:
                state.retained = True

    @precondition(lambda self: any(s.publication and not s.removed for s in self.shares.values()))
    @rule(data=st.data())
    def post_removed(self, data: st.DataObject) -> None:
        """A post goes: before the retention check its fee is taken back, after it the fee stays."""
        key = data.draw(st.sampled_from(sorted(k for k, s in self.shares.items() if s.publication and not s.removed)))
        state = self.shares[key]
        publication_remove(publication=state.publication, now=self.now)
        state.removed = True
        if state.retained or state.counts[3] == 0:
            assert not EarningAccrual.objects.filter(share__share_key=key[1:], window="removed").exists()
            return
        state.counts = (0, 0, 0, 0)
        accrual = EarningAccrual.objects.get(share__share_key=key[1:], window="removed")
        self._shadow_booking(state, self.campaigns[state.campaign], state.influencer, accrual)

    @rule(days=st.integers(1, 20))
    def hold_release(self, days: int) -> None:
        self.now += timedelta(days=days)
        earnings_release_due(now=self.now)
        for state in self.shares.values():
            for piece in state.pending:
                if piece[2] <= self.now and piece[1] > 0 and (not piece[3] or state.retained):
                    self.available[state.influencer] += piece[1]
                    piece[1] = 0

    @rule(person=st.integers(0, 1), amount=st.integers(1_000, 8_000), donate=st.booleans())
    def payout(self, person: int, amount: int, donate: bool) -> None:
        target = {"destination": self.destinations[person]}
        if amount < 2_000:
            with pytest.raises(BelowMinimumPayout):
                payout_request(influencer=self.influencers[person], amount_minor=amount, currency="EUR", **target)
        elif amount > self.available[person]:
            with pytest.raises(InsufficientFunds):
                payout_request(influencer=self.influencers[person], amount_minor=amount, currency="EUR", **target)
        else:
            payout = payout_request(influencer=self.influencers[person], amount_minor=amount, currency="EUR", **target)
            payout_approve(payout=payout, reviewed_by=None)
            self.payouts.append(payout)
            self.available[person] -= amount
            self.in_flight[person] += amount

    @precondition(lambda self: any(payout.batch_id is None for payout in self.payouts))
    @rule()
    def send_batches(self) -> None:
        payout_batches_run()
        for payout in self.payouts:
            if payout.batch_id is None:
                payout.refresh_from_db()
                if payout.status == PayoutStatus.SENT:
                    person = self.influencers.index(payout.influencer)
                    self.in_flight[person] -= payout.amount_minor

    @precondition(lambda self: self.payouts)
    @rule(data=st.data())
    def payout_fails(self, data: st.DataObject) -> None:
        payout = data.draw(st.sampled_from(self.payouts))
        payout.refresh_from_db()
        before = payout.status
        payout_mark_failed(payout=payout, reason="returned")
        person = self.influencers.index(payout.influencer)
        if before == PayoutStatus.APPROVED:
            self.in_flight[person] -= payout.amount_minor
            self.available[person] += payout.amount_minor
        elif before == PayoutStatus.SENT:
            self.available[person] += payout.amount_minor

    @precondition(lambda self: self.fundings)
    @rule(data=st.data())
    def reverse(self, data: st.DataObject) -> None:
        txn, brand, amount = data.draw(st.sampled_from(self.fundings))
        if txn.pk in self.reversed:
            return
        if self.brand_available[brand] >= amount:
            ledger_transaction_reverse(ledger_transaction=txn, reason="booked by mistake")
            self.brand_available[brand] -= amount
            self.reversed.add(txn.pk)
        else:
            with pytest.raises(InsufficientFunds):
                ledger_transaction_reverse(ledger_transaction=txn, reason="booked by mistake")

    @rule(brand=st.integers(0, 1), amount=st.integers(1, 20_000))
    def refund(self, brand: int, amount: int) -> None:
        if self.brand_available[brand] >= amount:
            brand_refund(brand=self.brands[brand], amount_minor=amount, currency="EUR", reference=f"R-{next(_serial)}")
            self.brand_available[brand] -= amount
        else:
            with pytest.raises(InsufficientFunds):
                brand_refund(
                    brand=self.brands[brand], amount_minor=amount, currency="EUR", reference=f"R-{next(_serial)}"
                )

    @precondition(lambda self: any(campaign.open for campaign in self.campaigns))
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        campaign = data.draw(st.sampled_from([campaign for campaign in self.campaigns if campaign.open]))
        campaign_budget_release(campaign=campaign.obj)
        type(campaign.obj).objects.filter(pk=campaign.obj.pk).update(status="completed")
        campaign.obj.refresh_from_db()
        self.brand_available[campaign.brand] += campaign.reserved
        campaign.reserved, campaign.open = 0, False

    # --- invariants ---

    @invariant()
    def every_transaction_balances_per_currency(self) -> None:
        unbalanced = (
            LedgerEntry.objects.values("transaction_id", "currency")
            .annotate(total=Sum("amount_minor"))
            .exclude(total=0)
        )
        assert not unbalanced.exists()

    @invariant()
    def no_internal_account_is_negative(self) -> None:
        assert not LedgerAccount.objects.filter(is_external=False, balance_minor__lt=0).exists()

    @invariant()
    def reserved_plus_spent_within_budget(self) -> None:
        for campaign in self.campaigns:
            reserved = campaign_reserved_minor(campaign=campaign.obj)
            spent = EarningAccrual.objects.filter(campaign=campaign.obj).aggregate(
                total=Sum("earned_minor") + Sum("fee_minor")
            )["total"]
            assert reserved + (spent or 0) <= campaign.budget
            assert (reserved, spent or 0) == (campaign.reserved, campaign.spent)

    @invariant()
    def database_matches_the_shadow(self) -> None:
        for index, brand in enumerate(self.brands):
            assert selectors.brand_balance_minor(brand=brand, currency="EUR") == self.brand_available[index]
        for index, person in enumerate(self.influencers):
            pending = sum(piece[1] for s in self.shares.values() if s.influencer == index for piece in s.pending)
            balances = [
                selectors.influencer_balance_minor(influencer=person, kind=kind)
                for kind in (
                    AccountKind.INFLUENCER_PENDING,
                    AccountKind.INFLUENCER_AVAILABLE,
                    AccountKind.PAYOUTS_IN_FLIGHT,
                )
            ]
            assert balances == [pending, self.available[index], self.in_flight[index]]
        fees = platform_account(kind=AccountKind.PLATFORM_FEES, currency="EUR").balance_minor
        assert fees - self.fee_baseline == self.fees
        assert selectors.ledger_reconcile_report().drifts == []


LedgerMachine.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.django_db
def test_ledger_state_machine(settings: Any) -> None:
    # Every example builds two brands and two influencers: hashing four passwords with PBKDF2 cost
    # more than the fifty steps that follow (about 2 s an example on a loaded machine).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    LedgerMachine.TestCase().runTest()
