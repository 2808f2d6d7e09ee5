"""A campaign's budget in the ledger: reserved from the brand's balance when it starts, the unearned rest
released when it ends. Books through ``payouts.services.ledger``."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.audit import BudgetAuditAction
from campaigns.models import Campaign, CampaignStatus
from linkilike.audit import audit_record
from payouts.errors import (
    InsufficientFunds,
    PayoutsError,
)
from payouts.keys import KeyFormat
from payouts.models import (
    AccountKind,
    LedgerAccount,
    LedgerTransaction,
    TransactionKind,
)
from payouts.money import money_format
from payouts.services.ledger import (
    Posting,
    brand_available_account,
    ledger_account_balance_lock,
    ledger_account_get_or_create,
    ledger_post,
    ledger_transaction_for_key,
)


def campaign_reserved_account(*, campaign: Campaign) -> LedgerAccount:
    """The campaign's reservation in the ledger: what it may still spend on earnings and fees."""
    return ledger_account_get_or_create(
        kind=AccountKind.CAMPAIGN_RESERVED, currency=campaign.currency, campaign=campaign
    )


#: Idempotency keys of a campaign's reservation and release (the set-based earnings read them in SQL).
RESERVE_KEY = KeyFormat("campaign:{campaign}:reserve")
RELEASE_KEY = KeyFormat("campaign:{campaign}:release")


def _reserve_key(campaign: Campaign) -> str:
    return RESERVE_KEY.format(campaign=campaign.pk)


def _release_key(campaign: Campaign) -> str:
    return RELEASE_KEY.format(campaign=campaign.pk)


def _lock_campaign(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().select_related("brand").get(pk=campaign.pk)


#: A closed campaign's reservation earns nothing more, whether or not its release was booked yet.
CLOSED_CAMPAIGN_STATUSES = frozenset({CampaignStatus.COMPLETED, CampaignStatus.CANCELLED})


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
    existing = ledger_transaction_for_key(_reserve_key(campaign))
    if existing is not None:
        return existing
    amount = campaign.budget_minor
    if amount <= 0:
        raise PayoutsError(_("The campaign needs a budget above zero before it can run."))
    available = brand_available_account(brand=campaign.brand, currency=campaign.currency)
    balance = ledger_account_balance_lock(available)
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
    reservation = ledger_post(
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
        action=BudgetAuditAction.BUDGET_RESERVED,
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
    if (
        ledger_transaction_for_key(_reserve_key(campaign)) is None
        or ledger_transaction_for_key(_release_key(campaign)) is not None
    ):
        return None
    reserved = campaign_reserved_account(campaign=campaign)
    remaining = ledger_account_balance_lock(reserved)
    if remaining <= 0:
        # Nothing left: mark the reservation closed with no money moving.
        return None
    release = ledger_post(
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
        action=BudgetAuditAction.BUDGET_RELEASED,
        target=campaign,
        before={"reserved_minor": remaining},
        after={"reserved_minor": 0, "released_minor": remaining, "currency": campaign.currency},
        brand_id=campaign.brand_id,
    )
    return release
