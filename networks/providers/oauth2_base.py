"""Plumbing shared by the fixed-host OAuth 2 networks (X, LinkedIn, Tumblr).

Each of those networks answers its API on one host and shows the consent page on another
(``api.x.com`` / ``x.com``). ``base_url`` is the API host; the consent page lives on
``web_base_url`` when ``base_url`` is the production API, and on ``base_url`` itself otherwise,
so a local test double can serve both.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.registry import provider_config
from networks.providers.types import ClientCredentials, RateLimitInfo, TokenSet


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


def basic_auth(client: ClientCredentials) -> str:
    raw = f"{client.client_id}:{client.client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the connection was refused before anything was sent."""
    text = repr(error)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text


class OAuth2HttpProvider(NetworkProvider):
    """Sending, error mapping and token parsing; subclasses add the network's routes."""

    #: The production API host; ``base_url`` equal to it means "talk to the real network".
    production_api_url: ClassVar[str]
    #: Where the production consent page lives (e.g. ``https://x.com``).
    production_web_url: ClassVar[str]
    #: Human name used in "not configured" messages.
    display_name: ClassVar[str]

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
            raise NotSupported(f"{self.display_name} is not configured") from error
        client_id = str(getattr(settings, config.get("client_id_setting", ""), "") or "")
        client_secret = str(getattr(settings, config.get("client_secret_setting", ""), "") or "")
        if not client_id or not client_secret:
            raise NotSupported(f"{self.display_name} app credentials are not configured")
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
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise Transient(f"{label}: {type(error).__name__}") from error
        except requests.ConnectionError as error:
            if write and not _never_connected(error):
                raise AmbiguousOutcome(f"{label}: connection lost after sending") from error
            raise Transient(f"{label}: {type(error).__name__}") from error
        except requests.Timeout as error:
            if write:
                raise AmbiguousOutcome(f"{label}: no answer after sending") from error
            raise Transient(f"{label}: timed out") from error
        except requests.RequestException as error:
            raise Transient(f"{label}: {type(error).__name__}") from error
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code not in ok:
            raise self.classify_error(response)
        return response

    def _extra_headers(self, url: str) -> dict[str, str]:
        """Headers every request to ``url`` needs (LinkedIn's version headers)."""
        return {}

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as error:
            raise Transient(f"unexpected non-JSON answer ({response.status_code})") from error
        if not isinstance(body, dict):
            raise Transient("unexpected JSON shape")
        return body

    @staticmethod
    def _body_or_empty(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

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
