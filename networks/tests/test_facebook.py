"""Facebook Pages over real HTTP against the local Graph double, including the Page choice after login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from networks import services_meta
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
from networks.providers.facebook import FacebookProvider
from networks.providers.http import HttpClient
from networks.providers.types import ClientCredentials, MediaItem, PostDraft, PublishState, TokenSet
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from tests.factories.accounts import UserFactory
from tests.factories.influencers import InfluencerProfileFactory

REDIRECT = "http://testserver/i/accounts/callback/facebook/"
CLIENT = ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture
def double() -> Iterator[MetaDouble]:
    with running_meta_double("facebook") as running:
        yield running


@pytest.fixture
def configured(settings: Any, double: MetaDouble) -> MetaDouble:
    settings.FACEBOOK_GRAPH_URL = double.url
    settings.FACEBOOK_APP_ID = CLIENT_ID
    settings.FACEBOOK_APP_SECRET = CLIENT_SECRET
    settings.SITE_URL = "http://testserver"
    return double


def user_login(double: MetaDouble, provider: FacebookProvider | None = None) -> tuple[FacebookProvider, TokenSet]:
    provider = provider or FacebookProvider(base_url=double.url, client=CLIENT)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    answer = requests.get(start.authorization_url, allow_redirects=False, timeout=5)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [start.state]
    tokens = provider.complete_auth(code=query["code"][0], redirect_uri=REDIRECT, code_verifier=start.code_verifier)
    return provider, tokens


def page_login(double: MetaDouble, provider: FacebookProvider | None = None) -> tuple[FacebookProvider, TokenSet]:
    provider, user_tokens = user_login(double, provider)
    page = provider.list_pages(tokens=user_tokens)[0]
    return provider, provider.page_tokens(page)


def draft(text: str = "Croissants are back on Saturday") -> PostDraft:
    photo = MediaItem(content=JPEG, filename="c.jpg", content_type="image/jpeg", description="Six croissants")
    return PostDraft(text=text, link="https://example.com/croissants", media=(photo,))


# --- connecting -------------------------------------------------------------------------


def test_authorisation_url_is_the_versioned_facebook_dialog() -> None:
    provider = FacebookProvider(base_url="https://graph.facebook.com", client=CLIENT)
    url = provider.begin_auth(redirect_uri=REDIRECT).authorization_url
    assert url.startswith("https://www.facebook.com/v23.0/dialog/oauth?")
    scope = parse_qs(urlsplit(url).query)["scope"][0]
    assert {"pages_show_list", "pages_manage_posts", "pages_read_engagement", "read_insights"} <= set(scope.split(","))


def test_login_gives_a_long_lived_user_token_and_the_pages_with_their_tokens(double: MetaDouble) -> None:
    provider, user_tokens = user_login(double)
    assert double.state.exchanges == 1
    assert double.state.tokens[user_tokens.access_token]["kind"] == "long"
    assert user_tokens.refresh_token == ""
    pages = provider.list_pages(tokens=user_tokens)
    assert [page.name for page in pages] == ["Corner Bakery", "Weekend Runs"]
    assert all(double.state.tokens[page.access_token]["kind"] == "page" for page in pages)
    account = provider.fetch_account(tokens=provider.page_tokens(pages[0]))
    assert account.external_id == "101000000000001"
    assert account.display_name == "Corner Bakery"
    assert account.followers_count == 1520


def test_page_tokens_are_not_refreshed(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    assert tokens.expires_at is None
    with pytest.raises(NotSupported):
        provider.refresh(tokens=tokens)


@pytest.mark.django_db
def test_connect_through_the_pages_screen_stores_only_the_page_token(configured: MetaDouble) -> None:
    influencer = InfluencerProfileFactory()
    client = Client()
    client.force_login(influencer.user)

    page = client.get("/i/accounts/connect/facebook/")
    assert page.status_code == 200
    assert "Continue to Facebook Pages" in page.content.decode()
    # browsers apply form-action to the redirect after the POST: Meta's consent host must be allowed
    assert f"form-action 'self' {configured.url}" in page["Content-Security-Policy"]
    start = client.post("/i/accounts/connect/facebook/")
    assert start.status_code == 302
    consent = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(consent.headers["Location"])
    assert callback.path == "/i/accounts/callback/facebook/"

    after_login = client.get(f"{callback.path}?{callback.query}")
    assert after_login["Location"] == "/i/accounts/connect/facebook/pages/"
    choice = client.get("/i/accounts/connect/facebook/pages/")
    html = choice.content.decode()
    assert "Corner Bakery" in html
    assert "Weekend Runs" in html
    assert all(token not in html for token in configured.state.tokens)

    done = client.post("/i/accounts/connect/facebook/pages/", {"page": "101000000000002"})
    assert done.status_code == 302
    account = ConnectedAccount.objects.get(influencer=influencer, network="facebook")
    assert account.external_id == "101000000000002"
    assert configured.state.tokens[account.access_token] == {
        **configured.state.tokens[account.access_token],
        "kind": "page",
    }
    assert configured.state.tokens[account.access_token]["owner"] == "101000000000002"
    assert account.refresh_token == ""
    assert services_meta.SESSION_KEY not in client.session  # the user token is forgotten


@pytest.mark.django_db
def test_a_page_the_person_does_not_manage_is_refused(configured: MetaDouble) -> None:
    influencer = InfluencerProfileFactory()
    client = Client()
    client.force_login(influencer.user)
    consent = requests.get(client.post("/i/accounts/connect/facebook/")["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(consent.headers["Location"])
    client.get(f"{callback.path}?{callback.query}")
    answer = client.post("/i/accounts/connect/facebook/pages/", {"page": "999"})
    assert answer.status_code == 400
    assert not ConnectedAccount.objects.filter(influencer=influencer).exists()


@pytest.mark.django_db
def test_callback_state_is_single_use_and_bound_to_the_session(configured: MetaDouble) -> None:
    influencer = InfluencerProfileFactory()
    client = Client()
    client.force_login(influencer.user)
    consent = requests.get(client.post("/i/accounts/connect/facebook/")["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(consent.headers["Location"])
    other = Client()
    other.force_login(UserFactory())
    assert other.get(f"{callback.path}?{callback.query}").status_code in (302, 400)
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    assert client.get(f"{callback.path}?{callback.query}").status_code == 400  # reused


@pytest.mark.django_db
def test_pages_screen_without_a_login_sends_people_back(configured: MetaDouble) -> None:
    client = Client()
    client.force_login(InfluencerProfileFactory().user)
    assert client.get("/i/accounts/connect/facebook/pages/")["Location"] == "/i/accounts/"


@pytest.mark.django_db
def test_not_configured_state(settings: Any) -> None:
    settings.FACEBOOK_APP_ID = ""
    client = Client()
    client.force_login(InfluencerProfileFactory().user)
    page = client.get("/i/accounts/connect/facebook/")
    assert "is not set up on Linkilike yet" in page.content.decode()
    assert client.post("/i/accounts/connect/facebook/").status_code == 302
    assert client.get("/i/accounts/connect/myspace/").status_code == 404


# --- publishing ---------------------------------------------------------------------------


def test_photo_uploaded_unpublished_then_attached_to_a_feed_post_with_the_link(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    result = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")
    assert result.state == PublishState.PUBLISHED
    assert result.external_id.startswith("101000000000001_")
    assert result.url == f"https://www.facebook.com/{result.external_id}"
    post = double.state.posts[result.external_id]
    assert post["text"] == "Croissants are back on Saturday"
    assert post["link"] == "https://example.com/croissants"
    [photo_id] = post["photos"]
    assert double.state.photos[photo_id]["published"] is False
    feed = next(params for method, path, params in double.state.requests if path.endswith("/feed"))
    assert json.loads(feed["attached_media"]) == [{"media_fbid": photo_id}]


def test_text_and_link_only(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    result = provider.publish(
        tokens=tokens, draft=PostDraft(text="Menu", link="https://example.com/m"), idempotency_key="k"
    )
    assert double.state.posts[result.external_id]["photos"] == []


def test_duplicate_message_is_duplicate(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    provider.publish(tokens=tokens, draft=draft(), idempotency_key="k1")
    with pytest.raises(Duplicate, match="506"):
        provider.publish(tokens=tokens, draft=draft(), idempotency_key="k2")


def test_lost_feed_answer_is_ambiguous_and_found_afterwards(double: MetaDouble) -> None:
    provider, tokens = page_login(
        double, FacebookProvider(base_url=double.url, client=CLIENT, http=HttpClient(timeout=(2, 0.3)))
    )
    double.state.publish_delay = 1.0
    with pytest.raises(AmbiguousOutcome):
        provider.publish(tokens=tokens, draft=draft(), idempotency_key="k")
    double.state.publish_delay = 0.0
    found = provider.check_pending_publish(tokens=tokens, draft=draft(), idempotency_key="k")
    assert found.state == PublishState.PUBLISHED
    assert [found.external_id] == list(double.state.posts)
    missing = provider.check_pending_publish(tokens=tokens, draft=draft("other"), idempotency_key="x")
    assert missing.state == PublishState.NOT_FOUND


# --- metrics ------------------------------------------------------------------------------


def test_metrics_use_current_insight_names_and_counts(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    post_id = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k").external_id
    double.set_insights(post_id, post_total_media_view_unique=812, post_clicks=44, reactions=61, comments=9, shares=5)
    [snapshot] = provider.fetch_metrics(tokens=tokens, external_ids=[post_id])
    assert (snapshot.reach, snapshot.clicks) == (812, 44)
    assert (snapshot.likes, snapshot.replies, snapshot.shares) == (61, 9, 5)
    assert snapshot.impressions is None
    assert snapshot.quotes is None
    assert snapshot.bookmarks is None
    asked = [params["metric"] for method, path, params in double.state.requests if path.endswith("/insights")]
    assert asked == ["post_total_media_view_unique,post_clicks"]


def test_no_shares_yet_is_zero_and_deleted_posts_do_not_exist(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    post_id = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k").external_id
    [fresh] = provider.fetch_metrics(tokens=tokens, external_ids=[post_id])
    assert fresh.shares == 0
    provider.delete(tokens=tokens, external_id=post_id)
    provider.delete(tokens=tokens, external_id=post_id)
    [gone] = provider.fetch_metrics(tokens=tokens, external_ids=[post_id])
    assert gone.exists is False


def test_double_rejects_the_removed_post_impressions_unique(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    post_id = provider.publish(tokens=tokens, draft=draft(), idempotency_key="k").external_id
    response = provider.send(
        "GET", provider.graph_path(f"/{post_id}/insights"), tokens=tokens, params={"metric": "post_impressions_unique"}
    )
    assert response.status_code == 400
    assert isinstance(provider.classify_error(response), ContentRejected)


# --- errors -------------------------------------------------------------------------------


def test_errors_are_typed(double: MetaDouble) -> None:
    provider, tokens = page_login(double)
    double.state.fail_next["feed"] = "rate_limit"
    with pytest.raises(RateLimited) as caught:
        provider.publish(tokens=tokens, draft=draft("a"), idempotency_key="k")
    assert caught.value.retry_after == 420
    assert "(32/" in str(caught.value)
    double.state.fail_next["photos"] = "server_error"
    with pytest.raises(Transient):
        provider.publish(tokens=tokens, draft=draft("b"), idempotency_key="k")
    double.state.fail_next["feed"] = "policy"
    with pytest.raises(ContentRejected):
        provider.publish(tokens=tokens, draft=draft("c"), idempotency_key="k")


def test_expired_user_token_and_revoked_page_token(double: MetaDouble) -> None:
    provider, user_tokens = user_login(double)
    page_tokens = provider.page_tokens(provider.list_pages(tokens=user_tokens)[0])
    double.expire(user_tokens.access_token)
    with pytest.raises(AuthExpired):
        provider.list_pages(tokens=user_tokens)
    double.revoke(page_tokens.access_token, subcode=460)
    with pytest.raises(AuthRevoked):
        provider.publish(tokens=page_tokens, draft=draft(), idempotency_key="k")


@pytest.mark.django_db
def test_revoked_page_marks_the_account_revoked(configured: MetaDouble) -> None:
    from networks import services

    provider, tokens = page_login(configured)
    account = services.connected_account_upsert(
        influencer=InfluencerProfileFactory(),
        network="facebook",
        instance_url=configured.url,
        profile=provider.fetch_account(tokens=tokens),
        tokens=tokens,
    )
    configured.revoke(tokens.access_token, subcode=458)
    services.account_profile_refresh(account_id=account.pk)
    assert ConnectedAccount.objects.get(pk=account.pk).status == AccountStatus.REVOKED
