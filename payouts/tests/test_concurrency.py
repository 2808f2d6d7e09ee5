"""M2: concurrent bookings against one balance on real PostgreSQL (threads, separate connections)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.earnings.budget import campaign_budget_reserve
from campaigns.earnings.services import earnings_accrue, earnings_release_due
from payouts import selectors
from payouts.errors import InsufficientFunds
from payouts.models import AccountKind, LedgerTransaction, PayoutRequest
from payouts.services.destinations import payout_destination_add
from payouts.services.ledger import brand_fund
from payouts.services.payouts import payout_request
from payouts.tests.helpers import delta, funded_campaign
from tests.factories.brands import BrandFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.payouts import CampaignFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(count: int, work: Callable[[int], object]) -> tuple[int, int, list[BaseException]]:
    """Runs ``work(i)`` in ``count`` threads released at once; returns (succeeded, refused, unexpected)."""
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    outcome = {"ok": 0, "refused": 0}
    unexpected: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except InsufficientFunds:
            with lock:
                outcome["refused"] += 1
        except BaseException as error:  # noqa: BLE001 - collected and asserted on below
            with lock:
                unexpected.append(error)
        else:
            with lock:
                outcome["ok"] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome["ok"], outcome["refused"], unexpected


def test_fifty_concurrent_reservations_exactly_floor_b_over_x_succeed():
    brand = BrandFactory()
    balance, budget = 100_000, 7_000  # floor(100,000 / 7,000) = 14
    brand_fund(brand=brand, amount_minor=balance, currency="EUR", source="bank_transfer", reference="M2")
    campaigns = [CampaignFactory(brand=brand, budget_minor=budget) for _ in range(50)]

    ok, refused, unexpected = _race(50, lambda index: campaign_budget_reserve(campaign=campaigns[index]))

    assert unexpected == []
    assert (ok, refused) == (balance // budget, 50 - balance // budget)
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == balance - ok * budget
    assert LedgerTransaction.objects.filter(kind="reservation").count() == ok
    assert selectors.ledger_reconcile_report().ok


def test_twenty_concurrent_payout_requests_never_exceed_the_balance():
    person = InfluencerProfileFactory()
    campaign = funded_campaign(budget=100_000)
    now = timezone.now()
    earnings_accrue(delta=delta(campaign, person, "w1", engagements=1_000), now=now)  # EUR 100
    earnings_release_due(now=now + timedelta(days=15))
    destination = payout_destination_add(
        influencer=person, kind="sepa", holder_name="Lena", iban="AT611904300234573201"
    )

    ok, refused, unexpected = _race(
        20,
        lambda _index: payout_request(influencer=person, amount_minor=3_000, currency="EUR", destination=destination),
    )

    assert unexpected == []
    assert (ok, refused) == (3, 17)
    total = sum(PayoutRequest.objects.filter(influencer=person).values_list("amount_minor", flat=True))
    assert total == 9_000 <= 10_000
    assert selectors.influencer_balance_minor(influencer=person, kind=AccountKind.INFLUENCER_AVAILABLE) == 1_000
    assert selectors.ledger_reconcile_report().ok


def test_the_same_campaign_reserved_concurrently_books_once():
    campaign = CampaignFactory(budget_minor=1_000)
    brand_fund(brand=campaign.brand, amount_minor=5_000, currency="EUR", source="bank_transfer", reference="M2-same")
    ok, refused, unexpected = _race(10, lambda _index: campaign_budget_reserve(campaign=campaign))
    assert (ok, refused, unexpected) == (10, 0, [])
    assert LedgerTransaction.objects.filter(kind="reservation").count() == 1
    assert selectors.brand_balance_minor(brand=campaign.brand, currency="EUR") == 4_000
