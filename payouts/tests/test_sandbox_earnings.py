"""The ledger never books earnings of a sandbox share for a brand that is not a demo brand.

The last line of defence behind matching, publishing and metrics (``campaigns/tests/test_sandbox_demo_only.py``):
whatever path a delta takes, per row (``earnings_accrue``) or set-based (``earnings_accrue_batch``),
a delta that could earn for a sandbox share of a real brand is refused; a reversal still goes
through, because it only gives the brand its money back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from django.db import transaction
from django.utils import timezone

from brands.models import Brand
from campaigns.earnings import services as earnings
from campaigns.earnings.batch import earnings_accrue_batch
from campaigns.earnings.services import MetricDelta, earnings_release_due
from campaigns.models import Campaign, Share
from networks.models import Network
from payouts.errors import PayoutsError
from payouts.models import EarningAccrual, LedgerTransaction, ShareEarning, TransactionKind
from payouts.rules import hold_period
from payouts.tests.helpers import funded_campaign, snapshot
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def sandbox_share(*, demo: bool, network: str = Network.SANDBOX) -> Share:
    campaign: Campaign = funded_campaign(budget=100_000, cpe_minor=10)
    Brand.objects.filter(pk=campaign.brand_id).update(is_demo=demo)
    return cast(Share, ShareFactory(offer__match__campaign=campaign, connected_account__network=network))


def delta_for(share: Share, window: str, **metrics: int) -> MetricDelta:
    return MetricDelta(
        share_key=str(share.pk),
        campaign_id=share.campaign_id,
        influencer_id=share.influencer_id,
        window=window,
        **metrics,
    )


def earned(share: Share) -> int:
    row = ShareEarning.objects.filter(share_key=str(share.pk)).first()
    return row.earned_minor if row else 0


def test_per_row_refuses_sandbox_earnings_for_a_real_brand() -> None:
    share = sandbox_share(demo=False)

    with pytest.raises(PayoutsError), transaction.atomic():
        earnings.earnings_accrue(delta=delta_for(share, "+1h", engagements=50))

    assert earned(share) == 0
    assert not EarningAccrual.objects.exists()
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.EARNING).exists()


@pytest.mark.parametrize(
    ("demo", "network"),
    [(True, Network.SANDBOX), (False, Network.MASTODON)],
    ids=["sandbox share of a demo brand", "mastodon share of a real brand"],
)
def test_per_row_books_everything_else(demo: bool, network: str) -> None:
    share = sandbox_share(demo=demo, network=network)

    earnings.earnings_accrue(delta=delta_for(share, "+1h", engagements=50))

    assert earned(share) == 500


def test_a_reversal_of_earnings_booked_before_the_gate_still_goes_through() -> None:
    share = sandbox_share(demo=True)
    earnings.earnings_accrue(delta=delta_for(share, "+1h", engagements=50))
    Brand.objects.filter(pk=share.campaign.brand_id).update(is_demo=False)

    earnings.earnings_accrue(delta=delta_for(share, "removed", engagements=-50))

    assert earned(share) == 0


def test_the_set_based_path_refuses_the_same_deltas() -> None:
    real, demo, ordinary = (
        sandbox_share(demo=False),
        sandbox_share(demo=True),
        sandbox_share(demo=False, network=Network.MASTODON),
    )
    deltas = [
        delta_for(real, "+1h", engagements=50),
        delta_for(demo, "+1h", engagements=30),
        delta_for(ordinary, "+1h", engagements=20),
        delta_for(real, "+6h", engagements=-5),  # a reversal of nothing booked: books nothing, refused nothing
    ]

    result = earnings_accrue_batch(deltas=deltas)

    assert result.refused == 1
    assert (earned(real), earned(demo), earned(ordinary)) == (0, 300, 200)
    assert not EarningAccrual.objects.filter(share__share_key=str(real.pk), earned_minor__gt=0).exists()


def test_the_set_based_path_books_what_the_per_row_path_books() -> None:
    """Same comparison as ``test_earnings_batch``: the refusal does not make the two paths drift apart."""
    real, demo = sandbox_share(demo=False), sandbox_share(demo=True)
    deltas = [
        delta_for(demo, "+1h", engagements=30),
        delta_for(real, "+1h", engagements=50),
        delta_for(demo, "+6h", engagements=-10),
        delta_for(real, "+6h", engagements=-5),
    ]

    class Rollback(Exception):
        pass

    expected: dict[str, Any] = {}
    try:
        with transaction.atomic():
            for item in deltas:
                try:
                    with transaction.atomic():
                        earnings.earnings_accrue(delta=item, now=NOW)
                except PayoutsError:
                    continue
            expected = snapshot()
            raise Rollback
    except Rollback:
        pass

    earnings_accrue_batch(deltas=deltas, now=NOW)

    assert snapshot() == expected


def test_earnings_booked_before_the_gate_are_not_released_for_payout() -> None:
    """What a sandbox share of a (no longer) demo brand earned stays pending, for staff to reverse."""
    sandbox, ordinary = sandbox_share(demo=True), sandbox_share(demo=True, network=Network.MASTODON)
    for share in (sandbox, ordinary):
        earnings.earnings_accrue(delta=delta_for(share, "+1h", engagements=50))
    Brand.objects.filter(pk__in=[sandbox.campaign.brand_id, ordinary.campaign.brand_id]).update(is_demo=False)

    earnings_release_due(now=timezone.now() + hold_period() + timedelta(minutes=1))

    pending = dict(EarningAccrual.objects.values_list("share__share_key", "pending_minor"))
    assert pending == {str(sandbox.pk): 500, str(ordinary.pk): 0}
