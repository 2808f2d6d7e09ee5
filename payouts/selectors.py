"""Reads of money data. Every function takes its scope (brand, campaign, influencer) explicitly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from payouts.models import AccountKind, LedgerAccount

if TYPE_CHECKING:
    from brands.models import Brand
    from campaigns.models import Campaign
    from influencers.models import InfluencerProfile


def _balance(key_filter: dict[str, object]) -> int:
    value = LedgerAccount.objects.filter(**key_filter).values_list("balance_minor", flat=True).first()
    return int(value or 0)


def brand_balance_minor(*, brand: Brand, currency: str) -> int:
    return _balance({"kind": AccountKind.BRAND_AVAILABLE, "brand": brand, "currency": currency})


def campaign_reserved_minor(*, campaign: Campaign) -> int:
    return _balance({"kind": AccountKind.CAMPAIGN_RESERVED, "campaign": campaign, "currency": campaign.currency})


def influencer_balance_minor(*, influencer: InfluencerProfile, kind: str, currency: str = "EUR") -> int:
    return _balance({"kind": kind, "influencer": influencer, "currency": currency})
