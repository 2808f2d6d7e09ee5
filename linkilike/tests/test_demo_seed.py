"""The demo seed still walks the whole loop on the sandbox once the sandbox is for demo brands only.

Against the running app (``live_server``), as ``make run`` does: the demo brand is marked as a demo
brand, lena is matched, her offer is accepted for her sandbox account and the share is published there.
"""

from __future__ import annotations

from typing import Any

import pytest

from brands.demo import DEMO_BRAND_SLUG
from brands.models import Brand
from campaigns.demo import DEMO_CAMPAIGN_NAME
from campaigns.models import MatchStatus, OfferStatus, PublicationState, Share, SharePublication
from campaigns.publishing.demo import DEMO_INFLUENCER_EMAIL
from campaigns.publishing.services import publication_publish
from influencers.models import Topic
from influencers.topics import TOPICS
from linkilike.demo import seed_all
from networks.models import Network
from sandbox.models import SandboxStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_seed_matches_accepts_and_publishes_to_the_sandbox(live_server: Any, settings: Any) -> None:
    settings.DEBUG = True
    settings.SITE_URL = live_server.url
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    # The topic rows come from a data migration; a transactional test that ran earlier flushed them.
    for slug in TOPICS:
        Topic.objects.get_or_create(slug=slug)

    seed_all()
    seed_all()  # idempotent, as on every start

    assert Brand.objects.get(slug=DEMO_BRAND_SLUG).is_demo
    share = Share.objects.select_related("offer__match", "connected_account").get(
        campaign__name=DEMO_CAMPAIGN_NAME, influencer__user__email=DEMO_INFLUENCER_EMAIL
    )
    assert share.offer.match.status == MatchStatus.APPROVED
    assert share.offer.status == OfferStatus.ACCEPTED
    assert share.connected_account.network == Network.SANDBOX
    publication = SharePublication.objects.get(share=share)
    if publication.state == PublicationState.QUEUED:  # the worker's turn, if the task was not run in-process
        publication_publish(publication_id=publication.pk)
        publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED, publication.last_error
    assert SandboxStatus.objects.filter(pk=publication.external_id).exists()
