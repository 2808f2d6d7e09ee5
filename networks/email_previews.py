"""The network emails staff can preview (``linkilike.email_previews``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from linkilike.email_previews import EmailPreview, email_preview_register
from networks.jobs import reconsent_email_context
from networks.models import ConnectedAccount


def _reconsent(language: str) -> dict[str, Any] | None:
    account = ConnectedAccount.objects.select_related("influencer__user").order_by("-pk").first()
    return reconsent_email_context(account=account) if account else None


email_preview_register(
    EmailPreview("reconsent-warning", _("Reconnect an account soon"), "networks/email/reconsent_warning", _reconsent),
)
