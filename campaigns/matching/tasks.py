"""Celery tasks for matching and offers (found by Celery's autodiscovery, ``linkilike.celery``)."""

from __future__ import annotations

from celery import shared_task
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from campaigns.matching.selectors import offer_estimate_get, offer_pay_terms
from campaigns.models import Campaign, Offer, OfferStatus
from linkilike.emails import email_send, user_email_language


def offer_path(offer: Offer) -> str:
    """The influencer's page for the offer (``influencers:offer-detail``), or their area until it exists."""
    try:
        return reverse("influencers:offer-detail", kwargs={"pk": offer.pk})
    except NoReverseMatch:
        return "/i/"


@shared_task(max_retries=5, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, retry_jitter=True)
def offer_new_email_send(offer_id: int) -> None:
    from campaigns.matching.services import offer_notified_mark

    offer = (
        Offer.objects.select_related("campaign", "campaign__brand", "influencer", "influencer__user")
        .filter(pk=offer_id, status=OfferStatus.NEW, notified_at__isnull=True)
        .first()
    )
    if offer is None:
        return
    user = offer.influencer.user
    language = user_email_language(user)
    email_send(
        to=user.email,
        template="campaigns/email/offer_new",
        context=offer_new_email_context(offer=offer, language=language),
        language=language,
    )
    offer_notified_mark(offer=offer)


def offer_new_email_context(*, offer: Offer, language: str | None) -> dict[str, object]:
    with translation.override(language or "en"):
        estimate = offer_estimate_get(offer=offer)
        terms = offer_pay_terms(offer=offer)
    return {
        "offer": offer,
        "campaign": offer.campaign,
        "brand": offer.campaign.brand,
        "influencer": offer.influencer,
        "offer_path": offer_path(offer),
        "estimate": estimate,
        "terms": terms,
    }


@shared_task(max_retries=0)
def matching_run(campaign_id: int) -> int:
    """Propose matches for one campaign (enqueued on commit when a campaign is approved)."""
    from campaigns.matching.services import matching_run as run

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        return 0
    return run(campaign=campaign).created


@shared_task(max_retries=0)
def matching_run_live() -> int:
    """Every 15 minutes: newly qualifying influencers get proposed for running campaigns."""
    from campaigns.matching.services import matching_run_live as run_live

    return sum(result.created for result in run_live())


@shared_task(max_retries=0)
def offers_expire_due() -> int:
    from campaigns.matching.services import offer_expire_due

    return offer_expire_due()
