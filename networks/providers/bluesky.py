"""Bluesky (AT Protocol) with an app-password session.

Facts (atproto.com lexicons, /work/shared/networks.md):

- ``com.atproto.server.createSession`` ``{identifier, password}`` -> ``{accessJwt, refreshJwt, did, handle}``.
  It is rate limited (30 / 5 min, about 100 / day): log in once when the person connects, then
  only ``com.atproto.server.refreshSession`` with ``Bearer <refreshJwt>`` (refresh tokens rotate).
  Expiry is the JWT's ``exp`` claim; the DID is its ``sub``.
- Posts are ``app.bsky.feed.post`` records made with ``com.atproto.repo.createRecord`` on the PDS.
  Links become clickable only through ``facets`` whose ``byteStart``/``byteEnd`` count UTF-8
  **bytes**; one embed: ``app.bsky.embed.images`` (<= 4 blobs from ``uploadBlob``, <= 1,000,000
  bytes each) or ``app.bsky.embed.external`` (a card the client builds). Text: <= 300 graphemes.
- Counts come from the AppView (``app.bsky.feed.getPosts``, <= 25 URIs a call), not the PDS.
- Errors: ``400 ExpiredToken`` / ``400 InvalidToken`` / ``401 AuthMissing`` /
  ``429 RateLimitExceeded`` with ``ratelimit-limit|remaining|reset(unix s)|policy`` headers.

At-most-once publishing: the record key is a TID derived from the idempotency key, so a repeated
create can never make a second post, and ``check_pending_publish`` is a plain ``getRecord``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import regex
import requests
from django.conf import settings

from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    ClientCredentials,
    LinkHandling,
    MediaItem,
    MetricsAccess,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    TokenSet,
)

POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGE_BYTES = 1_000_000
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
METRICS_BATCH = 25

# A URL runs to the next whitespace; trailing punctuation and an unbalanced ")" are not part of it.
_URL = re.compile(r"https?://[^\s<>\"]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"…"
# A hashtag starts after whitespace or at the start; "#123" (numbers only) is not a tag.
_TAG = regex.compile(r"(?:^|(?<=\s))[#\uFF03]([^\s#\uFF03]+)")
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# Derived record keys carry a timestamp in 2023-01-01 .. 2024-02-11: in the past, never colliding with
# keys the PDS makes from its clock. The spec lets clients choose TIDs ("could have any value").
_TID_EPOCH_US = 1_672_531_200_000_000
_TID_SPAN_US = 1 << 45


# --- pure helpers (unit tested) -------------------------------------------------------------


def grapheme_count(text: str) -> int:
    """User-perceived characters, the unit of Bluesky's 300 limit (an emoji family counts once)."""
    return len(regex.findall(r"\X", text))


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _trim_url(url: str) -> str:
    while url and url[-1] in _TRAILING:
        url = url[:-1]
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    return url


def facets_for(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets with UTF-8 byte ranges, in text order."""
    facets: list[tuple[int, dict[str, Any]]] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if len(url) <= len("https://"):
            continue
        start = match.start()
        end = start + len(url)
        facets.append(
            (
                start,
                {
                    "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
                    "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}],
                },
            )
        )
    for match in _TAG.finditer(text):
        tag = match.group(1)
        while tag and (tag[-1] in _TRAILING or tag[-1] in ")]}"):
            tag = tag[:-1]
        if not tag or tag.isdigit() or grapheme_count(tag) > 64:
            continue
        start = match.start()
        end = match.start(1) + len(tag)
        if any(f[1]["index"]["byteStart"] <= _byte_offset(text, start) < f[1]["index"]["byteEnd"] for f in facets):
            continue  # a "#" inside a URL fragment
        facets.append(
            (
                start,
                {
                    "index": {"byteStart": _byte_offset(text, start), "byteEnd": _byte_offset(text, end)},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                },
            )
        )
    return [facet for _start, facet in sorted(facets, key=lambda item: item[0])]


def tid_from_key(key: str) -> str:
    """A valid TID record key that is always the same for the same idempotency key."""
    digest = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    timestamp = _TID_EPOCH_US + (digest % _TID_SPAN_US)
    clock_id = (digest >> 48) & 0x3FF
    value = (timestamp << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))


def jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) payload of a JWT: enough to read ``exp``, ``sub`` and ``scope``."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _jwt_expiry(token: str) -> datetime | None:
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return datetime.fromtimestamp(exp, tz=UTC)
    return None


@dataclass(frozen=True)
class AtUri:
    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str) -> AtUri:
        parts = urlsplit(uri)
        segments = parts.path.strip("/").split("/")
        if parts.scheme != "at" or not parts.netloc or len(segments) != 2 or not all(segments):
            raise ContentRejected(f"not a post URI: {uri!r}")
        return cls(repo=parts.netloc, collection=segments[0], rkey=segments[1])

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _image_aspect_ratio(item: MediaItem) -> dict[str, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(item.content)) as image:
            width, height = image.size
    except Exception:  # noqa: BLE001 - an unreadable image simply gets no aspect ratio
        return None
    return {"width": width, "height": height} if width and height else None


def _never_connected(error: requests.ConnectionError) -> bool:
    text = repr(error)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text


class BlueskyProvider(NetworkProvider):
    network = "bluesky"
    capabilities = Capabilities(
        max_chars=MAX_GRAPHEMES,
        max_images=4,
        video=False,
        link_handling=LinkHandling.CARD,
        reach_reported=False,
        metrics_batch_size=METRICS_BATCH,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=True,
        max_image_bytes=MAX_IMAGE_BYTES,
        metrics=("likes", "shares", "replies", "quotes", "bookmarks"),
        metrics_access=MetricsAccess.APP,
        # Bluesky's documented general API limit: 3,000 requests per 5 minutes per client address (the public
        # AppView may count differently (?)); eight reads in flight keep one pull well inside it.
        metrics_rate_limit=(3000, 300),
        metrics_concurrency=8,
        requirements="An app password (Settings > Privacy and security > App passwords); never the main password.",
    )
    last_rate_limit: RateLimitInfo | None = None
    #: JWT scopes of sessions made with an app password (the main password gives "com.atproto.access").
    app_password_scopes: ClassVar[tuple[str, ...]] = ("com.atproto.appPass", "com.atproto.appPassPrivileged")

    def __init__(
        self,
        *,
        base_url: str,
        http: HttpClient | None = None,
        client: ClientCredentials | None = None,
        appview_url: str | None = None,
        web_url: str | None = None,
    ) -> None:
        super().__init__(base_url=base_url, http=http, client=client)
        self.appview_url = (appview_url if appview_url is not None else settings.BLUESKY_APPVIEW_URL).rstrip("/")
        self.web_url = (web_url if web_url is not None else settings.BLUESKY_WEB_URL).rstrip("/")

    # --- plumbing -----------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        bearer: str | None = None,
        write: bool = False,
        refreshing: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        headers: dict[str, str] = kwargs.pop("headers", {})
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        name = url.rsplit("/", 1)[-1].split("?")[0]
        try:
            response = self.http.request(method, url, headers=headers, **kwargs)
        except (requests.ConnectTimeout, requests.exceptions.SSLError) as error:
            raise Transient(f"{name}: {type(error).__name__}") from error
        except requests.ConnectionError as error:
            if write and not _never_connected(error):
                raise AmbiguousOutcome(f"{name}: connection lost after sending") from error
            raise Transient(f"{name}: {type(error).__name__}") from error
        except requests.Timeout as error:
            if write:
                raise AmbiguousOutcome(f"{name}: no answer after sending") from error
            raise Transient(f"{name}: timed out") from error
        except requests.RequestException as error:
            raise Transient(f"{name}: {type(error).__name__}") from error
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code != 200:
            raise self._classify(response, refreshing=refreshing)
        return response

    def _pds(self, nsid: str) -> str:
        return f"{self.base_url}/xrpc/{nsid}"

    def _appview(self, nsid: str) -> str:
        return f"{self.appview_url}/xrpc/{nsid}"

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
    def _did(tokens: TokenSet) -> str:
        did = jwt_claims(tokens.access_token).get("sub")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise AuthRevoked("the stored session has no account DID")
        return did

    def _session_tokens(self, body: dict[str, Any]) -> TokenSet:
        access = body.get("accessJwt")
        refresh = body.get("refreshJwt")
        if not isinstance(access, str) or not isinstance(refresh, str):
            raise Transient("session answer without tokens")
        scope = jwt_claims(access).get("scope")
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=_jwt_expiry(access),
            scope=scope if isinstance(scope, str) else "",
        )

    # --- connecting ---------------------------------------------------------------

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        raise NotSupported("Bluesky accounts connect with a handle and an app password (create_session)")

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        raise NotSupported("Bluesky accounts connect with a handle and an app password (create_session)")

    def create_session(self, *, identifier: str, password: str) -> TokenSet:
        """Log in once (rate limited by Bluesky: persist the result, refresh it, never log in per task)."""
        response = self._send(
            "POST",
            self._pds("com.atproto.server.createSession"),
            json={"identifier": identifier.strip().lstrip("@"), "password": password},
        )
        return self._session_tokens(self._json(response))

    def is_app_password_session(self, tokens: TokenSet) -> bool:
        return tokens.scope in self.app_password_scopes

    def delete_session(self, *, tokens: TokenSet) -> None:
        """End a session (its refresh token stops working). Best effort."""
        try:
            self._send("POST", self._pds("com.atproto.server.deleteSession"), bearer=tokens.refresh_token)
        except NetworkError:
            return

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        if not tokens.refresh_token:
            raise AuthExpired("no refresh token stored")
        response = self._send(
            "POST", self._pds("com.atproto.server.refreshSession"), bearer=tokens.refresh_token, refreshing=True
        )
        return self._session_tokens(self._json(response))

    def _get_session(self, tokens: TokenSet) -> dict[str, Any]:
        return self._json(self._send("GET", self._pds("com.atproto.server.getSession"), bearer=tokens.access_token))

    def profile_url(self, handle_or_did: str) -> str:
        return f"{self.web_url}/profile/{handle_or_did}" if self.web_url else ""

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        session = self._get_session(tokens)
        did = str(session.get("did") or "")
        handle = str(session.get("handle") or did)
        if not did:
            raise Transient("session answer without a DID")
        profile: dict[str, Any] = {}
        try:
            profile = self._json(self._send("GET", self._appview("app.bsky.actor.getProfile"), params={"actor": did}))
        except ContentRejected:
            profile = {}  # the AppView has not seen the account yet (brand-new or unindexed)
        return AccountRef(
            external_id=did,
            handle=f"@{handle}",
            display_name=str(profile.get("displayName") or handle),
            profile_url=self.profile_url(handle),
            avatar_url=str(profile.get("avatar") or ""),
            followers_count=_int_or_none(profile.get("followersCount")),
        )

    # --- posting ------------------------------------------------------------------

    @staticmethod
    def post_text(draft: PostDraft) -> str:
        """The text as posted: the link is appended when the draft's text does not contain it."""
        if draft.link and draft.link not in draft.text:
            return f"{draft.text.rstrip()}\n\n{draft.link}" if draft.text.strip() else draft.link
        return draft.text

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        text = self.post_text(draft)
        graphemes = grapheme_count(text)
        if graphemes > MAX_GRAPHEMES:
            problems.append(f"text is {graphemes} characters, Bluesky allows {MAX_GRAPHEMES}")
        if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
            problems.append(f"text is longer than {MAX_TEXT_BYTES} bytes")
        if not text.strip() and not draft.media:
            problems.append("a post needs text or images")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"Bluesky allows at most {self.capabilities.max_images} images per post")
        for item in draft.media:
            if item.content_type not in IMAGE_TYPES:
                problems.append(f"{item.filename}: Bluesky posts can carry JPEG, PNG, WebP or GIF images only")
            elif len(item.content) > MAX_IMAGE_BYTES:
                problems.append(
                    f"{item.filename} is {len(item.content):,} bytes; Bluesky accepts images up to "
                    f"{MAX_IMAGE_BYTES:,} bytes (1 MB)"
                )
        return problems

    def _upload(self, *, tokens: TokenSet, item: MediaItem) -> dict[str, Any]:
        response = self._send(
            "POST",
            self._pds("com.atproto.repo.uploadBlob"),
            bearer=tokens.access_token,
            data=item.content,
            headers={"Content-Type": item.content_type},
        )
        blob = self._json(response).get("blob")
        if not isinstance(blob, dict):
            raise Transient("uploadBlob answer without a blob")
        return blob

    def _embed(self, *, tokens: TokenSet, draft: PostDraft) -> dict[str, Any] | None:
        if draft.media:
            images = []
            for item in draft.media:
                image: dict[str, Any] = {"image": self._upload(tokens=tokens, item=item), "alt": item.description}
                ratio = _image_aspect_ratio(item)
                if ratio:
                    image["aspectRatio"] = ratio
                images.append(image)
            return {"$type": "app.bsky.embed.images", "images": images}
        if draft.link:
            title = str(getattr(draft, "link_title", "") or "") or urlsplit(draft.link).netloc
            description = str(getattr(draft, "link_description", "") or "")
            return {
                "$type": "app.bsky.embed.external",
                "external": {"uri": draft.link, "title": title, "description": description},
            }
        return None

    def build_record(self, draft: PostDraft, *, embed: dict[str, Any] | None, created_at: datetime) -> dict[str, Any]:
        text = self.post_text(draft)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": created_at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        facets = facets_for(text)
        if facets:
            record["facets"] = facets
        if embed:
            record["embed"] = embed
        return record

    def post_web_url(self, *, handle: str, uri: AtUri) -> str:
        """``https://bsky.app/profile/{handle}/post/{rkey}``; the at:// URI where there is no web app."""
        if not self.web_url:
            return str(uri)
        return f"{self.web_url}/profile/{handle or uri.repo}/post/{uri.rkey}"

    def _result(self, *, uri: str, handle: str, published_at: datetime | None) -> PublishResult:
        parsed = AtUri.parse(uri)
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=str(parsed),
            url=self.post_web_url(handle=handle, uri=parsed),
            published_at=published_at,
        )

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        session = self._get_session(tokens)  # checks the token before uploading anything
        did = str(session.get("did") or self._did(tokens))
        handle = str(session.get("handle") or "")
        rkey = tid_from_key(idempotency_key)
        existing = self._get_record(did=did, rkey=rkey)
        if existing is not None:  # an earlier attempt with this key went through
            return self._result(uri=str(existing["uri"]), handle=handle, published_at=_record_time(existing))
        now = datetime.now(UTC)
        record = self.build_record(draft, embed=self._embed(tokens=tokens, draft=draft), created_at=now)
        try:
            response = self._send(
                "POST",
                self._pds("com.atproto.repo.createRecord"),
                bearer=tokens.access_token,
                write=True,
                json={"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record},
            )
        except (Transient, ContentRejected):
            # A repeat of a create that did happen (the record key is taken): answer with that post.
            existing = self._get_record(did=did, rkey=rkey)
            if existing is not None:
                return self._result(uri=str(existing["uri"]), handle=handle, published_at=_record_time(existing))
            raise
        body = self._json(response)
        return self._result(uri=str(body.get("uri") or ""), handle=handle, published_at=now)

    def _get_record(self, *, did: str, rkey: str) -> dict[str, Any] | None:
        try:
            response = self._send(
                "GET",
                self._pds("com.atproto.repo.getRecord"),
                params={"repo": did, "collection": POST_COLLECTION, "rkey": rkey},
            )
        except ContentRejected as error:
            if "NotFound" in str(error) or error.status == 404:
                return None
            raise
        return self._json(response)

    def get_record(self, *, external_id: str) -> dict[str, Any] | None:
        """The stored record (``{uri, cid, value}``) of a post, or None when it is gone."""
        uri = AtUri.parse(external_id)
        return self._get_record(did=uri.repo, rkey=uri.rkey)

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Look the post up under its derived record key: PUBLISHED, or NOT_FOUND (publishing again is safe)."""
        did = self._did(tokens)
        existing = self._get_record(did=did, rkey=tid_from_key(idempotency_key))
        if existing is None:
            return PublishResult(state=PublishState.NOT_FOUND)
        handle = str(self._get_session(tokens).get("handle") or "")
        return self._result(uri=str(existing["uri"]), handle=handle, published_at=_record_time(existing))

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        return self.fetch_metrics_app(external_ids=external_ids)

    def fetch_metrics_app(self, *, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """``getPosts`` on the AppView is public: no session, posts of any accounts in one request."""
        snapshots: list[MetricsSnapshot] = []
        ids = list(external_ids)
        for start in range(0, len(ids), METRICS_BATCH):
            batch = ids[start : start + METRICS_BATCH]
            response = self._send("GET", self._appview("app.bsky.feed.getPosts"), params=[("uris", u) for u in batch])
            now = datetime.now(UTC)
            posts = self._json(response).get("posts") or []
            by_uri = {str(post.get("uri")): post for post in posts if isinstance(post, dict)}
            for external_id in batch:
                post = by_uri.get(external_id)
                if post is None:
                    # Not on the AppView: deleted, or not indexed yet. The PDS knows which.
                    exists = self.get_record(external_id=external_id) is not None
                    snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, exists=exists))
                    continue
                snapshots.append(
                    MetricsSnapshot(
                        external_id=external_id,
                        fetched_at=now,
                        likes=_int_or_none(post.get("likeCount")),
                        shares=_int_or_none(post.get("repostCount")),
                        replies=_int_or_none(post.get("replyCount")),
                        quotes=_int_or_none(post.get("quoteCount")),
                        bookmarks=_int_or_none(post.get("bookmarkCount")),
                    )
                )
        return snapshots

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        uri = AtUri.parse(external_id)
        self._send(
            "POST",
            self._pds("com.atproto.repo.deleteRecord"),
            bearer=tokens.access_token,
            json={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
        )

    # --- responses ----------------------------------------------------------------

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        limit = _int_or_none(headers.get("ratelimit-limit"))
        remaining = _int_or_none(headers.get("ratelimit-remaining"))
        reset = _int_or_none(headers.get("ratelimit-reset"))
        if limit is None and remaining is None and reset is None:
            return None
        reset_at = datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
        return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at)

    def classify_error(self, response: requests.Response) -> NetworkError:
        return self._classify(response, refreshing=False)

    def _classify(self, response: requests.Response, *, refreshing: bool) -> NetworkError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("error") or "")
        message = str(body.get("message") or "")[:200]
        text = f"{code}: {message}" if code else (message or response.text[:200] or f"HTTP {status}")
        if code == "ExpiredToken":
            # On refreshSession this is the refresh token: revoked (app password deleted) or run out.
            if refreshing and "revoked" in message.lower():
                return AuthRevoked(text, status=status)
            return AuthExpired(text, status=status)
        if code == "InvalidToken":
            return AuthRevoked(text, status=status)
        if status == 401:
            if code == "AuthMissing":
                return AuthExpired(text, status=status)
            return AuthRevoked(text, status=status)  # AuthenticationRequired, AccountTakedown, ...
        if code in ("AccountTakedown", "AccountDeactivated"):
            return AuthRevoked(text, status=status)
        if status == 429 or code == "RateLimitExceeded":
            info = self.parse_rate_limit(response.headers)
            reset_at = info.reset_at if info else None
            retry_after = _int_or_none(response.headers.get("Retry-After"))
            if retry_after is None:
                seconds = (reset_at - datetime.now(UTC)).total_seconds() if reset_at else 60.0
                retry_after = max(1, int(seconds + 0.999))
            return RateLimited(text, retry_after=retry_after, reset_at=reset_at, status=status)
        if status == 408 or status >= 500:
            return Transient(text, status=status)
        if status in (400, 403, 404, 413, 415):
            return ContentRejected(text, status=status)
        return NetworkError(text, status=status)


def _record_time(record: dict[str, Any]) -> datetime | None:
    value = record.get("value")
    created = value.get("createdAt") if isinstance(value, dict) else None
    if not isinstance(created, str):
        return None
    try:
        parsed = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
