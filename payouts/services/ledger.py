"""The ledger: accounts, the one posting primitive, and the bookings of money from and back to the outside.

Every booking goes through ``ledger_post``: it merges and checks the entries (they must sum to
zero per currency), locks the touched accounts in primary-key order (no deadlocks between
bookings), refuses to take any internal account below zero, writes the immutable
transaction and entries and updates the cached balances, all in the caller's transaction.
Business events carry an ``idempotency_key`` so booking them twice books nothing new.
Nothing outside ``payouts.services`` and the campaigns' earnings code (which books through this API) creates
ledger transactions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone
from django.utils.translation import gettext as _

from linkilike.audit import audit_record
from payouts.audit import PayoutAuditAction
from payouts.errors import (
    AlreadyReversed,
    DuplicateReference,
    InsufficientFunds,
    PayoutsError,
    UnbalancedTransaction,
)
from payouts.keys import KeyFormat
from payouts.models import (
    EXTERNAL_KINDS,
    AccountKind,
    Funding,
    FundingSource,
    FundingStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from payouts.money import money_format

if TYPE_CHECKING:
    from accounts.models import User
    from brands.models import Brand
    from influencers.models import InfluencerProfile


# The ledger knows a campaign only as the owner of an account or a transaction (a ``campaigns.Campaign``,
# typed as any model: the money layer depends on nothing above it).

#: The unique key of a ledger account: its kind, its owner (if any) and its currency.
PLATFORM_ACCOUNT_KEY = KeyFormat("{kind}:{currency}")
BRAND_ACCOUNT_KEY = KeyFormat("{kind}:brand={brand}:{currency}")
CAMPAIGN_ACCOUNT_KEY = KeyFormat("{kind}:campaign={campaign}:{currency}")
INFLUENCER_ACCOUNT_KEY = KeyFormat("{kind}:influencer={influencer}:{currency}")


def _account_key(
    kind: str,
    currency: str,
    *,
    brand: Brand | None = None,
    campaign: Model | None = None,
    influencer: InfluencerProfile | None = None,
) -> str:
    if brand is not None:
        return BRAND_ACCOUNT_KEY.format(kind=kind, brand=brand.pk, currency=currency)
    if campaign is not None:
        return CAMPAIGN_ACCOUNT_KEY.format(kind=kind, campaign=campaign.pk, currency=currency)
    if influencer is not None:
        return INFLUENCER_ACCOUNT_KEY.format(kind=kind, influencer=influencer.pk, currency=currency)
    return PLATFORM_ACCOUNT_KEY.format(kind=kind, currency=currency)


def ledger_account_get_or_create(
    *,
    kind: str,
    currency: str,
    brand: Brand | None = None,
    campaign: Model | None = None,
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
    # FOR NO KEY UPDATE: what changing a balance needs. It waits for other balance changes, but not for a
    # statement that only refers to the account (new entries lock it FOR KEY SHARE, as a foreign key would).
    locked = LedgerAccount.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in locked}


def _shortfall_error(account: LedgerAccount, shortfall: int) -> InsufficientFunds:
    return InsufficientFunds(
        _("Not enough money: %(shortfall)s is missing.") % {"shortfall": money_format(shortfall, account.currency)},
        shortfall_minor=shortfall,
        currency=account.currency,
    )


def ledger_post(
    *,
    kind: str,
    postings: Iterable[Posting],
    idempotency_key: str | None = None,
    description: str = "",
    brand: Brand | None = None,
    campaign: Model | None = None,
    influencer: InfluencerProfile | None = None,
    recorded_by: User | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post() must run inside transaction.atomic()")
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
        campaign_id=campaign.pk if campaign is not None else None,
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


def ledger_transaction_for_key(idempotency_key: str) -> LedgerTransaction | None:
    return LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()


def ledger_account_balance_lock(account: LedgerAccount) -> int:
    return (
        LedgerAccount.objects.select_for_update(no_key=True).values_list("balance_minor", flat=True).get(pk=account.pk)
    )


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
    txn = ledger_post(
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
        action=PayoutAuditAction.FUNDING_CONFIRMED,
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
    existing = ledger_transaction_for_key(key)
    if existing is not None:
        return existing
    refund = ledger_post(
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
        action=PayoutAuditAction.REFUND_BOOKED,
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
    reversal = ledger_post(
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
        action=PayoutAuditAction.LEDGER_REVERSED,
        target=original,
        actor=recorded_by,
        before={"kind": original.kind, "reversed_by": None},
        after={"kind": original.kind, "reversed_by": reversal.pk},
        reason=reason,
        brand_id=original.brand_id,
    )
    return reversal
