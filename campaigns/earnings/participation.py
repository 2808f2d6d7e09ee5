"""The participation fee: a flat amount per share that stayed up with its disclosure.

Its life, booked through the one pricing policy (``PRICING``'s ``ParticipationFee``) like every price:

1. **Promised** when the offer is accepted: the campaign's fee for the account's audience band then, stored
   on ``Share.participation_fee_minor`` (``campaigns.matching.services``).
2. **Booked, on hold** once the post is verified published (``participation_fees_book_due``, run by every
   metrics sweep): one ``participation`` window of the share, ``participations`` +1 with the promised fee,
   through the set-based booking (``earnings_accrue_batch``), drawing on the campaign's reservation and
   counting toward the per-share cap like any other earning.
3. **Kept** when the retention check finds the post still up with its disclosure after
   ``RETENTION_AFTER`` (``SharePublication.retained_at``: the pasted-link check in
   ``campaigns.publishing.proof``, ``participation_retain_due`` for posts published through an API, which
   every metrics pull re-reads). Until then the fee is never released (``earnings_release_due``); after its
   hold it becomes available like any earning (and so goes wherever the influencer sends her balance, a
   charity included).
4. **Taken back** when the post is removed or stripped of its disclosure before that: the removal's
   booking (``campaigns.metrics.removal.publication_remove``) carries ``participations`` -1, reversing the
   fee still on hold. A post removed after it was kept keeps its fee.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone

from campaigns.earnings.batch import BatchResult, earnings_accrue_batch
from campaigns.earnings.services import PARTICIPATION_WINDOW, MetricDelta
from campaigns.models import PublicationState, Share, SharePublication
from networks.models import Network
from payouts.models import EarningAccrual, MetricSource, ShareEarning

#: Shares booked per sweep at most (the rest on the next one).
BOOK_LIMIT = 5_000


def participation_shares_due(*, limit: int = BOOK_LIMIT) -> list[Share]:
    """Published shares with a promised fee whose participation is not booked yet (sandbox shares only for a
    demo brand: a simulated audience never earns money from a real brand)."""
    booked = EarningAccrual.objects.filter(
        window=PARTICIPATION_WINDOW, share__share_key=Cast(OuterRef("pk"), output_field=CharField())
    )
    return list(
        Share.objects.filter(participation_fee_minor__gt=0, publication__state=PublicationState.PUBLISHED)
        .exclude(Q(connected_account__network=Network.SANDBOX) & Q(campaign__brand__is_demo=False))
        .exclude(Exists(booked))
        .order_by("pk")
        .only("pk", "campaign_id", "influencer_id", "participation_fee_minor")[:limit]
    )


def participation_delta(share: Share) -> MetricDelta:
    return MetricDelta(
        share_key=str(share.pk),
        campaign_id=share.campaign_id,
        influencer_id=share.influencer_id,
        window=PARTICIPATION_WINDOW,
        participations=1,
        participation_price_minor=share.participation_fee_minor,
        source=MetricSource.MEASURED,
    )


@transaction.atomic
def participation_fees_book_due(*, now: datetime | None = None) -> BatchResult:
    """Books the participation fee of every share verified published since the last sweep. Idempotent (one
    ``participation`` window per share)."""
    shares = participation_shares_due()
    if not shares:
        return BatchResult(0, 0, 0, 0, 0, 0, 0)
    return earnings_accrue_batch(deltas=[participation_delta(share) for share in shares], now=now or timezone.now())


def participation_retain_due(*, now: datetime, after: timedelta) -> int:
    """Posts published through an API that are still PUBLISHED ``after`` their publication have stayed up:
    every metrics pull re-reads them and removes a post the network no longer has (``publication_remove``).
    Posts proven by a pasted link are fetched again instead (``campaigns.publishing.proof``)."""
    return SharePublication.objects.filter(
        state=PublicationState.PUBLISHED, published_at__lte=now - after, retained_at__isnull=True, proof_url=""
    ).update(retained_at=now, updated_at=now)


def participation_reversal(*, share: Share, retained: bool) -> tuple[int, int]:
    """``(participations, participation_price_minor)`` the removal of ``share``'s post takes back: what was
    booked, unless the post had already stayed up for the retention period (then the fee is kept)."""
    if retained:
        return 0, 0
    row = ShareEarning.objects.filter(share_key=str(share.pk)).values_list(
        "participations", "participation_price_minor"
    )
    counted = row.first()
    if counted is None:
        return 0, 0
    return -int(counted[0]), -int(counted[1])
