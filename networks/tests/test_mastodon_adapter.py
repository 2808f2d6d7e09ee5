"""The Mastodon adapter over real HTTP against the local double (networks/tests/mastodon_double.py)."""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks.providers.exceptions import (
    AccountAttention,
    AmbiguousOutcome,
    AuthRevoked,
    ContentRejected,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.mastodon import MastodonProvider
from networks.providers.oauth2_base import authorization_start
from networks.providers.types import MediaItem, PostDraft, PublishState, TokenSet
from networks.tests.mastodon_double import NOT_READY, MastodonDouble

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201"
    "a5d2ab7c0000000049454e44ae426082"
)
REDIRECT = "http://testserver/i/accounts/callback/"


class FastMastodon(MastodonProvider):
    media_poll_interval = 0.01


def connect(double: MastodonDouble) -> tuple[FastMastodon, TokenSet]:
    """Register, authorise (the double consents at once) and exchange the code, over HTTP."""
    provider = FastMastodon(base_url=double.url)
    client = provider.register_app(redirect_uri=REDIRECT, website="http://testserver")
    provider = FastMastodon(base_url=double.url, client=client)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    answer = requests.get(start.authorization_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == [start.state]
    tokens = provider.complete_auth(code=query["code"][0], redirect_uri=REDIRECT, code_verifier=start.code_verifier)
    return provider, tokens


def test_pkce_pair_is_s256() -> None:
    verifier, challenge = _pkce_start()
    assert 43 <= len(verifier) <= 128
    assert challenge != verifier
    assert "=" not in challenge
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _pkce_start() -> tuple[str, str]:
    """A verifier and its S256 challenge as the adapters make them (requests-oauthlib, oauth2_base)."""
    start = authorization_start(
        HttpClient(),
        authorize_url="https://example.test/oauth/authorize",
        client_id="client",
        redirect_uri=REDIRECT,
        scope="read",
        pkce=True,
        label="test",
    )
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"]
    return start.code_verifier, query["code_challenge"][0]


def test_oauth_dance_and_profile(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    assert tokens.access_token
    assert tokens.expires_at is None
    account = provider.fetch_account(tokens=tokens)
    host = urlsplit(mastodon_double.url).netloc
    assert account.handle == f"@lena@{host}"
    assert account.followers_count == 321
    authorize = next(r for r in mastodon_double.state.requests if r[1] == "/oauth/authorize")
    assert authorize  # the double refuses authorisations without an S256 challenge


def test_wrong_verifier_is_refused(mastodon_double: MastodonDouble) -> None:
    provider = FastMastodon(base_url=mastodon_double.url)
    provider = FastMastodon(
        base_url=mastodon_double.url, client=provider.register_app(redirect_uri=REDIRECT, website="x")
    )
    start = provider.begin_auth(redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    with pytest.raises(ContentRejected):
        provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="not-the-verifier")


def test_publish_with_image_polls_processing_then_posts_once_per_key(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    draft = PostDraft(
        text="Our autumn collection is here",
        link="https://brand.example/autumn",
        media=(MediaItem(content=PNG, filename="a.png", content_type="image/png", description="A jacket"),),
    )
    first = provider.publish(tokens=tokens, draft=draft, idempotency_key="share-42-attempt")
    again = provider.publish(tokens=tokens, draft=draft, idempotency_key="share-42-attempt")
    assert first.external_id == again.external_id
    assert len(mastodon_double.state.statuses) == 1
    status = mastodon_double.state.statuses[first.external_id]
    assert status["text"].endswith("\n\nhttps://brand.example/autumn")
    assert len(status["media_ids"]) == 1
    polls = [r for r in mastodon_double.state.requests if r[1].startswith("/api/v1/media/")]
    assert len(polls) >= 3  # 206, 206, 200
    sent = [r for r in mastodon_double.state.requests if r[1] == "/api/v1/statuses"]
    assert all(headers.get("Idempotency-Key") == "share-42-attempt" for _, _, headers in sent)


def test_metrics_none_where_the_network_has_none(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="hello"), idempotency_key="k1")
    mastodon_double.state.statuses[result.external_id].update(favourites=7, reblogs=2, replies=1)
    [snapshot, gone] = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id, "404404"])
    assert (snapshot.likes, snapshot.shares, snapshot.replies) == (7, 2, 1)
    assert snapshot.quotes is None
    assert snapshot.reach is None
    assert snapshot.impressions is None
    assert gone.exists is False
    assert gone.likes is None
    mastodon_double.state.quotes_supported = True
    [with_quotes] = provider.fetch_metrics(tokens=tokens, external_ids=[result.external_id])
    assert with_quotes.quotes == 0


def test_delete_is_idempotent(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    result = provider.publish(tokens=tokens, draft=PostDraft(text="bye"), idempotency_key="k2")
    provider.delete(tokens=tokens, external_id=result.external_id)
    provider.delete(tokens=tokens, external_id=result.external_id)
    assert result.external_id not in mastodon_double.state.statuses


def test_rate_limit_headers_and_429_retry_after(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    provider.fetch_account(tokens=tokens)
    info = provider.last_rate_limit
    assert info is not None
    assert info.limit == 300
    assert info.remaining is not None
    assert info.remaining < 300
    assert info.reset_at is not None
    assert info.reset_at > datetime.now(UTC)
    mastodon_double.state.rate_remaining = 0
    mastodon_double.state.rate_reset_in = 90
    with pytest.raises(RateLimited) as caught:
        provider.fetch_account(tokens=tokens)
    assert 85 <= caught.value.retry_after <= 91
    assert caught.value.retryable


def test_401_is_auth_revoked(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    mastodon_double.revoke_all()
    with pytest.raises(AuthRevoked) as caught:
        provider.fetch_account(tokens=tokens)
    assert caught.value.status == 401
    assert not caught.value.retryable
    assert "invalid" in str(caught.value)


def test_422_is_content_rejected(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    assert provider.validate_draft(PostDraft(text="x" * 501))
    long_link = PostDraft(text="x" * 470, link="https://example.com/" + "a" * 200)
    assert provider.validate_draft(long_link) == []  # a link counts 23 characters
    with pytest.raises(ContentRejected) as caught:
        # Bypass local validation to see the server's answer.
        provider._send("POST", "/api/v1/statuses", tokens=tokens, write=True, json={"status": "x" * 600})
    assert caught.value.status == 422
    assert "Validation failed" in str(caught.value)


def test_5xx_is_transient(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    mastodon_double.state.fail_next_with = 503
    with pytest.raises(Transient) as caught:
        provider.fetch_account(tokens=tokens)
    assert caught.value.retryable


def test_timeout_after_sending_a_status_is_ambiguous_and_resolved_by_lookup(mastodon_double: MastodonDouble) -> None:
    _provider, tokens = connect(mastodon_double)
    impatient = FastMastodon(base_url=mastodon_double.url, http=HttpClient(timeout=(2.0, 0.3)))
    mastodon_double.state.create_delay = 0.8  # the server is still creating the status when the client gives up
    draft = PostDraft(text="did it post? https://brand.example/p")
    with pytest.raises(AmbiguousOutcome) as caught:
        impatient.publish(tokens=tokens, draft=draft, idempotency_key="share-7")
    assert not caught.value.retryable
    # Looking while the create still runs finds nothing, and sends nothing.
    assert impatient.lookup_publish(tokens=tokens, draft=draft).state == PublishState.NOT_FOUND
    time.sleep(1.0)
    found = impatient.lookup_publish(tokens=tokens, draft=draft)
    assert found.state == PublishState.PUBLISHED
    resolved = impatient.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-7")
    assert resolved.external_id == found.external_id
    assert len(mastodon_double.state.statuses) == 1
    assert [path for method, path, _h in mastodon_double.state.requests if method == "POST"].count(
        "/api/v1/statuses"
    ) == 1


def test_a_write_the_proxy_gave_up_on_is_ambiguous(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    mastodon_double.state.fail_next_with = 504  # nginx stopped waiting; the server may still be creating it
    with pytest.raises(AmbiguousOutcome):
        provider.publish(tokens=tokens, draft=PostDraft(text="hello"), idempotency_key="k-504")


def test_timeout_on_a_read_is_transient(mastodon_double: MastodonDouble) -> None:
    _provider, tokens = connect(mastodon_double)
    impatient = FastMastodon(base_url=mastodon_double.url, http=HttpClient(timeout=(2.0, 0.3)))
    mastodon_double.state.read_delay = 0.8
    with pytest.raises(Transient) as caught:
        impatient.fetch_metrics(tokens=tokens, external_ids=["1"])
    assert caught.value.retryable


def test_connection_refused_is_transient() -> None:
    provider = FastMastodon(base_url="http://127.0.0.1:9", http=HttpClient(timeout=(0.5, 0.5)))
    with pytest.raises(Transient):
        provider.publish(tokens=TokenSet(access_token="t"), draft=PostDraft(text="x"), idempotency_key="k")


def test_token_set_repr_hides_secrets() -> None:
    tokens = TokenSet(access_token="very-secret-access", refresh_token="very-secret-refresh")
    assert "very-secret" not in repr(tokens)


def test_rate_limit_parse_iso_reset() -> None:
    info = MastodonProvider(base_url="http://x").parse_rate_limit(
        {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-26T01:15:00.000Z"}
    )
    assert info is not None
    assert info.remaining == 0
    assert info.reset_at == datetime(2026, 11, 26, 1, 15, tzinfo=UTC)
    assert MastodonProvider(base_url="http://x").parse_rate_limit({}) is None


# --- scopes: what the server knows ------------------------------------------------------------

BASE_SCOPES = {"read:accounts", "read:statuses", "write:statuses", "write:media"}


def app_scopes(double: MastodonDouble) -> set[str]:
    [app] = double.state.apps.values()
    return set(app["scopes"].split())


def asked(double: MastodonDouble, path: str) -> bool:
    return any(p == path for _m, p, _h in double.state.requests)


def test_a_4_2_server_is_only_asked_for_scopes_it_knows(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.version = "4.2.10"
    provider, tokens = connect(mastodon_double)  # the double refuses "profile" as a 4.2 server does
    assert app_scopes(mastodon_double) == BASE_SCOPES
    assert provider.fetch_account(tokens=tokens).handle.startswith("@lena@")
    assert asked(mastodon_double, "/api/v2/instance")  # no discovery document before 4.3: the version decides


def test_a_4_3_server_says_which_scopes_it_supports(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.version = "4.3.0"
    connect(mastodon_double)
    assert app_scopes(mastodon_double) == BASE_SCOPES | {"profile"}
    assert asked(mastodon_double, "/.well-known/oauth-authorization-server")


def test_a_server_without_v2_instance_is_judged_by_v1(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.version = "3.5.3"
    connect(mastodon_double)
    assert app_scopes(mastodon_double) == BASE_SCOPES
    assert asked(mastodon_double, "/api/v1/instance")


@pytest.mark.parametrize("version", ["4.2.10", "4.3.2"])
def test_the_double_refuses_scopes_as_the_server_does(mastodon_double: MastodonDouble, version: str) -> None:
    mastodon_double.state.version = version
    unknown = "read made:up" if version >= "4.3" else "read profile"
    refused = requests.post(
        f"{mastodon_double.url}/api/v1/apps",
        data={"client_name": "x", "redirect_uris": REDIRECT, "scopes": unknown},
        timeout=5,
    )
    assert refused.status_code == 422
    assert "Scopes doesn't match configured on the server" in refused.json()["error"]
    app = requests.post(
        f"{mastodon_double.url}/api/v1/apps",
        data={"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read:accounts"},
        timeout=5,
    ).json()
    _verifier, challenge = _pkce_start()
    query = {
        "response_type": "code",
        "client_id": app["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "read:accounts write:statuses",  # more than the app was registered with
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = requests.get(f"{mastodon_double.url}/oauth/authorize", params=query, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    sent_back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert sent_back["error"] == ["invalid_scope"]
    assert sent_back["state"] == ["s1"]


# --- the instance: its domain and its limits -------------------------------------------------


def test_the_handle_uses_the_instance_domain_not_the_api_host(mastodon_double: MastodonDouble) -> None:
    # LOCAL_DOMAIN differs from the host serving the API; its WebFinger names the account on the API's host.
    port = urlsplit(mastodon_double.url).port
    mastodon_double.state.domain = f"localhost:{port}"
    provider, tokens = connect(mastodon_double)
    assert provider.fetch_account(tokens=tokens).handle == f"@lena@localhost:{port}"
    assert asked(mastodon_double, "/.well-known/webfinger")


def test_a_domain_whose_webfinger_does_not_confirm_it_is_not_used(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.domain = "mastodon.invalid"  # a server may claim any domain
    provider, tokens = connect(mastodon_double)
    assert provider.fetch_account(tokens=tokens).handle == f"@lena@{urlsplit(mastodon_double.url).netloc}"


def test_the_character_limit_comes_from_the_instance_and_is_cached(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.max_characters = 1000
    provider = FastMastodon(base_url=mastodon_double.url)
    assert provider.validate_draft(PostDraft(text="x" * 700)) == []
    [problem] = provider.validate_draft(PostDraft(text="x" * 1001))
    assert "1000" in problem
    FastMastodon(base_url=mastodon_double.url).validate_draft(PostDraft(text="again"))
    reads = [p for m, p, _h in mastodon_double.state.requests if p in ("/api/v2/instance", "/api/v1/instance")]
    assert reads == ["/api/v2/instance"]  # once per instance, not once per draft


def test_a_smaller_instance_limit_is_enforced(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.max_characters = 100
    provider = FastMastodon(base_url=mastodon_double.url)
    assert provider.validate_draft(PostDraft(text="x" * 101))
    # Counted as the server counts: the link is 23, the family emoji 1.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert provider.validate_draft(PostDraft(text=family * 70 + " https://example.com/" + "a" * 300)) == []


def image(size: int = len(PNG), name: str = "a.png") -> MediaItem:
    return MediaItem(content=PNG.ljust(size, b"\0"), filename=name, content_type="image/png")


def video() -> MediaItem:
    return MediaItem(content=b"\0" * 64, filename="v.mp4", content_type="video/mp4")


def test_media_limits_come_from_the_instance(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.max_media_attachments = 2
    mastodon_double.state.image_size_limit = 1000
    mastodon_double.state.video_size_limit = 32
    provider = FastMastodon(base_url=mastodon_double.url)
    assert provider.validate_draft(PostDraft(text="two", media=(image(), image()))) == []
    assert any("2" in problem for problem in provider.validate_draft(PostDraft(text="3", media=(image(),) * 3)))
    assert provider.validate_draft(PostDraft(text="big", media=(image(1001),)))
    assert provider.validate_draft(PostDraft(text="big video", media=(video(),)))


def test_images_and_a_video_are_not_mixed(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.video_size_limit = 1000
    provider = FastMastodon(base_url=mastodon_double.url)
    assert provider.validate_draft(PostDraft(text="one video", media=(video(),))) == []
    assert provider.validate_draft(PostDraft(text="mixed", media=(image(), video())))


def test_without_the_instance_configuration_the_server_decides(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.version = "3.0.0"  # no configuration block at all
    provider = FastMastodon(base_url=mastodon_double.url)
    assert provider.validate_draft(PostDraft(text="x" * 501))  # the limit every server had then
    unreachable = FastMastodon(base_url="http://127.0.0.1:9", http=HttpClient(timeout=(0.5, 0.5)))
    assert unreachable.validate_draft(PostDraft(text="x" * 2000)) == []  # no limit invented; the server will say


# --- errors that are not about the content --------------------------------------------------


@pytest.mark.parametrize("state", ["disabled", "unconfirmed", "pending"])
def test_a_login_the_server_holds_back_is_an_account_problem(mastodon_double: MastodonDouble, state: str) -> None:
    provider, tokens = connect(mastodon_double)
    mastodon_double.state.user_state = state
    with pytest.raises(AccountAttention) as caught:
        provider.publish(tokens=tokens, draft=PostDraft(text="hello"), idempotency_key="k-403")
    assert caught.value.status == 403
    assert not isinstance(caught.value, ContentRejected)
    assert not caught.value.retryable


def test_media_still_processing_is_temporary(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    upload = provider._send(
        "POST", "/api/v2/media", tokens=tokens, ok=(202,), files={"file": ("a.png", PNG, "image/png")}
    )
    media_id = upload.json()["id"]
    with pytest.raises(Transient) as caught:
        provider._send(
            "POST", "/api/v1/statuses", tokens=tokens, write=True, json={"status": "x", "media_ids": [media_id]}
        )
    assert NOT_READY in str(caught.value)


# --- revoking --------------------------------------------------------------------------------


def test_revoke_withdraws_the_token_at_the_server(mastodon_double: MastodonDouble) -> None:
    provider, tokens = connect(mastodon_double)
    provider.revoke(tokens=tokens)
    with pytest.raises(AuthRevoked):
        provider.fetch_account(tokens=tokens)
    revoke = next(h for m, p, h in mastodon_double.state.requests if p == "/oauth/revoke")
    assert "Authorization" not in revoke  # client id and secret travel in the body, as Mastodon documents


@pytest.mark.parametrize(("version", "statuses"), [("4.4.3", 2), ("4.5.0", 1)])
def test_the_double_keeps_keys_as_the_server_version_does(
    mastodon_double: MastodonDouble, version: str, statuses: int
) -> None:
    # Before 4.5 two requests with one key during a slow create both create; 4.5 holds a lock per key.
    mastodon_double.state.version = version
    mastodon_double.state.create_delay = 0.5
    _provider, tokens = connect(mastodon_double)

    def send() -> None:
        requests.post(
            f"{mastodon_double.url}/api/v1/statuses",
            json={"status": "once?"},
            headers={"Authorization": f"Bearer {tokens.access_token}", "Idempotency-Key": "same"},
            timeout=5,
        )

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(mastodon_double.state.statuses) == statuses
