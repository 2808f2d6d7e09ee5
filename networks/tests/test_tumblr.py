"""The Tumblr adapter over real HTTP against the local double (networks/tests/doubles/tumblr_double.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from networks import services
from networks.models import ConnectedAccount
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    ContentRejected,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.tumblr import TumblrProvider, split_external_id
from networks.providers.types import MediaItem, PostDraft, PublishState
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
from networks.tests.doubles.tumblr_double import TumblrDouble, running_tumblr_double


@pytest.fixture
def tumblr_double() -> Iterator[TumblrDouble]:
    with running_tumblr_double() as double:
        yield double


@pytest.fixture
def provider(tumblr_double: TumblrDouble) -> TumblrProvider:
    return TumblrProvider(base_url=tumblr_double.url, client=client_for(tumblr_double.state))


def test_connect_with_offline_access_and_primary_blog(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    assert tokens.refresh_token
    assert tokens.expires_at is not None
    assert timedelta(minutes=41) < tokens.expires_at - datetime.now(UTC) <= timedelta(minutes=42)
    account = provider.fetch_account(tokens=tokens)
    assert account.external_id == tumblr_double.state.blog_uuid
    assert account.handle == "lenamakes"
    assert account.followers_count == 812


@pytest.mark.django_db
def test_connect_through_the_platform_and_refresh_when_due(settings: Any, tumblr_double: TumblrDouble) -> None:
    configure(settings, "tumblr", tumblr_double)
    account = connect_through_platform("tumblr", tumblr_double)
    assert account.external_id == tumblr_double.state.blog_uuid
    assert account.refresh_token
    # 42-minute tokens are due within the 30-minute refresh window soon after connecting.
    ConnectedAccount.objects.filter(pk=account.pk).update(token_expires_at=datetime.now(UTC) + timedelta(minutes=10))
    assert services.account_token_refresh(account_id=account.pk) is True
    renewed = ConnectedAccount.objects.get(pk=account.pk)
    assert renewed.access_token != account.access_token
    assert renewed.refresh_token != account.refresh_token


def test_production_consent_page_is_on_www(tumblr_double: TumblrDouble) -> None:
    provider = TumblrProvider(base_url="https://api.tumblr.com", client=client_for(tumblr_double.state))
    url = provider.begin_auth(redirect_uri=REDIRECT).authorization_url
    assert url.startswith("https://www.tumblr.com/oauth2/authorize?")


def test_wrong_code_is_refused(provider: TumblrProvider) -> None:
    code, _verifier = authorize(provider)
    with pytest.raises(AuthExpired):
        provider.complete_auth(code="not-" + code, redirect_uri=REDIRECT, code_verifier="")


def test_publish_npf_multipart_with_text_link_and_image(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    draft = PostDraft(
        text="Autumn is here",
        link="https://brand.example/autumn",
        media=(MediaItem(content=PNG, filename="a.png", content_type="image/png", description="A jacket"),),
    )
    result = provider.publish(tokens=tokens, draft=draft, idempotency_key="s1")
    assert result.state == PublishState.PUBLISHED
    blog, post_id = split_external_id(result.external_id)
    assert blog == tumblr_double.state.blog_uuid
    assert result.url == f"https://lenamakes.tumblr.com/post/{post_id}"
    post = tumblr_double.state.posts[post_id]
    assert [block["type"] for block in post["content"]] == ["text", "link", "image"]
    assert post["content"][1]["url"] == "https://brand.example/autumn"
    identifier = post["content"][2]["media"][0]["identifier"]
    assert post["media"][identifier] == PNG
    assert tumblr_double.calls("POST", "/v2/blog/")[-1]["Content-Type"].startswith("multipart/form-data")


def test_text_only_post_goes_as_json(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="just words"), idempotency_key="s2")
    assert split_external_id(result.external_id)[1] in tumblr_double.state.posts
    assert tumblr_double.calls("POST", "/v2/blog/")[-1]["Content-Type"] == "application/json"


def test_notes_counts_and_missing_posts(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="count me"), idempotency_key="m")
    post_id = split_external_id(result.external_id)[1]
    tumblr_double.state.notes[post_id] = {"likes": 14, "reblogs": 3, "replies": 2}
    gone = f"{tumblr_double.state.blog_uuid}/123"
    snapshot, missing = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id, gone])
    assert (snapshot.likes, snapshot.shares) == (14, 3)
    assert snapshot.reach is None
    assert snapshot.impressions is None
    assert snapshot.clicks is None
    assert_only_declared_metrics(provider, snapshot)
    assert missing.exists is False
    notes_call = tumblr_double.calls("GET", "/v2/blog/")[-1]
    assert notes_call["Authorization"].startswith("Bearer ")


def test_refresh_returns_new_tokens_and_spends_the_old_refresh_token(
    tumblr_double: TumblrDouble, provider: TumblrProvider
) -> None:
    tokens = connect(provider)
    renewed = provider.refresh(tokens=tokens)
    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token
    assert renewed.refresh_token != tokens.refresh_token
    assert renewed.expires_at is not None
    with pytest.raises(AuthExpired) as caught:
        provider.refresh(tokens=tokens)
    assert caught.value.status == 401
    provider.fetch_account(tokens=renewed)


def test_expired_access_token_is_auth_expired(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    provider.fetch_account(tokens=tokens)
    tumblr_double.state.expire_all()
    with pytest.raises(AuthExpired):
        provider.publish(tokens=tokens, draft=PostDraft(text="late"), idempotency_key="e")


def test_daily_post_limit_is_rate_limited_until_tomorrow(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    tumblr_double.state.posts_today = 250
    with pytest.raises(RateLimited) as caught:
        provider.publish(tokens=tokens, draft=PostDraft(text="one too many"), idempotency_key="l")
    assert caught.value.status == 403
    assert caught.value.reset_at is not None
    assert caught.value.reset_at > datetime.now(UTC)


def test_429_uses_the_exhausted_window(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    provider.fetch_account(tokens=tokens)
    info = provider.last_rate_limit
    assert info is not None
    assert info.limit == 1000  # the tighter, per-hour window
    tumblr_double.state.hour_remaining = 0
    with pytest.raises(RateLimited) as caught:
        provider.fetch_metrics(tokens=tokens, external_ids=[f"{tumblr_double.state.blog_uuid}/1"])
    assert 740 <= caught.value.retry_after <= 754


def test_rejected_content_and_server_error(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    tumblr_double.state.reject_next_post = True
    with pytest.raises(ContentRejected) as rejected:
        provider.publish(tokens=tokens, draft=PostDraft(text="no"), idempotency_key="r")
    assert rejected.value.status == 400
    tumblr_double.state.fail_next_with = 503
    with pytest.raises(Transient):
        provider.publish(tokens=tokens, draft=PostDraft(text="later"), idempotency_key="t")
    assert tumblr_double.state.posts == {}


def test_timeout_is_ambiguous_and_resolved_by_looking(tumblr_double: TumblrDouble) -> None:
    client = client_for(tumblr_double.state)
    tokens = connect(TumblrProvider(base_url=tumblr_double.url, client=client))
    impatient = TumblrProvider(base_url=tumblr_double.url, client=client, http=HttpClient(timeout=(2.0, 0.3)))
    draft = PostDraft(text="did it post?", link="https://brand.example/x")
    impatient.fetch_account(tokens=tokens)
    tumblr_double.state.create_delay = 0.8
    with pytest.raises(AmbiguousOutcome):
        impatient.publish(tokens=tokens, draft=draft, idempotency_key="a")
    tumblr_double.state.create_delay = 0
    resolved = impatient.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="a")
    assert resolved.state == PublishState.PUBLISHED
    assert split_external_id(resolved.external_id)[1] in tumblr_double.state.posts
    assert len(tumblr_double.state.posts) == 1
    other = impatient.check_pending_publish(tokens=tokens, draft=PostDraft(text="never sent"), idempotency_key="b")
    assert other.state == PublishState.NOT_FOUND


def test_delete_is_idempotent(tumblr_double: TumblrDouble, provider: TumblrProvider) -> None:
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="bye"), idempotency_key="d")
    provider.delete(tokens=tokens, external_id=result.external_id)
    provider.delete(tokens=tokens, external_id=result.external_id)
    assert tumblr_double.state.posts == {}
