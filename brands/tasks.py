"""Brand background work: invitation emails."""

from __future__ import annotations

from celery import shared_task
from django.urls import reverse

from brands.invitation_links import invitation_token
from brands.models import Invitation, InvitationStatus
from linkilike.emails import email_send


@shared_task(max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True)
def invitation_email_send(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("brand", "invited_by").filter(pk=invitation_id).first()
    if invitation is None or invitation.status != InvitationStatus.PENDING:
        return
    inviter = invitation.invited_by
    email_send(
        to=invitation.email,
        template="brands/email/invitation",
        context=invitation_email_context(invitation=invitation),
        language=inviter.preferred_language if inviter else None,
    )


def invitation_email_context(*, invitation: Invitation) -> dict[str, object]:
    inviter = invitation.invited_by
    return {
        "invitation": invitation,
        "brand": invitation.brand,
        "inviter": inviter.get_full_name() if inviter else "",
        "accept_path": reverse("brands:invitation", kwargs={"token": invitation_token(invitation=invitation)}),
    }
