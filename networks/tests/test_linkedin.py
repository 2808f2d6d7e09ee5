"""The LinkedIn adapter over real HTTP against the local double (networks/tests/doubles/linkedin_double.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks import services
from networks.models import AccountStatus, ConnectedAccount
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    Duplicate,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.linkedin import API_VERSION, LinkedInProvider, escape_little_text
from networks.providers.types import MediaItem, PostDraft, PublishState, TokenSet
from networks.tests.doubles.helpers import (
    PNG,
    REDIRECT,
    authorize,
    client_for,
    configure,
    connect,
    connect_through_platform,
)
from networks.tests.doubles.linkedin_double import LinkedInDouble, read_little_text, running_linkedin_double
from tests.factories.influencers import InfluencerProfileFactory


@pytest.fixture
def linkedin_double() -> Iterator[LinkedInDouble]:
    with running_linkedin_double() as double:
        yield double


@pytest.fixture
def provider(linkedin_double: LinkedInDouble) -> LinkedInProvider:
    return LinkedInProvider(base_url=linkedin_double.url, client=client_for(linkedin_double.state))


def test_connect_gets_a_60_day_token_without_refresh(
    linkedin_double: LinkedInDouble, provider: LinkedInProvider
) -> None:
    start = provider.begin_auth(redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert set(query["scope"][0].split()) == {"openid", "profile", "w_member_social"}
    tokens = connect(provider)
    assert tokens.refresh_token == ""
    assert tokens.expires_at is not None
    assert timedelta(days=59) < tokens.expires_at - datetime.now(UTC) <= timedelta(days=60)
    assert set(tokens.scope.replace(",", " ").split()) == {"openid", "profile", "w_member_social"}
    account = provider.fetch_account(tokens=tokens)
    assert account.external_id == linkedin_double.state.member
    assert account.display_name == "Lena Example"
    assert account.followers_count is None  # not readable with member permissions
    with pytest.raises(NotSupported):
        provider.refresh(tokens=tokens)
    assert provider.capabilities.token_refresh is False


@pytest.mark.django_db
def test_connect_through_the_platform_sets_expiry_and_no_refresh(
    settings: Any, linkedin_double: LinkedInDouble
) -> None:
    configure(settings, "linkedin", linkedin_double)
    account = connect_through_platform("linkedin", linkedin_double)
    assert account.external_id == linkedin_double.state.member
    assert account.refresh_token == ""
    assert account.token_expires_at is not None
    assert account.token_expires_at > datetime.now(UTC) + timedelta(days=59)


def test_production_consent_page_is_on_www() -> None:
    provider = LinkedInProvider(base_url="https://api.linkedin.com", client=client_for(LinkedInDouble().state))
    url = provider.begin_auth(redirect_uri=REDIRECT).authorization_url
    assert url.startswith("https://www.linkedin.com/oauth/v2/authorization?")


def test_wrong_code_is_refused(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    code, _verifier = authorize(provider)
    with pytest.raises(AuthExpired):
        provider.complete_auth(code=code + "x", redirect_uri=REDIRECT, code_verifier="")


@pytest.mark.django_db
def test_connected_account_gets_warned_before_the_60_days_run_out(linkedin_double: LinkedInDouble) -> None:
    provider = LinkedInProvider(base_url=linkedin_double.url, client=client_for(linkedin_double.state))
    tokens = connect(provider)
    account = services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="linkedin",
        instance_url=linkedin_double.url,
        profile=provider.fetch_account(tokens=tokens),
        tokens=tokens,
    )
    assert account.token_expires_at is not None
    assert account.refresh_token == ""
    assert services.account_token_refresh(account_id=account.pk, force=True) is False  # nothing to refresh with
    ConnectedAccount.objects.filter(pk=account.pk).update(token_expires_at=datetime.now(UTC) + timedelta(days=3))
    assert services.account_reconsent_warn(account_id=account.pk) is True
    account.refresh_from_db()
    assert account.status == AccountStatus.EXPIRING


def test_publish_image_post_with_required_headers(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    tokens = connect(provider)
    draft = PostDraft(
        text="New season (limited) #autumn",
        link="https://brand.example/autumn",
        media=(MediaItem(content=PNG, filename="a.png", content_type="image/png", description="A jacket"),),
    )
    result = provider.publish(tokens=tokens, draft=draft, idempotency_key="s1")
    assert result.state == PublishState.PUBLISHED
    assert result.external_id.startswith("urn:li:share:")
    assert result.url == f"https://www.linkedin.com/feed/update/{result.external_id}/"
    post = linkedin_double.state.posts[result.external_id]
    # Reserved characters were escaped: LinkedIn shows the whole text, link included.
    assert post["commentary"] == "New season (limited) #autumn\n\nhttps://brand.example/autumn"
    image = linkedin_double.state.images[post["content"]["media"]["id"]]
    assert image["content"] == PNG
    for headers in linkedin_double.calls("POST", "/rest/"):
        assert headers["LinkedIn-Version"] == API_VERSION
        assert headers["X-Restli-Protocol-Version"] == "2.0.0"


def test_link_without_image_becomes_an_article_card(
    linkedin_double: LinkedInDouble, provider: LinkedInProvider
) -> None:
    tokens = connect(provider)
    result = provider.publish(
        tokens=tokens, draft=PostDraft(text="Read this", link="https://brand.example/story"), idempotency_key="s2"
    )
    post = linkedin_double.state.posts[result.external_id]
    assert post["content"] == {"article": {"source": "https://brand.example/story", "title": "Read this"}}
    assert post["commentary"] == "Read this"


def test_double_refuses_rest_calls_without_version_headers(
    linkedin_double: LinkedInDouble, provider: LinkedInProvider
) -> None:
    tokens = connect(provider)
    answer = requests.post(
        f"{linkedin_double.url}/rest/posts",
        json={"author": "urn:li:person:x"},
        headers={"Authorization": f"Bearer {tokens.access_token}", "X-Restli-Protocol-Version": "2.0.0"},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "VERSION_MISSING"
    answer = requests.post(
        f"{linkedin_double.url}/rest/posts",
        json={"author": "urn:li:person:x"},
        headers={"Authorization": f"Bearer {tokens.access_token}", "LinkedIn-Version": API_VERSION},
        timeout=5,
    )
    assert answer.status_code == 400


def test_little_text_escaping_round_trips() -> None:
    text = r"50% off (today) *only* @brand #sale [x] {y} <z> a_b ~c | d \ e"
    assert read_little_text(escape_little_text(text)) == text
    assert read_little_text("cut (here)") == "cut "


def test_metrics_unavailable_without_the_gated_permission(
    linkedin_double: LinkedInDouble, provider: LinkedInProvider
) -> None:
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="hello"), idempotency_key="m")
    before = len(linkedin_double.state.requests)
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id])
    assert len(linkedin_double.state.requests) == before  # no call: LinkedIn would refuse it
    assert (snapshot.likes, snapshot.reach, snapshot.impressions, snapshot.shares) == (None, None, None, None)
    assert snapshot.exists
    assert provider.capabilities.metrics == ()


def test_metrics_with_the_gated_permission(linkedin_double: LinkedInDouble) -> None:
    linkedin_double.state.granted_scope = "openid profile w_member_social r_member_postAnalytics"
    provider = LinkedInProvider(base_url=linkedin_double.url, client=client_for(linkedin_double.state))
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="measured"), idempotency_key="g")
    linkedin_double.state.analytics[result.external_id] = {"IMPRESSION": 500, "MEMBERS_REACHED": 320, "REACTION": 9}
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id])
    assert (snapshot.impressions, snapshot.reach, snapshot.likes, snapshot.replies) == (500, 320, 9, 0)


def test_revoked_token_is_auth_revoked(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    tokens = connect(provider)
    linkedin_double.state.revoke_all()
    with pytest.raises(AuthRevoked) as caught:
        provider.publish(tokens=tokens, draft=PostDraft(text="x"), idempotency_key="r")
    assert caught.value.status == 401
    assert "REVOKED_ACCESS_TOKEN" in str(caught.value)


def test_expired_token_is_auth_expired(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    tokens = connect(provider)
    linkedin_double.state.expire_all()
    with pytest.raises(AuthExpired):
        provider.fetch_account(tokens=tokens)


def test_duplicate_is_duplicate_and_resolves_a_pending_publish(linkedin_double: LinkedInDouble) -> None:
    client = client_for(linkedin_double.state)
    tokens = connect(LinkedInProvider(base_url=linkedin_double.url, client=client))
    impatient = LinkedInProvider(base_url=linkedin_double.url, client=client, http=HttpClient(timeout=(2.0, 0.3)))
    draft = PostDraft(text="did it post?", link="https://brand.example/p")
    linkedin_double.state.create_delay = 0.8
    with pytest.raises(AmbiguousOutcome):
        impatient.publish(tokens=tokens, draft=draft, idempotency_key="k")
    linkedin_double.state.create_delay = 0
    with pytest.raises(Duplicate) as caught:
        impatient.publish(tokens=tokens, draft=draft, idempotency_key="k2")
    assert caught.value.status == 422
    resolved = impatient.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="k")
    assert resolved.state == PublishState.PUBLISHED
    assert resolved.external_id in linkedin_double.state.posts
    assert len(linkedin_double.state.posts) == 1


def test_pending_image_post_resolves_to_the_first_post(linkedin_double: LinkedInDouble) -> None:
    client = client_for(linkedin_double.state)
    tokens = connect(LinkedInProvider(base_url=linkedin_double.url, client=client))
    impatient = LinkedInProvider(base_url=linkedin_double.url, client=client, http=HttpClient(timeout=(2.0, 0.3)))
    draft = PostDraft(
        text="with a picture",
        link="https://brand.example/p",
        media=(MediaItem(content=PNG, filename="a.png", content_type="image/png"),),
    )
    linkedin_double.state.create_delay = 0.8
    with pytest.raises(AmbiguousOutcome):
        impatient.publish(tokens=tokens, draft=draft, idempotency_key="k")
    linkedin_double.state.create_delay = 0
    resolved = impatient.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="k")
    assert list(linkedin_double.state.posts) == [resolved.external_id]


def test_pending_publish_that_never_arrived_is_created_once(linkedin_double: LinkedInDouble) -> None:
    provider = LinkedInProvider(base_url=linkedin_double.url, client=client_for(linkedin_double.state))
    tokens = connect(provider)
    resolved = provider.check_pending_publish(tokens=tokens, draft=PostDraft(text="first try"), idempotency_key="k")
    assert resolved.state == PublishState.PUBLISHED
    assert list(linkedin_double.state.posts) == [resolved.external_id]


def test_429_waits_for_midnight_utc(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    tokens = connect(provider)
    linkedin_double.state.throttled = True
    with pytest.raises(RateLimited) as caught:
        provider.publish(tokens=tokens, draft=PostDraft(text="x"), idempotency_key="t")
    assert caught.value.reset_at is not None
    assert caught.value.reset_at.hour == 0
    assert caught.value.reset_at.minute == 0
    assert 0 < caught.value.retry_after <= 86400
    assert provider.last_rate_limit is None  # LinkedIn sends no rate-limit headers


def test_rejected_content_and_server_error(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    tokens = connect(provider)
    assert provider.validate_draft(PostDraft(text="x" * 3001))
    with pytest.raises(ContentRejected) as rejected:
        provider._send(
            "POST",
            provider._api("/rest/posts"),
            tokens=tokens,
            write=True,
            ok=(201,),
            json={"author": "urn:li:person:someone-else", "commentary": "x"},
        )
    assert rejected.value.status == 422
    linkedin_double.state.fail_next_with = 503
    with pytest.raises(Transient):
        provider.fetch_account(tokens=tokens)


def test_delete_is_idempotent(linkedin_double: LinkedInDouble, provider: LinkedInProvider) -> None:
    tokens = connect(provider)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="bye"), idempotency_key="d")
    provider.delete(tokens=tokens, external_id=result.external_id)
    provider.delete(tokens=tokens, external_id=result.external_id)
    assert linkedin_double.state.posts == {}


def test_token_without_scope_string_still_reads_as_no_analytics(provider: LinkedInProvider, settings: Any) -> None:
    [snapshot] = provider.fetch_metrics(tokens=TokenSet(access_token="t"), external_ids=["urn:li:share:1"])
    assert snapshot.impressions is None
