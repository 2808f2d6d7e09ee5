"""The brand overview's first steps and "waiting for you" panel (``campaigns.selectors_overview``)."""

from __future__ import annotations

from typing import Any

from django import template

from brands.models import Brand, Membership
from campaigns.selectors_overview import brand_checklist_for_brand, brand_waiting_list_for_brand

register = template.Library()


@register.inclusion_tag("campaigns/partials/brand_overview.html")
def brand_overview_section(brand: Brand, membership: Membership) -> dict[str, Any]:
    return {
        "brand": brand,
        "steps": brand_checklist_for_brand(brand=brand, membership=membership),
        "waiting": brand_waiting_list_for_brand(brand=brand, membership=membership),
    }
