"""Demo: lena has accepted the Autumn Roast offer, so the worker publishes her share to the sandbox.

Runs after ``campaigns.matching.demo`` (which proposes the matches). If lena's match is still
only proposed, it is approved as the demo staff member would, and the offer is accepted for
her sandbox account with the brand's caption, to be shared as soon as possible. Publishing
itself is left to the worker (``publications_run_due`` every minute), because the sandbox
network is served by the running web server. Idempotent.
"""

from __future__ import annotations

from accounts.demo import DemoLogin
from accounts.models import User
from campaigns.demo import DEMO_CAMPAIGN_NAME
from campaigns.matching.demo import seed_demo as matching_seed
from campaigns.matching.selectors import offer_accounts_usable
from campaigns.matching.services import match_approve, offer_accept
from campaigns.models import Match, MatchStatus, Offer, OfferStatus
from networks.models import Network

DEMO_INFLUENCER_EMAIL = "lena@demo.linkilike.test"


def seed_demo() -> list[DemoLogin]:
    if Offer.objects.filter(campaign__name=DEMO_CAMPAIGN_NAME, status=OfferStatus.ACCEPTED).exists():
        return []
    match = Match.objects.filter(
        campaign__name=DEMO_CAMPAIGN_NAME, influencer__user__email=DEMO_INFLUENCER_EMAIL
    ).first()
    if match is None:
        matching_seed()
        match = Match.objects.filter(
            campaign__name=DEMO_CAMPAIGN_NAME, influencer__user__email=DEMO_INFLUENCER_EMAIL
        ).first()
    if match is None:
        return []
    if match.status == MatchStatus.PROPOSED:
        match_approve(match=match, decided_by=User.objects.filter(is_staff=True).order_by("pk").first())
    offer = Offer.objects.filter(match=match).first()
    if offer is None or offer.status != OfferStatus.NEW:
        return []
    accounts = list(offer_accounts_usable(offer=offer).filter(network=Network.SANDBOX).values_list("pk", flat=True))
    if accounts:
        offer_accept(
            offer=offer, influencer=offer.influencer, account_ids=accounts[:1], caption_text=None, scheduled_at=None
        )
    return []
