"""Plumbing shared by the fixed-host OAuth 2 networks (X, LinkedIn, Tumblr), and the OAuth 2.0 flows of every network.

The OAuth 2.0 flows (the consent URL, with PKCE S256 where the network takes it; the code exchange; the
refresh) are requests-oauthlib's ``OAuth2Session``, sending through the provider's ``HttpClient`` (timeouts,
User-Agent, redacted logs): a token endpoint's refusal is read by the network's own ``classify_error`` before
oauthlib parses the answer, a lost answer is ``Transient`` (``networks.providers.http.request_error``).
``authorization_start`` and ``exchange_code`` are the same flows for the networks with a base class of their
own: Meta's (``networks.providers.meta``, whose long-lived token exchange is Meta's own and stays explicit) and
Mastodon's (``networks.providers.mastodon``, an app registered per server).

Each of those networks answers its API on one host and shows the consent page on another
(``api.x.com`` / ``x.com``). ``base_url`` is the API host; the consent page lives on
``web_base_url`` when ``base_url`` is the production API, and on ``base_url`` itself otherwise,
so a local test double can serve both.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
import requests.auth
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from oauthlib.oauth2 import InsecureTransportError, OAuth2Error, WebApplicationClient
from requests_oauthlib import OAuth2Session

from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AuthExpired,
    AuthRevoked,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient, json_object, request_error, send
from networks.providers.registry import provider_config
from networks.providers.types import AuthStart, ClientCredentials, RateLimitInfo, TokenSet


def int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def seconds_until(moment: datetime | None, *, default: float = 60.0) -> int:
    """Whole seconds (at least 1) until ``moment``; ``default`` when it is unknown."""
    seconds = (moment - datetime.now(UTC)).total_seconds() if moment else default
    return max(1, int(seconds + 0.999))


def next_utc_midnight(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


class OAuth2HttpProvider(NetworkProvider):
    """Sending, error mapping and token parsing; subclasses add the network's routes."""

    #: The production API host; ``base_url`` equal to it means "talk to the real network".
    production_api_url: ClassVar[str]
    #: Where the production consent page lives (e.g. ``https://x.com``).
    production_web_url: ClassVar[str]
    #: Scopes asked for when the app (``ClientCredentials.scopes``) names none.
    default_scopes: ClassVar[str] = ""
    #: The consent page's path (on the web host).
    authorize_path: ClassVar[str]
    #: Proof Key for Code Exchange (S256) on the consent URL and the code exchange.
    uses_pkce: ClassVar[bool] = False
    #: The app authenticates at the token endpoint with HTTP Basic (the client id also in the body); otherwise the
    #: client id and secret go in the form body.
    basic_client_auth: ClassVar[bool] = False

    last_rate_limit: RateLimitInfo | None = None

    # --- URLs -----------------------------------------------------------------------

    def _api(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _web(self, path: str) -> str:
        if self.base_url == self.production_api_url.rstrip("/"):
            return f"{self.production_web_url.rstrip('/')}{path}"
        return f"{self.base_url}{path}"

    def _client(self) -> ClientCredentials:
        """The app: injected, or from the settings named in ``NETWORK_PROVIDERS`` (``client_id_setting``...)."""
        if self.client is not None and self.client.client_id:
            return self.client
        try:
            config = provider_config(self.network)
        except ImproperlyConfigured as error:
            raise NotSupported(f"{self.facts.label} is not configured") from error
        client_id = str(getattr(settings, config.get("client_id_setting", ""), "") or "")
        client_secret = str(getattr(settings, config.get("client_secret_setting", ""), "") or "")
        if not client_id or not client_secret:
            raise NotSupported(f"{self.facts.label} app credentials are not configured")
        return ClientCredentials(client_id=client_id, client_secret=client_secret)

    @property
    def is_configured(self) -> bool:
        try:
            self._client()
        except NotSupported:
            return False
        return True

    # --- sending --------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        tokens: TokenSet | None = None,
        write: bool = False,
        ok: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> requests.Response:
        """One request; ``write=True`` turns a lost answer into ``AmbiguousOutcome``."""
        headers: dict[str, str] = dict(kwargs.pop("headers", None) or {})
        if tokens is not None:
            headers["Authorization"] = f"Bearer {tokens.access_token}"
        headers.update(self._extra_headers(url))
        label = f"{method} {url.split('?', 1)[0]}"
        response = send(self.http, method, url, label=label, write=write, headers=headers, **kwargs)
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code not in ok:
            raise self.classify_error(response)
        return response

    def _extra_headers(self, url: str) -> dict[str, str]:
        """Headers every request to ``url`` needs (LinkedIn's version headers)."""
        return {}

    _json = staticmethod(json_object)

    @staticmethod
    def _body_or_empty(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    # --- OAuth 2.0 (requests-oauthlib) ----------------------------------------------

    def _oauth_session(self, *, redirect_uri: str = "", scope: str | None = None) -> HttpClientOAuth2Session:
        return HttpClientOAuth2Session(
            self.http, client_id=self._client().client_id, redirect_uri=redirect_uri or None, scope=scope
        )

    def _authorization_start(self, *, redirect_uri: str) -> AuthStart:
        """The consent URL with a fresh ``state`` (and a PKCE S256 challenge where the network takes one)."""
        client = self._client()
        return authorization_start(
            self.http,
            authorize_url=self._web(self.authorize_path),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=client.scopes or self.default_scopes,
            pkce=self.uses_pkce,
            label=str(self.facts.label),
        )

    def _token_auth(self, client: ClientCredentials) -> tuple[requests.auth.AuthBase | None, str | None]:
        """``(auth, client_secret for the body)`` for the token endpoint."""
        if self.basic_client_auth:
            basic = requests.auth.HTTPBasicAuth(client.client_id, client.client_secret)
            return (basic if client.client_secret else None), None
        return None, client.client_secret

    def _token_answer(self, response: requests.Response) -> requests.Response:
        """Every token endpoint answer passes here first: a refusal becomes the network's own typed error."""
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code != 200:
            raise self.classify_error(response)
        return response

    def _exchange_code(self, token_url: str, *, code: str, redirect_uri: str, code_verifier: str = "") -> TokenSet:
        """The authorization code grant: tokens for ``code``."""
        client = self._client()
        auth, secret = self._token_auth(client)
        token = exchange_code(
            self.http,
            token_url,
            client_id=client.client_id,
            client_secret=secret,
            auth=auth,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            answer=self._token_answer,
        )
        return self._token_set(token)

    def _refresh_tokens(self, token_url: str, *, tokens: TokenSet) -> TokenSet:
        """The refresh token grant; an answer without a new refresh token keeps the old one."""
        client = self._client()
        auth, secret = self._token_auth(client)
        session = self._oauth_session()
        session.register_compliance_hook("refresh_token_response", self._token_answer)
        body = {"client_id": client.client_id, **({"client_secret": secret} if secret else {})}
        with token_errors(f"POST {token_url.split('?', 1)[0]}"):
            token = session.refresh_token(token_url, refresh_token=tokens.refresh_token, auth=auth, **body)
        return self._token_set(token, previous=tokens)

    # --- tokens ---------------------------------------------------------------------

    @staticmethod
    def _token_set(body: Mapping[str, Any], *, previous: TokenSet | None = None) -> TokenSet:
        """A ``TokenSet`` from a token answer. A refresh answer without a new refresh token keeps the old one."""
        access = body.get("access_token")
        if not access:
            raise Transient("token answer without an access token")
        expires_in = int_or_none(body.get("expires_in"))
        refresh = str(body.get("refresh_token") or "") or (previous.refresh_token if previous else "")
        scope = body.get("scope") or (previous.scope if previous else "")
        if isinstance(scope, list):
            scope = " ".join(str(item) for item in scope)
        return TokenSet(
            access_token=str(access),
            refresh_token=refresh,
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            scope=str(scope),
            token_type=str(body.get("token_type") or "Bearer"),
        )

    @staticmethod
    def _oauth_error_text(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.text[:200]
        if isinstance(body, dict):
            return str(body.get("error_description") or body.get("error") or body)[:300]
        return str(body)[:300]


class HttpClientOAuth2Session(OAuth2Session):
    """An ``OAuth2Session`` whose requests go through Linkilike's ``HttpClient`` (only token endpoint calls: it
    never adds a bearer token itself)."""

    def __init__(self, http: HttpClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.linkilike_http = http

    def request(
        self,
        method: str,
        url: str,
        data: Any = None,
        headers: Any = None,
        withhold_token: bool = False,
        client_id: str | None = None,
        client_secret: str | None = None,
        files: Any = None,
        **kwargs: Any,
    ) -> requests.Response:
        # requests-oauthlib passes timeout/verify/proxies/cert as None: the HttpClient's own settings apply.
        options = {key: value for key, value in kwargs.items() if value is not None}
        return self.linkilike_http.request(method, url, data=data, headers=headers, files=files, **options)


#: PKCE code verifier length (RFC 7636: 43 to 128 characters).
PKCE_VERIFIER_LENGTH = 96


def authorization_start(
    http: HttpClient,
    *,
    authorize_url: str,
    client_id: str,
    redirect_uri: str,
    scope: str,
    pkce: bool,
    label: str,
) -> AuthStart:
    """The consent URL (``response_type=code``) with a fresh ``state``; with ``pkce`` an S256 challenge too (its
    verifier in ``AuthStart.code_verifier``, "" without). ``scope`` is sent as the network writes it (Meta: commas).
    """
    oauth_client = WebApplicationClient(client_id)
    session = HttpClientOAuth2Session(http, client=oauth_client, redirect_uri=redirect_uri, scope=scope or None)
    extra: dict[str, str] = {}
    verifier = ""
    if pkce:
        verifier = oauth_client.create_code_verifier(PKCE_VERIFIER_LENGTH)
        extra = {
            "code_challenge": oauth_client.create_code_challenge(verifier, "S256"),
            "code_challenge_method": "S256",
        }
    try:
        url, state = session.authorization_url(authorize_url, state=secrets.token_urlsafe(32), **extra)
    except InsecureTransportError as error:
        raise NotSupported(f"{label}: the consent page must be https") from error
    return AuthStart(authorization_url=url, state=state, code_verifier=verifier)


def exchange_code(
    http: HttpClient,
    token_url: str,
    *,
    client_id: str,
    code: str,
    redirect_uri: str,
    answer: Callable[[requests.Response], requests.Response],
    client_secret: str | None = None,
    auth: requests.auth.AuthBase | None = None,
    code_verifier: str = "",
    method: str = "POST",
    **body: str,
) -> dict[str, Any]:
    """The authorization code grant at ``token_url`` (``method`` POST, or GET where the network documents it).

    ``answer`` sees every answer first: it raises the network's own typed error for a refusal and may reshape a
    successful answer (Instagram wraps it in ``data``). The client id (and ``client_secret`` unless ``auth`` sends
    it) travel in the body; ``body`` adds the network's extra parameters. The session has no scope, so oauthlib
    takes the answer's scope as it is.
    """
    session = HttpClientOAuth2Session(http, client_id=client_id, redirect_uri=redirect_uri)
    session.register_compliance_hook("access_token_response", answer)
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    with token_errors(f"{method} {token_url.split('?', 1)[0]}"):
        token = session.fetch_token(
            token_url,
            code=code,
            method=method,
            auth=auth,
            include_client_id=True,
            client_secret=client_secret,
            **extra,
            **body,
        )
    return dict(token)


@contextmanager
def token_errors(label: str) -> Iterator[None]:
    """A token request's failures as typed errors (the endpoint's refusals are raised by its answer hook)."""
    try:
        yield
    except requests.RequestException as error:
        raise request_error(error, label=label, write=False) from error
    except InsecureTransportError as error:
        raise NotSupported(f"{label}: the token endpoint must be https") from error
    except (OAuth2Error, ValueError) as error:
        # A 200 answer oauthlib could not read (no access token, not JSON).
        raise Transient(f"{label}: unreadable token answer ({type(error).__name__})") from error


def classify_oauth_token_error(response: requests.Response, text: str) -> NetworkError:
    """Token endpoint failures: a refused grant needs a new consent, a refused client is our config."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    code = str(body.get("error") or "") if isinstance(body, dict) else ""
    if status >= 500:
        return Transient(text, status=status)
    if status == 429:
        return RateLimited(text, retry_after=60, status=status)
    if code in ("invalid_client", "unauthorized_client"):
        # Linkilike's own app credentials are wrong: reconnecting cannot help the person.
        return NetworkError(text, status=status)
    if status in (400, 401):
        return AuthExpired(text, status=status)
    return AuthRevoked(text, status=status)
