"""Tumblr (API v2, Neue Post Format).

Facts (github.com/tumblr/docs api.md + npf-spec.md): OAuth 2 on
``www.tumblr.com/oauth2/authorize`` with ``basic write offline_access``; ``POST
api.tumblr.com/v2/oauth2/token`` with the client secret (no PKCE documented). Access tokens are
short (``expires_in: 2520``, 42 min); ``offline_access`` adds a refresh token (42 days) and each
refresh returns a new access *and* refresh token. Posts: ``POST /v2/blog/{blog}/posts`` with NPF
``content`` blocks; images go as ``multipart/form-data``: a ``json`` part and one part per file,
named by the media ``identifier``. 201 ``{"meta", "response": {"id": "..."}}`` (a string).
Notes: ``GET /v2/blog/{blog}/notes?id=&mode=conversation`` -> ``total_notes``, ``total_likes``,
``total_reblogs``. Errors carry ``{"meta": {"status", "msg"}, "errors": [{"title", "code",
"detail"}]}``; limits: 250 posts a day per user (403 code 8023), 429 with
``x-ratelimit-per{hour,day}-*`` headers (reset in seconds).

Posts are addressed by blog *and* id, so ``external_id`` is ``"{blog uuid}/{post id}"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import requests
from django.utils.translation import gettext_lazy

from networks.providers.base import first_url
from networks.providers.exceptions import (
    AuthExpired,
    ContentRejected,
    NetworkError,
    RateLimited,
    Transient,
)
from networks.providers.http import status_error
from networks.providers.oauth2_base import (
    OAuth2HttpProvider,
    classify_oauth_token_error,
    int_or_none,
    next_utc_midnight,
    seconds_until,
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

SCOPES = "basic write offline_access"
DAILY_POST_LIMIT_CODE = 8023
DAILY_MEDIA_LIMIT_CODES = (8004, 8011)


def split_external_id(external_id: str) -> tuple[str, str]:
    blog, _slash, post_id = external_id.rpartition("/")
    return blog, post_id


def _errors(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = body.get("errors")
    return [entry for entry in errors if isinstance(entry, dict)] if isinstance(errors, list) else []


class TumblrProvider(OAuth2HttpProvider):
    network = "tumblr"
    facts = DisplayFacts(
        label=gettext_lazy("Tumblr"),
        note=gettext_lazy("Engagement only (notes), no reach."),
        unlimited_text=True,
    )
    connect_template = "networks/connect/oauth.html"
    production_api_url = "https://api.tumblr.com"
    production_web_url = "https://www.tumblr.com"
    default_scopes = SCOPES
    authorize_path = "/oauth2/authorize"
    capabilities = Capabilities(
        max_chars=4096,  # one NPF text block (?)
        max_images=10,
        video=False,
        link_handling=LinkHandling.CARD,  # an NPF link block; Tumblr fills the card
        reach_reported=False,
        metrics_batch_size=1,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=True,
        max_image_bytes=10 * 1024 * 1024,
        metrics=("likes", "shares"),  # likes and reblogs from the notes counts
        own_engagement=Reveal.NO,  # the counts come from totals; the notes list is not read name by name
        needs_app_review=False,
        requirements="Posts to the account's primary blog; at most 250 posts a day per account.",
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        query = {"canonicalUrl": first_url(text), "caption": text}
        return "https://www.tumblr.com/widgets/share/tool?" + urlencode(query)

    pending_lookback: ClassVar[int] = 20

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._blogs: dict[str, dict[str, Any]] = {}

    # --- connecting -------------------------------------------------------------------

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        return self._authorization_start(redirect_uri=redirect_uri)

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        return self._exchange_code(self._api("/v2/oauth2/token"), code=code, redirect_uri=redirect_uri)

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        if not tokens.refresh_token:
            raise AuthExpired("no refresh token stored (offline_access not granted); the person must reconnect")
        return self._refresh_tokens(self._api("/v2/oauth2/token"), tokens=tokens)

    def _primary_blog(self, tokens: TokenSet) -> dict[str, Any]:
        if tokens.access_token not in self._blogs:
            body = self._json(self._send("GET", self._api("/v2/user/info"), tokens=tokens))
            blogs = ((body.get("response") or {}).get("user") or {}).get("blogs") or []
            primary = next((blog for blog in blogs if blog.get("primary")), blogs[0] if blogs else None)
            if primary is None:
                raise ContentRejected("this Tumblr account has no blog to post to")
            self._blogs[tokens.access_token] = primary
        return self._blogs[tokens.access_token]

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        self._blogs.pop(tokens.access_token, None)
        blog = self._primary_blog(tokens)
        return AccountRef(
            external_id=str(blog.get("uuid") or blog["name"]),
            handle=str(blog["name"]),
            display_name=str(blog.get("title") or blog["name"]),
            profile_url=str(blog.get("url") or ""),
            avatar_url=f"{self.production_api_url}/v2/blog/{blog['name']}/avatar/128",
            followers_count=int_or_none(blog.get("followers")),
        )

    # --- posting ----------------------------------------------------------------------

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        if len(draft.text) > self.capabilities.max_chars:
            problems.append(f"text is {len(draft.text)} characters, the limit is {self.capabilities.max_chars}")
        if not draft.text.strip() and not draft.media and not draft.link:
            problems.append("a post needs text, a link or an image")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} images")
        limit = self.capabilities.max_image_bytes
        for item in draft.media:
            if item.content_type not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
                problems.append(f"{item.filename}: only JPG, PNG, GIF or WebP images")
            elif limit and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    @staticmethod
    def _content(draft: PostDraft) -> tuple[list[dict[str, Any]], dict[str, tuple[str, bytes, str]]]:
        blocks: list[dict[str, Any]] = []
        files: dict[str, tuple[str, bytes, str]] = {}
        if draft.text.strip():
            blocks.append({"type": "text", "text": draft.text.strip()})
        if draft.link:
            blocks.append({"type": "link", "url": draft.link})
        for index, item in enumerate(draft.media):
            identifier = f"image-{index}"
            block: dict[str, Any] = {"type": "image", "media": [{"type": item.content_type, "identifier": identifier}]}
            if item.description:
                block["alt_text"] = item.description
            blocks.append(block)
            files[identifier] = (item.filename, item.content, item.content_type)
        return blocks, files

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        blog = self._primary_blog(tokens)
        blocks, files = self._content(draft)
        payload = {"content": blocks, "state": "published"}
        url = self._api(f"/v2/blog/{quote(str(blog['uuid']), safe='')}/posts")
        if files:
            parts: dict[str, tuple[str | None, Any, str]] = {"json": (None, json.dumps(payload), "application/json")}
            parts.update(files)
            response = self._send("POST", url, tokens=tokens, write=True, ok=(200, 201), files=parts)
        else:
            response = self._send("POST", url, tokens=tokens, write=True, ok=(200, 201), json=payload)
        post_id = str((self._json(response).get("response") or {}).get("id") or "")
        if not post_id:
            raise Transient("post answer without an id")
        return self._result(blog, post_id)

    @staticmethod
    def _result(blog: Mapping[str, Any], post_id: str, url: str = "") -> PublishResult:
        blog_url = str(blog.get("url") or f"https://{blog['name']}.tumblr.com/").rstrip("/")
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=f"{blog['uuid']}/{post_id}",
            url=url or f"{blog_url}/post/{post_id}",
            published_at=datetime.now(UTC),
        )

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Look for the post among the blog's latest posts (Tumblr has no idempotency key). Never posts."""
        blog = self._primary_blog(tokens)
        response = self._send(
            "GET",
            self._api(f"/v2/blog/{quote(str(blog['uuid']), safe='')}/posts"),
            tokens=tokens,
            params={"npf": "true", "limit": str(self.pending_lookback)},
        )
        wanted, _files = self._content(draft)
        wanted_text = [(b["type"], b.get("text") or b.get("url")) for b in wanted if b["type"] in ("text", "link")]
        for post in (self._json(response).get("response") or {}).get("posts") or []:
            blocks = post.get("content") or []
            seen = [(b.get("type"), b.get("text") or b.get("url")) for b in blocks if b.get("type") in ("text", "link")]
            if seen == wanted_text:
                post_id = str(post.get("id_string") or post.get("id"))
                return self._result(blog, post_id, str(post.get("post_url") or ""))
        return PublishResult(state=PublishState.NOT_FOUND)

    # --- metrics ----------------------------------------------------------------------

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        snapshots: list[MetricsSnapshot] = []
        for external_id in external_ids:
            blog, post_id = split_external_id(external_id)
            blog = blog or str(self._primary_blog(tokens)["uuid"])
            params = {"id": post_id, "mode": "conversation"}
            if self.client is not None:
                params["api_key"] = self.client.client_id
            response = self._send(
                "GET",
                self._api(f"/v2/blog/{quote(blog, safe='')}/notes"),
                tokens=tokens,
                ok=(200, 404),
                params=params,
            )
            now = datetime.now(UTC)
            if response.status_code == 404:
                snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, exists=False))
                continue
            body = self._json(response).get("response") or {}
            snapshots.append(
                MetricsSnapshot(
                    external_id=external_id,
                    fetched_at=now,
                    likes=int_or_none(body.get("total_likes")),
                    shares=int_or_none(body.get("total_reblogs")),
                    # replies, quotes, reach, impressions, clicks: Tumblr reports none of them
                )
            )
        return snapshots

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        blog, post_id = split_external_id(external_id)
        blog = blog or str(self._primary_blog(tokens)["uuid"])
        self._send(
            "POST",
            self._api(f"/v2/blog/{quote(blog, safe='')}/post/delete"),
            tokens=tokens,
            ok=(200, 404),
            data={"id": post_id},
        )

    # --- responses --------------------------------------------------------------------

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        """The tighter of the per-hour and per-day windows (resets are in seconds from now)."""
        windows = []
        for window in ("perhour", "perday"):
            limit = int_or_none(headers.get(f"x-ratelimit-{window}-limit"))
            remaining = int_or_none(headers.get(f"x-ratelimit-{window}-remaining"))
            reset = int_or_none(headers.get(f"x-ratelimit-{window}-reset"))
            if limit is None and remaining is None and reset is None:
                continue
            reset_at = datetime.now(UTC) + timedelta(seconds=reset) if reset is not None else None
            windows.append(RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at))
        if not windows:
            return None
        exhausted = [w for w in windows if w.remaining == 0]
        if exhausted:
            return max(exhausted, key=lambda w: w.reset_at or datetime.now(UTC))
        return min(windows, key=lambda w: w.remaining if w.remaining is not None else 1 << 30)

    def classify_error(self, response: requests.Response) -> NetworkError:
        status = response.status_code
        if "/oauth2/token" in response.url:
            return classify_oauth_token_error(response, self._oauth_error_text(response))
        body = self._body_or_empty(response)
        errors = _errors(body)
        codes = {int_or_none(entry.get("code")) for entry in errors}
        meta = body.get("meta") or {}
        detail = "; ".join(str(e.get("detail") or e.get("title") or "") for e in errors if e) or str(
            meta.get("msg") or ""
        )
        text = (detail or response.reason or str(status))[:300]
        if status == 429 or (status == 403 and codes & {DAILY_POST_LIMIT_CODE, *DAILY_MEDIA_LIMIT_CODES}):
            info = self.parse_rate_limit(response.headers)
            reset_at = info.reset_at if info and info.remaining == 0 else None
            if status == 403:
                reset_at = next_utc_midnight()  # "per calendar day" on Tumblr's clock (?)
            return RateLimited(
                text, retry_after=seconds_until(reset_at, default=3600), reset_at=reset_at, status=status
            )
        return status_error(response, text=text)
