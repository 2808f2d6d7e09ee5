"""An influencer's payout through its life: requested, approved or rejected, sent or failed."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linkilike.audit import audit_record
from payouts import jobs
from payouts.audit import PayoutAuditAction
from payouts.errors import (
    BelowMinimumPayout,
    InsufficientFunds,
    InvalidDestination,
    PayoutStateError,
    UnsupportedCurrency,
)
from payouts.models import (
    AccountKind,
    Charity,
    PayoutDestination,
    PayoutRequest,
    PayoutStatus,
    TransactionKind,
)
from payouts.money import money_format
from payouts.providers import payout_provider, payout_provider_class
from payouts.rules import minimum_payout_minor
from payouts.services.ledger import (
    Posting,
    influencer_account,
    ledger_account_balance_lock,
    ledger_post,
    platform_account,
)

if TYPE_CHECKING:
    from accounts.models import User
    from influencers.models import InfluencerProfile


def _currency_refused(*, provider: str, currency: str, charity: Charity | None) -> UnsupportedCurrency:
    if charity is not None:
        return UnsupportedCurrency(
            _(
                "Donations are paid by bank transfer in EUR only, so your %(currency)s balance cannot be donated. "
                "You can withdraw it to a PayPal account instead."
            )
            % {"currency": currency}
        )
    return UnsupportedCurrency(payout_provider(provider).currency_refused_message(currency))


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
    # A destination's kind is its payout provider's name; donations go by the charity's provider (a bank transfer).
    provider = Charity.PAYOUT_PROVIDER if charity else destination.kind  # type: ignore[union-attr]
    if currency not in payout_provider_class(provider).currencies:
        raise _currency_refused(provider=provider, currency=currency, charity=charity)
    minimum = minimum_payout_minor()
    if amount_minor < minimum:
        raise BelowMinimumPayout(_("The minimum payout is %(minimum)s.") % {"minimum": money_format(minimum, currency)})
    available = influencer_account(influencer=influencer, kind=AccountKind.INFLUENCER_AVAILABLE, currency=currency)
    balance = ledger_account_balance_lock(available)
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
    txn = ledger_post(
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
        action=PayoutAuditAction.PAYOUT_REQUESTED,
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
        action=PayoutAuditAction.PAYOUT_APPROVED,
        target=payout,
        actor=reviewed_by,
        before={"status": PayoutStatus.REQUESTED},
        after={"status": payout.status, "amount_minor": payout.amount_minor, "currency": payout.currency},
    )
    transaction.on_commit(partial(jobs.payout_status_email_send.delay, payout.pk, payout.status))
    return payout


def _return_to_available(payout: PayoutRequest, *, from_kind: str, kind: str, key: str, reason: str) -> None:
    influencer = payout.influencer
    ledger_post(
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
        action=PayoutAuditAction.PAYOUT_REJECTED,
        target=payout,
        actor=reviewed_by,
        before={"status": status_before},
        after={"status": payout.status, "returned_minor": payout.amount_minor, "currency": payout.currency},
        reason=reason,
    )
    transaction.on_commit(partial(jobs.payout_status_email_send.delay, payout.pk, payout.status))
    return payout


@transaction.atomic
def payout_mark_sent(*, payout: PayoutRequest, provider_reference: str = "") -> PayoutRequest:
    payout = _lock_payout(payout)
    if payout.status == PayoutStatus.SENT:
        return payout
    if payout.status != PayoutStatus.APPROVED:
        raise PayoutStateError(_("Only approved payouts can be sent."))
    ledger_post(
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
        action=PayoutAuditAction.PAYOUT_SENT,
        target=payout,
        before={"status": PayoutStatus.APPROVED},
        after={
            "status": payout.status,
            "amount_minor": payout.amount_minor,
            "currency": payout.currency,
            "provider_reference": payout.provider_reference,
        },
    )
    transaction.on_commit(partial(jobs.payout_status_email_send.delay, payout.pk, payout.status))
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
        action=PayoutAuditAction.PAYOUT_FAILED,
        target=payout,
        before={"status": status_before},
        after={"status": payout.status, "returned_minor": payout.amount_minor, "currency": payout.currency},
        reason=reason,
    )
    transaction.on_commit(partial(jobs.payout_status_email_send.delay, payout.pk, payout.status))
    return payout
