"""The audit actions of campaigns (registered with ``linkilike.audit_actions``): moderation decisions on
campaigns, matches, offers and shares, and the campaign budget held on the brand's ledger."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linkilike import audit_actions
from linkilike.audit_actions import AuditCategory


class CampaignAuditAction(models.TextChoices):
    CAMPAIGN_APPROVED = "campaign.approved", _("Campaign approved")
    CAMPAIGN_REJECTED = "campaign.rejected", _("Campaign rejected")
    MATCH_APPROVED = "match.approved", _("Match approved (offer made)")
    MATCH_REJECTED = "match.rejected", _("Match rejected")
    OFFER_WITHDRAWN = "offer.withdrawn", _("Offer withdrawn")
    OFFER_ACCEPTED = "offer.accepted", _("Offer accepted")
    OFFER_DECLINED = "offer.declined", _("Offer declined")
    CAPTION_APPROVED = "share.caption_approved", _("Caption approved")
    CAPTION_CHANGES_REQUESTED = "share.caption_changes_requested", _("Caption changes requested")
    SHARE_HOLD_RELEASED = "share.hold_released", _("Share hold released")
    PROOF_VERIFIED = "share.proof_verified", _("Post spot-checked and verified")
    PROOF_REFUSED = "share.proof_refused", _("Post spot-checked and refused")


class BudgetAuditAction(models.TextChoices):
    BUDGET_RESERVED = "budget.reserved", _("Campaign budget reserved")
    BUDGET_RELEASED = "budget.released", _("Campaign budget released")


audit_actions.register("campaigns", CampaignAuditAction, category=AuditCategory.MODERATION)
audit_actions.register("campaigns", BudgetAuditAction, category=AuditCategory.MONEY)
