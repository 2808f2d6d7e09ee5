"""Reads where campaigns meet money: a campaign's spend and reservation, the Funds page's rows per campaign.
Every figure is read from the ledger (``payouts``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from brands.models import Brand
from campaigns.models import Campaign
from payouts.models import AccountKind, Funding, LedgerAccount, LedgerEntry, TransactionKind
from payouts.selectors import brand_money_get_for_brand


def campaign_reserved_minor(*, campaign: Campaign) -> int:
    """What the campaign's reservation still holds (zero before approval)."""
    value = (
        LedgerAccount.objects.filter(kind=AccountKind.CAMPAIGN_RESERVED, campaign=campaign, currency=campaign.currency)
        .values_list("balance_minor", flat=True)
        .first()
    )
    return int(value or 0)


# --- campaign spend -------------------------------------------------------------------


@dataclass(frozen=True)
class Spend:
    """What a campaign has cost its brand so far: influencer earnings plus the platform fee, net of reversals."""

    earned_minor: int = 0
    fee_minor: int = 0

    @property
    def spent_minor(self) -> int:
        return self.earned_minor + self.fee_minor


#: Bookings that move a campaign's money to influencers and the platform (and back when metrics fall).
_SPEND_TRANSACTIONS = (TransactionKind.EARNING, TransactionKind.EARNING_REVERSAL)
#: Where that money comes from: the campaign's reservation, or the brand's balance for a reversal after the
#: reservation was released (ADR 7).
_SPEND_SOURCES = (AccountKind.CAMPAIGN_RESERVED, AccountKind.BRAND_AVAILABLE)


def campaign_spend_for_campaigns(*, campaigns: Iterable[Campaign]) -> dict[int, Spend]:
    """Each campaign's spend (by primary key; zero for none yet), read from the ledger entries.

    The one source of a campaign's spend: the campaign overview and list, the Funds page, the results tab
    and the results API all show this figure. Spent is what left the campaign's budget (its reservation,
    or the brand's balance when reversals came back after the release); the fee is what the platform's
    fee account received; the influencers earned the rest. One grouped query for any number of campaigns.
    """
    ids = [campaign.pk for campaign in campaigns]
    spend = dict.fromkeys(ids, Spend())
    if not ids:
        return spend
    rows = (
        LedgerEntry.objects.filter(transaction__campaign_id__in=ids, transaction__kind__in=_SPEND_TRANSACTIONS)
        .values(campaign_id=F("transaction__campaign_id"))
        .annotate(
            taken=Coalesce(Sum("amount_minor", filter=Q(account__kind__in=_SPEND_SOURCES)), 0),
            fee=Coalesce(Sum("amount_minor", filter=Q(account__kind=AccountKind.PLATFORM_FEES)), 0),
        )
        .order_by()
    )
    for row in rows:
        spent, fee = -int(row["taken"]), int(row["fee"])
        spend[row["campaign_id"]] = Spend(earned_minor=spent - fee, fee_minor=fee)
    return spend


def campaign_spend_get_for_campaign(*, campaign: Campaign) -> Spend:
    return campaign_spend_for_campaigns(campaigns=[campaign])[campaign.pk]


# --- brand funds page -----------------------------------------------------------------


@dataclass(frozen=True)
class CampaignSpend:
    campaign: Campaign
    budget_minor: int
    reserved_minor: int
    earned_minor: int
    fee_minor: int
    released_minor: int

    @property
    def spent_minor(self) -> int:
        return self.earned_minor + self.fee_minor


@dataclass(frozen=True)
class BrandFunds:
    currency: str
    available_minor: int
    reserved_minor: int
    spent_minor: int
    campaigns: list[CampaignSpend]
    fundings: list[Funding]
    #: A card top-up of the last hour is still waiting for the provider's webhook (the page polls).
    card_payment_pending: bool = False


def brand_funds_get_for_brand(*, brand: Brand) -> BrandFunds:
    """Balance, reservations and spend per campaign, all read from the ledger."""
    money = brand_money_get_for_brand(brand=brand)
    campaigns = list(Campaign.objects.filter(brand=brand).order_by("-created_at"))
    reserved = dict(
        LedgerAccount.objects.filter(kind=AccountKind.CAMPAIGN_RESERVED, campaign__brand=brand).values_list(
            "campaign_id", "balance_minor"
        )
    )
    booked = {
        row["campaign_id"]: row
        for row in LedgerEntry.objects.filter(
            transaction__campaign__brand=brand, account__kind=AccountKind.CAMPAIGN_RESERVED
        )
        .values(campaign_id=F("transaction__campaign_id"))
        .annotate(
            released=Coalesce(Sum("amount_minor", filter=Q(transaction__kind=TransactionKind.RELEASE)), 0),
        )
    }
    campaigns = [campaign for campaign in campaigns if campaign.pk in reserved]
    spend = campaign_spend_for_campaigns(campaigns=campaigns)
    rows = [
        CampaignSpend(
            campaign=campaign,
            budget_minor=campaign.budget_minor,
            reserved_minor=int(reserved.get(campaign.pk, 0)),
            earned_minor=spend[campaign.pk].earned_minor,
            fee_minor=spend[campaign.pk].fee_minor,
            released_minor=-int(booked.get(campaign.pk, {}).get("released", 0)),
        )
        for campaign in campaigns
    ]
    return BrandFunds(
        currency=money.currency,
        available_minor=money.available_minor,
        reserved_minor=sum(row.reserved_minor for row in rows),
        spent_minor=sum(row.spent_minor for row in rows),
        campaigns=rows,
        fundings=money.fundings,
        card_payment_pending=money.card_payment_pending,
    )
