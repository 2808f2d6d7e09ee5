"""The Mastodon adapter over real HTTP against the local double (networks/tests/mastodon_double.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks.providers.base import pkce_pair
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthRevoked,
    ContentRejected,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.mastodon import MastodonProvider
from networks.providers.types import MediaItem, PostDraft, TokenSet
from networks.tests.mastodon_double import MastodonDouble

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
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge != verifier
    assert "=" not in challenge


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


def test_timeout_after_sending_a_status_is_ambiguous(mastodon_double: MastodonDouble) -> None:
    _provider, tokens = connect(mastodon_double)
    impatient = FastMastodon(base_url=mastodon_double.url, http=HttpClient(timeout=(2.0, 0.3)))
    mastodon_double.state.status_delay = 0.8
    with pytest.raises(AmbiguousOutcome) as caught:
        impatient.publish(tokens=tokens, draft=PostDraft(text="did it post?"), idempotency_key="share-7")
    assert not caught.value.retryable
    # The status did get created; resolving with the same key finds it without a second post.
    mastodon_double.state.status_delay = 0
    resolved = impatient.check_pending_publish(
        tokens=tokens, draft=PostDraft(text="did it post?"), idempotency_key="share-7"
    )
    assert resolved.external_id
    assert len(mastodon_double.state.statuses) == 1


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
