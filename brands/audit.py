"""The audit actions of brands (registered with ``linkilike.audit_actions``): who may act for a brand."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linkilike import audit_actions
from linkilike.audit_actions import AuditCategory


class BrandAuditAction(models.TextChoices):
    MEMBERSHIP_ROLE_CHANGED = "membership.role_changed", _("Member role changed")
    MEMBERSHIP_REMOVED = "membership.removed", _("Member removed or left")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")


audit_actions.register("brands", BrandAuditAction, category=AuditCategory.PERMISSION)
