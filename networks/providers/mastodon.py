"""Mastodon client API (and every server speaking it, including the built-in sandbox).

Facts from docs.joinmastodon.org and the server's source: apps are registered per instance (``POST /api/v1/apps``);
OAuth 2 code flow (requests-oauthlib) with PKCE S256 where the server takes it (4.3+ says so in its OAuth
metadata); tokens never expire and cannot be refreshed, a revoked one
answers 401; media via ``POST /api/v2/media`` (200, or 202 then poll ``GET /api/v1/media/:id``
206 -> 200); ``POST /api/v1/statuses`` honours ``Idempotency-Key`` for one hour; metrics one
status per call; rate-limit headers with an ISO-8601 reset.

The author's own engagement (docs.joinmastodon.org/entities/Status, /methods/statuses): the status read
with her token carries ``favourited`` / ``reblogged`` for her; ``/context`` lists the replies (with a user
token up to 4,096 descendants), ``/quotes`` (4.5+, the author only, <= 40 a page) the quotes;
``/favourited_by`` and ``/reblogged_by`` (<= 80 a page, ``Link`` header pagination) name who engaged.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urljoin, urlsplit

import requests
from django.core.cache import cache
from django.utils.translation import gettext_lazy

from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AccountAttention,
    AddressRefused,
    AuthRevoked,
    ContentRejected,
    NetworkError,
    NotSupported,
    Transient,
)
from networks.providers.http import json_object, send, status_error
from networks.providers.mastodon_text import MENTION_RE, status_length
from networks.providers.oauth2_base import authorization_start, exchange_code
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    ClientCredentials,
    DisplayFacts,
    InstanceInfo,
    LinkHandling,
    MediaItem,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    Reveal,
    TokenSet,
)

#: What Linkilike needs on every server (known since 2.4): the profile, reading and writing statuses and media.
BASE_SCOPES = ("read:accounts", "read:statuses", "write:statuses", "write:media")
#: Only ``verify_credentials``; from 4.3 on. Asked for where the server knows it.
PROFILE_SCOPE = "profile"
PROFILE_SINCE = (4, 3)
#: Everything Linkilike asks a current server (4.3+, the built-in sandbox) for.
SCOPES = " ".join((*BASE_SCOPES, PROFILE_SCOPE))
#: How long what a server says about itself is kept (limits and domain change rarely).
INSTANCE_CACHE_SECONDS = 60 * 60
#: The character limit every server had before it published one (configuration came with 3.4.2).
LEGACY_MAX_CHARACTERS = 500
#: The account's latest posts looked through when finding a post (the most one page holds).
LOOKUP_LIMIT = 40
#: Redirects followed from the handle's domain to the server's WebFinger.
WEBFINGER_REDIRECTS = 2
#: Pages read per list (favourited_by, reblogged_by, quotes) and post: a cap on what one check may cost.
ENGAGER_PAGES = 3
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("error_description") or body.get("error") or body)[:300]
    return str(body)[:300]


class MastodonProvider(NetworkProvider):
    network = "mastodon"
    facts = DisplayFacts(
        label=gettext_lazy("Mastodon"),
        note=gettext_lazy("Engagement only, no reach. Links count as 23 characters."),
        link_chars=23,
    )
    connect_template = "networks/connect/mastodon.html"
    per_instance = True
    needs_app_registration = True
    # Mastodon's defaults, for the capability matrix; a server's own limits come from its configuration
    # (``current_capabilities``, ``validate_draft``).
    capabilities = Capabilities(
        max_chars=500,
        max_images=4,
        video=True,
        link_handling=LinkHandling.IN_TEXT,
        reach_reported=False,
        metrics_batch_size=1,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=False,
        max_image_bytes=16 * 1024 * 1024,
        metrics_rate_limit=(300, 300),  # per account, the default of every Mastodon server
        metrics_concurrency=4,
        # favourited/reblogged ride on the status read; replies (/context) and quotes (/quotes) cost one call
        # per post that has any.
        own_engagement=Reveal.YES,
        own_engagement_metrics=("likes", "shares", "replies", "quotes"),
        engagers_named=("likes", "shares", "replies", "quotes"),
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        if not instance_url:
            return None
        return f"{instance_url.rstrip('/')}/share?text={quote(text)}"

    #: How long the server remembers an Idempotency-Key (check_pending_publish relies on it).
    idempotency_window: ClassVar[timedelta] = timedelta(hours=1)
    #: A create the client stopped waiting for can still be running (mentions of remote accounts are resolved
    #: over the network before the key is stored); only then is it safe to look and, if need be, send again.
    ambiguous_settle: ClassVar[timedelta] = timedelta(minutes=5)
    media_poll_interval: ClassVar[float] = 0.5
    media_poll_timeout: ClassVar[float] = 60.0

    last_rate_limit: RateLimitInfo | None = None
    _instance: InstanceInfo | None = None

    # --- plumbing -----------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _send(
        self,
        method: str,
        path: str,
        *,
        tokens: TokenSet | None = None,
        write: bool = False,
        ok: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> requests.Response:
        headers: dict[str, str] = kwargs.pop("headers", {})
        if tokens is not None:
            headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = send(
            self.http, method, self._url(path), label=f"{method} {path}", write=write, headers=headers, **kwargs
        )
        if tokens is not None:
            # Calls without a token are limited per address, not per account: they say nothing about its budget.
            self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code not in ok:
            raise self.classify_error(response)
        return response

    _json = staticmethod(json_object)

    # --- what the server says about itself ------------------------------------------

    def _cache_key(self) -> str:
        return f"networks:mastodon:instance:{hashlib.sha256(self.base_url.encode()).hexdigest()[:32]}"

    def instance_info(self) -> InstanceInfo | None:
        """The server's domain, version and limits, read once an hour per server; None when it does not say."""
        if self._instance is not None:
            return self._instance  # a metrics pull asks for every engager's handle
        cached = cache.get(self._cache_key())
        if isinstance(cached, dict):
            try:
                self._instance = InstanceInfo(
                    **{**cached, "supported_mime_types": tuple(cached["supported_mime_types"])}
                )
                return self._instance
            except (TypeError, KeyError):
                pass  # kept by another version of this class: read it again
        try:
            info = self._read_instance()
        except NetworkError:
            return None  # not kept: asked again next time
        cache.set(self._cache_key(), asdict(info), INSTANCE_CACHE_SECONDS)
        self._instance = info
        return info

    def _read_instance(self) -> InstanceInfo:
        response = self._send("GET", "/api/v2/instance", ok=(200, 404, 410))
        if response.status_code == 200:
            body = self._json(response)
            domain = str(body.get("domain") or "")
        else:  # before 4.0 (or a server speaking only v1)
            body = self._json(self._send("GET", "/api/v1/instance"))
            domain = str(body.get("uri") or "").removeprefix("https://").removeprefix("http://").rstrip("/")
        configuration = body.get("configuration")
        statuses = _dict(_dict(configuration).get("statuses"))
        media = _dict(_dict(configuration).get("media_attachments"))
        max_characters = _int_or_none(statuses.get("max_characters"))
        max_media = _int_or_none(statuses.get("max_media_attachments"))
        if not isinstance(configuration, dict):
            # Before 3.4.2 no server published its limits: forks said ``max_toot_chars``, the rest had 500.
            max_characters = _int_or_none(body.get("max_toot_chars")) or LEGACY_MAX_CHARACTERS
        mime_types = media.get("supported_mime_types")
        return InstanceInfo(
            domain=domain or str(urlsplit(self.base_url).netloc),
            version=str(body.get("version") or ""),
            max_characters=max_characters,
            max_media_attachments=max_media,
            image_size_limit=_int_or_none(media.get("image_size_limit")),
            video_size_limit=_int_or_none(media.get("video_size_limit")),
            supported_mime_types=tuple(str(t) for t in mime_types) if isinstance(mime_types, list) else (),
        )

    def _domain(self, *, username: str) -> str:
        """The domain in local accounts' handles: the server's own (LOCAL_DOMAIN) where WebFinger confirms it,
        else the API's host.

        A server may serve its API on one host and name its accounts after another (``@lena@example.com`` on
        ``social.example.com``). It may also claim any domain at all, so the claim counts only when that
        domain's WebFinger names this server's account, as it does for every server that federates.
        """
        api_host = urlsplit(self.base_url).netloc.lower()
        info = self.instance_info()
        domain = (info.domain if info is not None else "").lower()
        if not domain or domain == api_host:
            return api_host
        key = f"{self._cache_key()}:domain:{hashlib.sha256(domain.encode()).hexdigest()[:16]}"
        confirmed = cache.get(key)
        if confirmed is None:
            confirmed = self._webfinger_names_us(domain=domain, username=username)
            cache.set(key, confirmed, INSTANCE_CACHE_SECONDS)
        return domain if confirmed else api_host

    def _webfinger_names_us(self, *, domain: str, username: str) -> bool:
        scheme = urlsplit(self.base_url).scheme
        url = f"{scheme}://{domain}/.well-known/webfinger?{urlencode({'resource': f'acct:{username}@{domain}'})}"
        try:
            for _hop in range(WEBFINGER_REDIRECTS + 1):
                # The handle's domain usually sends WebFinger on to the server's own host.
                response = self.http.request(
                    "GET",
                    url,
                    headers={"Accept": "application/jrd+json"},
                    timeout=(min(5.0, self.http.timeout[0]), min(10.0, self.http.timeout[1])),
                )
                location = response.headers.get("Location")
                if response.status_code not in (301, 302, 303, 307, 308) or not location:
                    break
                url = urljoin(url, location)
            body = response.json() if response.status_code == 200 else {}
        except (requests.RequestException, ValueError, NetworkError):
            return False
        links = body.get("links") if isinstance(body, dict) else None
        api_host = urlsplit(self.base_url).netloc.lower()
        return any(
            isinstance(link, dict)
            and link.get("rel") == "self"
            and urlsplit(str(link.get("href") or "")).netloc.lower() == api_host
            for link in links or []
        )

    def _oauth_metadata(self) -> dict[str, Any] | None:
        """The server's OAuth metadata (RFC 8414, Mastodon 4.3+), read once an hour per server; None where it
        publishes none (or could not be asked this time)."""
        key = f"{self._cache_key()}:oauth"
        cached = cache.get(key)
        if isinstance(cached, dict):
            return cached
        try:
            metadata = self._json(self._send("GET", "/.well-known/oauth-authorization-server"))
        except AddressRefused:
            raise  # the server's address is not one Linkilike may contact: stop here
        except NetworkError:
            return None
        cache.set(key, metadata, INSTANCE_CACHE_SECONDS)
        return metadata

    def _scopes_supported(self) -> set[str] | None:
        """``scopes_supported`` from the server's OAuth metadata (4.3+); None where it publishes none."""
        supported = (self._oauth_metadata() or {}).get("scopes_supported")
        return {str(scope) for scope in supported} if isinstance(supported, list) else None

    def takes_pkce(self) -> bool:
        """PKCE S256 unless the server's metadata lists the methods it takes and S256 is not one of them.

        Mastodon takes PKCE from 4.3 on and says so (``code_challenge_methods_supported``); a server that knows
        no PKCE ignores the parameters (RFC 7636, section 5), so only a server naming other methods goes without.
        """
        methods = (self._oauth_metadata() or {}).get("code_challenge_methods_supported")
        return not isinstance(methods, list) or "S256" in methods

    def negotiate_scopes(self) -> str:
        """The scopes to register with: what Linkilike needs, plus ``profile`` where the server knows it."""
        supported = self._scopes_supported()
        if supported is not None:
            profile = PROFILE_SCOPE in supported
        else:
            info = self.instance_info()
            profile = info is not None and _version(info.version) >= PROFILE_SINCE
        return " ".join((*BASE_SCOPES, PROFILE_SCOPE) if profile else BASE_SCOPES)

    # --- connecting ---------------------------------------------------------------

    def register_app(self, *, redirect_uri: str, website: str) -> ClientCredentials:
        scopes = self.negotiate_scopes()
        try:
            response = self._register(redirect_uri=redirect_uri, website=website, scopes=scopes)
        except ContentRejected as error:
            if scopes == " ".join(BASE_SCOPES) or "scope" not in str(error).lower():
                raise
            # The server refused a scope its documents announced: ask for what every server knows.
            scopes = " ".join(BASE_SCOPES)
            response = self._register(redirect_uri=redirect_uri, website=website, scopes=scopes)
        body = self._json(response)
        try:
            return ClientCredentials(
                client_id=str(body["client_id"]),
                client_secret=str(body["client_secret"]),
                redirect_uri=redirect_uri,
                scopes=scopes,
            )
        except KeyError as error:
            raise Transient("app registration answer without client credentials") from error

    def _register(self, *, redirect_uri: str, website: str, scopes: str) -> requests.Response:
        return self._send(
            "POST",
            "/api/v1/apps",
            data={"client_name": "Linkilike", "redirect_uris": redirect_uri, "scopes": scopes, "website": website},
        )

    def _client(self) -> ClientCredentials:
        if self.client is None:
            raise NotSupported("Mastodon needs the instance's registered app (client credentials)")
        return self.client

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        """The consent URL on this server (requests-oauthlib), with PKCE S256 where the server takes it."""
        client = self._client()
        return authorization_start(
            self.http,
            authorize_url=self._url("/oauth/authorize"),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            # Never more than the app was registered with: the server refuses that (invalid_scope).
            scope=client.scopes or " ".join(BASE_SCOPES),
            pkce=self.takes_pkce(),
            label=str(self.facts.label),
        )

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """The authorization code grant (requests-oauthlib) with the server's registered app."""
        client = self._client()
        body = exchange_code(
            self.http,
            self._url("/oauth/token"),
            client_id=client.client_id,
            client_secret=client.client_secret,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            answer=self._token_answer,
            scope=client.scopes or " ".join(BASE_SCOPES),
        )
        expires_in = _int_or_none(body.get("expires_in"))
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or ""),
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            scope=str(body.get("scope") or ""),
            token_type=str(body.get("token_type") or "Bearer"),
        )

    def _token_answer(self, response: requests.Response) -> requests.Response:
        """The token endpoint's answer, before oauthlib reads it: a refusal is Mastodon's own typed error."""
        if response.status_code != 200:
            raise self.classify_error(response)
        if not self._json(response).get("access_token"):
            raise AuthRevoked("token answer without an access token")
        return response

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        raise NotSupported("Mastodon access tokens do not expire and cannot be refreshed")

    def revoke(self, *, tokens: TokenSet) -> None:
        client = self.client
        if client is None:
            # The server does have the call; without the app's credentials Linkilike cannot make it.
            raise NetworkError("no app registered on this server to withdraw the token with")
        self._send(
            "POST",
            "/oauth/revoke",
            data={"client_id": client.client_id, "client_secret": client.client_secret, "token": tokens.access_token},
        )

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        body = self._json(self._send("GET", "/api/v1/accounts/verify_credentials", tokens=tokens))
        username = str(body.get("username") or body.get("acct") or "")
        acct = str(body.get("acct") or username)
        # A local account's acct has no domain; the handle takes the server's own, not the API's host.
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{self._domain(username=acct)}"
        return AccountRef(
            external_id=str(body["id"]),
            handle=handle,
            display_name=str(body.get("display_name") or username),
            profile_url=str(body.get("url") or ""),
            avatar_url=str(body.get("avatar") or ""),
            followers_count=_int_or_none(body.get("followers_count")),
        )

    # --- posting ------------------------------------------------------------------

    def _status_text(self, draft: PostDraft) -> str:
        if draft.link and draft.link not in draft.text:
            return f"{draft.text.rstrip()}\n\n{draft.link}"
        return draft.text

    def current_capabilities(self) -> Capabilities:
        info = self.instance_info()
        if info is None:
            return self.capabilities
        return replace(
            self.capabilities,
            max_chars=info.max_characters or self.capabilities.max_chars,
            max_images=info.max_media_attachments or self.capabilities.max_images,
            max_image_bytes=info.image_size_limit or self.capabilities.max_image_bytes,
        )

    def validate_draft(self, draft: PostDraft) -> list[str]:
        """What this server would refuse, by its own limits. Limits it does not state are left to it."""
        problems: list[str] = []
        info = self.instance_info()
        text = self._status_text(draft)
        length = status_length(text)
        if info is not None and info.max_characters is not None and length > info.max_characters:
            problems.append(f"text is {length} characters, the limit is {info.max_characters}")
        if not text.strip() and not draft.media:
            problems.append("a post needs text or media")
        if (
            info is not None
            and info.max_media_attachments is not None
            and len(draft.media) > info.max_media_attachments
        ):
            problems.append(f"at most {info.max_media_attachments} media per post")
        if len(draft.media) > 1 and any(item.content_type.startswith("video/") for item in draft.media):
            problems.append("a video cannot be posted together with other media")
        for item in draft.media:
            problems.extend(self._media_problems(item, info))
        return problems

    @staticmethod
    def _media_problems(item: MediaItem, info: InstanceInfo | None) -> list[str]:
        if not item.content_type.startswith(("image/", "video/")):
            return [f"{item.filename}: only images and video can be attached"]
        if info is None:
            return []
        problems = []
        if info.supported_mime_types and item.content_type not in info.supported_mime_types:
            problems.append(f"{item.filename}: the server does not take {item.content_type}")
        video = item.content_type.startswith("video/")
        limit = info.video_size_limit if video else info.image_size_limit
        if limit and len(item.content) > limit:
            problems.append(f"{item.filename}: larger than the server's {limit} bytes")
        return problems

    def upload_media(self, *, tokens: TokenSet, draft: PostDraft) -> tuple[str, ...]:
        media_ids: list[str] = []
        for index, item in enumerate(draft.media):
            earlier = draft.media_ids[index] if index < len(draft.media_ids) else ""
            if earlier and self._media_still_there(tokens=tokens, media_id=earlier):
                media_ids.append(earlier)
                continue
            media_ids.append(self._upload(tokens=tokens, item=item))
        return tuple(media_ids)

    def _media_still_there(self, *, tokens: TokenSet, media_id: str) -> bool:
        """True when the server still holds the upload, unattached (it finds no other): it can be posted."""
        response = self._send("GET", f"/api/v1/media/{media_id}", tokens=tokens, ok=(200, 206, 404))
        if response.status_code == 404:
            return False
        if response.status_code == 206:
            self._await_media(tokens=tokens, media_id=media_id)
        return True

    def _upload(self, *, tokens: TokenSet, item: MediaItem) -> str:
        response = self._send(
            "POST",
            "/api/v2/media",
            tokens=tokens,
            ok=(200, 202),
            files={"file": (item.filename, item.content, item.content_type)},
            data={"description": item.description} if item.description else {},
        )
        body = self._json(response)
        media_id = str(body["id"])
        if response.status_code == 202 or not body.get("url"):
            self._await_media(tokens=tokens, media_id=media_id)
        return media_id

    def _await_media(self, *, tokens: TokenSet, media_id: str) -> None:
        deadline = time.monotonic() + self.media_poll_timeout
        while True:
            response = self._send("GET", f"/api/v1/media/{media_id}", tokens=tokens, ok=(200, 206))
            if response.status_code == 200:
                return
            if time.monotonic() > deadline:
                raise Transient(f"media {media_id} still processing after {self.media_poll_timeout:.0f} s")
            time.sleep(self.media_poll_interval)

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Create the status. Media already uploaded for it (``draft.media_ids``) are posted, not uploaded again."""
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems), status=None)
        media_ids = list(draft.media_ids)
        if len(media_ids) != len(draft.media):
            media_ids = list(self.upload_media(tokens=tokens, draft=draft))
        payload: dict[str, Any] = {"status": self._status_text(draft), "visibility": draft.visibility}
        if media_ids:
            payload["media_ids"] = media_ids
        response = self._send(
            "POST",
            "/api/v1/statuses",
            tokens=tokens,
            write=True,
            json=payload,
            headers={"Idempotency-Key": idempotency_key},
        )
        return self._result(self._json(response))

    @staticmethod
    def _result(body: dict[str, Any]) -> PublishResult:
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=str(body["id"]),
            url=str(body.get("url") or body.get("uri") or ""),
            published_at=_parse_time(body.get("created_at")),
        )

    def lookup_publish(self, *, tokens: TokenSet, draft: PostDraft) -> PublishResult:
        """The post among the account's latest statuses: by one of its media ids, else by its text.

        The server keeps no trace of the Idempotency-Key on the status, so this is how to tell whether a
        create whose answer was lost went through, without sending anything.
        """
        me = self._json(self._send("GET", "/api/v1/accounts/verify_credentials", tokens=tokens))
        response = self._send(
            "GET",
            f"/api/v1/accounts/{me.get('id')}/statuses",
            tokens=tokens,
            ok=(200, 404),
            params={"limit": LOOKUP_LIMIT, "exclude_reblogs": "true"},
        )
        if response.status_code == 404:
            raise NotSupported("this server does not list an account's statuses")
        try:
            statuses = response.json()
        except ValueError as error:
            raise Transient(f"unexpected non-JSON answer ({response.status_code})") from error
        wanted_media = set(draft.media_ids)
        wanted_text = _comparable(self._status_text(draft))
        for status in statuses if isinstance(statuses, list) else []:
            if not isinstance(status, dict) or not status.get("id"):
                continue
            attached = {str(item.get("id")) for item in status.get("media_attachments") or [] if isinstance(item, dict)}
            same_text = bool(wanted_text) and _comparable(_html_text(str(status.get("content") or ""))) == wanted_text
            if wanted_media & attached or same_text:
                return self._result(status)
        return PublishResult(state=PublishState.NOT_FOUND)

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Look the post up; NOT_FOUND means nothing is there and it may be sent again with the same key.

        Only called ``ambiguous_settle`` after the first request, when it can no longer be running on the
        server. A server that cannot list an account's statuses is asked by repeating the create with the
        same ``Idempotency-Key``: within ``idempotency_window`` it answers the status it already created.
        """
        try:
            return self.lookup_publish(tokens=tokens, draft=draft)
        except NotSupported:
            return self.publish(tokens=tokens, draft=draft, idempotency_key=idempotency_key)

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """One status read per post, with her token: the counts and her own favourite and boost.

        Her own replies and quotes need ``/context`` and ``/quotes``, asked only when there are any.
        """
        snapshots: list[MetricsSnapshot] = []
        for external_id in external_ids:
            response = self._send("GET", f"/api/v1/statuses/{external_id}", tokens=tokens, ok=(200, 404))
            now = datetime.now(UTC)
            if response.status_code == 404:
                # Asked with the author's own token: her server no longer has it (deleted).
                snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, exists=False))
                continue
            body = self._json(response)
            likes = _int_or_none(body.get("favourites_count"))
            shares = _int_or_none(body.get("reblogs_count"))
            replies = _int_or_none(body.get("replies_count"))
            if likes is None and shares is None and replies is None:
                reason = "the server answered the status without its counts"
                snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, unknown_reason=reason))
                continue
            snapshot = MetricsSnapshot(
                external_id=external_id,
                fetched_at=now,
                likes=likes,
                shares=shares,
                replies=replies,
                quotes=_int_or_none(body.get("quotes_count")),
                own_likes=_flag(body.get("favourited")),
                own_shares=_flag(body.get("reblogged")),
            )
            author = str((body.get("account") or {}).get("id") or "")
            snapshots.append(self._own_replies_and_quotes(tokens=tokens, snapshot=snapshot, author=author))
        return snapshots

    def _own_replies_and_quotes(self, *, tokens: TokenSet, snapshot: MetricsSnapshot, author: str) -> MetricsSnapshot:
        external_id = snapshot.external_id
        engagers: list[AccountRef] = []
        own_replies: int | None = 0
        own_quotes: int | None = 0
        if snapshot.replies:
            response = self._send("GET", f"/api/v1/statuses/{external_id}/context", tokens=tokens, ok=(200, 404))
            if response.status_code == 404:
                own_replies = None  # a server without /context (the built-in sandbox): not revealed
            else:
                descendants = self._json(response).get("descendants") or []
                direct = [
                    item
                    for item in descendants
                    if isinstance(item, dict) and str(item.get("in_reply_to_id") or "") == external_id
                ]
                engagers.extend(ref for ref in (self._account_ref(item.get("account")) for item in direct) if ref)
                own_replies = sum(1 for item in direct if str((item.get("account") or {}).get("id")) == author)
        if snapshot.quotes:
            quoting = self._list(tokens=tokens, path=f"/api/v1/statuses/{external_id}/quotes", limit=40)
            if quoting is None:
                own_quotes = None
            else:
                engagers.extend(ref for ref in (self._account_ref(item.get("account")) for item in quoting) if ref)
                own_quotes = sum(1 for item in quoting if str((item.get("account") or {}).get("id")) == author)
        elif snapshot.quotes is None:
            own_quotes = None
        return replace(snapshot, own_replies=own_replies, own_quotes=own_quotes, engagers=tuple(engagers))

    def _list(self, *, tokens: TokenSet | None, path: str, limit: int) -> list[dict[str, Any]] | None:
        """Up to ``ENGAGER_PAGES`` pages of a list endpoint, following ``Link: <...>; rel="next"``; None on 404."""
        items: list[dict[str, Any]] = []
        url = f"{path}?limit={limit}"
        for _page in range(ENGAGER_PAGES):
            response = self._send("GET", url, tokens=tokens, ok=(200, 404))
            if response.status_code == 404:
                return items or None
            try:
                page = response.json()
            except ValueError as error:
                raise Transient(f"unexpected non-JSON answer ({response.status_code})") from error
            items.extend(item for item in (page if isinstance(page, list) else []) if isinstance(item, dict))
            match = _NEXT_LINK.search(response.headers.get("Link", ""))
            if match is None or not page:
                break
            next_url = match.group(1)
            if not next_url.startswith(f"{self.base_url}/"):
                break  # only ever follow pages on the server we asked
            url = next_url.removeprefix(self.base_url)
        return items

    def _account_ref(self, account: Any) -> AccountRef | None:
        """An Account entity as ``@user@host`` (``acct`` has no host for accounts of this server)."""
        if not isinstance(account, dict) or not account.get("acct"):
            return None
        acct = str(account["acct"])
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{self._domain(username=acct)}"
        return AccountRef(
            external_id=str(account.get("id") or ""), handle=handle, profile_url=str(account.get("url") or "")
        )

    def fetch_engagers(self, *, tokens: TokenSet | None, external_id: str) -> tuple[AccountRef, ...]:
        """Who favourited and who boosted (``/favourited_by``, ``/reblogged_by``: 80 a page, up to 3 pages each)."""
        refs: list[AccountRef] = []
        for what in ("favourited_by", "reblogged_by"):
            accounts = self._list(tokens=tokens, path=f"/api/v1/statuses/{external_id}/{what}", limit=80) or []
            refs.extend(ref for ref in (self._account_ref(account) for account in accounts) if ref)
        return tuple(refs)

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        self._send("DELETE", f"/api/v1/statuses/{external_id}", tokens=tokens, ok=(200, 404))

    # --- responses ----------------------------------------------------------------

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        limit = _int_or_none(headers.get("X-RateLimit-Limit"))
        remaining = _int_or_none(headers.get("X-RateLimit-Remaining"))
        reset_at = _parse_time(headers.get("X-RateLimit-Reset"))
        if limit is None and remaining is None and reset_at is None:
            return None
        return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at)

    def classify_error(self, response: requests.Response) -> NetworkError:
        status = response.status_code
        text = _error_text(response)
        lowered = text.lower()
        if status == 403 and "scope" in lowered:
            return AuthRevoked(text, status=status)
        if status == 403 and lowered.startswith(("your login", "your account")):
            # Disabled, e-mail not confirmed, awaiting approval, two-factor missing: the person must sort it
            # out on the server; the post was not refused for what it says.
            return AccountAttention(text, status=status)
        if status == 422 and "not finished processing" in lowered:
            return Transient(text, status=status)
        info = self.parse_rate_limit(response.headers) if status == 429 else None
        return status_error(response, text=text, unauthorized=AuthRevoked, reset_at=info.reset_at if info else None)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _version(value: str) -> tuple[int, int, int]:
    """``4.3.0+glitch``, ``4.2.10 (compatible; ...)`` -> (4, 3, 0); unreadable -> (0, 0, 0)."""
    match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", value or "")
    if match is None:
        return (0, 0, 0)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def _html_text(content: str) -> str:
    """A status's HTML ``content`` as the text it was written from (links rendered in spans join up again)."""
    text = re.sub(r"<br\s*/?>", "\n", content)
    text = re.sub(r"</p>\s*<p[^>]*>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _comparable(text: str) -> str:
    """Text reduced to what survives the server's rendering: remote mentions show as ``@user``, spacing varies."""
    shown = MENTION_RE.sub(lambda match: f"@{match.group('user')}", text)
    return " ".join(shown.split())


def _flag(value: Any) -> int | None:
    """A Status boolean as a count of 0 or 1 (None when the server did not send it)."""
    return int(value) if isinstance(value, bool) else None
