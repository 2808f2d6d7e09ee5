"""What Instagram, Threads and Facebook Pages share: the Graph API's errors, usage headers and plumbing.

Facts from Meta's Graph API documentation:

- Errors come as ``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``,
  mostly with HTTP 400. Code 104 is a missing token; 190 an invalid one: subcode 463 (or code 102)
  expired, 458 (app removed), 459, 460 (password changed), 464 and 467 (logged out) revoked. Codes 10 and 200-299 are
  missing permissions (a new consent is needed). Rate limits are codes 4, 17, 32, 613 and
  80001-80014; code 506 is a duplicate post; codes 1 and 2 or ``is_transient: true`` are passing
  faults. Instagram's daily publishing limit is code 9 with subcode 2207042. Code 100 is an invalid
  parameter; with subcode 33 the object does not exist, without it and naming a missing permission,
  reviewable feature or app token the app or account lacks access (the object is there).
- ``X-App-Usage`` (``{"call_count", "total_cputime", "total_time"}``, percentages) and
  ``X-Business-Use-Case-Usage`` (``{"<id>": [{"type", "call_count", ..., "estimated_time_to_regain_access"}]}``,
  the time in minutes) say how close the app is to being throttled and when access returns.
- Access tokens travel as the ``access_token`` parameter.

Meta's confidential web flow takes ``state`` and the app secret, not PKCE: ``begin_auth`` returns an
empty ``code_verifier`` (the framework still keeps ``state`` single-use in the session). The consent URL and
the code exchange are standard OAuth 2.0 and go through requests-oauthlib (``authorization_url``,
``exchange_code``); the swap for a long-lived token (``ig_exchange_token``, ``th_exchange_token``,
``fb_exchange_token``) and Instagram's and Threads' renewal (``*_refresh_token``) are Meta's own grants, sent
as plain Graph calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from django.conf import settings

from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AccountAttention,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    Duplicate,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import json_object, send
from networks.providers.oauth2_base import authorization_start, exchange_code
from networks.providers.registry import provider_config
from networks.providers.types import (
    AuthStart,
    ClientCredentials,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    TokenSet,
)

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
BUC_RATE_LIMIT_CODES = range(80001, 80015)
EXPIRED_SUBCODES = frozenset({463})
REVOKED_SUBCODES = frozenset({458, 459, 460, 464, 467, 492})
PUBLISH_LIMIT_SUBCODE = 2207042
DEFAULT_RETRY_AFTER = 600.0  # seconds, when Meta names no time
PUBLISH_LIMIT_RETRY_AFTER = 3600.0  # the quota is a rolling 24 h window; look again in an hour


class PublishingLimitReached(RateLimited):
    """Instagram's rolling 24-hour publishing quota is used up (``content_publishing_limit`` or 2207042).

    A ``RateLimited`` so callers that only know the framework's errors wait and retry later.
    """


def int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_time(value: Any) -> datetime | None:
    """Graph timestamps: ``2026-11-26T01:02:03+0000`` (or ISO-8601 with ``Z``)."""
    if not value or not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


#: Words of a code-100 answer about what the app or account may do, not about the request's content.
PERMISSION_WORDS = ("permission", "reviewable feature", "app token", "app access token")


def graph_error(response: requests.Response) -> dict[str, Any]:
    """The ``error`` object of a Graph answer ({} when the body has none)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def is_not_enough_viewers(response: requests.Response) -> bool:
    """Instagram's ``(#10) Not enough viewers for the media to show insights``: no data yet, not a failure."""
    error = graph_error(response)
    return int_or_none(error.get("code")) == 10 and "not enough viewers" in str(error.get("message", "")).lower()


def is_missing_object(response: requests.Response) -> bool:
    """The post is gone: HTTP 404, or code 100 subcode 33 ("Object with ID ... does not exist")."""
    error = graph_error(response)
    code = int_or_none(error.get("code"))
    return response.status_code == 404 or (code == 100 and int_or_none(error.get("error_subcode")) == 33)


def _usage_json(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def usage_from_headers(headers: Mapping[str, str]) -> tuple[int | None, float | None]:
    """(highest usage percentage, seconds until access returns) from the usage headers, if any."""
    percentages: list[int] = []
    regain_minutes: list[float] = []
    app = _usage_json(headers.get("X-App-Usage"))
    if isinstance(app, dict):
        percentages.extend(
            v for v in (int_or_none(app.get(k)) for k in ("call_count", "total_cputime", "total_time")) if v is not None
        )
    business = _usage_json(headers.get("X-Business-Use-Case-Usage"))
    if isinstance(business, dict):
        for entries in business.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if not isinstance(entry, dict):
                    continue
                for key in ("call_count", "total_cputime", "total_time"):
                    number = int_or_none(entry.get(key))
                    if number is not None:
                        percentages.append(number)
                minutes = entry.get("estimated_time_to_regain_access")
                if isinstance(minutes, int | float) and not isinstance(minutes, bool):
                    regain_minutes.append(float(minutes))
    highest = max(percentages) if percentages else None
    regain = max(regain_minutes) * 60.0 if regain_minutes else None
    return highest, regain


class MetaGraphProvider(NetworkProvider):
    """Plumbing for a Graph API host. Subclasses name the version, hosts and endpoints."""

    api_version: ClassVar[str] = ""
    #: The real API host; when ``base_url`` is it, OAuth goes to the real hosts below, otherwise
    #: (a local double, a proxy) everything goes to ``base_url``.
    real_api_host: ClassVar[str] = ""
    real_authorize_host: ClassVar[str] = ""
    real_exchange_host: ClassVar[str] = ""
    scopes: ClassVar[str] = ""
    #: Container status polling inside one ``complete_pending_publish`` call.
    poll_interval: ClassVar[float] = 1.0
    poll_timeout: ClassVar[float] = 20.0

    last_rate_limit: RateLimitInfo | None = None

    # --- plumbing -----------------------------------------------------------------

    @property
    def _is_real(self) -> bool:
        return self.base_url == self.real_api_host

    @property
    def authorize_host(self) -> str:
        return self.real_authorize_host if self._is_real else self.base_url

    @property
    def exchange_host(self) -> str:
        return self.real_exchange_host if self._is_real else self.base_url

    def graph_path(self, path: str) -> str:
        return f"/{self.api_version}{path}" if self.api_version else path

    def _client(self) -> ClientCredentials:
        """The app: injected, or from the settings named in ``NETWORK_PROVIDERS`` (``client_id_setting``...)."""
        if self.client is not None:
            return self.client
        config = provider_config(self.network)
        client_id = str(getattr(settings, config.get("client_id_setting", ""), "") or "")
        client_secret = str(getattr(settings, config.get("client_secret_setting", ""), "") or "")
        if not client_id or not client_secret:
            raise NotSupported(f"{self.network}: no app credentials configured")
        return ClientCredentials(client_id=client_id, client_secret=client_secret, scopes=self.scopes)

    @property
    def is_configured(self) -> bool:
        try:
            self._client()
        except NotSupported:
            return False
        return True

    def send(
        self,
        method: str,
        path: str,
        *,
        tokens: TokenSet | None = None,
        host: str = "",
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        write: bool = False,
    ) -> requests.Response:
        """One request. ``write=True`` marks a call whose effect may be visible: a lost answer is ambiguous."""
        query = dict(params or {})
        if tokens is not None:
            query["access_token"] = tokens.access_token
        url = f"{host or self.base_url}{path}"
        response = send(
            self.http, method, url, label=f"{method} {path}", write=write, params=query, data=data, files=files
        )
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """``send`` that raises the typed error for anything but 200 and returns the JSON object."""
        response = self.send(method, path, **kwargs)
        if response.status_code != 200:
            raise self.classify_error(response)
        return self.json(response)

    json = staticmethod(json_object)

    # --- OAuth helpers ------------------------------------------------------------

    def authorization_url(self, path: str, *, redirect_uri: str) -> AuthStart:
        """The consent URL (requests-oauthlib) with a fresh ``state``; Meta's web flow takes no PKCE."""
        client = self._client()
        return authorization_start(
            self.http,
            authorize_url=f"{self.authorize_host}{path}",
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=client.scopes or self.scopes,
            pkce=False,
            label=self.network,
        )

    def exchange_code(
        self, path: str, *, code: str, redirect_uri: str, host: str = "", method: str = "POST"
    ) -> dict[str, Any]:
        """The standard authorization code grant (requests-oauthlib) at ``path``: the short-lived token answer.

        The app's id and secret travel as parameters (Meta takes no HTTP Basic); a refusal is a Graph error, read by
        ``classify_error`` first. Swapping the answer for a long-lived token (``*_exchange_token``) is Meta's own
        call, made explicitly by each network.
        """
        client = self._client()
        return exchange_code(
            self.http,
            f"{host or self.base_url}{path}",
            client_id=client.client_id,
            client_secret=client.client_secret,
            code=code,
            redirect_uri=redirect_uri,
            method=method,
            answer=self._token_answer,
        )

    def _token_answer(self, response: requests.Response) -> requests.Response:
        """Every token endpoint answer passes here before oauthlib reads it."""
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code != 200:
            raise self.classify_error(response)
        body = self.json(response)
        data = body.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict) and "access_token" not in body:
            # Instagram answers ``{"data": [{"access_token", "user_id", "permissions"}]}``: unwrap it for oauthlib.
            body = data[0]
            response._content = json.dumps(body).encode()
        if not body.get("access_token"):
            raise AuthRevoked("token answer without an access token")
        return response

    @staticmethod
    def token_set(body: Mapping[str, Any], *, refreshable: bool, scope: str = "") -> TokenSet:
        """A TokenSet from ``{access_token, expires_in}``.

        Instagram and Threads renew a long-lived token with the token itself, so for them the
        same value is stored as ``refresh_token`` (the framework renews only accounts that have one).
        """
        token = str(body.get("access_token") or "")
        if not token:
            raise AuthRevoked("token answer without an access token")
        expires_in = int_or_none(body.get("expires_in"))
        return TokenSet(
            access_token=token,
            refresh_token=token if refreshable else "",
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            scope=scope,
            token_type="Bearer",  # noqa: S106 - a token type name
        )

    def wait(self) -> None:
        time.sleep(self.poll_interval)

    # --- responses ----------------------------------------------------------------

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        """Usage in percent: ``limit`` 100, ``remaining`` what is left of the busiest budget."""
        highest, regain = usage_from_headers(headers)
        if highest is None and regain is None:
            return None
        reset_at = datetime.now(UTC) + timedelta(seconds=regain) if regain else None
        remaining = max(0, 100 - highest) if highest is not None else None
        return RateLimitInfo(limit=100, remaining=remaining, reset_at=reset_at)

    def classify_error(self, response: requests.Response) -> NetworkError:
        status = response.status_code
        error = graph_error(response)
        code = int_or_none(error.get("code"))
        subcode = int_or_none(error.get("error_subcode"))
        message = str(error.get("error_user_msg") or error.get("message") or response.text[:200])[:300]
        text = f"({code}/{subcode}) {message}" if code is not None else message
        if code == 190:
            if subcode in EXPIRED_SUBCODES or (subcode is None and "expired" in message.lower()):
                return AuthExpired(text, status=status)
            return AuthRevoked(text, status=status)
        if code == 102:
            return AuthExpired(text, status=status)
        if code == 104:  # no access token at all: nothing stored can be used
            return AuthRevoked(text, status=status)
        if code == 10 or (code is not None and 200 <= code <= 299):
            return AuthRevoked(text, status=status)
        if code == 9 and subcode == PUBLISH_LIMIT_SUBCODE:
            return PublishingLimitReached(text, retry_after=PUBLISH_LIMIT_RETRY_AFTER, status=status)
        if status == 429 or code in RATE_LIMIT_CODES or (code is not None and code in BUC_RATE_LIMIT_CODES):
            _highest, regain = usage_from_headers(response.headers)
            retry_after = max(60.0, regain) if regain else DEFAULT_RETRY_AFTER
            reset_at = datetime.now(UTC) + timedelta(seconds=retry_after)
            return RateLimited(text, retry_after=retry_after, reset_at=reset_at, status=status)
        if code == 100 and subcode != 33 and any(words in message.lower() for words in PERMISSION_WORDS):
            # "Missing permission or reviewable feature", "requires an app token": without subcode 33 the object
            # is there; the app or the account lacks a permission or feature. Not the post's fault, not gone.
            return AccountAttention(text, status=status)
        if code == 506:
            return Duplicate(text, status=status)
        if code in (1, 2) or error.get("is_transient") is True or status >= 500 or status == 408:
            return Transient(text, status=status)
        if 400 <= status < 500:
            return ContentRejected(text, status=status)
        return NetworkError(text, status=status)


class ContainerPublishingProvider(MetaGraphProvider):
    """Instagram and Threads: create a media container, wait for it, then publish it.

    ``publish`` only creates the container and answers ``PENDING`` with the container id as
    ``external_id``: the caller stores it, then calls ``complete_pending_publish`` (as often as it
    answers ``PENDING``). A container is published at most once by the network itself, so repeating
    ``complete_pending_publish`` after a lost answer never makes a second post.
    """

    #: Path segment of the publish call (``media_publish`` / ``threads_publish``).
    publish_edge: ClassVar[str] = ""
    #: ``grant_type`` that renews a long-lived token (``ig_refresh_token`` / ``th_refresh_token``).
    refresh_grant_type: ClassVar[str] = ""
    #: Path segment listing the account's posts (``media`` / ``threads``).
    list_edge: ClassVar[str] = ""

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        return self.authorization_url("/oauth/authorize", redirect_uri=redirect_uri)

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        body = self.call(
            "GET",
            "/refresh_access_token",
            params={"grant_type": self.refresh_grant_type, "access_token": tokens.refresh_token or tokens.access_token},
        )
        return self.token_set(body, refreshable=True, scope=tokens.scope)

    #: Field holding the post's text in that list (``caption`` / ``text``).
    text_field: ClassVar[str] = ""
    #: Field of the container's state (``status_code`` / ``status``).
    status_field: ClassVar[str] = ""

    def user_id(self, tokens: TokenSet) -> str:
        body = self.call("GET", self.graph_path("/me"), tokens=tokens, params={"fields": "id"})
        return str(body.get("user_id") or body["id"])

    def post_text(self, draft: PostDraft) -> str:
        """The text as it will appear on the network (the link appended when it is not in the text)."""
        if draft.link and draft.link not in draft.text:
            return f"{draft.text.rstrip()}\n\n{draft.link}".strip()
        return str(draft.text)

    def container_state(self, *, tokens: TokenSet, container_id: str) -> tuple[str, str]:
        fields = "status_code,status" if self.status_field == "status_code" else "status,error_message"
        body = self.call("GET", self.graph_path(f"/{container_id}"), tokens=tokens, params={"fields": fields})
        state = str(body.get(self.status_field) or "")
        detail = str(body.get("error_message") or (body.get("status") if self.status_field != "status" else "") or "")
        return state, detail

    def find_published(self, *, tokens: TokenSet, user_id: str, text: str) -> PublishResult | None:
        body = self.call(
            "GET",
            self.graph_path(f"/{user_id}/{self.list_edge}"),
            tokens=tokens,
            params={"fields": f"id,{self.text_field},permalink,timestamp", "limit": 25},
        )
        for item in body.get("data") or []:
            if isinstance(item, dict) and str(item.get(self.text_field) or "").strip() == text.strip():
                return PublishResult(
                    state=PublishState.PUBLISHED,
                    external_id=str(item["id"]),
                    url=str(item.get("permalink") or ""),
                    published_at=parse_time(item.get("timestamp")),
                )
        return None

    def complete_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, pending_id: str) -> PublishResult:
        user_id = self.user_id(tokens)
        deadline = time.monotonic() + self.poll_timeout
        while True:
            state, detail = self.container_state(tokens=tokens, container_id=pending_id)
            if state == "FINISHED":
                break
            if state == "PUBLISHED":
                # An earlier publish call went through but its answer was lost.
                found = self.find_published(tokens=tokens, user_id=user_id, text=self.post_text(draft))
                return found or PublishResult(state=PublishState.PUBLISHED)
            if state == "EXPIRED":
                return PublishResult(state=PublishState.NOT_FOUND, external_id=pending_id)
            if state == "ERROR":
                raise ContentRejected(f"{self.network} could not process the media: {detail or 'ERROR'}")
            if time.monotonic() >= deadline:
                return PublishResult(state=PublishState.PENDING, external_id=pending_id)
            self.wait()
        body = self.call(
            "POST",
            self.graph_path(f"/{user_id}/{self.publish_edge}"),
            tokens=tokens,
            data={"creation_id": pending_id},
            write=True,
        )
        post_id = str(body["id"])
        details = self.call(
            "GET", self.graph_path(f"/{post_id}"), tokens=tokens, params={"fields": "id,permalink,timestamp"}
        )
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=post_id,
            url=str(details.get("permalink") or ""),
            published_at=parse_time(details.get("timestamp")) or datetime.now(UTC),
        )

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Without a stored container id: a post with this text among the latest 25, or NOT_FOUND.

        Containers that were never published are invisible and expire after 24 hours, so NOT_FOUND
        means publishing again is safe.
        """
        user_id = self.user_id(tokens)
        found = self.find_published(tokens=tokens, user_id=user_id, text=self.post_text(draft))
        return found or PublishResult(state=PublishState.NOT_FOUND)

    @staticmethod
    def insight_values(body: Mapping[str, Any]) -> dict[str, int | None]:
        """``{name: value}`` from ``data[].values[0].value`` or ``data[].total_value.value``."""
        values: dict[str, int | None] = {}
        for entry in body.get("data") or []:
            if not isinstance(entry, dict):
                continue
            value: Any = None
            if isinstance(entry.get("total_value"), dict):
                value = entry["total_value"].get("value")
            elif entry.get("values"):
                first = entry["values"][0]
                value = first.get("value") if isinstance(first, dict) else None
            values[str(entry.get("name"))] = int_or_none(value)
        return values
