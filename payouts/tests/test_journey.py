"""The issue's "done when", end to end through the campaign lifecycle: a funded brand, a campaign approved
(budget reserved, refused while short), synthetic results earning money that turns available after the
hold, a payout requested, approved and written to a SEPA file, the unused budget returned, and every
figure on the pages agreeing with the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.earnings.selectors import campaign_reserved_minor
from campaigns.earnings.services import MetricDelta, earnings_accrue, earnings_release_due
from campaigns.errors import CampaignFundsError
from payouts import selectors
from payouts.models import AccountKind, PayoutBatch, PayoutStatus
from payouts.services.batches import payout_batches_run
from payouts.services.destinations import payout_destination_add
from payouts.services.ledger import brand_fund
from payouts.services.payouts import payout_approve, payout_request
from tests.factories.brands import MembershipFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.payouts import CampaignFactory

pytestmark = pytest.mark.django_db


def test_money_journey(client):
    owner = MembershipFactory()
    brand = owner.brand
    campaign = CampaignFactory(brand=brand, status="in_review", budget_minor=150_000, per_share_cap_minor=None)

    with pytest.raises(CampaignFundsError, match=r"€1,500\.00"):
        campaign_services.campaign_approve(campaign=campaign, reviewed_by=None)
    campaign.refresh_from_db()
    assert campaign.status == "in_review"

    brand_fund(brand=brand, amount_minor=500_000, currency="EUR", source="bank_transfer", reference="J-1")
    campaign_services.campaign_approve(campaign=campaign, reviewed_by=None)
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 350_000
    assert campaign_reserved_minor(campaign=campaign) == 150_000

    lena = InfluencerProfileFactory()
    past = timezone.now() - timedelta(days=15)
    earnings_accrue(
        delta=MetricDelta("journey-1", campaign.pk, lena.pk, "+24h", impressions=5_000, engagements=100),
        now=past,
    )  # 30.00 + 10.00 = 40.00, fee 6.00
    earnings_release_due()
    destination = payout_destination_add(
        influencer=lena, kind="sepa", holder_name="Lena Berger", iban="AT611904300234573201"
    )
    payout = payout_request(influencer=lena, amount_minor=4_000, currency="EUR", destination=destination)
    payout_approve(payout=payout, reviewed_by=None)
    [batch] = payout_batches_run()
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.SENT
    assert '<InstdAmt Ccy="EUR">40.00</InstdAmt>' in PayoutBatch.objects.get(pk=batch.pk).document

    campaign_services.campaign_complete(campaign=campaign)
    assert campaign_reserved_minor(campaign=campaign) == 0
    assert selectors.brand_balance_minor(brand=brand, currency="EUR") == 500_000 - 4_600

    client.force_login(owner.user)
    funds = client.get(reverse("payouts:funds", args=[brand.slug])).content.decode()
    assert "€4,954.00" in funds  # available
    assert "€46.00" in funds  # spent incl. fee
    assert "€1,454.00" in funds  # returned to the balance
    client.force_login(lena.user)
    earnings = client.get(reverse("payouts:earnings")).content.decode()
    assert "€40.00" in earnings  # paid out
    assert selectors.influencer_balance_minor(influencer=lena, kind=AccountKind.INFLUENCER_AVAILABLE) == 0
    assert selectors.ledger_reconcile_report().ok
