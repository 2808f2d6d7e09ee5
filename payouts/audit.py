"""The audit actions of payouts (registered with ``linkilike.audit_actions``): money in and out."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linkilike import audit_actions
from linkilike.audit_actions import AuditCategory


class PayoutAuditAction(models.TextChoices):
    FUNDING_CONFIRMED = "funding.confirmed", _("Brand funding confirmed")
    REFUND_BOOKED = "funding.refunded", _("Refund to the brand")
    LEDGER_REVERSED = "ledger.reversed", _("Ledger transaction reversed")
    PAYOUT_DESTINATION_ADDED = "payout_destination.added", _("Payout account added")
    PAYOUT_REQUESTED = "payout.requested", _("Payout requested")
    PAYOUT_APPROVED = "payout.approved", _("Payout approved")
    PAYOUT_REJECTED = "payout.rejected", _("Payout rejected")
    PAYOUT_SENT = "payout.sent", _("Payout sent")
    PAYOUT_FAILED = "payout.failed", _("Payout failed")


audit_actions.register("payouts", PayoutAuditAction, category=AuditCategory.MONEY)
