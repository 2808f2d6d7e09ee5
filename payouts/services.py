"""Writes to the ledger. Nothing else creates ledger transactions.

Every booking goes through ``_post``: it merges and checks the entries (they must sum to
zero per currency), locks the touched accounts in primary-key order (no deadlocks between
bookings), refuses to take any internal account below zero, writes the immutable
transaction and entries and updates the cached balances, all in the caller's transaction.
Business events carry an ``idempotency_key`` so booking them twice books nothing new.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, F, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from linkilike.audit import audit_record
from linkilike.models import AuditAction
from payouts import tasks
from payouts.errors import (
    AlreadyReversed,
    BelowMinimumPayout,
    CardDeclined,
    CheckoutClosed,
    CheckoutNotFound,
    DuplicateReference,
    InsufficientFunds,
    InvalidDestination,
    PayoutsError,
    PayoutStateError,
    ProviderError,
    UnbalancedTransaction,
    UnsupportedCurrency,
)
from payouts.models import (
    EXTERNAL_KINDS,
    AccountKind,
    Charity,
    DestinationKind,
    EarningAccrual,
    EarningLine,
    Funding,
    FundingSource,
    FundingStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Metric,
    MetricSource,
    PayoutBatch,
    PayoutDestination,
    PayoutProviderName,
    PayoutRequest,
    PayoutStatus,
    ShareEarning,
    TransactionKind,
    WebhookEvent,
)
from payouts.money import money_format
from payouts.providers import funding_provider, payout_provider, payout_provider_class
from payouts.providers.base import CheckoutRequest, PayoutBatchRequest, PayoutItem
from payouts.providers.local_checkout import EXPIRED as LOCAL_CHECKOUT_EXPIRED
from payouts.providers.local_checkout import PAID as LOCAL_CHECKOUT_PAID
from payouts.providers.local_checkout import LocalCheckoutSession, card_decline_reason, local_checkout_session_load

if TYPE_CHECKING:
    from accounts.models import User
    from brands.models import Brand
    from campaigns.models import Campaign
    from influencers.models import InfluencerProfile

logger = logging.getLogger(__name__)

# --- accounts -------------------------------------------------------------------------


def _account_key(
    kind: str,
    currency: str,
    *,
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    influencer: InfluencerProfile | None = None,
) -> str:
    owner = ""
    if brand is not None:
        owner = f":brand={brand.pk}"
    elif campaign is not None:
        owner = f":campaign={campaign.pk}"
    elif influencer is not None:
        owner = f":influencer={influencer.pk}"
    return f"{kind}{owner}:{currency}"


def ledger_account_get_or_create(
    *,
    kind: str,
    currency: str,
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    influencer: InfluencerProfile | None = None,
) -> LedgerAccount:
    key = _account_key(kind, currency, brand=brand, campaign=campaign, influencer=influencer)
    account = LedgerAccount.objects.filter(key=key).first()
    if account is not None:
        return account
    account, _created = LedgerAccount.objects.get_or_create(
        key=key,
        defaults={
            "kind": kind,
            "currency": currency,
            "is_external": kind in EXTERNAL_KINDS,
            "brand": brand,
            "campaign": campaign,
            "influencer": influencer,
        },
    )
    return account


def brand_available_account(*, brand: Brand, currency: str) -> LedgerAccount:
    return ledger_account_get_or_create(kind=AccountKind.BRAND_AVAILABLE, currency=currency, brand=brand)


def campaign_reserved_account(*, campaign: Campaign) -> LedgerAccount:
    return ledger_account_get_or_create(
        kind=AccountKind.CAMPAIGN_RESERVED, currency=campaign.currency, campaign=campaign
    )


def influencer_account(*, influencer: InfluencerProfile, kind: str, currency: str) -> LedgerAccount:
    return ledger_account_get_or_create(kind=kind, currency=currency, influencer=influencer)


def platform_account(*, kind: str, currency: str) -> LedgerAccount:
    return ledger_account_get_or_create(kind=kind, currency=currency)


# --- posting --------------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """One line of a booking: positive credits the account, negative debits it."""

    account: LedgerAccount
    amount_minor: int


def _lock_accounts(accounts: Iterable[LedgerAccount]) -> dict[int, LedgerAccount]:
    ids = sorted({account.pk for account in accounts})
    locked = LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


def _shortfall_error(account: LedgerAccount, shortfall: int) -> InsufficientFunds:
    return InsufficientFunds(
        _("Not enough money: %(shortfall)s is missing.") % {"shortfall": money_format(shortfall, account.currency)},
        shortfall_minor=shortfall,
        currency=account.currency,
    )


def _post(
    *,
    kind: str,
    postings: Iterable[Posting],
    idempotency_key: str | None = None,
    description: str = "",
    brand: Brand | None = None,
    campaign: Campaign | None = None,
    influencer: InfluencerProfile | None = None,
    recorded_by: User | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("_post() must run inside transaction.atomic()")
    merged: dict[int, int] = defaultdict(int)
    by_id: dict[int, LedgerAccount] = {}
    for posting in postings:
        if not isinstance(posting.amount_minor, int) or isinstance(posting.amount_minor, bool):
            raise UnbalancedTransaction("ledger amounts must be int minor units")
        merged[posting.account.pk] += posting.amount_minor
        by_id[posting.account.pk] = posting.account
    lines = {pk: amount for pk, amount in merged.items() if amount != 0}
    if len(lines) < 2:
        raise UnbalancedTransaction("a ledger transaction needs at least two non-zero entries")
    per_currency: dict[str, int] = defaultdict(int)
    for pk, amount in lines.items():
        per_currency[by_id[pk].currency] += amount
    if any(total != 0 for total in per_currency.values()):
        raise UnbalancedTransaction(f"debits and credits differ: {dict(per_currency)}")

    locked = _lock_accounts(by_id[pk] for pk in lines)
    for pk, amount in lines.items():
        account = locked[pk]
        if not account.is_external and account.balance_minor + amount < 0:
            raise _shortfall_error(account, -(account.balance_minor + amount))

    txn = LedgerTransaction.objects.create(
        kind=kind,
        idempotency_key=idempotency_key,
        description=description[:300],
        brand=brand,
        campaign=campaign,
        influencer=influencer,
        recorded_by=recorded_by,
        reverses=reverses,
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(transaction=txn, account_id=pk, amount_minor=amount, currency=locked[pk].currency)
        for pk, amount in sorted(lines.items())
    )
    for pk, amount in lines.items():
        LedgerAccount.objects.filter(pk=pk).update(balance_minor=F("balance_minor") + amount)
    return txn


def _existing(idempotency_key: str) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()


def _locked_balance(account: LedgerAccount) -> int:
    return LedgerAccount.objects.select_for_update().values_list("balance_minor", flat=True).get(pk=account.pk)


# --- funding --------------------------------------------------------------------------


@transaction.atomic
def brand_fund(
    *,
    brand: Brand,
    amount_minor: int,
    currency: str,
    source: str,
    reference: str,
    recorded_by: User | None = None,
) -> LedgerTransaction:
    """Credits the brand's balance from the outside world. Same (source, reference) twice books once."""
    if amount_minor <= 0:
        raise PayoutsError(_("A top-up must be a positive amount."))
    if source not in FundingSource.values:
        raise PayoutsError(_("Unknown funding source."))
    reference = reference.strip()
    if not reference:
        raise PayoutsError(_("A top-up needs a reference."))
    funding = Funding.objects.select_for_update().filter(source=source, reference=reference).first()
    if funding is not None and (
        funding.brand_id != brand.pk or funding.amount_minor != amount_minor or funding.currency != currency
    ):
        raise DuplicateReference(
            _("The reference %(reference)s was already used for another top-up.") % {"reference": reference}
        )
    if funding is not None and funding.ledger_transaction_id is not None:
        return funding.ledger_transaction  # type: ignore[return-value]
    status_before = funding.status if funding is not None else None
    txn = _post(
        kind=TransactionKind.FUNDING,
        idempotency_key=f"fund:{source}:{reference}",
        description=_("Top-up by %(source)s, reference %(reference)s")
        % {"source": FundingSource(source).label, "reference": reference},
        brand=brand,
        recorded_by=recorded_by,
        postings=[
            Posting(platform_account(kind=AccountKind.EXTERNAL_FUNDING, currency=currency), -amount_minor),
            Posting(brand_available_account(brand=brand, currency=currency), amount_minor),
        ],
    )
    now = timezone.now()
    if funding is None:
        funding = Funding.objects.create(
            brand=brand,
            source=source,
            reference=reference,
            amount_minor=amount_minor,
            currency=currency,
            status=FundingStatus.COMPLETED,
            ledger_transaction=txn,
            created_by=recorded_by,
            completed_at=now,
        )
    else:
        funding.status = FundingStatus.COMPLETED
        funding.ledger_transaction = txn
        funding.completed_at = now
        funding.save(update_fields=["status", "ledger_transaction", "completed_at"])
    audit_record(
        action=AuditAction.FUNDING_CONFIRMED,
        target=funding,
        actor=recorded_by,
        before={"status": status_before},
        after={
            "status": funding.status,
            "amount_minor": amount_minor,
            "currency": currency,
            "source": source,
            "reference": reference,
            "ledger_transaction_id": txn.pk,
        },
        brand_id=brand.pk,
    )
    return txn


@transaction.atomic
def brand_refund(
    *, brand: Brand, amount_minor: int, currency: str, reference: str, recorded_by: User | None = None
) -> LedgerTransaction:
    """Pays unreserved money back to the brand (staff). Refused beyond the available balance."""
    if amount_minor <= 0:
        raise PayoutsError(_("A refund must be a positive amount."))
    key = f"refund:{brand.pk}:{reference}"
    existing = _existing(key)
    if existing is not None:
        return existing
    refund = _post(
        kind=TransactionKind.REFUND,
        idempotency_key=key,
        description=_("Refund to the brand, reference %(reference)s") % {"reference": reference},
        brand=brand,
        recorded_by=recorded_by,
        postings=[
            Posting(brand_available_account(brand=brand, currency=currency), -amount_minor),
            Posting(platform_account(kind=AccountKind.EXTERNAL_FUNDING, currency=currency), amount_minor),
        ],
    )
    audit_record(
        action=AuditAction.REFUND_BOOKED,
        target=refund,
        actor=recorded_by,
        after={"amount_minor": amount_minor, "currency": currency, "reference": reference},
        brand_id=brand.pk,
    )
    return refund


REVERSIBLE_KINDS = frozenset({TransactionKind.FUNDING, TransactionKind.REFUND})


@transaction.atomic
def ledger_transaction_reverse(
    *, ledger_transaction: LedgerTransaction, reason: str, recorded_by: User | None = None
) -> LedgerTransaction:
    """Corrects a top-up or refund booked by mistake with a mirror transaction (entries are never edited).

    Other kinds have their own reversing services (earnings, payouts) that keep their records in step.
    """
    original = LedgerTransaction.objects.select_for_update().get(pk=ledger_transaction.pk)
    if original.kind not in REVERSIBLE_KINDS:
        raise PayoutsError(_("Only top-ups and refunds can be corrected by a reversal."))
    if LedgerTransaction.objects.filter(reverses=original).exists():
        raise AlreadyReversed(_("This transaction was already reversed."))
    entries = list(original.entries.select_related("account"))
    reversal = _post(
        kind=TransactionKind.REVERSAL,
        idempotency_key=f"reverse:{original.pk}",
        description=_("Reversal of #%(id)s: %(reason)s") % {"id": original.pk, "reason": reason},
        brand=original.brand,
        campaign=original.campaign,
        influencer=original.influencer,
        recorded_by=recorded_by,
        reverses=original,
        postings=[Posting(entry.account, -entry.amount_minor) for entry in entries],
    )
    audit_record(
        action=AuditAction.LEDGER_REVERSED,
        target=original,
        actor=recorded_by,
        before={"kind": original.kind, "reversed_by": None},
        after={"kind": original.kind, "reversed_by": reversal.pk},
        reason=reason,
        brand_id=original.brand_id,
    )
    return reversal


# --- campaign budget ------------------------------------------------------------------


def _reserve_key(campaign: Campaign) -> str:
    return f"campaign:{campaign.pk}:reserve"


def _release_key(campaign: Campaign) -> str:
    return f"campaign:{campaign.pk}:release"


def _lock_campaign(campaign: Campaign) -> Campaign:
    model = type(campaign)
    return model.objects.select_for_update().select_related("brand").get(pk=campaign.pk)


CLOSED_CAMPAIGN_STATUSES = frozenset({"completed", "cancelled"})


def campaign_reservation_active(*, campaign: Campaign) -> bool:
    """Reserved and not yet released: earnings may draw on it, reversals refill it."""
    return (
        campaign.status not in CLOSED_CAMPAIGN_STATUSES
        and LedgerTransaction.objects.filter(idempotency_key=_reserve_key(campaign)).exists()
        and not LedgerTransaction.objects.filter(idempotency_key=_release_key(campaign)).exists()
    )


@transaction.atomic
def campaign_budget_reserve(*, campaign: Campaign) -> LedgerTransaction:
    """Moves the campaign's budget from the brand's balance into its reservation (once).

    Raises ``InsufficientFunds`` naming the shortfall when the brand's balance is too low.
    """
    campaign = _lock_campaign(campaign)
    existing = _existing(_reserve_key(campaign))
    if existing is not None:
        return existing
    amount = campaign.budget_minor
    if amount <= 0:
        raise PayoutsError(_("The campaign needs a budget above zero before it can run."))
    available = brand_available_account(brand=campaign.brand, currency=campaign.currency)
    balance = _locked_balance(available)
    if balance < amount:
        raise InsufficientFunds(
            _(
                "The brand balance is %(balance)s but the budget is %(budget)s: %(shortfall)s is missing. "
                "Top up the workspace first."
            )
            % {
                "balance": money_format(balance, campaign.currency),
                "budget": money_format(amount, campaign.currency),
                "shortfall": money_format(amount - balance, campaign.currency),
            },
            shortfall_minor=amount - balance,
            currency=campaign.currency,
        )
    reservation = _post(
        kind=TransactionKind.RESERVATION,
        idempotency_key=_reserve_key(campaign),
        description=_("Budget reserved for %(campaign)s") % {"campaign": campaign.name},
        brand=campaign.brand,
        campaign=campaign,
        postings=[
            Posting(available, -amount),
            Posting(campaign_reserved_account(campaign=campaign), amount),
        ],
    )
    audit_record(
        action=AuditAction.BUDGET_RESERVED,
        target=campaign,
        before={"brand_available_minor": balance, "reserved_minor": 0},
        after={"brand_available_minor": balance - amount, "reserved_minor": amount, "currency": campaign.currency},
        brand_id=campaign.brand_id,
    )
    return reservation


@transaction.atomic
def campaign_budget_release(*, campaign: Campaign) -> LedgerTransaction | None:
    """Returns what is still reserved and unearned to the brand's balance; None if nothing is reserved."""
    campaign = _lock_campaign(campaign)
    if _existing(_reserve_key(campaign)) is None or _existing(_release_key(campaign)) is not None:
        return None
    reserved = campaign_reserved_account(campaign=campaign)
    remaining = _locked_balance(reserved)
    if remaining <= 0:
        # Nothing left: mark the reservation closed with no money moving.
        return None
    release = _post(
        kind=TransactionKind.RELEASE,
        idempotency_key=_release_key(campaign),
        description=_("Unused budget of %(campaign)s returned") % {"campaign": campaign.name},
        brand=campaign.brand,
        campaign=campaign,
        postings=[
            Posting(reserved, -remaining),
            Posting(brand_available_account(brand=campaign.brand, currency=campaign.currency), remaining),
        ],
    )
    audit_record(
        action=AuditAction.BUDGET_RELEASED,
        target=campaign,
        before={"reserved_minor": remaining},
        after={"reserved_minor": 0, "released_minor": remaining, "currency": campaign.currency},
        brand_id=campaign.brand_id,
    )
    return release


# --- settings -------------------------------------------------------------------------


def hold_period() -> timedelta:
    return timedelta(days=int(getattr(settings, "PAYOUTS_HOLD_DAYS", 14)))


def minimum_payout_minor() -> int:
    return int(getattr(settings, "PAYOUTS_MINIMUM_MINOR", 2000))


# --- earnings -------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricDelta:
    """Verified change of one share's metrics in one window (signed: purged fakes arrive negative).

    ``share_key`` identifies the share (the shares issue passes its id); ``window`` names the
    metrics window ("2026-05-01T10:00/+24h"); (share_key, window) books at most once.
    """

    share_key: str
    campaign_id: int
    influencer_id: int
    window: str
    impressions: int = 0
    engagements: int = 0
    unique_clicks: int = 0
    source: str = MetricSource.NETWORK_REPORTED


@dataclass(frozen=True)
class MetricAmounts:
    reach: int
    engagements: int
    unique_clicks: int

    @property
    def total(self) -> int:
        return self.reach + self.engagements + self.unique_clicks


def metric_amounts(*, campaign: Campaign, impressions: int, engagements: int, unique_clicks: int) -> MetricAmounts:
    """What cumulative counts are worth at the campaign's prices (integer math; CPM floors once, on the total).

    Computing on cumulative totals and booking the difference means rounding never loses or creates a cent:
    the sum of all bookings always equals the value of the final totals.
    """
    return MetricAmounts(
        reach=impressions * (campaign.cpm_minor or 0) // 1000,
        engagements=engagements * (campaign.cpe_minor or 0),
        unique_clicks=unique_clicks * (campaign.cpc_minor or 0),
    )


#: The fee is in basis points of the earnings: 1500 = 15 %.
FEE_BPS_DENOMINATOR = 10_000


def platform_fee_minor(*, earned_minor: int, fee_bps: int) -> int:
    """The platform fee on a share's cumulative earnings (on top, paid by the brand), rounded half up.

    The one rounding rule of the fee (ADR 7): the exact fee ``earned * bps / 10,000`` rounded to the
    nearest minor unit, a half going up (0.90 at 15 % is 0.135: 0.14). Commercial rounding, as on an
    invoice; cumulative earnings are never negative, so "half up" and "half away from zero" agree.
    ``payouts.earnings_batch.platform_fee_sql`` is the same rule in SQL; the property tests in
    ``payouts/tests/test_fee_rounding.py`` hold both to it.
    """
    return (earned_minor * fee_bps + FEE_BPS_DENOMINATOR // 2) // FEE_BPS_DENOMINATOR


def _affordable(*, want: int, earned_before: int, fee_before: int, fee_bps: int, remaining: int) -> int:
    """Largest e in [0, want] whose earnings plus extra fee fit in what is still reserved."""

    def cost(extra: int) -> int:
        return extra + platform_fee_minor(earned_minor=earned_before + extra, fee_bps=fee_bps) - fee_before

    if cost(want) <= remaining:
        return want
    if cost(0) > remaining:
        return 0
    low, high = 0, want
    while low < high:
        middle = (low + high + 1) // 2
        if cost(middle) <= remaining:
            low = middle
        else:
            high = middle - 1
    return low


#: A ``share_key`` naming a ``campaigns.Share`` by its id (metrics and clicks pass ``str(share.pk)``).
SHARE_ID_KEY = "[0-9]{1,18}"


def sandbox_earning_refused(*, delta: MetricDelta, campaign: Campaign) -> bool:
    """A delta that could earn for a sandbox share of a brand that is not a demo brand: never booked.

    The last line of defence behind matching, publishing and metrics: a simulated audience must not
    earn real money from a real brand. A pure reversal still goes through (it only gives money back).
    ``payouts.earnings_batch`` applies the same rule in SQL.
    """
    from campaigns.models import Share
    from networks.models import Network

    if campaign.brand.is_demo or max(delta.impressions, delta.engagements, delta.unique_clicks) <= 0:
        return False
    if not re.fullmatch(SHARE_ID_KEY, delta.share_key):
        return False
    return Share.objects.filter(
        pk=int(delta.share_key), campaign_id=campaign.pk, connected_account__network=Network.SANDBOX
    ).exists()


# Not in the audit trail (nor are reversals of fallen metrics and hold releases): accruals are
# per-click and per-metric-window, high volume and machine-made; the immutable ledger is their trail.
@transaction.atomic
def earnings_accrue(*, delta: MetricDelta, now: datetime | None = None) -> EarningAccrual:
    """Turns one verified metrics window of a share into earnings (or reversals). Idempotent per window."""
    from campaigns.models import Campaign
    from influencers.models import InfluencerProfile

    if delta.source not in MetricSource.values:
        raise PayoutsError(_("Only verified metrics (reported by the network or measured by us) earn money."))
    campaign = Campaign.objects.select_for_update().select_related("brand").get(pk=delta.campaign_id)
    if sandbox_earning_refused(delta=delta, campaign=campaign):
        raise PayoutsError(_("A share on the sandbox network earns money only for a demo brand."))
    influencer = InfluencerProfile.objects.get(pk=delta.influencer_id)
    share, _created = ShareEarning.objects.get_or_create(
        share_key=delta.share_key, defaults={"campaign": campaign, "influencer": influencer}
    )
    share = ShareEarning.objects.select_for_update().get(pk=share.pk)
    if share.campaign_id != campaign.pk or share.influencer_id != influencer.pk:
        raise PayoutsError(_("This share belongs to another campaign or influencer."))
    existing = EarningAccrual.objects.filter(share=share, window=delta.window).first()
    if existing is not None:
        return existing

    counts_before = (share.impressions, share.engagements, share.unique_clicks)
    counts_after = (
        max(0, share.impressions + delta.impressions),
        max(0, share.engagements + delta.engagements),
        max(0, share.unique_clicks + delta.unique_clicks),
    )
    before = metric_amounts(
        campaign=campaign, impressions=counts_before[0], engagements=counts_before[1], unique_clicks=counts_before[2]
    )
    after = metric_amounts(
        campaign=campaign, impressions=counts_after[0], engagements=counts_after[1], unique_clicks=counts_after[2]
    )
    target = after.total
    if campaign.per_share_cap_minor is not None:
        target = min(target, campaign.per_share_cap_minor)
    wanted = target - share.earned_minor
    reservation_open = campaign_reservation_active(campaign=campaign)
    reserved = campaign_reserved_account(campaign=campaign)
    if wanted > 0:
        remaining = _locked_balance(reserved) if reservation_open else 0
        earned = _affordable(
            want=wanted,
            earned_before=share.earned_minor,
            fee_before=share.fee_minor,
            fee_bps=campaign.platform_fee_bps,
            remaining=remaining,
        )
    else:
        earned = wanted
    fee_after = platform_fee_minor(earned_minor=share.earned_minor + earned, fee_bps=campaign.platform_fee_bps)
    fee_delta = fee_after - share.fee_minor if earned else 0
    now = now or timezone.now()
    accrual = EarningAccrual(
        share=share,
        window=delta.window,
        campaign=campaign,
        influencer=influencer,
        source=delta.source,
        currency=campaign.currency,
        earned_minor=earned,
        fee_minor=fee_delta,
        pending_minor=max(earned, 0),
        hold_until=now + hold_period(),
    )
    if earned > 0:
        fees = platform_account(kind=AccountKind.PLATFORM_FEES, currency=campaign.currency)
        accrual.ledger_transaction = _post(
            kind=TransactionKind.EARNING,
            idempotency_key=f"earn:{share.pk}:{delta.window}"[:200],
            description=_("Earnings of share %(share)s, window %(window)s")
            % {"share": share.share_key, "window": delta.window},
            brand=campaign.brand,
            campaign=campaign,
            influencer=influencer,
            postings=[
                Posting(reserved, -(earned + fee_delta)),
                Posting(
                    influencer_account(
                        influencer=influencer, kind=AccountKind.INFLUENCER_PENDING, currency=campaign.currency
                    ),
                    earned,
                ),
                Posting(fees, fee_delta),
            ],
        )
    elif earned < 0:
        accrual.ledger_transaction = _earnings_reverse(
            share=share,
            campaign=campaign,
            influencer=influencer,
            window=delta.window,
            amount=-earned,
            fee_amount=-fee_delta,
            refill=reserved
            if reservation_open
            else brand_available_account(brand=campaign.brand, currency=campaign.currency),
        )
    accrual.save()
    _explain(
        accrual=accrual,
        campaign=campaign,
        counts_before=counts_before,
        counts_after=counts_after,
        before=before,
        after=after,
    )
    share.impressions, share.engagements, share.unique_clicks = counts_after
    share.earned_minor += earned
    share.fee_minor += fee_delta
    share.save(update_fields=["impressions", "engagements", "unique_clicks", "earned_minor", "fee_minor", "updated_at"])
    return accrual


def _earnings_reverse(
    *,
    share: ShareEarning,
    campaign: Campaign,
    influencer: InfluencerProfile,
    window: str,
    amount: int,
    fee_amount: int,
    refill: LedgerAccount,
) -> LedgerTransaction:
    """Takes earnings back: first from what is still on hold, then from the available balance; what was
    already paid out is written off by the platform (the brand gets its money back either way)."""
    currency = campaign.currency
    from_pending = 0
    for held in EarningAccrual.objects.select_for_update().filter(share=share, pending_minor__gt=0).order_by("-pk"):
        take = min(held.pending_minor, amount - from_pending)
        if take <= 0:
            break
        held.pending_minor -= take
        held.save(update_fields=["pending_minor"])
        from_pending += take
    available = influencer_account(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE, currency=currency)
    from_available = min(amount - from_pending, max(_locked_balance(available), 0))
    written_off = amount - from_pending - from_available
    return _post(
        kind=TransactionKind.EARNING_REVERSAL,
        idempotency_key=f"earn:{share.pk}:{window}"[:200],
        description=_("Metrics of share %(share)s fell in window %(window)s")
        % {"share": share.share_key, "window": window},
        brand=campaign.brand,
        campaign=campaign,
        influencer=influencer,
        postings=[
            Posting(
                influencer_account(influencer=influencer, kind=AccountKind.INFLUENCER_PENDING, currency=currency),
                -from_pending,
            ),
            Posting(available, -from_available),
            Posting(platform_account(kind=AccountKind.EXTERNAL_WRITE_OFF, currency=currency), -written_off),
            Posting(platform_account(kind=AccountKind.PLATFORM_FEES, currency=currency), -fee_amount),
            Posting(refill, amount + fee_amount),
        ],
    )


def _explain(
    *,
    accrual: EarningAccrual,
    campaign: Campaign,
    counts_before: tuple[int, int, int],
    counts_after: tuple[int, int, int],
    before: MetricAmounts,
    after: MetricAmounts,
) -> None:
    lines = [
        EarningLine(
            accrual=accrual,
            metric=Metric.REACH,
            units=counts_after[0] - counts_before[0],
            price_minor=campaign.cpm_minor or 0,
            per_units=1000,
            amount_minor=after.reach - before.reach,
        ),
        EarningLine(
            accrual=accrual,
            metric=Metric.ENGAGEMENTS,
            units=counts_after[1] - counts_before[1],
            price_minor=campaign.cpe_minor or 0,
            amount_minor=after.engagements - before.engagements,
        ),
        EarningLine(
            accrual=accrual,
            metric=Metric.UNIQUE_CLICKS,
            units=counts_after[2] - counts_before[2],
            price_minor=campaign.cpc_minor or 0,
            amount_minor=after.unique_clicks - before.unique_clicks,
        ),
    ]
    lines = [line for line in lines if line.units or line.amount_minor]
    adjustment = accrual.earned_minor - sum(line.amount_minor for line in lines)
    if adjustment:
        lines.append(EarningLine(accrual=accrual, metric=Metric.CAP, amount_minor=adjustment))
    EarningLine.objects.bulk_create(lines)


@transaction.atomic
def earnings_release_due(*, now: datetime | None = None) -> int:
    """Moves earnings whose hold period is over from pending to available. Returns the bookings made."""
    now = now or timezone.now()
    from campaigns.models import Share, ShareHold
    from networks.models import Network

    # A share on review hold (F2/F3) keeps its earnings pending until staff release the hold.
    held_share_keys = (
        ShareHold.objects.filter(released_at__isnull=True)
        .annotate(key=Cast("share_id", output_field=CharField()))
        .values("key")
    )
    # What a sandbox share of a brand that is not (or no longer) a demo brand earned before the sandbox
    # gate stays pending for staff to reverse: a simulated audience never becomes money to take out.
    sandbox_not_demo = (
        Share.objects.filter(
            campaign_id=OuterRef("campaign_id"),
            connected_account__network=Network.SANDBOX,
            campaign__brand__is_demo=False,
        )
        .annotate(key=Cast("pk", output_field=CharField()))
        .filter(key=OuterRef("share__share_key"))
    )
    due = list(
        EarningAccrual.objects.select_for_update()
        .filter(hold_until__lte=now, pending_minor__gt=0)
        .exclude(share__share_key__in=held_share_keys)
        .exclude(Exists(sandbox_not_demo))
        .select_related("influencer")
        .order_by("influencer_id", "currency", "pk")
    )
    groups: dict[tuple[int, str], list[EarningAccrual]] = defaultdict(list)
    for accrual in due:
        groups[(accrual.influencer_id, accrual.currency)].append(accrual)
    for (_influencer_id, currency), accruals in groups.items():
        influencer = accruals[0].influencer
        total = sum(accrual.pending_minor for accrual in accruals)
        _post(
            kind=TransactionKind.HOLD_RELEASE,
            idempotency_key=f"hold:{influencer.pk}:{currency}:{accruals[-1].pk}:{total}",
            description=_("Hold period over for %(count)d earnings") % {"count": len(accruals)},
            influencer=influencer,
            postings=[
                Posting(
                    influencer_account(influencer=influencer, kind=AccountKind.INFLUENCER_PENDING, currency=currency),
                    -total,
                ),
                Posting(
                    influencer_account(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE, currency=currency),
                    total,
                ),
            ],
        )
        EarningAccrual.objects.filter(pk__in=[accrual.pk for accrual in accruals]).update(pending_minor=0)
    return len(groups)


# --- payout destinations --------------------------------------------------------------


def iban_normalize(iban: str) -> str:
    return "".join(iban.split()).upper()


def iban_is_valid(iban: str) -> bool:
    """ISO 13616: two letters, two check digits, up to 30 alphanumerics; mod 97 of the rearranged number is 1."""
    iban = iban_normalize(iban)
    if not (15 <= len(iban) <= 34) or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    if not iban.isascii():
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


@transaction.atomic
def payout_destination_add(
    *,
    influencer: InfluencerProfile,
    kind: str,
    holder_name: str = "",
    iban: str = "",
    bic: str = "",
    paypal_email: str = "",
    stripe_account: str = "",
) -> PayoutDestination:
    """Adds (or returns) a verified destination: an IBAN passing its check digits, a PayPal email or a
    Stripe Connect account id."""
    # Only the chosen method's details are kept: the others may arrive filled in (a form's hidden fields).
    if kind == DestinationKind.SEPA:
        iban = iban_normalize(iban)
        if not holder_name.strip():
            raise InvalidDestination(_("Enter the name of the account holder."), field="holder_name")
        if not iban:
            raise InvalidDestination(_("Enter your IBAN."), field="iban")
        if not iban_is_valid(iban):
            raise InvalidDestination(_("This IBAN is not valid. Check it for typos."), field="iban")
        paypal_email = stripe_account = ""
        fingerprint = f"iban:{iban}"
    elif kind == DestinationKind.PAYPAL:
        paypal_email = paypal_email.strip().lower()
        if "@" not in paypal_email or "." not in paypal_email.rpartition("@")[2]:
            raise InvalidDestination(_("Enter the email address of your PayPal account."), field="paypal_email")
        holder_name = iban = bic = stripe_account = ""
        fingerprint = f"paypal:{paypal_email}"
    elif kind == DestinationKind.STRIPE:
        stripe_account = stripe_account.strip()
        if not stripe_account.startswith("acct_") or not stripe_account[5:].isalnum():
            raise InvalidDestination(_("A Stripe Connect account id looks like acct_1A2b3C."), field="stripe_account")
        holder_name = iban = bic = paypal_email = ""
        fingerprint = f"stripe:{stripe_account}"
    else:
        raise InvalidDestination(_("Choose how you want to be paid."), field="kind")
    destination, created = PayoutDestination.objects.get_or_create(
        influencer=influencer,
        fingerprint=fingerprint,
        defaults={
            "kind": kind,
            "holder_name": holder_name.strip(),
            "iban": iban,
            "bic": bic.strip().upper(),
            "paypal_email": paypal_email,
            "stripe_account": stripe_account,
            "verified_at": timezone.now(),
        },
    )
    if created:
        # audit_record masks the IBAN, PayPal address and Stripe account id.
        audit_record(
            action=AuditAction.PAYOUT_DESTINATION_ADDED,
            target=destination,
            after={
                "kind": kind,
                "holder_name": destination.holder_name,
                "iban": iban,
                "paypal_email": paypal_email,
                "stripe_account": stripe_account,
            },
        )
    return destination


# --- payouts --------------------------------------------------------------------------


PROVIDER_FOR_DESTINATION = {
    DestinationKind.SEPA: PayoutProviderName.SEPA,
    DestinationKind.PAYPAL: PayoutProviderName.PAYPAL,
    DestinationKind.STRIPE: PayoutProviderName.STRIPE,
}


def _currency_refused(*, provider: str, currency: str, charity: Charity | None) -> UnsupportedCurrency:
    if charity is not None:
        return UnsupportedCurrency(
            _(
                "Donations are paid by bank transfer in EUR only, so your %(currency)s balance cannot be donated. "
                "You can withdraw it to a PayPal account instead."
            )
            % {"currency": currency}
        )
    if provider == PayoutProviderName.SEPA:
        return UnsupportedCurrency(
            _(
                "Bank transfers (SEPA) are paid in EUR only. To withdraw your %(currency)s balance, "
                "choose or add a PayPal account."
            )
            % {"currency": currency}
        )
    supported = ", ".join(sorted(payout_provider_class(provider).currencies))
    return UnsupportedCurrency(
        _("%(provider)s pays out in %(supported)s only, not in %(currency)s.")
        % {"provider": PayoutProviderName(provider).label, "supported": supported, "currency": currency}
    )


@transaction.atomic
def payout_request(
    *,
    influencer: InfluencerProfile,
    amount_minor: int,
    currency: str,
    destination: PayoutDestination | None = None,
    charity: Charity | None = None,
) -> PayoutRequest:
    """Sets money aside from the influencer's ``currency`` balance for a payout (or a donation).

    No default currency: the caller names the balance the person chose, and a destination whose
    provider cannot pay that currency is refused here, before anything is set aside.
    """
    if (destination is None) == (charity is None):
        raise InvalidDestination(_("Choose either one of your payout accounts or a charity."))
    if destination is not None and (destination.influencer_id != influencer.pk or destination.verified_at is None):
        raise InvalidDestination(_("Choose one of your verified payout accounts."))
    if charity is not None and not charity.is_active:
        raise InvalidDestination(_("This charity is no longer on the list."))
    provider = PayoutProviderName.SEPA if charity else PROVIDER_FOR_DESTINATION[DestinationKind(destination.kind)]  # type: ignore[union-attr]
    if currency not in payout_provider_class(provider).currencies:
        raise _currency_refused(provider=provider, currency=currency, charity=charity)
    minimum = minimum_payout_minor()
    if amount_minor < minimum:
        raise BelowMinimumPayout(_("The minimum payout is %(minimum)s.") % {"minimum": money_format(minimum, currency)})
    available = influencer_account(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE, currency=currency)
    balance = _locked_balance(available)
    if balance < amount_minor:
        raise InsufficientFunds(
            _("You have %(balance)s available, %(shortfall)s less than the %(amount)s you asked for.")
            % {
                "balance": money_format(balance, currency),
                "shortfall": money_format(amount_minor - balance, currency),
                "amount": money_format(amount_minor, currency),
            },
            shortfall_minor=amount_minor - balance,
            currency=currency,
        )
    txn = _post(
        kind=TransactionKind.PAYOUT_REQUEST,
        description=_("Donation requested") if charity else _("Payout requested"),
        influencer=influencer,
        postings=[
            Posting(available, -amount_minor),
            Posting(
                influencer_account(influencer=influencer, kind=AccountKind.PAYOUTS_IN_FLIGHT, currency=currency),
                amount_minor,
            ),
        ],
    )
    payout = PayoutRequest.objects.create(
        influencer=influencer,
        amount_minor=amount_minor,
        currency=currency,
        destination=destination,
        charity=charity,
        provider=provider,
        request_transaction=txn,
    )
    audit_record(
        action=AuditAction.PAYOUT_REQUESTED,
        target=payout,
        before={"available_minor": balance},
        after={
            "available_minor": balance - amount_minor,
            "amount_minor": amount_minor,
            "currency": currency,
            "status": payout.status,
            "destination": str(destination) if destination is not None else None,
            "charity_id": charity.pk if charity is not None else None,
        },
    )
    return payout


def _lock_payout(payout: PayoutRequest) -> PayoutRequest:
    return PayoutRequest.objects.select_for_update().select_related("influencer").get(pk=payout.pk)


@transaction.atomic
def payout_approve(*, payout: PayoutRequest, reviewed_by: User | None) -> PayoutRequest:
    payout = _lock_payout(payout)
    if payout.status != PayoutStatus.REQUESTED:
        raise PayoutStateError(_("Only payouts waiting for review can be approved."))
    payout.status = PayoutStatus.APPROVED
    payout.reviewed_by = reviewed_by
    payout.reviewed_at = timezone.now()
    payout.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit_record(
        action=AuditAction.PAYOUT_APPROVED,
        target=payout,
        actor=reviewed_by,
        before={"status": PayoutStatus.REQUESTED},
        after={"status": payout.status, "amount_minor": payout.amount_minor, "currency": payout.currency},
    )
    transaction.on_commit(partial(tasks.payout_status_email_send.delay, payout.pk, payout.status))
    return payout


def _return_to_available(payout: PayoutRequest, *, from_kind: str, kind: str, key: str, reason: str) -> None:
    influencer = payout.influencer
    _post(
        kind=kind,
        idempotency_key=key,
        description=reason,
        influencer=influencer,
        postings=[
            Posting(
                influencer_account(influencer=influencer, kind=from_kind, currency=payout.currency)
                if from_kind != AccountKind.EXTERNAL_PAYOUT_CLEARING
                else platform_account(kind=from_kind, currency=payout.currency),
                -payout.amount_minor,
            ),
            Posting(
                influencer_account(
                    influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE, currency=payout.currency
                ),
                payout.amount_minor,
            ),
        ],
    )


@transaction.atomic
def payout_reject(*, payout: PayoutRequest, reviewed_by: User | None, reason: str) -> PayoutRequest:
    payout = _lock_payout(payout)
    if payout.status not in (PayoutStatus.REQUESTED, PayoutStatus.APPROVED) or payout.batch_id is not None:
        raise PayoutStateError(_("Only payouts not yet in a batch can be rejected."))
    status_before = payout.status
    _return_to_available(
        payout,
        from_kind=AccountKind.PAYOUTS_IN_FLIGHT,
        kind=TransactionKind.PAYOUT_RETURN,
        key=f"payout:{payout.pk}:return",
        reason=_("Payout rejected: %(reason)s") % {"reason": reason},
    )
    payout.status = PayoutStatus.REJECTED
    payout.failure_reason = reason[:300]
    payout.reviewed_by = reviewed_by
    payout.reviewed_at = timezone.now()
    payout.save(update_fields=["status", "failure_reason", "reviewed_by", "reviewed_at"])
    audit_record(
        action=AuditAction.PAYOUT_REJECTED,
        target=payout,
        actor=reviewed_by,
        before={"status": status_before},
        after={"status": payout.status, "returned_minor": payout.amount_minor, "currency": payout.currency},
        reason=reason,
    )
    transaction.on_commit(partial(tasks.payout_status_email_send.delay, payout.pk, payout.status))
    return payout


@transaction.atomic
def payout_mark_sent(*, payout: PayoutRequest, provider_reference: str = "") -> PayoutRequest:
    payout = _lock_payout(payout)
    if payout.status == PayoutStatus.SENT:
        return payout
    if payout.status != PayoutStatus.APPROVED:
        raise PayoutStateError(_("Only approved payouts can be sent."))
    _post(
        kind=TransactionKind.PAYOUT_SENT,
        idempotency_key=f"payout:{payout.pk}:sent",
        description=_("Payout sent"),
        influencer=payout.influencer,
        postings=[
            Posting(
                influencer_account(
                    influencer=payout.influencer, kind=AccountKind.PAYOUTS_IN_FLIGHT, currency=payout.currency
                ),
                -payout.amount_minor,
            ),
            Posting(
                platform_account(kind=AccountKind.EXTERNAL_PAYOUT_CLEARING, currency=payout.currency),
                payout.amount_minor,
            ),
        ],
    )
    payout.status = PayoutStatus.SENT
    payout.provider_reference = provider_reference[:200]
    payout.sent_at = timezone.now()
    payout.save(update_fields=["status", "provider_reference", "sent_at"])
    audit_record(
        action=AuditAction.PAYOUT_SENT,
        target=payout,
        before={"status": PayoutStatus.APPROVED},
        after={
            "status": payout.status,
            "amount_minor": payout.amount_minor,
            "currency": payout.currency,
            "provider_reference": payout.provider_reference,
        },
    )
    transaction.on_commit(partial(tasks.payout_status_email_send.delay, payout.pk, payout.status))
    return payout


@transaction.atomic
def payout_mark_failed(*, payout: PayoutRequest, reason: str) -> PayoutRequest:
    """A provider refused the payout, or the bank returned it: the money goes back to the balance."""
    payout = _lock_payout(payout)
    if payout.status == PayoutStatus.FAILED:
        return payout
    if payout.status == PayoutStatus.APPROVED:
        from_kind = AccountKind.PAYOUTS_IN_FLIGHT
    elif payout.status == PayoutStatus.SENT:
        from_kind = AccountKind.EXTERNAL_PAYOUT_CLEARING
    else:
        raise PayoutStateError(_("Only approved or sent payouts can fail."))
    status_before = payout.status
    _return_to_available(
        payout,
        from_kind=from_kind,
        kind=TransactionKind.PAYOUT_RETURN,
        key=f"payout:{payout.pk}:return",
        reason=_("Payout failed: %(reason)s") % {"reason": reason},
    )
    payout.status = PayoutStatus.FAILED
    payout.failure_reason = reason[:300]
    payout.save(update_fields=["status", "failure_reason"])
    audit_record(
        action=AuditAction.PAYOUT_FAILED,
        target=payout,
        before={"status": status_before},
        after={"status": payout.status, "returned_minor": payout.amount_minor, "currency": payout.currency},
        reason=reason,
    )
    transaction.on_commit(partial(tasks.payout_status_email_send.delay, payout.pk, payout.status))
    return payout


# --- card checkout and webhooks -------------------------------------------------------

MAX_TOP_UP_MINOR = 100_000_000
EXPIRED_EVENTS = frozenset({"checkout.session.expired", "checkout.session.async_payment_failed"})


def funding_checkout_start(
    *, brand: Brand, amount_minor: int, currency: str, created_by: User, success_url: str, cancel_url: str
) -> Funding:
    """Opens a hosted card checkout for a top-up; the webhook books the money when it is paid."""
    if not 0 < amount_minor <= MAX_TOP_UP_MINOR:
        raise PayoutsError(
            _("Enter an amount between %(low)s and %(high)s.")
            % {
                "low": money_format(1, currency),
                "high": money_format(MAX_TOP_UP_MINOR, currency),
            }
        )
    client_reference = f"{brand.slug}-{secrets.token_hex(8)}"
    try:
        start = funding_provider(FundingSource.CARD).start(
            CheckoutRequest(
                brand_slug=brand.slug,
                amount_minor=amount_minor,
                currency=currency,
                success_url=success_url,
                cancel_url=cancel_url,
                client_reference=client_reference,
                description=f"Linkilike top-up for {brand.name}",
                brand_name=brand.name,
            )
        )
    except ProviderError as error:
        logger.warning("card checkout could not start: %s", error)
        raise PayoutsError(_("The card payment page could not be opened. Please try again in a minute.")) from error
    return Funding.objects.create(
        brand=brand,
        source=FundingSource.CARD,
        reference=start.reference,
        amount_minor=amount_minor,
        currency=currency,
        status=FundingStatus.OPEN,
        checkout_url=start.url,
        created_by=created_by,
    )


def funding_webhook_process(*, provider_name: str, payload: bytes, headers: Mapping[str, str]) -> WebhookEvent:
    """Verifies a provider webhook and books a paid top-up exactly once (the event id is unique)."""
    event = funding_provider(provider_name).parse_webhook(payload=payload, headers=headers)
    with transaction.atomic():
        record, created = WebhookEvent.objects.get_or_create(
            provider=provider_name,
            event_id=event.event_id,
            defaults={"event_type": event.event_type, "payload": dict(event.payload)},
        )
        if not created:
            return record
        if event.event_type in EXPIRED_EVENTS:
            Funding.objects.filter(source=provider_name, reference=event.reference, status=FundingStatus.OPEN).update(
                status=FundingStatus.EXPIRED
            )
            return record
        if not event.paid:
            return record
        funding = (
            Funding.objects.select_for_update()
            .select_related("brand")
            .filter(source=provider_name, reference=event.reference)
            .first()
        )
        if funding is None:
            logger.warning("webhook %s for unknown checkout %s", event.event_id, event.reference)
            return record
        if funding.amount_minor != event.amount_minor or funding.currency != event.currency:
            logger.error("webhook %s amount differs from checkout %s", event.event_id, funding.pk)
            return record
        brand_fund(
            brand=funding.brand,
            amount_minor=funding.amount_minor,
            currency=funding.currency,
            source=funding.source,
            reference=funding.reference,
        )
    return record


# --- the test-mode card checkout (development and demos) ------------------------------


def _local_checkout_open(token: str) -> LocalCheckoutSession:
    """The session behind a test checkout address, if the brand can still pay it."""
    session = local_checkout_session_load(token)
    status = (
        Funding.objects.filter(source=FundingSource.CARD, reference=session.id).values_list("status", flat=True).first()
    )
    if status is None:
        raise CheckoutNotFound(_("This payment page does not exist or has expired."))
    if status == FundingStatus.COMPLETED:
        raise CheckoutClosed(_("This top-up is already paid. You can close this page."))
    if status == FundingStatus.EXPIRED:
        raise CheckoutClosed(_("This payment page has expired. Start a new top-up on the Funds page."))
    return session


def funding_local_checkout_pay(*, token: str, card_number: str) -> str:
    """The test checkout's "Pay" button: returns the success address to send the brand to.

    A declined card raises ``CardDeclined`` with the reason and books nothing. A paid one books nothing
    here either: as with Stripe, the ``checkout.session.completed`` webhook does (``funding_webhook_process``),
    sent by a task. Nothing is written in this call, so the task is sent at once rather than on commit.
    """
    session = _local_checkout_open(token)
    reason = card_decline_reason(card_number)
    if reason is not None:
        raise CardDeclined(reason)
    tasks.local_checkout_webhook_send.delay(token, LOCAL_CHECKOUT_PAID)
    return session.success_url


def funding_local_checkout_cancel(*, token: str) -> str:
    """The test checkout's "Cancel": returns the cancel address; the session expires (books nothing)."""
    session = _local_checkout_open(token)
    tasks.local_checkout_webhook_send.delay(token, LOCAL_CHECKOUT_EXPIRED)
    return session.cancel_url


# --- payout batches -------------------------------------------------------------------


@transaction.atomic
def payout_batch_create(*, provider: str, currency: str, created_by: User | None = None) -> PayoutBatch | None:
    """Collects approved payouts of one provider into a batch (None when there are none)."""
    payouts = list(
        PayoutRequest.objects.select_for_update()
        .filter(status=PayoutStatus.APPROVED, batch__isnull=True, provider=provider, currency=currency)
        .order_by("pk")
    )
    if not payouts:
        return None
    batch = PayoutBatch.objects.create(
        provider=provider,
        currency=currency,
        total_minor=sum(payout.amount_minor for payout in payouts),
        message_id=f"LK{timezone.now():%Y%m%d%H%M%S}{secrets.token_hex(4).upper()}",
        created_by=created_by,
    )
    PayoutRequest.objects.filter(pk__in=[payout.pk for payout in payouts]).update(batch=batch)
    return batch


def _payout_item(payout: PayoutRequest) -> PayoutItem:
    if payout.charity is not None:
        return PayoutItem(
            payout_id=payout.pk,
            amount_minor=payout.amount_minor,
            currency=payout.currency,
            name=payout.charity.name,
            reference=f"Donation via Linkilike on behalf of {payout.influencer.display_name}",
            iban=payout.charity.iban,
            bic=payout.charity.bic,
        )
    destination = payout.destination
    assert destination is not None  # noqa: S101 - the database constraint guarantees one of them
    return PayoutItem(
        payout_id=payout.pk,
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        name=destination.holder_name or payout.influencer.display_name,
        reference=f"Linkilike payout {payout.pk}",
        iban=destination.iban,
        bic=destination.bic,
        paypal_email=destination.paypal_email,
        stripe_account=destination.stripe_account,
    )


def payout_batch_execute(*, batch: PayoutBatch) -> PayoutBatch:
    """Hands the batch to its provider (outside a database transaction), then books each result.

    Safe to run again: providers deduplicate by the batch's message id / per-payout keys, and
    payouts already sent or failed are skipped.
    """
    payouts = list(
        batch.payouts.filter(status=PayoutStatus.APPROVED).select_related("destination", "charity", "influencer")
    )
    if not payouts:
        return batch
    result = payout_provider(batch.provider).execute(
        PayoutBatchRequest(
            message_id=batch.message_id,
            currency=batch.currency,
            items=tuple(_payout_item(payout) for payout in payouts),
        )
    )
    by_id = {payout.pk: payout for payout in payouts}
    with transaction.atomic():
        for item in result.items:
            payout = by_id.get(item.payout_id)
            if payout is None:
                continue
            if item.ok:
                payout_mark_sent(payout=payout, provider_reference=item.provider_reference)
            else:
                payout_mark_failed(payout=payout, reason=item.failure_reason or "refused by the provider")
        batch.provider_reference = result.provider_reference[:200]
        if result.document:
            batch.document = result.document
        batch.save(update_fields=["provider_reference", "document"])
    return batch


def payout_batches_run(*, created_by: User | None = None) -> list[PayoutBatch]:
    """Executes every approved payout, one batch per provider and currency.

    Batches whose provider failed earlier (payouts still approved) are executed again first;
    providers deduplicate, so nothing is paid twice. One provider failing does not hold back
    the others; the first error is raised after all were tried (the task retries transient ones).
    """
    unfinished = PayoutBatch.objects.filter(payouts__status=PayoutStatus.APPROVED).distinct().order_by("pk")
    batches = list(unfinished)
    pairs = (
        PayoutRequest.objects.filter(status=PayoutStatus.APPROVED, batch__isnull=True)
        .values_list("provider", "currency")
        .distinct()
    )
    for provider, currency in sorted(set(pairs)):
        batch = payout_batch_create(provider=provider, currency=currency, created_by=created_by)
        if batch is not None:
            batches.append(batch)
    errors: list[ProviderError] = []
    for batch in batches:
        try:
            payout_batch_execute(batch=batch)
        except ProviderError as error:
            logger.warning("payout batch %s failed: %s", batch.message_id, error)
            errors.append(error)
    if errors:
        raise errors[0]
    return batches
