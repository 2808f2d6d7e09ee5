"""Mastodon client API (and every server speaking it, including the built-in sandbox).

Facts from /work/shared/networks.md: apps are registered per instance (``POST /api/v1/apps``);
OAuth 2 code flow with PKCE S256; tokens never expire and cannot be refreshed, a revoked one
answers 401; media via ``POST /api/v2/media`` (200, or 202 then poll ``GET /api/v1/media/:id``
206 -> 200); ``POST /api/v1/statuses`` honours ``Idempotency-Key`` for one hour; metrics one
status per call; rate-limit headers with an ISO-8601 reset.

The author's own engagement (docs.joinmastodon.org/entities/Status, /methods/statuses): the status read
with her token carries ``favourited`` / ``reblogged`` for her; ``/context`` lists the replies (with a user
token up to 4,096 descendants), ``/quotes`` (4.5+, the author only, <= 40 a page) the quotes;
``/favourited_by`` and ``/reblogged_by`` (<= 80 a page, ``Link`` header pagination) name who engaged.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import requests

from networks.providers.base import NetworkProvider, pkce_pair
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthRevoked,
    ContentRejected,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    ClientCredentials,
    LinkHandling,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    Reveal,
    TokenSet,
)

SCOPES = "read:accounts read:statuses write:statuses write:media profile"
URL_PATTERN = re.compile(r"https?://\S+")
URL_WEIGHT = 23  # Mastodon counts every link as 23 characters
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
    per_instance = True
    needs_app_registration = True
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
    #: How long the server remembers an Idempotency-Key (check_pending_publish relies on it).
    idempotency_window: ClassVar[timedelta] = timedelta(hours=1)
    media_poll_interval: ClassVar[float] = 0.5
    media_poll_timeout: ClassVar[float] = 60.0

    last_rate_limit: RateLimitInfo | None = None

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
        try:
            response = self.http.request(method, self._url(path), headers=headers, **kwargs)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise Transient(f"{method} {path}: {type(error).__name__}") from error
        except requests.ConnectionError as error:
            if write and not _never_connected(error):
                raise AmbiguousOutcome(f"{method} {path}: connection lost after sending") from error
            raise Transient(f"{method} {path}: {type(error).__name__}") from error
        except requests.Timeout as error:
            if write:
                raise AmbiguousOutcome(f"{method} {path}: no answer after sending") from error
            raise Transient(f"{method} {path}: timed out") from error
        except requests.RequestException as error:
            raise Transient(f"{method} {path}: {type(error).__name__}") from error
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code not in ok:
            raise self.classify_error(response)
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as error:
            raise Transient(f"unexpected non-JSON answer ({response.status_code})") from error
        if not isinstance(body, dict):
            raise Transient("unexpected JSON shape")
        return body

    # --- connecting ---------------------------------------------------------------

    def register_app(self, *, redirect_uri: str, website: str) -> ClientCredentials:
        response = self._send(
            "POST",
            "/api/v1/apps",
            data={"client_name": "Linkilike", "redirect_uris": redirect_uri, "scopes": SCOPES, "website": website},
        )
        body = self._json(response)
        try:
            return ClientCredentials(
                client_id=str(body["client_id"]),
                client_secret=str(body["client_secret"]),
                redirect_uri=redirect_uri,
                scopes=SCOPES,
            )
        except KeyError as error:
            raise Transient("app registration answer without client credentials") from error

    def _client(self) -> ClientCredentials:
        if self.client is None:
            raise NotSupported("Mastodon needs the instance's registered app (client credentials)")
        return self.client

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        client = self._client()
        state = secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
                "scope": client.scopes or SCOPES,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        url = f"{self._url('/oauth/authorize')}?{query}"
        return AuthStart(authorization_url=url, state=state, code_verifier=verifier)

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        client = self._client()
        response = self._send(
            "POST",
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
                "scope": client.scopes or SCOPES,
            },
        )
        body = self._json(response)
        if not body.get("access_token"):
            raise AuthRevoked("token answer without an access token")
        expires_in = _int_or_none(body.get("expires_in"))
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or ""),
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in) if expires_in else None,
            scope=str(body.get("scope") or ""),
            token_type=str(body.get("token_type") or "Bearer"),
        )

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        raise NotSupported("Mastodon access tokens do not expire and cannot be refreshed")

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        body = self._json(self._send("GET", "/api/v1/accounts/verify_credentials", tokens=tokens))
        username = str(body.get("username") or body.get("acct") or "")
        host = urlsplit(self.base_url).netloc
        acct = str(body.get("acct") or username)
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{host}"
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

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        text = self._status_text(draft)
        length = len(URL_PATTERN.sub("x" * URL_WEIGHT, text))
        if length > self.capabilities.max_chars:
            problems.append(f"text is {length} characters, the limit is {self.capabilities.max_chars}")
        if not text.strip() and not draft.media:
            problems.append("a post needs text or media")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} images")
        for item in draft.media:
            if not item.content_type.startswith(("image/", "video/")):
                problems.append(f"{item.filename}: only images and video can be attached")
            limit = self.capabilities.max_image_bytes
            if limit and item.content_type.startswith("image/") and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    def _upload_media(self, *, tokens: TokenSet, draft: PostDraft) -> list[str]:
        media_ids: list[str] = []
        for item in draft.media:
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
            media_ids.append(media_id)
        return media_ids

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
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems), status=None)
        media_ids = self._upload_media(tokens=tokens, draft=draft)
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
        body = self._json(response)
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=str(body["id"]),
            url=str(body.get("url") or body.get("uri") or ""),
            published_at=_parse_time(body.get("created_at")),
        )

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Repeat the create with the same ``Idempotency-Key``.

        Within ``idempotency_window`` of the first attempt the server answers with the status it
        already created (or creates it once if the first request never arrived), so this never
        makes a second post. Callers must not use it after the window.
        """
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
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{urlsplit(self.base_url).netloc}"
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
        if status == 401:
            return AuthRevoked(text, status=status)
        if status == 403 and "scope" in text.lower():
            return AuthRevoked(text, status=status)
        if status == 429:
            info = self.parse_rate_limit(response.headers)
            reset_at = info.reset_at if info else None
            retry_after = _int_or_none(response.headers.get("Retry-After"))
            if retry_after is None:
                seconds = (reset_at - datetime.now(UTC)).total_seconds() if reset_at else 60.0
                retry_after = max(1, int(seconds + 0.999))
            return RateLimited(text, retry_after=retry_after, reset_at=reset_at)
        if status in (400, 403, 404, 413, 415, 422):
            return ContentRejected(text, status=status)
        if status == 408 or status >= 500:
            return Transient(text, status=status)
        return NetworkError(text, status=status)


def _flag(value: Any) -> int | None:
    """A Status boolean as a count of 0 or 1 (None when the server did not send it)."""
    return int(value) if isinstance(value, bool) else None


def _never_connected(error: requests.ConnectionError) -> bool:
    """True when the connection was refused before anything was sent."""
    text = repr(error)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text
