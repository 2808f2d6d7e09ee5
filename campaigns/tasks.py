"""Campaign background work: review outcome and funds emails, captions waiting for the brand, completing
campaigns whose end date passed."""

from __future__ import annotations

from celery import shared_task
from django.urls import reverse

from campaigns.models import Campaign, CaptionStatus, NotificationKind, Share
from linkilike.emails import email_send_to_user


@shared_task(max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True)
def campaign_status_email_send(campaign_id: int, kind: str) -> None:
    from campaigns.selectors import campaign_funding_gap
    from campaigns.services import review_recipients

    campaign = Campaign.objects.select_related("brand").filter(pk=campaign_id).first()
    if campaign is None:
        return
    if kind == NotificationKind.FUNDS_NEEDED and campaign_funding_gap(campaign=campaign) is None:
        return  # topped up (or withdrawn) before the email went out: nothing to ask for any more
    for user in review_recipients(campaign=campaign):
        email_send_to_user(
            user=user,
            template=f"campaigns/email/{kind}",
            context=campaign_status_email_context(campaign=campaign, user=user),
        )


def campaign_status_email_context(*, campaign: Campaign, user: object) -> dict[str, object]:
    from campaigns.selectors import campaign_funding_gap

    path = reverse("campaigns:detail", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})
    return {
        "campaign": campaign,
        "brand": campaign.brand,
        "user": user,
        "campaign_path": path,
        "funds_path": reverse("payouts:funds", kwargs={"brand_slug": campaign.brand.slug}),
        "funding_gap": campaign_funding_gap(campaign=campaign),
    }


@shared_task(max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True)
def caption_waiting_email_send(share_id: int) -> None:
    """Tell who can approve captions that an influencer's caption waits for them. Nothing is sent once the
    caption was decided, so a late retry does not ask about a caption already handled."""
    from campaigns.selectors_captions import caption_approver_list_for_campaign

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


@shared_task(max_retries=0)
def campaigns_complete_due() -> int:
    from campaigns.services import campaign_complete_due

    return campaign_complete_due()


# Matching and offers (campaigns.matching.tasks): imported here so Celery's autodiscovery registers them.
from campaigns.matching.tasks import matching_run, matching_run_live, offer_new_email_send, offers_expire_due  # noqa: E402

__all__ = ["matching_run", "matching_run_live", "offer_new_email_send", "offers_expire_due"]

# Publishing and metrics (campaigns.publishing.tasks, campaigns.metrics.tasks), registered the same way.
from campaigns.metrics.tasks import metrics_pull_due  # noqa: E402
from campaigns.publishing.tasks import (  # noqa: E402
    proof_verify,
    publication_publish,
    publication_resolve,
    publications_run_due,
)

__all__ += ["metrics_pull_due", "proof_verify", "publication_publish", "publication_resolve", "publications_run_due"]
