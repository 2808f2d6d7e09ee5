"""Meta's and Mastodon's OAuth 2.0 flows go through requests-oauthlib, over real HTTP against the local doubles.

The consent URL and the authorization code grant are ``OAuth2Session``'s (watched here without changing what it
does); Meta's long-lived token exchange stays Meta's own Graph call; every token endpoint refusal is still the
network's own typed error, never an oauthlib exception. Mastodon sends PKCE S256 unless the server's OAuth
metadata names only other methods.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests_oauthlib import OAuth2Session

from networks.providers.exceptions import AuthRevoked, ContentRejected, NetworkError
from networks.providers.facebook import FacebookProvider
from networks.providers.instagram import InstagramProvider
from networks.providers.mastodon import MastodonProvider
from networks.providers.threads import ThreadsProvider
from networks.providers.types import ClientCredentials
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from networks.tests.mastodon_double import MastodonDouble

REDIRECT = "http://testserver/i/accounts/callback/"
META_CLIENT = ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.fixture
def oauthlib_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """``(what, url)`` for every consent URL built and token fetched by requests-oauthlib."""
    calls: list[tuple[str, str]] = []
    authorization_url = OAuth2Session.authorization_url
    fetch_token = OAuth2Session.fetch_token

    def watched_authorization_url(self: OAuth2Session, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(("authorization_url", url))
        return authorization_url(self, url, *args, **kwargs)

    def watched_fetch_token(self: OAuth2Session, token_url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append((f"fetch_token {kwargs.get('method', 'POST')}", token_url))
        return fetch_token(self, token_url, *args, **kwargs)

    monkeypatch.setattr(OAuth2Session, "authorization_url", watched_authorization_url)
    monkeypatch.setattr(OAuth2Session, "fetch_token", watched_fetch_token)
    return calls


def _consent(url: str) -> dict[str, list[str]]:
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)


# --- Meta -------------------------------------------------------------------------------------------------------


@pytest.fixture(params=["instagram", "threads", "facebook"])
def meta(request: pytest.FixtureRequest) -> Iterator[tuple[MetaDouble, Any]]:
    providers: dict[str, type[InstagramProvider | ThreadsProvider | FacebookProvider]] = {
        "instagram": InstagramProvider,
        "threads": ThreadsProvider,
        "facebook": FacebookProvider,
    }
    with running_meta_double(request.param) as double:
        yield double, providers[request.param](base_url=double.url, client=META_CLIENT)


def test_meta_code_exchange_is_oauthlib_and_the_long_lived_swap_is_metas_own(
    meta: tuple[MetaDouble, Any], oauthlib_calls: list[tuple[str, str]]
) -> None:
    double, provider = meta
    start = provider.begin_auth(redirect_uri=REDIRECT)
    assert start.code_verifier == ""  # Meta's confidential web flow: state and the app secret, no PKCE
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["scope"] == [provider.scopes]  # Meta's comma-separated scopes, as Meta writes them
    sent_back = _consent(start.authorization_url)
    assert sent_back["state"] == [start.state]

    tokens = provider.complete_auth(code=sent_back["code"][0], redirect_uri=REDIRECT, code_verifier="")

    network = double.state.network
    method = "GET" if network == "facebook" else "POST"  # Facebook documents a GET code exchange
    assert [what for what, _url in oauthlib_calls] == ["authorization_url", f"fetch_token {method}"]
    assert oauthlib_calls[1][1].endswith("/oauth/access_token")
    assert double.state.exchanges == 1  # the long-lived swap: one plain Graph call, not an OAuth grant
    assert double.state.tokens[tokens.access_token]["kind"] == "long"
    if network == "instagram":
        # Instagram wraps its answer in ``data``: unwrapped for oauthlib, its permissions become the scope.
        assert tokens.scope == "instagram_business_basic,instagram_business_content_publish"


def test_a_refused_meta_code_is_metas_own_typed_error(meta: tuple[MetaDouble, Any]) -> None:
    double, provider = meta
    start = provider.begin_auth(redirect_uri=REDIRECT)
    code = _consent(start.authorization_url)["code"][0]
    provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="")
    with pytest.raises(ContentRejected, match="36009"):  # "This authorization code has been used."
        provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="")
    wrong_app = type(provider)(
        base_url=double.url, client=ClientCredentials(client_id=CLIENT_ID, client_secret="not-the-secret")
    )
    code = _consent(wrong_app.begin_auth(redirect_uri=REDIRECT).authorization_url)["code"][0]
    with pytest.raises(NetworkError, match="client secret") as caught:
        wrong_app.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="")
    assert caught.value.__class__.__module__ == "networks.providers.exceptions"


class _TokenlessHandler(BaseHTTPRequestHandler):
    """A token endpoint that answers 200 with no token in it."""

    def _answer(self) -> None:
        body = b'{"data": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_meta_token_answer_without_a_token_is_refused(meta: tuple[MetaDouble, Any]) -> None:
    _double, provider = meta
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TokenlessHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tokenless = type(provider)(base_url=f"http://127.0.0.1:{server.server_address[1]}", client=META_CLIENT)
        with pytest.raises(AuthRevoked, match="without an access token"):
            tokenless.complete_auth(code="c", redirect_uri=REDIRECT, code_verifier="")
    finally:
        server.shutdown()
        server.server_close()


# --- Mastodon ---------------------------------------------------------------------------------------------------


def _registered(double: MastodonDouble) -> MastodonProvider:
    client = MastodonProvider(base_url=double.url).register_app(redirect_uri=REDIRECT, website="http://testserver")
    return MastodonProvider(base_url=double.url, client=client)


def test_mastodon_code_flow_is_oauthlib_with_pkce_s256(
    mastodon_double: MastodonDouble, oauthlib_calls: list[tuple[str, str]]
) -> None:
    provider = _registered(mastodon_double)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert 43 <= len(start.code_verifier) <= 128
    assert query["scope"] == [provider._client().scopes]  # what the app was registered with

    code = _consent(start.authorization_url)["code"][0]
    tokens = provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier=start.code_verifier)

    assert tokens.access_token
    assert tokens.expires_at is None  # Mastodon tokens do not expire
    assert [what for what, _url in oauthlib_calls] == ["authorization_url", "fetch_token POST"]
    assert oauthlib_calls[1][1] == f"{mastodon_double.url}/oauth/token"


def test_mastodon_metadata_is_read_once_for_scopes_and_pkce(mastodon_double: MastodonDouble) -> None:
    provider = _registered(mastodon_double)
    provider.begin_auth(redirect_uri=REDIRECT)
    provider.begin_auth(redirect_uri=REDIRECT)
    reads = [path for _method, path, _headers in mastodon_double.state.requests if "oauth-authorization" in path]
    assert len(reads) == 1


def test_a_server_that_names_no_s256_gets_no_pkce(mastodon_double: MastodonDouble) -> None:
    mastodon_double.state.pkce_methods = ("plain",)
    provider = _registered(mastodon_double)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(start.authorization_url).query)
    assert "code_challenge" not in query
    assert start.code_verifier == ""
    code = _consent(start.authorization_url)["code"][0]
    assert provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="").access_token


def test_a_server_without_oauth_metadata_still_gets_a_challenge(mastodon_double: MastodonDouble) -> None:
    # Before 4.3 there is no metadata; a server that knows no PKCE ignores the parameters (RFC 7636 section 5),
    # one that does is protected by them. This double insists on S256 whatever its version.
    mastodon_double.state.version = "4.2.10"
    provider = _registered(mastodon_double)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    assert parse_qs(urlsplit(start.authorization_url).query)["code_challenge_method"] == ["S256"]
    code = _consent(start.authorization_url)["code"][0]
    assert provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier=start.code_verifier).access_token


def test_mastodon_token_refusals_keep_mastodons_mapping(mastodon_double: MastodonDouble) -> None:
    provider = _registered(mastodon_double)
    start = provider.begin_auth(redirect_uri=REDIRECT)
    code = _consent(start.authorization_url)["code"][0]
    with pytest.raises(ContentRejected, match="PKCE"):  # 400 invalid_grant
        provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier="not-the-verifier")
    client = provider._client()
    wrong = MastodonProvider(
        base_url=mastodon_double.url,
        client=ClientCredentials(client_id=client.client_id, client_secret="wrong", scopes=client.scopes),
    )
    start = wrong.begin_auth(redirect_uri=REDIRECT)
    code = _consent(start.authorization_url)["code"][0]
    with pytest.raises(AuthRevoked, match="Client authentication failed"):  # 401: revoked, Mastodon's reading
        wrong.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier=start.code_verifier)
