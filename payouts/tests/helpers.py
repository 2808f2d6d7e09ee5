"""Shared set-ups for the money tests: a funded brand with an approved, reserved campaign."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from campaigns.earnings.budget import campaign_budget_reserve
from campaigns.earnings.services import MetricDelta
from campaigns.models import Campaign
from influencers.models import InfluencerProfile
from payouts.models import EarningAccrual, LedgerAccount, LedgerTransaction, ShareEarning, TransactionKind
from payouts.selectors import ledger_reconcile_report
from payouts.services.ledger import brand_fund
from tests.factories.brands import BrandFactory
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.payouts import CampaignFactory


def funded_campaign(*, budget: int = 10_000, fund: int | None = None, **fields: Any) -> Campaign:
    brand = BrandFactory()
    brand_fund(
        brand=brand, amount_minor=fund or budget, currency="EUR", source="bank_transfer", reference=f"T-{brand.pk}"
    )
    campaign: Campaign = CampaignFactory.create(brand=brand, budget_minor=budget, **fields)
    campaign_budget_reserve(campaign=campaign)
    return campaign


def delta(
    campaign: Campaign, influencer: InfluencerProfile, window: str, share: str = "share-1", **metrics: int
) -> MetricDelta:
    return MetricDelta(share_key=share, campaign_id=campaign.pk, influencer_id=influencer.pk, window=window, **metrics)


def influencer() -> InfluencerProfile:
    person: InfluencerProfile = InfluencerProfileFactory.create()
    return person


def snapshot() -> dict[str, Any]:
    """The ledger and earnings state with database ids replaced by stable names (shares by their key)."""
    # Earnings move the same money either way, but not in the same transactions: one per delta one by one,
    # one per campaign and direction in a set-based batch (ADR 24). They are compared as what each account
    # received per campaign and kind; every other transaction one by one.
    earning_kinds = {TransactionKind.EARNING, TransactionKind.EARNING_REVERSAL}
    flows: dict[tuple[Any, ...], int] = {}
    others = []
    for txn in LedgerTransaction.objects.prefetch_related("entries__account"):
        if txn.kind in earning_kinds:
            for e in txn.entries.all():
                key = (txn.kind, txn.brand_id, txn.campaign_id, e.account.key, e.currency)
                flows[key] = flows.get(key, 0) + e.amount_minor
            continue
        others.append(
            (
                txn.kind,
                txn.idempotency_key,
                txn.description,
                txn.brand_id,
                txn.campaign_id,
                txn.influencer_id,
                tuple(sorted((e.account.key, e.amount_minor, e.currency) for e in txn.entries.all())),
            )
        )
    transactions = sorted(others) + sorted((*key, amount) for key, amount in flows.items() if amount)
    accruals = {
        (a.share.share_key, a.window): (
            a.campaign_id,
            a.influencer_id,
            a.source,
            a.currency,
            a.earned_minor,
            a.fee_minor,
            a.pending_minor,
            a.hold_until,
            a.ledger_transaction.kind if a.ledger_transaction else None,
            tuple((li.metric, li.units, li.price_minor, li.per_units, li.amount_minor) for li in a.lines.all()),
        )
        for a in EarningAccrual.objects.select_related("share", "ledger_transaction").prefetch_related("lines")
    }
    share_fields = ("campaign_id", "influencer_id", "impressions", "engagements", "unique_clicks", "earned_minor")
    shares = {row[0]: row[1:] for row in ShareEarning.objects.values_list("share_key", *share_fields, "fee_minor")}
    accounts = dict(LedgerAccount.objects.values_list("key", "balance_minor"))
    return {"accounts": accounts, "transactions": transactions, "accruals": accruals, "shares": shares}


def assert_same(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    for part in ("accounts", "shares", "accruals", "transactions"):
        assert actual[part] == expected[part], part
    report = ledger_reconcile_report()
    assert report.ok, report


def refused_as_foreign_key(sql: str, params: list[object] | None = None) -> None:
    """Raw SQL (around Django, as a bug or a hand-made fix would write) that the database refuses as a
    reference to nothing, or to a row still referenced; the statement leaves nothing behind."""
    with pytest.raises(IntegrityError, match="foreign key"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
