"""Template helpers for campaign pages: money in minor units, status badges, the dashboard section."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from brands.models import Brand, BrandAction, Membership
from campaigns.models import CampaignStatus
from campaigns.selectors import campaign_list_for_brand, notification_list_for_brand

register = template.Library()

BADGE = {
    CampaignStatus.DRAFT: "",
    CampaignStatus.IN_REVIEW: "badge-warn",
    CampaignStatus.APPROVED: "badge-ok",
    CampaignStatus.REJECTED: "badge-error",
    CampaignStatus.PAUSED: "badge-warn",
    CampaignStatus.COMPLETED: "",
    CampaignStatus.CANCELLED: "",
}


@register.filter
def money(amount_minor: int | None, currency: str = "") -> str:
    """1234567, "EUR" -> "12,345.67 EUR" (localised separators)."""
    if amount_minor is None:
        return "\u2013"
    value = number_format(Decimal(amount_minor) / 100, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{value} {currency}".strip()


@register.filter
def status_badge(status: str) -> str:
    return BADGE.get(status, "")  # type: ignore[call-overload,no-any-return]


@register.inclusion_tag("campaigns/partials/dashboard_section.html")
def campaign_dashboard_section(brand: Brand, membership: Membership) -> dict[str, Any]:
    return {
        "brand": brand,
        "campaigns": list(campaign_list_for_brand(brand=brand)[:5]),
        "notifications": notification_list_for_brand(brand=brand),
        "can_edit": membership.can(BrandAction.EDIT_CAMPAIGNS),
    }
