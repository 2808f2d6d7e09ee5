"""{% earning_limit_text accrual %}: the true reason an earnings line paid less than its metrics."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from campaigns.earnings.selectors_limits import LimitReason, earning_limit_reason_for_accrual
from payouts.models import EarningAccrual
from payouts.money import money_format

register = template.Library()


@register.simple_tag
def earning_limit_text(accrual: EarningAccrual) -> str:
    reason = earning_limit_reason_for_accrual(accrual=accrual)
    if reason == LimitReason.CAP_REACHED:
        cap = accrual.campaign.per_share_cap_minor or 0
        return _("Limited by the cap per share (%(cap)s), which this share reached") % {
            "cap": money_format(cap, accrual.currency)
        }
    if reason == LimitReason.CAMPAIGN_ENDED:
        return _("Not paid: the campaign had ended, so results after its end do not earn")
    if reason == LimitReason.CAMPAIGN_CANCELLED:
        return _("Not paid: the brand cancelled the campaign, so results after that do not earn")
    return _("Limited by the campaign's budget, which is used up")
