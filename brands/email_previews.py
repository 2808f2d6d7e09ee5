"""The brand emails staff can preview (``linkilike.email_previews``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from brands.models import Invitation
from brands.tasks import invitation_email_context
from linkilike.email_previews import EmailPreview, email_preview_register


def _invitation(language: str) -> dict[str, Any] | None:
    invitation = Invitation.objects.select_related("brand", "invited_by").order_by("-pk").first()
    return invitation_email_context(invitation=invitation) if invitation else None


email_preview_register(
    EmailPreview("invitation", _("Invitation to a brand"), "brands/email/invitation", _invitation),
)
