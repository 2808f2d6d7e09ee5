"""Bluesky (AT Protocol) with an app-password session.

Facts (atproto.com lexicons):

- ``com.atproto.server.createSession`` ``{identifier, password}`` -> ``{accessJwt, refreshJwt, did, handle}``.
  It is rate limited (30 / 5 min, about 100 / day): log in once when the person connects, then
  only ``com.atproto.server.refreshSession`` with ``Bearer <refreshJwt>`` (refresh tokens rotate).
  Expiry is the JWT's ``exp`` claim; the DID is its ``sub``.
- Posts are ``app.bsky.feed.post`` records made with ``com.atproto.repo.createRecord`` on the PDS.
  Links become clickable only through ``facets`` whose ``byteStart``/``byteEnd`` count UTF-8
  **bytes**; one embed: ``app.bsky.embed.images`` (<= 4 blobs from ``uploadBlob``, <= 1,000,000
  bytes each) or ``app.bsky.embed.external`` (a card the client builds). Text: <= 300 graphemes.
- Counts come from the AppView (``app.bsky.feed.getPosts``, <= 25 URIs a call), not the PDS. The post
  view's ``viewer.like`` / ``viewer.repost`` / ``viewer.bookmarked`` (app.bsky.feed.defs#viewerState) are the
  requesting account's own: read through her PDS with her session (the PDS proxies ``app.bsky.*`` reads to
  the AppView), they reveal her own like, repost and bookmark. Replies and quotes name their authors
  (``getPostThread`` depth 1: the direct replies ``replyCount`` counts; ``getQuotes``); ``getLikes`` and
  ``getRepostedBy`` name likers and reposters (<= 100 a page). All four are public AppView reads.
- A post missing on the AppView (taken down there by moderation, or not indexed yet) is gone only when its
  PDS's ``com.atproto.repo.getRecord`` answers ``RecordNotFound``.
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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

import regex
import requests
from django.conf import settings
from django.utils.translation import gettext_lazy

from networks.providers.base import NetworkProvider
from networks.providers.exceptions import (
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    NetworkError,
    NotSupported,
    RateLimited,
    Transient,
)
from networks.providers.http import (
    CONTENT_STATUSES,
    HttpClient,
    json_object,
    retry_after_seconds,
    send,
    status_error,
)
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    ClientCredentials,
    DisplayFacts,
    LinkHandling,
    MediaItem,
    MetricsAccess,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    Reveal,
    TokenSet,
)

POST_COLLECTION = "app.bsky.feed.post"
MAX_GRAPHEMES = 300
MAX_TEXT_BYTES = 3000
MAX_IMAGE_BYTES = 1_000_000
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
METRICS_BATCH = 25
#: Pages of 100 read per list (likers, reposters, quotes) and post: a cap on what one check may cost.
ENGAGER_PAGES = 3
ENGAGER_PAGE_SIZE = 100

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


#: The XRPC statuses that refuse a request's content (422 is not among them: it falls to a plain ``NetworkError``).
BLUESKY_CONTENT_STATUSES = CONTENT_STATUSES - {422}


class BlueskyProvider(NetworkProvider):
    network = "bluesky"
    facts = DisplayFacts(
        label=gettext_lazy("Bluesky"),
        note=gettext_lazy("Engagement only, no reach. 300 characters (graphemes); images up to 1 MB each."),
        counts_graphemes=True,
    )
    connect_template = "networks/connect/bluesky.html"
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
        # Likes, reposts and bookmarks: one read as the author per account and pull (only for posts that have
        # any); replies and quotes: one public read per post that has some.
        own_engagement=Reveal.YES,
        own_engagement_metrics=("likes", "shares", "replies", "quotes", "bookmarks"),
        engagers_named=("likes", "shares", "replies", "quotes"),
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        return "https://bsky.app/intent/compose?" + urlencode({"text": text})

    last_rate_limit: RateLimitInfo | None = None
    #: No wait after an unclear create: the record key is derived from the idempotency key, so a create repeated
    #: while the first is still being carried out cannot make a second post (its gateway answers stay transient).
    ambiguous_settle: ClassVar[timedelta] = timedelta(0)
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
        idempotent: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        headers: dict[str, str] = kwargs.pop("headers", {})
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        name = url.rsplit("/", 1)[-1].split("?")[0]
        response = send(
            self.http, method, url, label=name, write=write, idempotent=idempotent, headers=headers, **kwargs
        )
        self.last_rate_limit = self.parse_rate_limit(response.headers) or self.last_rate_limit
        if response.status_code != 200:
            raise self._classify(response, refreshing=refreshing)
        return response

    def _pds(self, nsid: str) -> str:
        return f"{self.base_url}/xrpc/{nsid}"

    def _appview(self, nsid: str) -> str:
        return f"{self.appview_url}/xrpc/{nsid}"

    _json = staticmethod(json_object)

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
        if draft.link:
            # One embed per post: a draft with a link goes out as its card, the first image as the card's
            # thumbnail (app.bsky.embed.external#external.thumb, <= 1,000,000 bytes like images).
            title = draft.link_title or urlsplit(draft.link).netloc
            external: dict[str, Any] = {"uri": draft.link, "title": title, "description": draft.link_description}
            if draft.media:
                external["thumb"] = self._upload(tokens=tokens, item=draft.media[0])
            return {"$type": "app.bsky.embed.external", "external": external}
        if draft.media:
            images = []
            for item in draft.media:
                image: dict[str, Any] = {"image": self._upload(tokens=tokens, item=item), "alt": item.description}
                ratio = _image_aspect_ratio(item)
                if ratio:
                    image["aspectRatio"] = ratio
                images.append(image)
            return {"$type": "app.bsky.embed.images", "images": images}
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
                # The record key comes from the idempotency key: a repeat cannot post twice, so a 5xx is retried.
                idempotent=True,
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
        return self.fetch_own_engagement(tokens=tokens, snapshots=self.fetch_metrics_app(external_ids=external_ids))

    def fetch_metrics_app(self, *, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """``getPosts`` on the AppView is public: no session, posts of any accounts in one request.

        The author's own replies and quotes are counted from public reads too (one per post that has any);
        her own likes, reposts and bookmarks need a read as her (``fetch_own_engagement``).
        """
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
                    snapshots.append(self._missing_on_appview(external_id=external_id, now=now))
                    continue
                snapshot = _snapshot_of(post, external_id=external_id, now=now)
                snapshots.append(self._own_replies_and_quotes(snapshot))
        return snapshots

    def _missing_on_appview(self, *, external_id: str, now: datetime) -> MetricsSnapshot:
        """Not on the AppView: deleted, taken down there, or not indexed yet. Only the PDS can say it is gone."""
        uri = AtUri.parse(external_id)
        try:
            self._send(
                "GET",
                self._pds("com.atproto.repo.getRecord"),
                params={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
            )
        except RateLimited:
            raise
        except ContentRejected as error:
            if str(error).startswith("RecordNotFound"):
                return MetricsSnapshot(external_id=external_id, fetched_at=now, exists=False)
            reason = f"the AppView does not show the post and its PDS answered {error}"
            return MetricsSnapshot(external_id=external_id, fetched_at=now, unknown_reason=reason)
        except NetworkError as error:
            reason = f"the AppView does not show the post and its PDS did not answer ({error})"
            return MetricsSnapshot(external_id=external_id, fetched_at=now, unknown_reason=reason)
        reason = "the AppView does not show the post (taken down there, or not indexed yet); its PDS still has it"
        return MetricsSnapshot(external_id=external_id, fetched_at=now, unknown_reason=reason)

    def _own_replies_and_quotes(self, snapshot: MetricsSnapshot) -> MetricsSnapshot:
        """The author's direct replies (``getPostThread`` depth 1) and quotes (``getQuotes``), and who wrote them."""
        author = AtUri.parse(snapshot.external_id).repo
        engagers: list[AccountRef] = []
        own_replies = own_quotes = 0
        try:
            if snapshot.replies:
                thread = self._json(
                    self._send(
                        "GET",
                        self._appview("app.bsky.feed.getPostThread"),
                        params={"uri": snapshot.external_id, "depth": 1, "parentHeight": 0},
                    )
                ).get("thread")
                replies = thread.get("replies") if isinstance(thread, dict) else None
                for item in replies if isinstance(replies, list) else []:
                    ref = _author_of(item.get("post") if isinstance(item, dict) else None)
                    if ref is not None:
                        engagers.append(ref)
                        own_replies += 1 if ref.external_id == author else 0
            if snapshot.quotes:
                for item in self._pages("app.bsky.feed.getQuotes", snapshot.external_id, "posts"):
                    ref = _author_of(item)
                    if ref is not None:
                        engagers.append(ref)
                        own_quotes += 1 if ref.external_id == author else 0
        except RateLimited:
            raise
        except NetworkError as error:
            return replace(snapshot, unknown_reason=f"the replies or quotes could not be read ({error})")
        return replace(snapshot, own_replies=own_replies, own_quotes=own_quotes, engagers=tuple(engagers))

    def _pages(self, nsid: str, uri: str, key: str) -> list[dict[str, Any]]:
        """Up to ``ENGAGER_PAGES`` pages of a public list about ``uri`` (getLikes, getRepostedBy, getQuotes)."""
        items: list[dict[str, Any]] = []
        cursor = ""
        for _page in range(ENGAGER_PAGES):
            params: dict[str, Any] = {"uri": uri, "limit": ENGAGER_PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            body = self._json(self._send("GET", self._appview(nsid), params=params))
            page = body.get(key)
            items.extend(item for item in (page if isinstance(page, list) else []) if isinstance(item, dict))
            cursor = str(body.get("cursor") or "")
            if not cursor or not page:
                break
        return items

    def own_engagement_pending(self, snapshot: MetricsSnapshot) -> bool:
        return snapshot.counts_known and None in (snapshot.own_likes, snapshot.own_shares, snapshot.own_bookmarks)

    def fetch_own_engagement(self, *, tokens: TokenSet, snapshots: Sequence[MetricsSnapshot]) -> list[MetricsSnapshot]:
        """Her own like, repost and bookmark from the post views read with her session through her PDS.

        One request per 25 of her posts, made only for posts with likes, reposts or bookmarks to tell apart.
        """
        pending = [snapshot.external_id for snapshot in snapshots if self.own_engagement_pending(snapshot)]
        if not pending:
            return list(snapshots)
        views: dict[str, dict[str, Any]] = {}
        try:
            for start in range(0, len(pending), METRICS_BATCH):
                batch = pending[start : start + METRICS_BATCH]
                response = self._send(
                    "GET",
                    self._pds("app.bsky.feed.getPosts"),
                    bearer=tokens.access_token,
                    params=[("uris", uri) for uri in batch],
                )
                for post in self._json(response).get("posts") or []:
                    if isinstance(post, dict):
                        views[str(post.get("uri"))] = post
        except RateLimited:
            raise
        except NetworkError as error:
            reason = f"the author's own likes and reposts could not be read with her session ({error})"
            return [
                replace(snapshot, unknown_reason=reason) if snapshot.external_id in pending else snapshot
                for snapshot in snapshots
            ]
        result: list[MetricsSnapshot] = []
        for snapshot in snapshots:
            view = views.get(snapshot.external_id)
            if snapshot.external_id not in pending:
                result.append(snapshot)
            elif view is None:
                reason = "the read made with the author's session did not show the post"
                result.append(replace(snapshot, unknown_reason=reason))
            else:
                # Counts from the same view as the viewer state, so her own part is never out of step with them.
                fresh = _snapshot_of(view, external_id=snapshot.external_id, now=snapshot.fetched_at)
                state = view.get("viewer")
                viewer: dict[str, Any] = state if isinstance(state, dict) else {}
                result.append(
                    replace(
                        snapshot,
                        likes=fresh.likes,
                        shares=fresh.shares,
                        bookmarks=fresh.bookmarks,
                        own_likes=int(bool(viewer.get("like"))),
                        own_shares=int(bool(viewer.get("repost"))),
                        own_bookmarks=int(bool(viewer.get("bookmarked"))),
                    )
                )
        return result

    def fetch_engagers(self, *, tokens: TokenSet | None, external_id: str) -> tuple[AccountRef, ...]:
        """Likers (``getLikes``) and reposters (``getRepostedBy``): public, up to 3 pages of 100 each."""
        likers = [item.get("actor") for item in self._pages("app.bsky.feed.getLikes", external_id, "likes")]
        reposters = self._pages("app.bsky.feed.getRepostedBy", external_id, "repostedBy")
        refs = (_profile_ref(profile) for profile in [*likers, *reposters])
        return tuple(ref for ref in refs if ref is not None)

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
        if status == 401 and code == "AuthMissing":
            return AuthExpired(text, status=status)
        if code in ("AccountTakedown", "AccountDeactivated"):
            return AuthRevoked(text, status=status)
        info = self.parse_rate_limit(response.headers) if status == 429 or code == "RateLimitExceeded" else None
        reset_at = info.reset_at if info else None
        if code == "RateLimitExceeded" and status not in (401, 429):
            retry_after = retry_after_seconds(response.headers, reset_at=reset_at)
            return RateLimited(text, retry_after=retry_after, reset_at=reset_at, status=status)
        # 401 AuthenticationRequired, AccountTakedown, ...: revoked. No 422 here: the PDS answers 400 for content.
        return status_error(
            response,
            text=text,
            unauthorized=AuthRevoked,
            reset_at=reset_at,
            content_statuses=BLUESKY_CONTENT_STATUSES,
        )


def _snapshot_of(post: dict[str, Any], *, external_id: str, now: datetime) -> MetricsSnapshot:
    """Counts of an app.bsky.feed.defs#postView; a zero count has no own part to look for."""
    likes = _int_or_none(post.get("likeCount"))
    shares = _int_or_none(post.get("repostCount"))
    bookmarks = _int_or_none(post.get("bookmarkCount"))
    return MetricsSnapshot(
        external_id=external_id,
        fetched_at=now,
        likes=likes,
        shares=shares,
        replies=_int_or_none(post.get("replyCount")),
        quotes=_int_or_none(post.get("quoteCount")),
        bookmarks=bookmarks,
        own_likes=0 if not likes else None,
        own_shares=0 if not shares else None,
        own_bookmarks=0 if not bookmarks else None,
    )


def _profile_ref(profile: Any) -> AccountRef | None:
    if not isinstance(profile, dict) or not isinstance(profile.get("did"), str):
        return None
    return AccountRef(external_id=profile["did"], handle=f"@{profile.get('handle') or profile['did']}")


def _author_of(post: Any) -> AccountRef | None:
    return _profile_ref(post.get("author")) if isinstance(post, dict) else None


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
