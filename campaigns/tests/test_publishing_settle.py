"""A gateway answers before the origin created the post: the publisher waits the network's settle time.

Against the local X and Facebook doubles (``networks.tests.doubles``) in their late-landing mode: the proxy answers
502/504 at once while the origin is still creating the post, so a look-up made right after the answer finds
nothing. Sent again then, the post would go out twice. The publication stays PUBLISHING (claimed) until the
network's ``ambiguous_settle`` has passed, and only a look-up after it that finds nothing lets it be sent again.
Time is moved on through the sweep's ``now``, not slept through.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from campaigns.models import PublicationState, Share
from campaigns.publishing import services as publishing
from networks import services as network_services
from networks.providers import exceptions as net
from networks.providers.bluesky import BlueskyProvider
from networks.providers.facebook import FacebookProvider
from networks.providers.instagram import InstagramProvider
from networks.providers.linkedin import LinkedInProvider
from networks.providers.mastodon import MastodonProvider
from networks.providers.threads import ThreadsProvider
from networks.providers.tumblr import TumblrProvider
from networks.providers.types import AccountRef, ClientCredentials, PostDraft, PublishState
from networks.providers.x import XProvider
from networks.tests.doubles.helpers import client_for, connect
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from networks.tests.doubles.x_double import XDouble, running_x_double
from tests.doubles.publishing import ready_share
from tests.factories.influencers import InfluencerProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)

REDIRECT = "http://testserver/i/accounts/callback/"


@pytest.fixture
def x(settings: Any) -> Iterator[XDouble]:
    with running_x_double() as double:
        settings.X_API_URL = double.url
        settings.X_CLIENT_ID = double.state.client_id
        settings.X_CLIENT_SECRET = double.state.client_secret
        yield double


@pytest.fixture
def facebook(settings: Any) -> Iterator[MetaDouble]:
    with running_meta_double("facebook") as double:
        settings.FACEBOOK_GRAPH_URL = double.url
        settings.FACEBOOK_APP_ID = CLIENT_ID
        settings.FACEBOOK_APP_SECRET = CLIENT_SECRET
        yield double


def _x_share(double: XDouble) -> Share:
    start = network_services.account_connect_begin(network="x", instance_url="", redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    account = network_services.account_connect_complete(
        influencer=InfluencerProfileFactory(),
        network="x",
        instance_url="",
        code=parse_qs(urlsplit(location).query)["code"][0],
        code_verifier=start.code_verifier,
        redirect_uri=REDIRECT,
    )
    return ready_share(account=account, caption="Fresh roast is in")


def _facebook_share(double: MetaDouble) -> Share:
    provider = FacebookProvider(
        base_url=double.url, client=ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    )
    start = provider.begin_auth(redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    user_tokens = provider.complete_auth(
        code=parse_qs(urlsplit(location).query)["code"][0], redirect_uri=REDIRECT, code_verifier=start.code_verifier
    )
    page = provider.list_pages(tokens=user_tokens)[0]
    account = network_services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="facebook",
        instance_url="",
        profile=AccountRef(external_id=page.page_id, handle=page.name),
        tokens=provider.page_tokens(page),
    )
    return ready_share(account=account, caption="Croissants are back")


def _x_creates(double: XDouble) -> int:
    return len(double.calls("POST", "/2/tweets"))


def _publish_late(share: Share, late: Any, arm: Any) -> int:
    """Publish with the gateway answering 504 before the origin stored the post; the publication's id."""
    late.after = math.inf  # the origin finishes only when the test says so
    arm(504)
    publication = publishing.share_publication_schedule(share=share)  # published at once (eager task)
    assert publication is not None
    publishing.publication_publish(publication_id=publication.pk)  # a second delivery of the task: no-op
    return publication.pk


@pytest.mark.parametrize("network", ["x", "facebook"])
def test_a_post_that_lands_after_the_gateway_answer_is_found_after_the_settle_time_and_not_sent_again(
    request: pytest.FixtureRequest, network: str
) -> None:
    double: Any = request.getfixturevalue(network)
    if network == "x":
        share = _x_share(double)
        creates = lambda: _x_creates(double)  # noqa: E731

        def arm(status: int) -> None:
            double.state.gateway_after_create = status
    else:
        share = _facebook_share(double)
        creates = lambda: sum(1 for m, p, _ in double.state.requests if m == "POST" and p.endswith("/feed"))  # noqa: E731

        def arm(status: int) -> None:
            double.state.gateway_after_publish = status

    publication_id = _publish_late(share, double.state.late, arm)

    publication = publishing.SharePublication.objects.get(pk=publication_id)
    # Nothing is there yet: not sent again, the claim is kept until the network's settle time has passed.
    if creates() > 1:  # sent again at once: the first create lands too, and the account has it twice
        double.state.late.land()
    assert (creates(), len(double.state.posts)) == (1, 0), "sent again before the settle time: a second post"
    assert publication.state == PublicationState.PUBLISHING, publication.error_code
    settle = publishing._provider_for(share.connected_account).ambiguous_settle
    assert settle > timedelta(0)
    assert publication.lease_expires_at is not None
    assert publication.lease_expires_at >= timezone.now() + settle - timedelta(seconds=30)

    # The sweep before the settle time: nothing happens.
    publishing.publications_run_due(now=timezone.now() + settle - timedelta(seconds=30))
    assert publishing.SharePublication.objects.get(pk=publication_id).state == PublicationState.PUBLISHING
    assert creates() == 1

    # The origin finishes; after the settle time the sweep looks and finds it.
    assert double.state.late.land() == 1
    publishing.publications_run_due(now=timezone.now() + settle + timedelta(minutes=1))
    publication = publishing.SharePublication.objects.get(pk=publication_id)
    assert publication.state == PublicationState.PUBLISHED
    assert creates() == 1
    assert len(double.state.posts) == 1
    assert publication.external_id in double.state.posts


def test_x_sends_again_only_after_a_look_up_past_the_settle_time_found_nothing(x: XDouble) -> None:
    share = _x_share(x)

    def arm(status: int) -> None:
        x.state.gateway_after_create = status

    publication_id = _publish_late(share, x.state.late, arm)
    x.state.late.pending.clear()  # the origin dropped it after all: nothing will land
    assert _x_creates(x) == 1
    publishing.publications_run_due(now=timezone.now() + XProvider.ambiguous_settle + timedelta(minutes=1))
    publication = publishing.SharePublication.objects.get(pk=publication_id)
    assert publication.state == PublicationState.PUBLISHED
    assert _x_creates(x) == 2
    assert list(x.state.posts) == [publication.external_id]


def test_the_late_landing_double_makes_the_duplicate_a_blind_resend_would() -> None:
    """The mode shows the risk on its own: a resend while the first create is still on its way posts twice."""
    with running_x_double() as double:
        provider = XProvider(base_url=double.url, client=client_for(double.state))
        tokens = connect(provider)
        draft = PostDraft(text="late landing")
        double.state.late.after = 0.2
        double.state.gateway_after_create = 502
        with pytest.raises(net.AmbiguousOutcome):
            provider.publish(tokens=tokens, draft=draft, idempotency_key="k")
        assert provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="k").state == (
            PublishState.NOT_FOUND
        )
        provider.publish(tokens=tokens, draft=draft, idempotency_key="k")  # what the publisher did at once
        deadline = timezone.now() + timedelta(seconds=2)
        while double.state.late.landed == 0 and timezone.now() < deadline:
            time.sleep(0.02)
        assert double.state.late.landed == 1
        assert len(double.state.posts) == 2


def test_every_network_whose_look_up_can_miss_a_late_post_declares_a_settle_time() -> None:
    for provider in (XProvider, LinkedInProvider, TumblrProvider, FacebookProvider, InstagramProvider, ThreadsProvider):
        assert provider.ambiguous_settle >= timedelta(minutes=5), provider
    assert MastodonProvider.ambiguous_settle == timedelta(minutes=5)
    # createRecord with a record key derived from the idempotency key cannot make a second post.
    assert BlueskyProvider.ambiguous_settle == timedelta(0)
