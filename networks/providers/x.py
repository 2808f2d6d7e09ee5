"""X (API v2).

Facts (docs.x.com): OAuth 2 authorisation code + PKCE S256 on
``x.com/i/oauth2/authorize``; ``POST api.x.com/2/oauth2/token`` with HTTP Basic auth for
confidential clients; access tokens live 2 h, ``offline.access`` adds a refresh token and a
refresh hands out a new one (store it; keep the old one if none comes back). Media via
``POST /2/media/upload`` (multipart ``media`` + ``media_category=tweet_image``) -> ``data.id``;
``POST /2/tweets`` -> 201 ``{"data": {"id", "text"}}``. Metrics: ``GET /2/tweets?ids=`` (<= 100)
with ``public_metrics`` and, for own posts at most 30 days old, ``non_public_metrics``.
Rate-limit headers ``x-rate-limit-limit/remaining/reset`` (unix epoch). Pay per use: about
$0.015 a post, $0.20 a post with a URL, $0.005 per post read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests
from django.utils.translation import gettext_lazy

from networks.providers.exceptions import (
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    Duplicate,
    NetworkError,
    Transient,
)
from networks.providers.http import status_error
from networks.providers.oauth2_base import (
    OAuth2HttpProvider,
    classify_oauth_token_error,
    int_or_none,
)
from networks.providers.types import (
    AccountRef,
    AuthStart,
    Capabilities,
    DisplayFacts,
    LinkHandling,
    MetricsSnapshot,
    PostDraft,
    PublishResult,
    PublishState,
    RateLimitInfo,
    Reveal,
    TokenSet,
)

SCOPES = "tweet.read tweet.write users.read media.write offline.access"
URL_PATTERN = re.compile(r"https?://\S+", re.IGNORECASE)
TCO_LENGTH = 23  # every URL counts as a t.co link
MAX_BATCH = 100
#: Non-public metrics exist for 30 days; stop asking a little earlier so a clock skew never fails a batch.
NON_PUBLIC_WINDOW = timedelta(days=30) - timedelta(hours=1)
TWITTER_EPOCH_MS = 1288834974657
DUPLICATE_MARKER = "duplicate content"


def tweet_created_at(tweet_id: str) -> datetime | None:
    """When a post was created, read from its snowflake id (ms since the Twitter epoch in the high bits)."""
    try:
        millis = (int(tweet_id) >> 22) + TWITTER_EPOCH_MS
    except ValueError:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def weighted_length(text: str) -> int:
    """Length as X counts it: each URL is 23 characters. (CJK/emoji weighting is not modelled.)"""
    return len(URL_PATTERN.sub("x" * TCO_LENGTH, text))


def _comparable(text: str) -> str:
    """Text without URLs or extra whitespace: X rewrites links to t.co and appends media links."""
    return " ".join(URL_PATTERN.sub(" ", text).split())


def _problem_text(body: Mapping[str, Any], fallback: str) -> str:
    if body.get("detail") or body.get("title"):
        return str(body.get("detail") or body.get("title"))[:300]
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str(first.get("message") or first.get("detail") or first)[:300]
    return fallback[:300]


class XProvider(OAuth2HttpProvider):
    network = "x"
    facts = DisplayFacts(
        label=gettext_lazy("X"),
        note=gettext_lazy(
            "Reports impressions. Links count as 23 characters. X charges per post, more for posts with a link."
        ),
        link_chars=23,
    )
    connect_template = "networks/connect/oauth.html"
    production_api_url = "https://api.x.com"
    production_web_url = "https://x.com"
    default_scopes = SCOPES
    authorize_path = "/i/oauth2/authorize"
    uses_pkce = True
    basic_client_auth = True
    capabilities = Capabilities(
        max_chars=280,
        max_images=4,
        video=False,  # X allows video (chunked upload); this adapter posts images only
        link_handling=LinkHandling.IN_TEXT,
        reach_reported=False,  # impressions, not unique reach
        metrics_batch_size=MAX_BATCH,
        api_posting_allowed=True,
        # Linkilike shares always carry a link, and X charges $0.20 for a post with a URL ($0.015 without).
        cost_per_post_minor=20,
        cost_currency="USD",
        token_refresh=True,
        max_image_bytes=5 * 1024 * 1024,
        metrics=("likes", "shares", "replies", "quotes", "bookmarks", "impressions", "clicks"),
        # public_metrics are totals without names; liking_users / retweeted_by / a conversation search would
        # name them, at a paid read per post and page: the author's own likes are not told apart.
        own_engagement=Reveal.NO,
        needs_app_review=False,
        requirements=(
            "X developer app on pay-per-use credits: about $0.015 a post, $0.20 a post with a link, "
            "$0.005 per post read for metrics. Link clicks only for posts up to 30 days old."
        ),
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        return "https://x.com/intent/post?" + urlencode({"text": text})

    #: A post without any URL costs $0.015 under pay-per-use (rounded up to whole cents).
    cost_per_plain_post_minor: ClassVar[int] = 2
    #: No idempotency on X; check_pending_publish looks at the latest posts instead.
    pending_lookback: ClassVar[int] = 20

    # --- connecting -------------------------------------------------------------------

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        return self._authorization_start(redirect_uri=redirect_uri)

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        return self._exchange_code(
            self._api("/2/oauth2/token"), code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        """Spend the refresh token once; X answers with a new one (kept; the old one if none came)."""
        if not tokens.refresh_token:
            raise AuthExpired("no refresh token stored; the person must reconnect")
        return self._refresh_tokens(self._api("/2/oauth2/token"), tokens=tokens)

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        response = self._send(
            "GET",
            self._api("/2/users/me"),
            tokens=tokens,
            params={"user.fields": "public_metrics,profile_image_url"},
        )
        data = self._json(response).get("data") or {}
        username = str(data.get("username") or "")
        metrics = data.get("public_metrics") or {}
        return AccountRef(
            external_id=str(data["id"]),
            handle=f"@{username}",
            display_name=str(data.get("name") or username),
            profile_url=f"https://x.com/{username}" if username else "",
            avatar_url=str(data.get("profile_image_url") or ""),
            followers_count=int_or_none(metrics.get("followers_count")),
        )

    # --- posting ----------------------------------------------------------------------

    def _post_text(self, draft: PostDraft) -> str:
        if draft.link and draft.link not in draft.text:
            return f"{draft.text.rstrip()}\n\n{draft.link}".strip()
        return draft.text

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        text = self._post_text(draft)
        length = weighted_length(text)
        if length > self.capabilities.max_chars:
            problems.append(f"text is {length} characters (links count 23), the limit is {self.capabilities.max_chars}")
        if not text.strip() and not draft.media:
            problems.append("a post needs text or media")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} images")
        limit = self.capabilities.max_image_bytes
        for item in draft.media:
            if not item.content_type.startswith("image/"):
                problems.append(f"{item.filename}: only images can be attached")
            elif limit and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    def post_cost_minor(self, draft: PostDraft) -> int:
        """What X charges Linkilike for this post (pay-per-use), in US cents."""
        has_url = bool(draft.link) or bool(URL_PATTERN.search(draft.text))
        return self.capabilities.cost_per_post_minor if has_url else self.cost_per_plain_post_minor

    def _upload_media(self, *, tokens: TokenSet, draft: PostDraft) -> list[str]:
        media_ids: list[str] = []
        for item in draft.media:
            response = self._send(
                "POST",
                self._api("/2/media/upload"),
                tokens=tokens,
                ok=(200, 201),
                files={"media": (item.filename, item.content, item.content_type)},
                data={"media_category": "tweet_image", "media_type": item.content_type},
            )
            data = self._json(response).get("data") or {}
            if not data.get("id"):
                raise Transient("media upload answer without an id")
            media_ids.append(str(data["id"]))
        return media_ids

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        media_ids = self._upload_media(tokens=tokens, draft=draft)
        payload: dict[str, Any] = {"text": self._post_text(draft)}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        response = self._send("POST", self._api("/2/tweets"), tokens=tokens, write=True, ok=(200, 201), json=payload)
        data = self._json(response).get("data") or {}
        if not data.get("id"):
            raise Transient("post answer without an id")
        post_id = str(data["id"])
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=post_id,
            url=f"https://x.com/i/web/status/{post_id}",
            published_at=tweet_created_at(post_id) or datetime.now(UTC),
        )

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Look for the post among the person's latest posts (X has no idempotency key). Never posts."""
        me = self._json(self._send("GET", self._api("/2/users/me"), tokens=tokens)).get("data") or {}
        response = self._send(
            "GET",
            self._api(f"/2/users/{me['id']}/tweets"),
            tokens=tokens,
            params={"max_results": str(self.pending_lookback), "tweet.fields": "created_at"},
        )
        wanted = _comparable(self._post_text(draft))
        for tweet in self._json(response).get("data") or []:
            if _comparable(str(tweet.get("text") or "")) == wanted:
                post_id = str(tweet["id"])
                return PublishResult(
                    state=PublishState.PUBLISHED,
                    external_id=post_id,
                    url=f"https://x.com/i/web/status/{post_id}",
                    published_at=tweet_created_at(post_id),
                )
        return PublishResult(state=PublishState.NOT_FOUND)

    # --- metrics ----------------------------------------------------------------------

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """One request per 100 posts of similar age; private metrics only where X still has them."""
        now = datetime.now(UTC)
        recent: list[str] = []
        older: list[str] = []
        for external_id in external_ids:
            created = tweet_created_at(external_id)
            (recent if created is not None and now - created < NON_PUBLIC_WINDOW else older).append(external_id)
        found: dict[str, MetricsSnapshot] = {}
        for ids, private in ((recent, True), (older, False)):
            for start in range(0, len(ids), MAX_BATCH):
                found.update(self._metrics_batch(tokens=tokens, ids=ids[start : start + MAX_BATCH], private=private))
        return [found[external_id] for external_id in external_ids]

    def _metrics_batch(self, *, tokens: TokenSet, ids: list[str], private: bool) -> dict[str, MetricsSnapshot]:
        fields = "public_metrics,non_public_metrics" if private else "public_metrics"
        response = self._send(
            "GET", self._api("/2/tweets"), tokens=tokens, params={"ids": ",".join(ids), "tweet.fields": fields}
        )
        body = self._json(response)
        now = datetime.now(UTC)
        result: dict[str, MetricsSnapshot] = {}
        for tweet in body.get("data") or []:
            post_id = str(tweet.get("id"))
            public = tweet.get("public_metrics")
            if not isinstance(public, dict):
                # The post is there but X left its counts out: unknown, never zeros.
                reason = "X answered the post without its public_metrics"
                result[post_id] = MetricsSnapshot(external_id=post_id, fetched_at=now, unknown_reason=reason)
                continue
            hidden = tweet.get("non_public_metrics") or {}
            result[post_id] = MetricsSnapshot(
                external_id=post_id,
                fetched_at=now,
                likes=int_or_none(public.get("like_count")),
                shares=int_or_none(public.get("retweet_count")),
                replies=int_or_none(public.get("reply_count")),
                quotes=int_or_none(public.get("quote_count")),
                bookmarks=int_or_none(public.get("bookmark_count")),
                impressions=int_or_none(public.get("impression_count")),
                clicks=int_or_none(hidden.get("url_link_clicks")) if private else None,
            )
        for error in body.get("errors") or []:
            post_id = str(error.get("resource_id") or error.get("value") or "")
            if post_id not in ids or post_id in result:
                continue
            if "not-found" in str(error.get("type", "")):
                result[post_id] = MetricsSnapshot(external_id=post_id, fetched_at=now, exists=False)
            else:
                # Not authorised (a protected or suspended author) and the like: the post may well be there.
                reason = f"X did not show the post: {error.get('title') or error.get('type')}"
                result[post_id] = MetricsSnapshot(external_id=post_id, fetched_at=now, unknown_reason=reason)
        missing = [post_id for post_id in ids if post_id not in result]
        if missing:
            raise Transient(f"X returned no data for {len(missing)} posts")
        return result

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        self._send("DELETE", self._api(f"/2/tweets/{external_id}"), tokens=tokens, ok=(200, 404))

    # --- responses --------------------------------------------------------------------

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        limit = int_or_none(headers.get("x-rate-limit-limit"))
        remaining = int_or_none(headers.get("x-rate-limit-remaining"))
        reset = int_or_none(headers.get("x-rate-limit-reset"))
        if limit is None and remaining is None and reset is None:
            return None
        reset_at = datetime.fromtimestamp(reset, tz=UTC) if reset is not None else None
        return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at)

    def classify_error(self, response: requests.Response) -> NetworkError:
        status = response.status_code
        body = self._body_or_empty(response)
        if "/oauth2/token" in response.url:
            return classify_oauth_token_error(response, self._oauth_error_text(response))
        text = _problem_text(body, response.text)
        if status == 403 and DUPLICATE_MARKER in text.lower():
            return Duplicate(text, status=status)
        if status == 403 and ("suspended" in text.lower() or text.strip() == "Forbidden"):
            # A bare "Forbidden" is X's answer to a token without the scope the endpoint needs:
            # only a new consent (with the scopes) helps.
            return AuthRevoked(text, status=status)
        info = self.parse_rate_limit(response.headers) if status == 429 else None
        return status_error(response, text=text, reset_at=info.reset_at if info else None, default_retry_after=900)
