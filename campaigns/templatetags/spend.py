"""{{ spend|spent_for:campaign }}: a campaign's spent amount from
``campaigns.earnings.selectors.campaign_spend_for_campaigns``."""

from __future__ import annotations

from typing import Any

from django import template

from campaigns.earnings.selectors import Spend

register = template.Library()


@register.filter
def spent_for(spend: dict[int, Spend], campaign: Any) -> int:
    """Minor units the campaign has spent (0 when the mapping does not name it)."""
    return spend.get(getattr(campaign, "pk", campaign), Spend()).spent_minor
