"""Where an influencer is paid: adding a verified payout destination, as its payout provider defines it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from linkilike.audit import audit_record, mask
from payouts.audit import PayoutAuditAction
from payouts.models import PayoutDestination
from payouts.providers import payout_provider

if TYPE_CHECKING:
    from influencers.models import InfluencerProfile


@transaction.atomic
def payout_destination_add(*, influencer: InfluencerProfile, kind: str, **fields: str) -> PayoutDestination:
    """Adds (or returns) a verified destination of the payout provider ``kind``.

    The provider decides what its account is: ``destination_clean`` keeps its own fields (any other
    field may arrive filled in, from a form's hidden fieldsets, and is dropped), normalises and checks
    them, and raises ``InvalidDestination`` naming the field it refuses. An unknown ``kind`` is refused too.
    """
    provider = payout_provider(kind)
    clean = provider.destination_clean(fields)
    destination, created = PayoutDestination.objects.get_or_create(
        influencer=influencer,
        fingerprint=clean.fingerprint,
        defaults={"kind": kind, **PayoutDestination.columns_for(dict(clean.fields)), "verified_at": timezone.now()},
    )
    if not created:
        return destination
    # Account identifiers are masked here, and again by audit_record for the keys it knows.
    private = {spec.name for spec in provider.destination_fields if spec.private}
    after = {name: mask(value) if name in private and value else value for name, value in clean.fields.items()}
    audit_record(action=PayoutAuditAction.PAYOUT_DESTINATION_ADDED, target=destination, after={"kind": kind, **after})
    return destination
