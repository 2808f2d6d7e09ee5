"""The X adapter over real HTTP against the local double (networks/tests/doubles/x_double.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from networks import services
from networks.models import AccountStatus, ConnectedAccount, OAuthApp
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    Duplicate,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.types import ClientCredentials, MediaItem, PostDraft, PublishState
from networks.providers.x import XProvider, tweet_created_at
from networks.tests.doubles.helpers import (
    PNG,
    REDIRECT,
    assert_only_declared_metrics,
    authorize,
    client_for,
    configure,
    connect,
    connect_through_platform,
)
from networks.tests.doubles.x_double import XDouble, running_x_double, snowflake
from tests.factories.influencers import InfluencerProfileFactory


@pytest.fixture
def x_double() -> Iterator[XDouble]:
    with running_x_double() as double:
        yield double


@pytest.fixture
def provider(x_double: XDouble) -> XProvider:
    return XProvider(base_url=x_double.url, client=client_for(x_double.state))


def test_connect_uses_pkce_and_basic_auth(x_double: XDouble, provider: XProvider) -> None:
    start = provider.begin_auth(redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert set(query["scope"][0].split()) >= {"offline.access", "media.write", "tweet.write"}
    tokens = connect(provider)
    assert tokens.refresh_token
    assert tokens.expires_at is not None
    assert timedelta(hours=1, minutes=59) < tokens.expires_at - datetime.now(UTC) <= timedelta(hours=2)
    token_call = x_double.calls("POST", "/2/oauth2/token")[-1]
    assert token_call["Authorization"].startswith("Basic ")
    account = provider.fetch_account(tokens=tokens)
    assert (account.external_id, account.handle, account.followers_count) == (
        x_double.state.user_id,
        "@lena_makes",
        4321,
    )
    assert account.profile_url == "https://x.com/lena_makes"


@pytest.mark.django_db
def test_connect_through_the_platform_with_configured_app(settings: Any, x_double: XDouble) -> None:
    configure(settings, "x", x_double)
    account = connect_through_platform("x", x_double)
    assert account.network == "x"
    assert account.external_id == x_double.state.user_id
    assert account.handle == "@lena_makes"
    assert account.followers_count == 4321
    assert account.refresh_token
    assert account.token_expires_at is not None
    assert services.account_token_refresh(account_id=account.pk, force=True) is True
    renewed = ConnectedAccount.objects.get(pk=account.pk)
    assert renewed.refresh_token != account.refresh_token
    assert renewed.status == AccountStatus.HEALTHY


def test_not_configured_without_app_credentials() -> None:
    provider = XProvider(base_url="https://api.x.com")
    assert provider.is_configured is False
    with pytest.raises(NotSupported):
        provider.begin_auth(redirect_uri=REDIRECT)


def test_production_urls_split_consent_page_and_api() -> None:
    provider = XProvider(base_url="https://api.x.com", client=ClientCredentials(client_id="c", client_secret="s"))
    assert provider.begin_auth(redirect_uri=REDIRECT).authorization_url.startswith("https://x.com/i/oauth2/authorize?")


def test_wrong_verifier_and_missing_credentials_are_refused(x_double: XDouble, provider: XProvider) -> None:
    code, _verifier = authorize(provider)
    with pytest.raises(AuthExpired) as caught:
        provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="not-the-verifier-" * 3)
    assert "PKCE" in str(caught.value)
    with pytest.raises(NotSupported):
        XProvider(base_url=x_double.url).begin_auth(redirect_uri=REDIRECT)
    wrong = XProvider(
        base_url=x_double.url, client=ClientCredentials(client_id=x_double.state.client_id, client_secret="wrong")
    )
    code, verifier = authorize(provider)
    with pytest.raises(NetworkError) as refused:
        wrong.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert not isinstance(refused.value, AuthExpired)  # our app is misconfigured, not the person's consent


def test_publish_text_link_and_image(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    draft = PostDraft(
        text="Autumn jackets are here",
        link="https://brand.example/autumn?utm_source=linkilike",
        media=(MediaItem(content=PNG, filename="jacket.png", content_type="image/png", description="A jacket"),),
    )
    assert provider.validate_draft(draft) == []
    result = provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
    assert result.state == PublishState.PUBLISHED
    assert result.url == f"https://x.com/i/web/status/{result.external_id}"
    assert result.published_at is not None
    assert abs(result.published_at - datetime.now(UTC)) < timedelta(minutes=1)
    post = x_double.state.posts[result.external_id]
    assert post["text"] == "Autumn jackets are here\n\nhttps://brand.example/autumn?utm_source=linkilike"
    assert len(post["media"]) == 1
    assert x_double.state.media[post["media"][0]] == x_double.state.user_id
    assert provider.post_cost_minor(draft) == provider.capabilities.cost_per_post_minor == 20
    assert provider.post_cost_minor(PostDraft(text="no link")) == 2


def test_validate_counts_urls_as_23(provider: XProvider) -> None:
    long_url = "https://brand.example/" + "a" * 200
    assert provider.validate_draft(PostDraft(text="x" * 255, link=long_url)) == []  # 255 + 2 + 23 = 280
    problems = provider.validate_draft(PostDraft(text="x" * 256, link=long_url))
    assert problems
    assert "281" in problems[0]
    five = tuple(MediaItem(content=PNG, filename=f"{n}.png", content_type="image/png") for n in range(5))
    assert provider.validate_draft(PostDraft(text="hi", media=five))


def test_metrics_one_call_per_hundred_posts_with_clicks(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    ids = [x_double.state.add_post(text=f"post {n} https://brand.example/{n}") for n in range(150)]
    x_double.state.posts[ids[0]]["public"].update(like_count=7, retweet_count=2, impression_count=900)
    x_double.state.posts[ids[0]]["private"].update(url_link_clicks=31)
    before = len(x_double.calls("GET", "/2/tweets"))
    snapshots = provider.fetch_metrics(tokens=tokens, external_ids=ids)
    assert len(x_double.calls("GET", "/2/tweets")) - before == 2
    assert [s.external_id for s in snapshots] == ids
    first = snapshots[0]
    assert (first.likes, first.shares, first.impressions, first.clicks) == (7, 2, 900, 31)
    assert first.replies == 0
    assert first.reach is None  # X reports impressions, never unique reach
    assert_only_declared_metrics(provider, first)


def test_old_posts_get_public_metrics_only_and_gone_posts_are_marked(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    old = x_double.state.add_post(text="from last year", created=datetime.now(UTC) - timedelta(days=45))
    recent = x_double.state.add_post(text="fresh")
    gone = snowflake(datetime.now(UTC) - timedelta(days=1), 4000)
    x_double.state.posts[old]["public"]["like_count"] = 12
    old_snapshot, recent_snapshot, gone_snapshot = provider.fetch_metrics(
        tokens=tokens, external_ids=[old, recent, gone]
    )
    assert old_snapshot.likes == 12
    assert old_snapshot.clicks is None  # the double refuses non_public_metrics for it: we never asked
    assert recent_snapshot.clicks is None  # no URL in the post: X sends no url_link_clicks
    assert gone_snapshot.exists is False
    assert gone_snapshot.likes is None
    assert tweet_created_at(old) is not None


def test_refresh_rotates_and_old_refresh_token_dies(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    renewed = provider.refresh(tokens=tokens)
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token
    assert renewed.refresh_token != tokens.refresh_token
    assert renewed.expires_at is not None
    with pytest.raises(AuthExpired):
        provider.refresh(tokens=tokens)  # spent: X rotates refresh tokens
    provider.fetch_account(tokens=renewed)


def test_refresh_answer_without_refresh_token_keeps_the_old_one(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    x_double.state.rotate_refresh_tokens = False
    x_double.state.refresh_answer_without_refresh_token = True
    renewed = provider.refresh(tokens=tokens)
    assert renewed.refresh_token == tokens.refresh_token


@pytest.mark.django_db(transaction=True)
def test_scheduled_refresh_stores_the_rotated_token(settings: Any, x_double: XDouble) -> None:
    settings.NETWORK_PROVIDERS = {
        **settings.NETWORK_PROVIDERS,
        "x": {"class": "networks.providers.x.XProvider", "base_url": x_double.url},
    }
    OAuthApp.objects.create(
        network="x",
        instance_url=x_double.url,
        redirect_uri=REDIRECT,
        scopes="",
        client_id=x_double.state.client_id,
        client_secret=x_double.state.client_secret,
    )
    provider = XProvider(base_url=x_double.url, client=client_for(x_double.state))
    tokens = connect(provider)
    account = services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="x",
        instance_url=x_double.url,
        profile=provider.fetch_account(tokens=tokens),
        tokens=tokens,
    )
    ConnectedAccount.objects.filter(pk=account.pk).update(token_expires_at=datetime.now(UTC) + timedelta(minutes=5))
    assert services.account_token_refresh(account_id=account.pk) is True
    account.refresh_from_db()
    assert account.refresh_token != tokens.refresh_token
    assert account.token_expires_at is not None
    assert account.token_expires_at > datetime.now(UTC) + timedelta(hours=1)
    assert account.status == AccountStatus.HEALTHY


def test_expired_token_is_auth_expired(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    x_double.state.expire_all()
    with pytest.raises(AuthExpired) as caught:
        provider.publish(tokens=tokens, draft=PostDraft(text="hello"), idempotency_key="k")
    assert caught.value.status == 401
    assert not caught.value.retryable


def test_duplicate_post_is_duplicate(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    provider.publish(tokens=tokens, draft=PostDraft(text="same words"), idempotency_key="a")
    with pytest.raises(Duplicate) as caught:
        provider.publish(tokens=tokens, draft=PostDraft(text="same words"), idempotency_key="b")
    assert caught.value.status == 403
    assert len(x_double.state.posts) == 1


@pytest.mark.parametrize("style", ["problem", "v1"])
def test_429_in_both_shapes_is_rate_limited_until_reset(x_double: XDouble, provider: XProvider, style: str) -> None:
    tokens = connect(provider)
    provider.fetch_account(tokens=tokens)
    info = provider.last_rate_limit
    assert info is not None
    assert info.limit == 100
    assert info.reset_at is not None
    assert info.reset_at > datetime.now(UTC)
    x_double.state.rate_limit_style = style
    x_double.state.rate_remaining = 0
    x_double.state.rate_reset_in = 120
    with pytest.raises(RateLimited) as caught:
        provider.fetch_metrics(tokens=tokens, external_ids=["1"])
    assert 110 <= caught.value.retry_after <= 121
    assert caught.value.reset_at is not None
    assert caught.value.retryable


def test_token_without_a_needed_scope_is_auth_revoked(x_double: XDouble) -> None:
    x_double.state.granted_scope = "tweet.read tweet.write users.read offline.access"  # no media.write
    provider = XProvider(base_url=x_double.url, client=client_for(x_double.state))
    tokens = connect(provider)
    draft = PostDraft(text="with a photo", media=(MediaItem(content=PNG, filename="a.png", content_type="image/png"),))
    with pytest.raises(AuthRevoked) as caught:
        provider.publish(tokens=tokens, draft=draft, idempotency_key="s")
    assert caught.value.status == 403
    assert x_double.state.posts == {}


def test_refused_content_and_server_errors(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    x_double.state.reject_next_post = "You are not permitted to perform this action."
    with pytest.raises(ContentRejected) as rejected:
        provider.publish(tokens=tokens, draft=PostDraft(text="nope"), idempotency_key="r")
    assert rejected.value.status == 403
    x_double.state.fail_next_with = 503
    with pytest.raises(Transient) as unavailable:
        provider.publish(tokens=tokens, draft=PostDraft(text="later"), idempotency_key="t")
    assert unavailable.value.retryable
    assert x_double.state.posts == {}


def test_timeout_on_create_is_ambiguous_and_resolved_without_a_second_post(x_double: XDouble) -> None:
    client = client_for(x_double.state)
    tokens = connect(XProvider(base_url=x_double.url, client=client))
    impatient = XProvider(base_url=x_double.url, client=client, http=HttpClient(timeout=(2.0, 0.3)))
    draft = PostDraft(text="did it post?", link="https://brand.example/p")
    x_double.state.create_delay = 0.8
    with pytest.raises(AmbiguousOutcome):
        impatient.publish(tokens=tokens, draft=draft, idempotency_key="share-9")
    x_double.state.create_delay = 0
    resolved = impatient.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-9")
    assert resolved.state == PublishState.PUBLISHED
    assert resolved.external_id in x_double.state.posts
    assert len(x_double.state.posts) == 1
    never = impatient.check_pending_publish(tokens=tokens, draft=PostDraft(text="other"), idempotency_key="x")
    assert never.state == PublishState.NOT_FOUND
    assert len(x_double.state.posts) == 1


def test_delete_is_idempotent(x_double: XDouble, provider: XProvider) -> None:
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="bye"), idempotency_key="d")
    provider.delete(tokens=tokens, external_id=result.external_id)
    provider.delete(tokens=tokens, external_id=result.external_id)
    assert result.external_id not in x_double.state.posts
