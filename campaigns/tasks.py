"""Campaign background work: review outcome emails, completing campaigns whose end date passed."""

from __future__ import annotations

from celery import shared_task
from django.urls import reverse

from campaigns.models import Campaign
from linkilike.emails import email_send_to_user


@shared_task(max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True)
def campaign_status_email_send(campaign_id: int, kind: str) -> None:
    from campaigns.services import review_recipients

    campaign = Campaign.objects.select_related("brand").filter(pk=campaign_id).first()
    if campaign is None:
        return
    for user in review_recipients(campaign=campaign):
        email_send_to_user(
            user=user,
            template=f"campaigns/email/{kind}",
            context=campaign_status_email_context(campaign=campaign, user=user),
        )


def campaign_status_email_context(*, campaign: Campaign, user: object) -> dict[str, object]:
    path = reverse("campaigns:detail", kwargs={"brand_slug": campaign.brand.slug, "pk": campaign.pk})
    return {"campaign": campaign, "brand": campaign.brand, "user": user, "campaign_path": path}


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
