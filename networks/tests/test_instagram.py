"""Instagram (Instagram Login) over real HTTP against the local Graph double (networks/tests/doubles/meta_double.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from campaigns.metrics.services import metrics_pull
from campaigns.models import MetricSnapshot, PublicationState, SharePublication
from networks import services
from networks.models import AccountStatus, ConnectedAccount, Network
from networks.providers.exceptions import (
    AccountAttention,
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.instagram import InstagramProvider
from networks.providers.meta import PublishingLimitReached
from networks.providers.types import ClientCredentials, LinkHandling, MediaItem, PostDraft, PublishState, TokenSet
from networks.selectors import token_set_get_for_account
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from tests.doubles.publishing import ready_share
from tests.factories.influencers import InfluencerProfileFactory
from tests.factories.networks import ConnectedAccountFactory

REDIRECT = "http://testserver/i/accounts/callback/"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"
CLIENT = ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


class FastInstagram(InstagramProvider):
    poll_interval = 0.01
    poll_timeout = 2.0


@pytest.fixture
def double() -> Iterator[MetaDouble]:
    with running_meta_double("instagram") as running:
        yield running


@pytest.fixture
def configured(settings: Any, double: MetaDouble) -> MetaDouble:
    settings.INSTAGRAM_GRAPH_URL = double.url
    settings.INSTAGRAM_APP_ID = CLIENT_ID
    settings.INSTAGRAM_APP_SECRET = CLIENT_SECRET
    return double


def draft(text: str = "Our autumn menu is here #bakery", link: str = "https://example.com/autumn") -> PostDraft:
    image = MediaItem(
        content=JPEG, filename="autumn.jpg", content_type="image/jpeg", url="https://cdn.example.com/a.jpg"
    )
    return PostDraft(text=text, link=link, media=(image,))


def connect(double: MetaDouble, provider: InstagramProvider | None = None) -> tuple[InstagramProvider, TokenSet]:
    provider = provider or FastInstagram(base_url=double.url, client=CLIENT)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    answer = requests.get(start.authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [start.state]
    tokens = provider.complete_auth(code=query["code"][0], redirect_uri=REDIRECT, code_verifier=start.code_verifier)
    return provider, tokens


def publish(provider: InstagramProvider, tokens: TokenSet, post: PostDraft) -> str:
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="share-1")
    assert pending.state == PublishState.PENDING
    result = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert result.state == PublishState.PUBLISHED
    return result.external_id


# --- connecting -------------------------------------------------------------------------


def test_authorisation_url_asks_for_publishing_and_insights(double: MetaDouble) -> None:
    start = FastInstagram(base_url=double.url, client=CLIENT).begin_auth(redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT]
    assert "instagram_business_content_publish" in query["scope"][0]
    assert "instagram_business_manage_insights" in query["scope"][0]
    assert "client_secret" not in query


def test_real_host_sends_people_to_instagram_and_codes_to_api_instagram() -> None:
    provider = InstagramProvider(base_url="https://graph.instagram.com", client=CLIENT)
    assert provider.begin_auth(redirect_uri=REDIRECT).authorization_url.startswith(
        "https://www.instagram.com/oauth/authorize?"
    )
    assert provider.exchange_host == "https://api.instagram.com"


@pytest.mark.django_db
def test_connect_exchanges_the_code_for_a_long_lived_token_and_stores_the_account(configured: MetaDouble) -> None:
    influencer = InfluencerProfileFactory()
    start = services.account_connect_begin(network="instagram", instance_url=configured.url, redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    account = services.account_connect_complete(
        influencer=influencer,
        network="instagram",
        instance_url=configured.url,
        code=code,
        code_verifier=start.code_verifier,
        redirect_uri=REDIRECT,
    )
    assert configured.state.exchanges == 1
    assert account.handle == "@linki.creator"
    assert account.external_id == configured.state.user_id
    assert account.followers_count == 1520
    stored = configured.state.tokens[account.access_token]
    assert stored["kind"] == "long"
    assert account.token_expires_at is not None
    assert account.refresh_token == account.access_token  # renewed with itself (ig_refresh_token)


def test_code_exchange_refuses_a_different_redirect_uri(double: MetaDouble) -> None:
    provider = FastInstagram(base_url=double.url, client=CLIENT)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    with pytest.raises(ContentRejected):
        provider.complete_auth(code=code, redirect_uri="http://evil.example/cb", code_verifier="")


def test_personal_accounts_are_refused(double: MetaDouble) -> None:
    double.state.account_type = "PERSONAL"
    provider, tokens = connect(double)
    with pytest.raises(NotSupported):
        provider.fetch_account(tokens=tokens)


def test_unconfigured_app_is_not_supported(settings: Any) -> None:
    settings.INSTAGRAM_APP_ID = ""
    provider = InstagramProvider(base_url="https://graph.instagram.com")
    assert not provider.is_configured
    with pytest.raises(NotSupported):
        provider.begin_auth(redirect_uri=REDIRECT)


@pytest.mark.django_db
def test_token_refresh_stores_the_renewed_token(configured: MetaDouble) -> None:
    provider, tokens = connect(configured)
    account = services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="instagram",
        instance_url=configured.url,
        profile=provider.fetch_account(tokens=tokens),
        tokens=tokens,
    )
    assert services.account_token_refresh(account_id=account.pk, force=True) is True
    account.refresh_from_db()
    assert configured.state.refreshes == 1
    assert account.access_token != tokens.access_token
    assert account.refresh_token == account.access_token
    assert account.status == AccountStatus.HEALTHY
    # the renewed token works
    assert provider.fetch_account(tokens=token_set_get_for_account(account=account)).handle == "@linki.creator"


# --- publishing ---------------------------------------------------------------------------


def test_publish_creates_a_container_then_publishes_it_once_finished(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    post = draft()
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="share-1")
    assert pending.state == PublishState.PENDING
    container = double.state.containers[pending.external_id]
    assert container["status"] == "IN_PROGRESS"
    assert container["image_url"] == "https://cdn.example.com/a.jpg"
    assert container["text"] == "Our autumn menu is here #bakery\n\nhttps://example.com/autumn"
    assert not double.state.posts  # nothing visible before media_publish

    result = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert result.state == PublishState.PUBLISHED
    assert result.url == f"https://www.instagram.com/p/{result.external_id}/"
    assert result.published_at is not None
    assert list(double.state.posts) == [result.external_id]
    polls = [path for method, path, _ in double.state.requests if path.endswith(pending.external_id)]
    assert len(polls) == 3  # IN_PROGRESS twice, then FINISHED


def test_still_processing_container_stays_pending(double: MetaDouble) -> None:
    double.state.container_polls = 1000

    class Impatient(FastInstagram):
        poll_timeout = 0.05

    provider, tokens = connect(double, Impatient(base_url=double.url, client=CLIENT))
    pending = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")
    again = provider.complete_pending_publish(tokens=tokens, draft=draft(), pending_id=pending.external_id)
    assert again.state == PublishState.PENDING
    assert again.external_id == pending.external_id
    assert not double.state.posts


def test_lost_publish_answer_is_ambiguous_and_resolves_to_the_one_post(double: MetaDouble) -> None:
    slow = FastInstagram(base_url=double.url, client=CLIENT, http=HttpClient(timeout=(2.0, 0.3)))
    provider, tokens = connect(double, slow)
    post = draft()
    pending = provider.publish(tokens=tokens, draft=post, idempotency_key="k")
    double.state.publish_delay = 1.0
    with pytest.raises(AmbiguousOutcome):
        provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    double.state.publish_delay = 0.0
    resolved = provider.complete_pending_publish(tokens=tokens, draft=post, pending_id=pending.external_id)
    assert resolved.state == PublishState.PUBLISHED
    assert len(double.state.posts) == 1
    assert resolved.external_id == next(iter(double.state.posts))
    publishes = [path for method, path, _ in double.state.requests if path.endswith("/media_publish")]
    assert len(publishes) == 1  # the container was seen PUBLISHED: never published twice
    # without the container id, the latest posts are searched
    found = provider.check_pending_publish(tokens=tokens, draft=post, idempotency_key="k")
    assert found.external_id == resolved.external_id
    other = provider.check_pending_publish(tokens=tokens, draft=draft(text="never sent"), idempotency_key="x")
    assert other.state == PublishState.NOT_FOUND


def test_failed_and_expired_containers(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    broken = PostDraft(
        text="x",
        media=(MediaItem(content=JPEG, filename="b.jpg", content_type="image/jpeg", url="https://cdn/broken.jpg"),),
    )
    pending = provider.publish(tokens=tokens, draft=broken, idempotency_key="k")
    with pytest.raises(ContentRejected, match="2207003"):
        provider.complete_pending_publish(tokens=tokens, draft=broken, pending_id=pending.external_id)
    pending = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k2")
    double.state.containers[pending.external_id].update(status="EXPIRED")
    expired = provider.complete_pending_publish(tokens=tokens, draft=draft(), pending_id=pending.external_id)
    assert expired.state == PublishState.NOT_FOUND
    assert not double.state.posts


def test_drafts_instagram_cannot_take_are_refused_before_any_request(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    sent = len(double.state.requests)
    assert provider.validate_draft(PostDraft(text="only text")) == ["Instagram posts need an image"]
    png = MediaItem(content=b"png", filename="a.png", content_type="image/png", url="https://cdn/a.png")
    assert "a.png: Instagram takes JPEG images only" in provider.validate_draft(PostDraft(text="t", media=(png,)))
    no_url = MediaItem(content=JPEG, filename="a.jpg", content_type="image/jpeg")
    assert any("public URL" in p for p in provider.validate_draft(PostDraft(text="t", media=(no_url,))))
    with pytest.raises(ContentRejected):
        provider.publish(tokens=tokens, draft=draft(text="x" * 2201), idempotency_key="k")
    assert len(double.state.requests) == sent


def test_capabilities_say_links_are_not_clickable_and_reach_is_reported() -> None:
    capabilities = InstagramProvider.capabilities
    assert capabilities.link_handling == LinkHandling.NOT_CLICKABLE
    assert capabilities.reach_reported is True
    assert capabilities.image_required is True
    assert capabilities.needs_app_review is True
    assert "clicks" not in capabilities.metrics


def test_exhausted_quota_is_refused_before_creating_a_container(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    double.state.quota_usage = 100
    with pytest.raises(PublishingLimitReached, match="100 of 100") as caught:
        provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")
    assert isinstance(caught.value, RateLimited)
    assert caught.value.retry_after >= 3600
    assert not double.state.containers


def test_quota_used_up_between_container_and_publish_is_subcode_2207042(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    pending = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")
    double.state.quota_usage = 100
    with pytest.raises(PublishingLimitReached):
        provider.complete_pending_publish(tokens=tokens, draft=draft(), pending_id=pending.external_id)
    assert not double.state.posts


# --- metrics ------------------------------------------------------------------------------


def test_metrics_read_insights_without_impressions(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    media_id = publish(provider, tokens, draft())
    double.set_insights(media_id, reach=410, views=530, likes=37, comments=4, shares=3, saved=6, total_interactions=50)
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[media_id])
    assert (snapshot.reach, snapshot.impressions, snapshot.likes) == (410, 530, 37)
    assert (snapshot.replies, snapshot.shares, snapshot.bookmarks) == (4, 3, 6)
    assert snapshot.quotes is None
    assert snapshot.clicks is None
    asked = [params["metric"] for method, path, params in double.state.requests if path.endswith("/insights")]
    assert asked
    assert all("impressions" not in metric for metric in asked)


def test_double_refuses_the_removed_impressions_metric(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    media_id = publish(provider, tokens, draft())
    response = provider.send(
        "GET", provider.graph_path(f"/{media_id}/insights"), tokens=tokens, params={"metric": "impressions,reach"}
    )
    assert response.status_code == 400
    assert isinstance(provider.classify_error(response), ContentRejected)


def test_not_enough_viewers_is_no_data_not_an_error(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    media_id = publish(provider, tokens, draft())
    double.state.small_media.add(media_id)
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[media_id])
    assert snapshot.exists is True
    assert (snapshot.reach, snapshot.likes, snapshot.impressions) == (None, None, None)


@pytest.mark.parametrize("kind", ["permission", "app_token"])
def test_a_missing_permission_on_a_metrics_read_is_an_account_problem(double: MetaDouble, kind: str) -> None:
    # Code 100 without subcode 33: the post is there, the app or account lacks a permission or feature.
    provider, tokens = connect(double)
    media_id = publish(provider, tokens, draft())
    double.state.fail_next["insights"] = kind
    with pytest.raises(AccountAttention) as caught:
        provider.fetch_metrics(tokens=tokens, external_ids=[media_id])
    assert not isinstance(caught.value, ContentRejected)
    assert not caught.value.retryable
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[media_id])  # nothing about the post changed
    assert snapshot.exists is True


@pytest.mark.django_db
def test_a_pull_that_meets_a_missing_permission_keeps_the_post_and_notes_the_account(
    configured: MetaDouble, settings: Any
) -> None:
    settings.CAMPAIGN_METRICS_WINDOWS = ["+1h"]
    provider, tokens = connect(configured)
    media_id = publish(provider, tokens, draft())
    account = ConnectedAccountFactory(
        network=Network.INSTAGRAM, instance_url=configured.url, access_token=tokens.access_token
    )
    share = ready_share(account=account)
    publication = SharePublication.objects.create(
        share=share,
        state=PublicationState.PUBLISHED,
        idempotency_key=uuid.uuid4().hex,
        external_id=media_id,
        published_at=timezone.now() - timedelta(hours=2),
    )
    configured.state.fail_next["insights"] = "permission"

    metrics_pull(pairs={publication.pk: ["+1h"]})

    publication.refresh_from_db()
    assert publication.state == PublicationState.PUBLISHED  # not removed: the post is there
    assert not MetricSnapshot.objects.filter(share=publication.share).exists()  # no zeros, nothing "gone"
    account.refresh_from_db()
    assert account.status == AccountStatus.HEALTHY
    assert account.last_error.startswith("AccountAttention")


def test_deleted_media_does_not_exist(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=["17999999999999999"])
    assert snapshot.exists is False


# --- errors -------------------------------------------------------------------------------


def test_expired_token_is_auth_expired(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    double.expire(tokens.access_token)
    with pytest.raises(AuthExpired, match="463"):
        provider.fetch_account(tokens=tokens)


@pytest.mark.parametrize("subcode", [460, 458])
def test_revoked_token_is_auth_revoked(double: MetaDouble, subcode: int) -> None:
    provider, tokens = connect(double)
    double.revoke(tokens.access_token, subcode=subcode)
    with pytest.raises(AuthRevoked, match=str(subcode)):
        provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")


def test_missing_access_token_is_refused_by_the_double(double: MetaDouble) -> None:
    provider = FastInstagram(base_url=double.url, client=CLIENT)
    with pytest.raises(AuthRevoked, match="104"):
        provider.fetch_account(tokens=TokenSet(access_token=""))


def test_rate_limit_uses_the_business_use_case_time_to_regain_access(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    pending = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")
    double.state.fail_next["media_publish"] = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        provider.complete_pending_publish(tokens=tokens, draft=draft(), pending_id=pending.external_id)
    assert caught.value.retry_after == 7 * 60
    assert provider.last_rate_limit is not None
    assert provider.last_rate_limit.remaining == 0
    assert not double.state.posts


def test_server_error_is_transient(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    double.state.fail_next["media"] = "server_error"
    with pytest.raises(Transient):
        provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")


def test_policy_block_is_content_rejected(double: MetaDouble) -> None:
    provider, tokens = connect(double)
    double.state.fail_next["media"] = "policy"
    with pytest.raises(ContentRejected, match="368"):
        provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")


@pytest.mark.django_db
def test_revocation_marks_the_stored_account_revoked(configured: MetaDouble) -> None:
    provider, tokens = connect(configured)
    account = services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="instagram",
        instance_url=configured.url,
        profile=provider.fetch_account(tokens=tokens),
        tokens=tokens,
    )
    configured.revoke(tokens.access_token)
    services.account_profile_refresh(account_id=account.pk)
    assert ConnectedAccount.objects.get(pk=account.pk).status == AccountStatus.REVOKED
