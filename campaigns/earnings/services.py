"""Earnings: verified metric deltas of a share turned into ledger bookings (and back when metrics fall), and
the release of earnings whose hold period is over. Books through ``payouts.services.ledger``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.earnings.budget import campaign_reservation_active, campaign_reserved_account
from campaigns.earnings.pricing import PRICING, Amounts, Terms
from campaigns.models import Campaign, Share, ShareHold, SharePublication
from influencers.models import InfluencerProfile
from networks.models import Network
from payouts.errors import (
    PayoutsError,
)
from payouts.keys import KeyFormat
from payouts.models import (
    AccountKind,
    EarningAccrual,
    EarningLine,
    LedgerAccount,
    LedgerTransaction,
    Metric,
    MetricSource,
    ShareEarning,
    TransactionKind,
)
from payouts.rules import hold_period
from payouts.services.ledger import (
    Posting,
    brand_available_account,
    influencer_account,
    ledger_account_balance_lock,
    ledger_post,
    platform_account,
)


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
    #: The participation fee: +1 with the share's promised fee when it is booked, -1 with
    #: minus that fee when it is taken back (``campaigns.earnings.participation``).
    participations: int = 0
    participation_price_minor: int = 0
    source: str = MetricSource.NETWORK_REPORTED


def metric_amounts(
    *, campaign: Campaign, impressions: int, engagements: int, unique_clicks: int, participation_price_minor: int = 0
) -> Amounts:
    """What cumulative counts are worth at the campaign's prices (``PRICING``; integer math, floored per
    component on the totals); ``participation_price_minor`` above zero counts one participation at that fee.

    Computing on cumulative totals and booking the difference means rounding never loses or creates a cent:
    the sum of all bookings always equals the value of the final totals.
    """
    counts = {
        "impressions": impressions,
        "engagements": engagements,
        "unique_clicks": unique_clicks,
        "participations": 1 if participation_price_minor > 0 else 0,
        "participation_price_minor": participation_price_minor,
    }
    return PRICING.amounts(counts, PRICING.terms(campaign))


def platform_fee_minor(*, earned_minor: int, fee_bps: int) -> int:
    """The platform fee on a share's cumulative earnings (on top, paid by the brand), rounded half up (ADR 7).

    ``PRICING.fee_minor``; ``PRICING.fee_sql`` is the same rule in SQL, and the property tests in
    ``payouts/tests/test_fee_rounding.py`` hold both to it.
    """
    return PRICING.fee_minor(earned_minor=earned_minor, fee_bps=fee_bps)


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


#: The idempotency key of a share's booking in one window by ``earnings_accrue`` (earning or reversal).
EARNING_KEY = KeyFormat("earn:{share}:{window}", max_length=200)
#: The transaction of a set-based batch's earnings (or reversals) of one campaign: named by the campaign and
#: the batch's first accrual of that direction (``campaigns.earnings.batch``, ADR 24).
EARNING_BATCH_KEY = KeyFormat("earn-batch:{campaign}:{accrual}", max_length=200)

#: The accrual window of a share's participation fee, one per share (``campaigns.earnings.participation``).
PARTICIPATION_WINDOW = "participation"

#: A ``share_key`` naming a ``campaigns.Share`` by its id (metrics and clicks pass ``str(share.pk)``).
SHARE_ID_KEY = "[0-9]{1,18}"


def sandbox_earning_refused(*, delta: MetricDelta, campaign: Campaign) -> bool:
    """A delta that could earn for a sandbox share of a brand that is not a demo brand: never booked.

    The last line of defence behind matching, publishing and metrics: a simulated audience must not
    earn real money from a real brand. A pure reversal still goes through (it only gives money back).
    ``campaigns.earnings.batch`` applies the same rule in SQL.
    """
    if campaign.brand.is_demo or max(getattr(delta, name) for name in PRICING.counts) <= 0:
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

    terms = PRICING.terms(campaign)
    counts_before = {name: getattr(share, name) for name in PRICING.counts}
    counts_after = {name: max(0, counts_before[name] + getattr(delta, name)) for name in PRICING.counts}
    before = PRICING.amounts(counts_before, terms)
    after = PRICING.amounts(counts_after, terms)
    target = PRICING.capped(after.total, terms)
    wanted = target - share.earned_minor
    reservation_open = campaign_reservation_active(campaign=campaign)
    reserved = campaign_reserved_account(campaign=campaign)
    if wanted > 0:
        remaining = ledger_account_balance_lock(reserved) if reservation_open else 0
        earned = _affordable(
            want=wanted,
            earned_before=share.earned_minor,
            fee_before=share.fee_minor,
            fee_bps=campaign.platform_fee_bps,
            remaining=remaining,
        )
    else:
        earned = wanted
    fee_after = PRICING.fee_minor(earned_minor=share.earned_minor + earned, fee_bps=campaign.platform_fee_bps)
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
        accrual.ledger_transaction = ledger_post(
            kind=TransactionKind.EARNING,
            idempotency_key=EARNING_KEY.format(share=share.pk, window=delta.window),
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
        terms=terms,
        counts_before=counts_before,
        counts_after=counts_after,
        before=before,
        after=after,
    )
    for name, value in counts_after.items():
        setattr(share, name, value)
    share.earned_minor += earned
    share.fee_minor += fee_delta
    share.save(update_fields=[*PRICING.counts, "earned_minor", "fee_minor", "updated_at"])
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
    from_available = min(amount - from_pending, max(ledger_account_balance_lock(available), 0))
    written_off = amount - from_pending - from_available
    return ledger_post(
        kind=TransactionKind.EARNING_REVERSAL,
        idempotency_key=EARNING_KEY.format(share=share.pk, window=window),
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
    terms: Terms,
    counts_before: dict[str, int],
    counts_after: dict[str, int],
    before: Amounts,
    after: Amounts,
) -> None:
    """One line per pricing component that moved, then what the cap took (``campaigns.earnings.batch``
    writes the same lines in SQL)."""
    lines = []
    for component, amount_before, amount_after in zip(PRICING.components, before.parts, after.parts, strict=True):
        price, per_units = component.line(terms, counts_before, counts_after)
        units = component.units(counts_before, counts_after)
        lines.append(
            EarningLine(
                accrual=accrual,
                metric=component.metric,
                units=units,
                price_minor=price,
                per_units=per_units,
                amount_minor=amount_after - amount_before,
            )
        )
    lines = [line for line in lines if line.units or line.amount_minor]
    adjustment = accrual.earned_minor - sum(line.amount_minor for line in lines)
    if adjustment:
        lines.append(EarningLine(accrual=accrual, metric=Metric.CAP, amount_minor=adjustment))
    EarningLine.objects.bulk_create(lines)


@transaction.atomic
def earnings_release_due(*, now: datetime | None = None) -> int:
    """Moves earnings whose hold period is over from pending to available. Returns the bookings made."""
    now = now or timezone.now()

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
    # A participation fee is earned only once its post stayed up with its disclosure for the retention
    # period: until then it stays pending, to be taken back if the post goes.
    retained = (
        SharePublication.objects.filter(retained_at__isnull=False)
        .annotate(key=Cast("share_id", output_field=CharField()))
        .filter(key=OuterRef("share__share_key"))
    )
    due = list(
        EarningAccrual.objects.select_for_update()
        .filter(hold_until__lte=now, pending_minor__gt=0)
        .exclude(share__share_key__in=held_share_keys)
        .exclude(Exists(sandbox_not_demo))
        .exclude(Q(window=PARTICIPATION_WINDOW) & ~Exists(retained))
        .select_related("influencer")
        .order_by("influencer_id", "currency", "pk")
    )
    groups: dict[tuple[int, str], list[EarningAccrual]] = defaultdict(list)
    for accrual in due:
        groups[(accrual.influencer_id, accrual.currency)].append(accrual)
    for (_influencer_id, currency), accruals in groups.items():
        influencer = accruals[0].influencer
        total = sum(accrual.pending_minor for accrual in accruals)
        ledger_post(
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
        EarningAccrual.objects.filter(pk__any=[accrual.pk for accrual in accruals]).update(pending_minor=0)
    return len(groups)
