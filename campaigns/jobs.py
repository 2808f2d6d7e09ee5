"""Campaign jobs the campaign services enqueue: review outcome and funds emails, captions waiting for the brand.

They never call back into the services (which import this module), so the arrows go one way:
``campaigns.tasks`` (entry points, sweeps) → services → ``campaigns.jobs``. The task names keep the module
they were first registered under (``campaigns.tasks.*``): queued messages and the routes in settings stay valid.
"""

from __future__ import annotations

from django.urls import reverse

from campaigns.models import Campaign, CaptionStatus, NotificationKind, Share
from campaigns.selectors import campaign_funding_gap, review_recipient_list_for_campaign
from campaigns.selectors_captions import caption_approver_list_for_campaign
from linkilike.emails import email_send_to_user, email_task


@email_task("campaigns.tasks.campaign_status_email_send")
def campaign_status_email_send(campaign_id: int, kind: str) -> None:
    campaign = Campaign.objects.select_related("brand").filter(pk=campaign_id).first()
    if campaign is None:
        return
    if kind == NotificationKind.FUNDS_NEEDED and campaign_funding_gap(campaign=campaign) is None:
        return  # topped up (or withdrawn) before the email went out: nothing to ask for any more
    for user in review_recipient_list_for_campaign(campaign=campaign):
        email_send_to_user(
            user=user,
            template=f"campaigns/email/{kind}",
            context=campaign_status_email_context(campaign=campaign, user=user),
        )


def campaign_status_email_context(*, campaign: Campaign, user: object) -> dict[str, object]:
    path = reverse("campaigns:detail", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})
    return {
        "campaign": campaign,
        "brand": campaign.brand,
        "user": user,
        "campaign_path": path,
        "funds_path": reverse("payouts:funds", kwargs={"brand_slug": campaign.brand.slug}),
        "funding_gap": campaign_funding_gap(campaign=campaign),
    }


@email_task("campaigns.tasks.caption_waiting_email_send")
def caption_waiting_email_send(share_id: int) -> None:
    """Tell who can approve captions that an influencer's caption waits for them. Nothing is sent once the
    caption was decided, so a late retry does not ask about a caption already handled."""
    share = (
        Share.objects.select_related("campaign__brand", "influencer")
        .filter(pk=share_id, caption_status=CaptionStatus.PENDING_APPROVAL)
        .first()
    )
    if share is None:
        return
    for user in caption_approver_list_for_campaign(campaign=share.campaign):
        email_send_to_user(
            user=user, template="campaigns/email/caption_waiting", context=caption_waiting_email_context(share=share)
        )


def caption_waiting_email_context(*, share: Share) -> dict[str, object]:
    campaign = share.campaign
    return {
        "share": share,
        "campaign": campaign,
        "brand": campaign.brand,
        "influencer": share.influencer,
        "captions_path": reverse("campaigns:captions", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk}),
    }
