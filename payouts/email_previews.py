"""The payout emails staff can preview (``linkilike.email_previews``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from linkilike.email_previews import EmailPreview, email_preview_register
from payouts.jobs import payout_status_email_context
from payouts.models import PayoutRequest, PayoutStatus


def _payout_status(language: str) -> dict[str, Any] | None:
    payout = (
        PayoutRequest.objects.select_related("influencer__user", "destination", "charity")
        .exclude(status=PayoutStatus.REQUESTED)  # a request itself sends no email
        .order_by("-pk")
        .first()
    )
    return payout_status_email_context(payout=payout) if payout else None


email_preview_register(
    EmailPreview(
        "payout-status",
        _("Payout approved, sent, failed or rejected"),
        "payouts/email/payout_status",
        _payout_status,
    ),
)
