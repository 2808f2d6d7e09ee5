"""Reads of money data. Every function takes its scope (brand, campaign, influencer) explicitly."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from payouts.models import (
    AccountKind,
    Charity,
    EarningAccrual,
    EarningLine,
    Funding,
    FundingSource,
    FundingStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    PayoutDestination,
    PayoutRequest,
    PayoutStatus,
)
from payouts.money import money_decimal_string
from payouts.providers import funding_provider
from payouts.providers.base import CheckoutRequest
from payouts.rules import minimum_payout_minor

if TYPE_CHECKING:
    from brands.models import Brand
    from influencers.models import InfluencerProfile


def _balance(key_filter: dict[str, object]) -> int:
    value = LedgerAccount.objects.filter(**key_filter).values_list("balance_minor", flat=True).first()
    return int(value or 0)


def brand_balance_minor(*, brand: Brand, currency: str) -> int:
    return _balance({"kind": AccountKind.BRAND_AVAILABLE, "brand": brand, "currency": currency})


def influencer_balance_minor(*, influencer: InfluencerProfile, kind: str, currency: str = "EUR") -> int:
    return _balance({"kind": kind, "influencer": influencer, "currency": currency})


# --- brand funds page -----------------------------------------------------------------


@dataclass(frozen=True)
class BrandMoney:
    """The brand's own money: its balance and top-ups (the campaigns' part of the Funds page is
    ``campaigns.earnings.selectors.brand_funds_get_for_brand``)."""

    currency: str
    available_minor: int
    fundings: list[Funding]
    #: A card top-up of the last hour is still waiting for the provider's webhook (the page polls).
    card_payment_pending: bool = False


#: How long the Funds page waits (polls) for a card top-up's webhook after the brand paid.
CARD_PAYMENT_WAIT = timedelta(hours=1)


def brand_money_get_for_brand(*, brand: Brand) -> BrandMoney:
    currency = brand.currency
    return BrandMoney(
        currency=currency,
        available_minor=brand_balance_minor(brand=brand, currency=currency),
        fundings=list(Funding.objects.filter(brand=brand).order_by("-created_at")[:20]),
        card_payment_pending=Funding.objects.filter(
            brand=brand,
            source=FundingSource.CARD,
            status=FundingStatus.OPEN,
            created_at__gte=timezone.now() - CARD_PAYMENT_WAIT,
        ).exists(),
    )


def bank_transfer_instructions_for_brand(*, brand: Brand) -> dict[str, str]:
    """What the brand needs to wire money; staff match the reference when they record the transfer."""
    start = funding_provider("bank_transfer").start(
        CheckoutRequest(
            brand_slug=brand.slug,
            amount_minor=0,
            currency=brand.currency,
            success_url="",
            cancel_url="",
            client_reference=f"LK-{brand.slug.upper()}",
        )
    )
    return dict(start.instructions)


# --- influencer earnings --------------------------------------------------------------


#: Shown for a person who has earned nothing yet (a display default: payouts always name a currency).
DEFAULT_STATEMENT_CURRENCY = "EUR"
_INFLUENCER_KINDS = (AccountKind.INFLUENCER_PENDING, AccountKind.INFLUENCER_AVAILABLE, AccountKind.PAYOUTS_IN_FLIGHT)


@dataclass(frozen=True)
class CurrencyBalance:
    currency: str
    pending_minor: int
    available_minor: int
    in_payout_minor: int
    paid_minor: int


def influencer_balances_for_influencer(*, influencer: InfluencerProfile) -> list[CurrencyBalance]:
    """One line per currency the person has earned in; the largest available balance first."""
    amounts: dict[str, dict[str, int]] = {}
    accounts = LedgerAccount.objects.filter(influencer=influencer, kind__in=_INFLUENCER_KINDS)
    for currency, kind, balance in accounts.values_list("currency", "kind", "balance_minor"):
        amounts.setdefault(currency, {})[kind] = int(balance)
    paid = dict(
        PayoutRequest.objects.filter(influencer=influencer, status=PayoutStatus.SENT)
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .values_list("currency", "total")
    )
    balances = [
        CurrencyBalance(
            currency=currency,
            pending_minor=amounts.get(currency, {}).get(AccountKind.INFLUENCER_PENDING, 0),
            available_minor=amounts.get(currency, {}).get(AccountKind.INFLUENCER_AVAILABLE, 0),
            in_payout_minor=amounts.get(currency, {}).get(AccountKind.PAYOUTS_IN_FLIGHT, 0),
            paid_minor=int(paid.get(currency) or 0),
        )
        for currency in set(amounts) | set(paid)
    ]
    return sorted(balances, key=lambda line: (-line.available_minor, line.currency))


def payout_currency_for_influencer(*, influencer: InfluencerProfile) -> str | None:
    """The currency to pay out when the person did not say: the only one with money available (or the only
    one held at all); None when that is ambiguous, so the caller asks instead of guessing."""
    balances = influencer_balances_for_influencer(influencer=influencer)
    available = [line.currency for line in balances if line.available_minor > 0]
    if len(available) == 1:
        return available[0]
    if not available and len(balances) == 1:
        return balances[0].currency
    return None


@dataclass(frozen=True)
class EarningsStatement:
    """The summary in ``currency`` (by default the largest available balance), with every currency in ``balances``."""

    currency: str
    pending_minor: int
    available_minor: int
    in_payout_minor: int
    paid_minor: int
    minimum_payout_minor: int
    next_release_at: datetime | None
    payouts: list[PayoutRequest]
    destinations: list[PayoutDestination]
    balances: list[CurrencyBalance]

    @property
    def can_request(self) -> bool:
        """Some balance reaches the minimum payout."""
        return any(line.available_minor >= self.minimum_payout_minor for line in self.balances)


def earnings_statement_get_for_influencer(
    *, influencer: InfluencerProfile, currency: str | None = None
) -> EarningsStatement:
    balances = influencer_balances_for_influencer(influencer=influencer)
    currency = currency or (balances[0].currency if balances else DEFAULT_STATEMENT_CURRENCY)
    summary = next(
        (line for line in balances if line.currency == currency),
        CurrencyBalance(currency=currency, pending_minor=0, available_minor=0, in_payout_minor=0, paid_minor=0),
    )
    next_release = (
        EarningAccrual.objects.filter(influencer=influencer, currency=currency, pending_minor__gt=0)
        .order_by("hold_until")
        .values_list("hold_until", flat=True)
        .first()
    )
    return EarningsStatement(
        currency=currency,
        pending_minor=summary.pending_minor,
        available_minor=summary.available_minor,
        in_payout_minor=summary.in_payout_minor,
        paid_minor=summary.paid_minor,
        minimum_payout_minor=minimum_payout_minor(),
        next_release_at=next_release,
        payouts=list(
            PayoutRequest.objects.filter(influencer=influencer)
            .select_related("destination", "charity")
            .order_by("-created_at")[:50]
        ),
        destinations=list(payout_destination_list_for_influencer(influencer=influencer)),
        balances=balances or [summary],
    )


def payout_destination_list_for_influencer(*, influencer: InfluencerProfile) -> QuerySet[PayoutDestination]:
    return PayoutDestination.objects.filter(influencer=influencer, verified_at__isnull=False).order_by("-created_at")


def charity_list_active() -> QuerySet[Charity]:
    return Charity.objects.filter(is_active=True).order_by("name")


def earnings_lines_for_influencer(*, influencer: InfluencerProfile) -> Iterator[list[object]]:
    """Every earnings line of the influencer, flat, for the CSV export (``linkilike.csv_export``).

    Units and amounts are numbers, so a negative line (purged fake engagement, a cap) stays a number
    in a spreadsheet; text cells are neutralised against formulas by the CSV writer.
    """
    lines = (
        EarningLine.objects.filter(accrual__influencer=influencer)
        .select_related("accrual", "accrual__campaign", "accrual__share")
        .order_by("accrual__created_at", "pk")
    )
    # Streamed to the download: chunks, not every line of years of earnings in memory at once.
    for line in lines.iterator(chunk_size=500):
        accrual = line.accrual
        status = "on hold" if accrual.pending_minor > 0 else "released"
        yield [
            accrual.created_at.isoformat(),
            accrual.campaign.name,
            accrual.share.share_key,
            accrual.window,
            accrual.get_source_display(),
            line.get_metric_display(),
            line.units,
            Decimal(money_decimal_string(line.price_minor)),
            line.per_units,
            Decimal(money_decimal_string(line.amount_minor)),
            accrual.currency,
            status,
        ]


def destination_sharing_counts() -> dict[str, int]:
    """Fingerprints used by more than one influencer (F5), with how many influencers use each."""
    rows = (
        PayoutDestination.objects.values("fingerprint")
        .annotate(influencers=Count("influencer", distinct=True))
        .filter(influencers__gt=1)
    )
    return {row["fingerprint"]: row["influencers"] for row in rows}


# --- reconcile ------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    account_key: str
    cached_minor: int
    computed_minor: int


@dataclass(frozen=True)
class ReconcileReport:
    accounts: int
    transactions: int
    drifts: list[Drift]
    unbalanced_transactions: list[int]
    negative_internal_accounts: list[str]

    @property
    def ok(self) -> bool:
        return not (self.drifts or self.unbalanced_transactions or self.negative_internal_accounts)


def ledger_reconcile_report() -> ReconcileReport:
    """Recomputes every balance from the entries and compares it with the cached balance (M6)."""
    computed = dict(
        LedgerEntry.objects.values("account_id").annotate(total=Sum("amount_minor")).values_list("account_id", "total")
    )
    drifts = []
    negative = []
    accounts = list(LedgerAccount.objects.order_by("pk"))
    for account in accounts:
        total = int(computed.get(account.pk, 0) or 0)
        if total != account.balance_minor:
            drifts.append(Drift(account.key, account.balance_minor, total))
        if not account.is_external and total < 0:
            negative.append(account.key)
    unbalanced = list(
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .values_list("transaction_id", flat=True)
    )
    return ReconcileReport(
        accounts=len(accounts),
        transactions=LedgerTransaction.objects.count(),
        drifts=drifts,
        unbalanced_transactions=sorted(set(unbalanced)),
        negative_internal_accounts=negative,
    )
