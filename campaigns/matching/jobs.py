"""Jobs the matching services enqueue: the new-offer email.

It never calls back into ``campaigns.matching.services`` (which imports this module), so the arrows go one way:
``campaigns.matching.tasks`` (entry points, sweeps) → services → ``campaigns.matching.jobs``. The task name keeps
the module it was first registered under (``campaigns.matching.tasks.*``): queued messages and routes stay valid.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils import translation

from campaigns.matching.selectors import offer_estimate_get, offer_pay_terms
from campaigns.matching.services_notify import offer_notified_mark
from campaigns.models import Offer, OfferStatus
from linkilike.emails import email_send, email_task, user_email_language


def offer_path(offer: Offer) -> str:
    """The influencer's page for the offer (``influencers:offer-detail``), or their area until it exists."""
    try:
        return reverse("influencers:offer-detail", kwargs={"pk": offer.pk})
    except NoReverseMatch:
        return "/i/"


@email_task("campaigns.matching.tasks.offer_new_email_send")
def offer_new_email_send(offer_id: int) -> None:
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
