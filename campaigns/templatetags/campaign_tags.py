"""Template helpers for campaign pages: money in minor units, status badges, the dashboard section."""

from __future__ import annotations

from typing import Any

from django import template

from brands.models import Brand, BrandAction, Membership
from campaigns.models import CampaignStatus
from campaigns.selectors import campaign_list_for_brand, notice_lines_for_brand
from linkilike.i18n import and_list as _and_list
from linkilike.i18n import currency_symbol as _currency_symbol
from linkilike.i18n import money_format

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
    """1234567, "EUR" -> "€12,345.67" / "12.345,67 €": the same format as the payouts pages' ``money``
    (one page often loads both libraries); an en dash when there is no amount."""
    if amount_minor is None:
        return "\u2013"
    return money_format(int(amount_minor), currency or "EUR")


@register.filter
def currency_symbol(currency: str) -> str:
    """ "EUR" -> "€", for labels beside amounts (never "EUR" next to "€")."""
    return _currency_symbol(str(currency or "EUR"))


@register.filter
def status_badge(status: str) -> str:
    return BADGE.get(status, "")  # type: ignore[call-overload]


@register.inclusion_tag("campaigns/partials/dashboard_section.html")
def campaign_dashboard_section(brand: Brand, membership: Membership) -> dict[str, Any]:
    return {
        "brand": brand,
        "campaigns": list(campaign_list_for_brand(brand=brand)[:5]),
        "notices": notice_lines_for_brand(brand=brand),
        "can_edit": membership.can(BrandAction.EDIT_CAMPAIGNS),
    }


@register.filter
def and_list(items: Any) -> str:
    """("Mastodon", "Bluesky") -> "Mastodon and Bluesky" in the active language (``linkilike.i18n.and_list``)."""
    return _and_list(list(items or ()))
