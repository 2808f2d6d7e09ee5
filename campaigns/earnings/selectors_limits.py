"""Why an earnings line paid less than its metrics: the reason the influencer reads under it.

Read, not stored: every fact it needs is already booked (the share's running total, the campaign's cap,
when the campaign closed), so accruals booked before this existed get their true reason too.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Sum

from campaigns.models import CampaignStatus
from payouts.models import EarningAccrual


class LimitReason(StrEnum):
    """Worded for the reader by ``campaigns.templatetags.earning_limits``."""

    CAP_REACHED = "cap_reached"
    BUDGET_EXHAUSTED = "budget_exhausted"
    CAMPAIGN_ENDED = "campaign_ended"
    CAMPAIGN_CANCELLED = "campaign_cancelled"


def earning_limit_reason_for_accrual(*, accrual: EarningAccrual) -> LimitReason:
    """The first reason that holds, in the order the engine applies them (``campaigns.earnings.services``): the
    cap per share, then whether the campaign still had a reservation to pay from, then its budget."""
    campaign = accrual.campaign
    cap = campaign.per_share_cap_minor
    if cap is not None:
        # The share's total after this accrual, as the engine saw it (accruals of a share are booked in order).
        earned_through = (
            EarningAccrual.objects.filter(share_id=accrual.share_id, pk__lte=accrual.pk).aggregate(
                total=Sum("earned_minor")
            )["total"]
            or 0
        )
        if earned_through >= cap:
            return LimitReason.CAP_REACHED
    if campaign.closed_at is not None and campaign.closed_at <= accrual.created_at:
        return (
            LimitReason.CAMPAIGN_CANCELLED
            if campaign.status == CampaignStatus.CANCELLED
            else LimitReason.CAMPAIGN_ENDED
        )
    return LimitReason.BUDGET_EXHAUSTED
