"""Threads over real HTTP against the local Graph double (networks/tests/doubles/meta_double.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks import services
from networks.models import AccountStatus
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.threads import ThreadsProvider
from networks.providers.types import ClientCredentials, LinkHandling, MediaItem, PostDraft, PublishState, TokenSet
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from tests.factories.influencers import InfluencerProfileFactory

REDIRECT = "http://testserver/i/accounts/callback/"
CLIENT = ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class FastThreads(ThreadsProvider):
    poll_interval = 0.01
    poll_timeout = 2.0


@pytest.fixture
def double() -> Iterator[MetaDouble]:
    with running_meta_double("threads") as running:
        yield running


@pytest.fixture
def configured(settings: Any, double: MetaDouble) -> MetaDouble:
    settings.THREADS_GRAPH_URL = double.url
    settings.THREADS_APP_ID = CLIENT_ID
    settings.THREADS_APP_SECRET = CLIENT_SECRET
    return double


def connect(double: MetaDouble, provider: ThreadsProvider | None = None) -> tuple[ThreadsProvider, TokenSet]:
    provider = provider or FastThreads(base_url=double.url, client=CLIENT)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    answer = requests.get(start.authorization_url, allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [start.state]
    tokens = provider.complete_auth(code=query["code"][0], redirect_uri=REDIRECT, code_verifier=start.code_verifier)
    return provider, tokens


def image_draft(text: str = "Fresh loaves every morning") -> PostDraft:
    image = MediaItem(content=PNG, filename="loaf.png", content_type="image/png", url="https://cdn.example.com/l.png")
    return PostDraft(text=text, link="https://example.com/bread", media=(image,))


def publish(provider: ThreadsProvider, tokens: TokenSet, post: PostDraft) -> str:
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="share-1")
    assert pending.state == PublishState.PENDING
    result = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert result.state == PublishState.PUBLISHED
    return result.external_id


def test_real_host_sends_people_to_threads_net() -> None:
    provider = ThreadsProvider(base_url="https://graph.threads.net", client=CLIENT)
    url = provider.begin_auth(redirect_uri=REDIRECT).authorization_url
    assert url.startswith("https://threads.net/oauth/authorize?")
    assert "threads_content_publish" in parse_qs(urlsplit(url).query)["scope"][0]


@pytest.mark.django_db
def test_connect_exchanges_for_a_long_lived_token_and_reads_followers(configured: MetaDouble) -> None:
    start = services.account_connect_begin(network="threads", instance_url=configured.url, redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    account = services.account_connect_complete(
        influencer=InfluencerProfileFactory(),
        network="threads",
        instance_url=configured.url,
        code=parse_qs(urlsplit(location).query)["code"][0],
        code_verifier=start.code_verifier,
        redirect_uri=REDIRECT,
    )
    assert configured.state.exchanges == 1
    assert configured.state.tokens[account.access_token]["kind"] == "long"
    assert account.handle == "@linki.creator"
    assert account.profile_url == "https://www.threads.net/@linki.creator"
    assert account.followers_count == 1520


@pytest.mark.django_db
def test_token_refresh(configured: MetaDouble) -> None:
    provider, tokens = connect(configured)
    account = services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="threads",
        instance_url=configured.url,
        profile=provider.fetch_account(tokens=tokens),
        tokens=tokens,
    )
    assert services.account_token_refresh(account_id=account.pk, force=True) is True
    account.refresh_from_db()
    assert configured.state.refreshes == 1
    assert account.access_token != tokens.access_token
    assert account.status == AccountStatus.HEALTHY


def test_text_post_with_link_attachment(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    post = PostDraft(text="Read how we bake", link="https://example.com/story")
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="k")
    container = double.state.containers[pending.external_id]
    assert container["link"] == "https://example.com/story"
    assert container["text"] == "Read how we bake"
    assert container["image_url"] == ""
    result = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert result.url == f"https://www.threads.net/@linki.creator/post/{result.external_id}"


def test_image_post_carries_the_link_in_the_text_and_polls_until_finished(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    post = image_draft()
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="k")
    container = double.state.containers[pending.external_id]
    assert container["image_url"] == "https://cdn.example.com/l.png"
    assert container["text"].endswith("https://example.com/bread")
    assert not container["link"]  # link_attachment is for text posts only
    result = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert result.state == PublishState.PUBLISHED
    polls = [path for _method, path, _ in double.state.requests if path.endswith(pending.external_id)]
    assert len(polls) == 3


def test_lost_publish_answer_never_publishes_twice(double: MetaDouble) -> None:
    provider, tokens = connect(
        double, FastThreads(base_url=double.url, client=CLIENT, http=HttpClient(timeout=(2, 0.3)))
    )
    post = image_draft()
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="k")
    double.state.publish_delay = 1.0
    with pytest.raises(AmbiguousOutcome):
        provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    double.state.publish_delay = 0.0
    resolved = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert resolved.state == PublishState.PUBLISHED
    assert [resolved.external_id] == list(double.state.posts)


def test_container_error_is_content_rejected(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    broken = PostDraft(
        text="x",
        media=(MediaItem(content=PNG, filename="b.png", content_type="image/png", url="https://c/broken.png"),),
    )
    pending = provider.publish(tokens=tokens, draft=broken, idempotency_key="k")
    with pytest.raises(ContentRejected, match="FAILED_DOWNLOADING_IMAGE"):
        provider.complete_pending_publish(tokens=tokens, draft=broken, pending_id=pending.external_id)


def test_too_long_text_is_refused_locally_and_by_the_double(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    assert provider.validate_draft(PostDraft(text="x" * 501))
    response = provider.send(
        "POST",
        provider.graph_path(f"/{double.state.user_id}/threads"),
        tokens=tokens,
        data={"media_type": "TEXT", "text": "x" * 501},
    )
    assert isinstance(provider.classify_error(response), ContentRejected)


def test_capabilities() -> None:
    capabilities = ThreadsProvider.capabilities
    assert capabilities.max_chars == 500
    assert capabilities.link_handling == LinkHandling.CARD
    assert capabilities.token_refresh is True
    assert "reach" not in capabilities.metrics
    assert "impressions" in capabilities.metrics


def test_metrics_from_values_and_total_value(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    post_id = publish(provider, tokens, image_draft())
    double.set_insights(post_id, views=900, likes=51, replies=7, reposts=5, quotes=2, shares=4)
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[post_id])
    assert snapshot.impressions == 900  # answered as total_value.value
    assert (snapshot.likes, snapshot.replies, snapshot.shares, snapshot.quotes) == (51, 7, 5, 2)
    assert snapshot.reach is None
    assert snapshot.clicks is None
    assert snapshot.bookmarks is None


def test_deleted_post_metrics_and_delete(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    post_id = publish(provider, tokens, image_draft())
    provider.delete(tokens=tokens, external_id=post_id)
    provider.delete(tokens=tokens, external_id=post_id)  # already gone is fine
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[post_id])
    assert snapshot.exists is False


def test_errors_are_typed(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    double.state.fail_next["threads"] = "server_error"
    with pytest.raises(Transient):
        provider.publish(tokens=tokens, draft=image_draft(), idempotency_key="k")
    double.state.fail_next["threads"] = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        provider.publish(tokens=tokens, draft=image_draft(), idempotency_key="k")
    assert caught.value.retry_after == 420
    double.expire(tokens.access_token)
    with pytest.raises(AuthExpired):
        provider.fetch_account(tokens=tokens)
    _, other = connect(double)
    double.revoke(other.access_token, subcode=458)
    with pytest.raises(AuthRevoked):
        provider.fetch_metrics(tokens=other, external_ids=["1"])
