"""The influencer's campaign notifications sent in the background: the brand's decision on their caption."""

from __future__ import annotations

from django.urls import reverse

from campaigns.models import CaptionStatus, Share
from linkilike.emails import email_send_to_user, email_task


@email_task("campaigns.influencer.tasks.caption_decision_email_send")
def caption_decision_email_send(share_id: int) -> None:
    """Tell the influencer the brand approved their caption or asked for changes (safe to run twice)."""
    share = (
        Share.objects.select_related("campaign__brand", "influencer__user", "connected_account")
        .filter(pk=share_id, caption_status__in=(CaptionStatus.APPROVED, CaptionStatus.CHANGES_REQUESTED))
        .first()
    )
    if share is None:
        return
    email_send_to_user(
        user=share.influencer.user,
        template="influencers/email/caption_decision",
        context=caption_decision_email_context(share=share),
    )


def caption_decision_email_context(*, share: Share) -> dict[str, object]:
    return {
        "share": share,
        "campaign": share.campaign,
        "brand": share.campaign.brand,
        "approved": share.caption_status == CaptionStatus.APPROVED,
        "offer_path": reverse("influencers:offer-detail", kwargs={"pk": share.offer_id}),
    }
