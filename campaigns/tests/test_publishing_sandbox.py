"""End to end against the built-in sandbox network over real HTTP (``live_server``).

A READY share is published by the pipeline, the simulated audience reacts, metrics are pulled,
a snapshot is stored and the influencer has pending earnings.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.metrics.services import metrics_pull
from campaigns.models import MetricSnapshot, PublicationState
from campaigns.publishing import services
from influencers.models import Topic
from networks.models import Network
from networks.providers.exceptions import NetworkError
from networks.providers.types import AccountRef, TokenSet
from networks.services import connected_account_upsert
from payouts.models import ShareEarning
from sandbox.models import SandboxApp, SandboxStatus
from sandbox.services import access_token_issue, app_register, community_seed, persona_audience_attach, persona_create
from sandbox.simulation import simulation_step
from tests.doubles.publishing import funded_campaign, ready_share
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def site(live_server: Any, settings: Any) -> str:
    settings.SITE_URL = live_server.url
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    community_seed(size=60, seed=7)
    return str(live_server.url)


def sandbox_account(site: str) -> Any:
    influencer = InfluencerProfileFactory()
    for slug in ("coffee", "food"):
        influencer.topics.add(Topic.objects.get_or_create(slug=slug)[0])
    persona = persona_create(handle="lena_e2e", display_name="Lena", interests=["coffee", "food"])
    persona_audience_attach(persona=persona, size=50, seed=3)
    app = SandboxApp.objects.first() or app_register(
        name="Linkilike e2e", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"], scopes="read write"
    )
    issued = access_token_issue(app=app, persona=persona, scopes="read write")
    return connected_account_upsert(
        influencer=influencer,
        network=Network.SANDBOX,
        instance_url=f"{site}/sandbox",
        profile=AccountRef(external_id=str(persona.pk), handle=f"@lena_e2e@{site.split('//')[1]}"),
        tokens=TokenSet(access_token=issued.raw, scope=issued.token.scopes),
    )


def test_a_ready_share_is_published_spreads_and_earns(site: str) -> None:
    account = sandbox_account(site)
    share = ready_share(
        account=account, campaign=funded_campaign(networks=["mastodon"], demo=True), caption="Autumn coffee time"
    )
    publication = services.share_publication_schedule(share=share)
    assert publication is not None

    services.publication_publish(publication_id=publication.pk)

    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED, publication.last_error
    status = SandboxStatus.objects.get(pk=publication.external_id)
    assert status.text.startswith("#ad") or "#ad" in status.text
    assert f"{site}/r/" in status.text  # the tracking link went out, not the placeholder
    assert SandboxStatus.objects.filter(persona=status.persona).count() == 1

    simulation_step(now=timezone.now() + timedelta(hours=3), seed=7)
    status.refresh_from_db()
    engagement = status.favourites_count + status.reblogs_count + status.replies_count
    assert engagement > 0  # the simulated audience reacted

    try:
        metrics_pull(pairs={publication.pk: ["+1h"]}, now=timezone.now())
    except NetworkError as error:  # pragma: no cover - shows the network's answer on failure
        pytest.fail(str(error))

    snapshot = MetricSnapshot.objects.get(share=share, window="+1h")
    assert snapshot.likes == status.favourites_count
    assert snapshot.reposts == status.reblogs_count
    assert snapshot.reach is None  # Mastodon-API networks do not report reach
    earning = ShareEarning.objects.get(share_key=str(share.pk))
    assert earning.engagements == snapshot.engagements
    assert earning.earned_minor == snapshot.engagements * 10  # 0.10 per engagement
