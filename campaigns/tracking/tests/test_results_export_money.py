"""The results CSVs say what the pages say: money on hold and until when, review holds, fee and spend."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from brands.models import BrandRole
from campaigns.earnings.selectors import campaign_spend_get_for_campaign
from campaigns.earnings.services import earnings_accrue, earnings_release_due
from campaigns.models import Campaign, HoldReason, ShareHold
from payouts.models import EarningAccrual
from payouts.rules import hold_period
from payouts.tests.helpers import delta, funded_campaign
from tests.factories.brands import MembershipFactory
from tests.factories.tracking import ShareFactory

pytestmark = pytest.mark.django_db


def _rows(response: object) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _brand_csv(client: Client, campaign: Campaign) -> list[dict[str, str]]:
    client.force_login(MembershipFactory(brand=campaign.brand, role=BrandRole.ANALYST).user)
    return _rows(client.get(reverse("campaigns:results-export", args=[campaign.brand.slug, campaign.pk])))


def test_brand_csv_has_fee_spend_and_the_hold_the_influencer_sees(client: Client) -> None:
    campaign = funded_campaign(budget=10_000, cpe_minor=10, cpm_minor=None, cpc_minor=None)
    share = ShareFactory(offer__match__campaign=campaign)
    held = ShareFactory(offer__match__campaign=campaign)
    for item, engagements in ((share, 8), (held, 10)):
        earnings_accrue(delta=delta(campaign, item.influencer, "+1h", share=str(item.pk), engagements=engagements))
    ShareHold.objects.create(share=held, reason=HoldReason.CLICK_VELOCITY)
    hold_until = EarningAccrual.objects.filter(share__share_key=str(share.pk)).get().hold_until

    rows = {row["share_id"]: row for row in _brand_csv(client, campaign)}
    row = rows[str(share.pk)]
    assert row["earned"] == "0.80"
    assert row["platform_fee"] == "0.12"
    assert row["spend"] == "0.92"
    assert row["earned_on_hold"] == "0.80"
    assert row["on_hold_until"][:10] == timezone.localtime(hold_until).date().isoformat()
    assert row["held_for_review"] == "no"
    assert "clicks_not_billable (by reason)" in row  # kept
    assert rows[str(held.pk)]["held_for_review"] == "yes"
    assert rows[str(held.pk)]["spend"] == "1.15"  # 1.00 earned + 0.15 fee

    # The spend column adds up to the campaign's spend everywhere else.
    total = sum(Decimal(item["spend"]) for item in rows.values())
    assert total * 100 == campaign_spend_get_for_campaign(campaign=campaign).spent_minor

    # The influencer's earnings page says the same: on hold until that date.
    influencer = Client()
    influencer.force_login(share.influencer.user)
    page = influencer.get(reverse("payouts:earnings")).content.decode()
    assert f"On hold until {date_format(timezone.localtime(hold_until), 'SHORT_DATE_FORMAT')}" in page
    [mine] = _rows(influencer.get(reverse("influencers:results-export")))
    assert mine["earned_on_hold"] == "0.80"
    assert mine["on_hold_until"] == row["on_hold_until"]
    assert mine["held_for_review"] == "no"
    assert "platform_fee" not in mine
    assert "spend" not in mine


def test_after_the_hold_nothing_is_on_hold_in_the_csv(client: Client) -> None:
    campaign = funded_campaign(budget=10_000, cpe_minor=10, cpm_minor=None, cpc_minor=None)
    share = ShareFactory(offer__match__campaign=campaign)
    earnings_accrue(delta=delta(campaign, share.influencer, "+1h", share=str(share.pk), engagements=8))
    earnings_release_due(now=timezone.now() + hold_period() + timedelta(minutes=1))
    [row] = _brand_csv(client, campaign)
    assert (row["earned"], row["earned_on_hold"], row["on_hold_until"]) == ("0.80", "0.00", "")
