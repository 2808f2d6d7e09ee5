"""The new-offer email's own write: noting that the influencer was told (called by ``campaigns.matching.jobs``,
which the matching services import, so it lives below both)."""

from __future__ import annotations

from django.utils import timezone

from campaigns.models import Offer


def offer_notified_mark(*, offer: Offer) -> None:
    Offer.objects.filter(pk=offer.pk).update(notified_at=timezone.now())
