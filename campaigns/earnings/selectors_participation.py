"""Reads of the participation fee for results pages, the CSV export and the API: what each share was
promised, what is booked, and where it stands (``campaigns.earnings.participation`` has its life)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import BigIntegerField, Case, CharField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext_lazy as _

from campaigns.models import PublicationState, Share
from payouts.models import ShareEarning


class ParticipationState:
    NONE = ""
    PROMISED = "promised"  # not booked yet: the post is not up (or the next sweep books it)
    ON_HOLD = "on_hold"  # booked; earned once the post has stayed up for the retention period
    EARNED = "earned"  # the post stayed up with its disclosure: kept, released after the hold
    TAKEN_BACK = "taken_back"  # the post was removed (or lost its disclosure) before that

    LABELS = {
        PROMISED: _("Promised"),
        ON_HOLD: _("Booked, waiting for the retention check"),
        EARNED: _("Earned"),
        TAKEN_BACK: _("Not earned: the post was removed"),
    }


def shares_with_participation(queryset: QuerySet[Share]) -> QuerySet[Share]:
    """Each share annotated with ``participation_booked_minor``: the fee booked and not taken back (0: none)."""
    booked = ShareEarning.objects.filter(share_key=Cast(OuterRef("pk"), CharField())).annotate(
        fee=Case(When(participations__gt=0, then="participation_price_minor"), default=Value(0))
    )
    return queryset.annotate(
        participation_booked_minor=Coalesce(Subquery(booked.values("fee")[:1], output_field=BigIntegerField()), 0)
    )


@dataclass(frozen=True)
class ShareParticipation:
    state: str
    #: The promised fee (booked or not); 0 when the share has none.
    amount_minor: int

    @property
    def label(self) -> str:
        return str(ParticipationState.LABELS.get(self.state, ""))


def share_participation(share: Any) -> ShareParticipation:
    """Where a share's participation fee stands (``share`` annotated by ``shares_with_participation``, with its
    publication loaded)."""
    promised = int(share.participation_fee_minor or 0)
    if not promised:
        return ShareParticipation(ParticipationState.NONE, 0)
    booked = int(getattr(share, "participation_booked_minor", 0) or 0)
    publication = getattr(share, "publication", None)  # a share not queued yet has none
    if booked:
        retained = publication is not None and publication.retained_at is not None
        return ShareParticipation(ParticipationState.EARNED if retained else ParticipationState.ON_HOLD, booked)
    if publication is not None and publication.state == PublicationState.REMOVED and publication.retained_at is None:
        return ShareParticipation(ParticipationState.TAKEN_BACK, promised)
    return ShareParticipation(ParticipationState.PROMISED, promised)


def participation_booked_minor_for_campaign(*, campaign: Any) -> int:
    """The campaign's participation fees booked and not taken back (the ledger's bookings, ``ShareEarning``)."""
    total = ShareEarning.objects.filter(campaign=campaign, participations__gt=0).aggregate(
        total=Sum("participation_price_minor")
    )["total"]
    return int(total or 0)


def participation_by_share(shares: Iterable[Any]) -> dict[int, ShareParticipation]:
    return {share.pk: share_participation(share) for share in shares}
