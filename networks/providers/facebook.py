"""Facebook Pages through the Graph API (v23.0).

Facts from Meta's documentation: Facebook Login at
``www.facebook.com/v23.0/dialog/oauth``; ``GET /v23.0/oauth/access_token`` exchanges the code, and with
``grant_type=fb_exchange_token`` swaps the user token for a 60-day one. Posting happens as a Page with
the Page's own token from ``GET /me/accounts?fields=id,name,access_token`` (a Page token obtained with
a long-lived user token does not expire), so connecting ends with the person choosing a Page
(``list_pages`` then ``page_tokens``; the view is ``networks.views_meta``). Photos are uploaded
unpublished (``POST /{page-id}/photos`` with ``published=false``) and attached to
``POST /{page-id}/feed`` (``message``, ``link``, ``attached_media``); the answer is
``{"id": "{page-id}_{post-id}"}``, the address ``fields=permalink_url``. Metrics: insights
``post_total_media_view_unique`` and ``post_clicks`` (``post_impressions_unique`` was removed), counts
from ``fields=shares,reactions.summary(true),comments.summary(true)`` (``shares`` is absent when
nobody shared). ``(#506) Duplicate status message`` is a duplicate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy

from networks.providers.base import first_url
from networks.providers.exceptions import ContentRejected, NotSupported
from networks.providers.meta import MetaGraphProvider, int_or_none, is_missing_object, parse_time
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
    Reveal,
    TokenSet,
)

INSIGHT_METRICS = ("post_total_media_view_unique", "post_clicks")
COUNT_FIELDS = "shares,reactions.summary(true),comments.summary(true)"


@dataclass(frozen=True)
class PageRef:
    """A Page the person manages, with the Page token to act as it."""

    page_id: str
    name: str
    access_token: str = field(repr=False)


class FacebookProvider(MetaGraphProvider):
    network = "facebook"
    facts = DisplayFacts(
        label=gettext_lazy("Facebook Pages"),
        note=gettext_lazy("Pages only (apps cannot post to personal profiles); reports unique views."),
        connect_needs=gettext_lazy(
            "A Facebook Page you manage. Linkilike posts as the Page, never on your personal profile."
        ),
        connect_note=gettext_lazy("After signing in to Facebook you choose which Page to connect."),
    )
    connect_template = "networks/connect/meta.html"
    api_version = "v23.0"
    real_api_host = "https://graph.facebook.com"
    real_authorize_host = "https://www.facebook.com"
    real_exchange_host = "https://graph.facebook.com"
    scopes = "pages_show_list,pages_manage_posts,pages_read_engagement,read_insights"
    capabilities = Capabilities(
        max_chars=63206,
        max_images=10,
        video=False,
        link_handling=LinkHandling.IN_TEXT,
        reach_reported=True,
        metrics_batch_size=1,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=False,
        max_image_bytes=10 * 1024 * 1024,
        metrics=("reach", "clicks", "likes", "replies", "shares"),
        # Reaction and comment totals; who reacted is not readable per post for Linkilike's app.
        own_engagement=Reveal.NO,
        needs_app_review=True,
        requirements=(
            "Facebook Pages only (not personal profiles); app review for pages_manage_posts, "
            "pages_read_engagement and read_insights"
        ),
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": first_url(text)})

    # --- connecting ---------------------------------------------------------------

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        return self.authorization_url(self.graph_path("/dialog/oauth"), redirect_uri=redirect_uri)

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        """The person's long-lived user token: use it only to list their Pages (``list_pages``)."""
        client = self._client()
        short = self.exchange_code(
            self.graph_path("/oauth/access_token"), code=code, redirect_uri=redirect_uri, method="GET"
        )
        long_lived = self.call(
            "GET",
            self.graph_path("/oauth/access_token"),
            params={
                "grant_type": "fb_exchange_token",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "fb_exchange_token": str(short.get("access_token") or ""),
            },
        )
        return self.token_set(long_lived, refreshable=False, scope=client.scopes or self.scopes)

    def list_pages(self, *, tokens: TokenSet) -> list[PageRef]:
        body = self.call(
            "GET",
            self.graph_path("/me/accounts"),
            tokens=tokens,
            params={"fields": "id,name,access_token", "limit": 100},
        )
        return [
            PageRef(
                page_id=str(item["id"]),
                name=str(item.get("name") or item["id"]),
                access_token=str(item["access_token"]),
            )
            for item in body.get("data") or []
            if isinstance(item, dict) and item.get("id") and item.get("access_token")
        ]

    @staticmethod
    def page_tokens(page: PageRef) -> TokenSet:
        """What to store for a connected Page: its own token, which does not expire."""
        return TokenSet(access_token=page.access_token)

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        raise NotSupported("Page tokens from a long-lived user token do not expire")

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        """The Page behind a Page token."""
        body = self.call(
            "GET",
            self.graph_path("/me"),
            tokens=tokens,
            params={"fields": "id,name,username,link,followers_count,picture"},
        )
        name = str(body.get("name") or body["id"])
        picture = body.get("picture")
        avatar = ""
        if isinstance(picture, dict) and isinstance(picture.get("data"), dict):
            avatar = str(picture["data"].get("url") or "")
        return AccountRef(
            external_id=str(body["id"]),
            handle=f"@{body['username']}" if body.get("username") else name,
            display_name=name,
            profile_url=str(body.get("link") or f"https://www.facebook.com/{body['id']}"),
            avatar_url=avatar,
            followers_count=int_or_none(body.get("followers_count")),
        )

    # --- posting ------------------------------------------------------------------

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        if len(draft.text) > self.capabilities.max_chars:
            problems.append(f"text is {len(draft.text)} characters, the limit is {self.capabilities.max_chars}")
        if not draft.text.strip() and not draft.link and not draft.media:
            problems.append("a post needs text, a link or an image")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} images")
        for item in draft.media:
            if not item.content_type.startswith("image/"):
                problems.append(f"{item.filename}: only images can be attached")
            limit = self.capabilities.max_image_bytes
            if limit and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    def _page_id(self, tokens: TokenSet) -> str:
        return str(self.call("GET", self.graph_path("/me"), tokens=tokens, params={"fields": "id"})["id"])

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        page_id = self._page_id(tokens)
        attached: list[dict[str, str]] = []
        for item in draft.media:
            # Unpublished photos are invisible until attached: a lost answer here is harmless.
            data: dict[str, Any] = {"published": "false"}
            files = None
            if item.content:
                files = {"source": (item.filename, item.content, item.content_type)}
            else:
                data["url"] = item.url
            if item.description:
                data["alt_text_custom"] = item.description
            photo = self.call("POST", self.graph_path(f"/{page_id}/photos"), tokens=tokens, data=data, files=files)
            attached.append({"media_fbid": str(photo["id"])})
        payload: dict[str, str] = {"message": draft.text}
        if draft.link:
            payload["link"] = draft.link
        if attached:
            payload["attached_media"] = json.dumps(attached)
        body = self.call("POST", self.graph_path(f"/{page_id}/feed"), tokens=tokens, data=payload, write=True)
        post_id = str(body["id"])
        details = self.call(
            "GET", self.graph_path(f"/{post_id}"), tokens=tokens, params={"fields": "permalink_url,created_time"}
        )
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=post_id,
            url=str(details.get("permalink_url") or f"https://www.facebook.com/{post_id}"),
            published_at=parse_time(details.get("created_time")) or datetime.now(UTC),
        )

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """After a lost answer: the Page's post with this exact message among its latest 25, or NOT_FOUND."""
        page_id = self._page_id(tokens)
        body = self.call(
            "GET",
            self.graph_path(f"/{page_id}/posts"),
            tokens=tokens,
            params={"fields": "id,message,permalink_url,created_time", "limit": 25},
        )
        for item in body.get("data") or []:
            if isinstance(item, dict) and str(item.get("message") or "") == draft.text:
                return PublishResult(
                    state=PublishState.PUBLISHED,
                    external_id=str(item["id"]),
                    url=str(item.get("permalink_url") or ""),
                    published_at=parse_time(item.get("created_time")),
                )
        return PublishResult(state=PublishState.NOT_FOUND)

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        snapshots: list[MetricsSnapshot] = []
        for external_id in external_ids:
            now = datetime.now(UTC)
            counts = self.send(
                "GET", self.graph_path(f"/{external_id}"), tokens=tokens, params={"fields": COUNT_FIELDS}
            )
            if counts.status_code != 200:
                if is_missing_object(counts):
                    snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, exists=False))
                    continue
                raise self.classify_error(counts)
            body = self.json(counts)
            insights = self.call(
                "GET",
                self.graph_path(f"/{external_id}/insights"),
                tokens=tokens,
                params={"metric": ",".join(INSIGHT_METRICS)},
            )
            values: dict[str, int | None] = {}
            for entry in insights.get("data") or []:
                if isinstance(entry, dict) and entry.get("values"):
                    values[str(entry.get("name"))] = int_or_none(entry["values"][0].get("value"))
            shares = body.get("shares")
            snapshots.append(
                MetricsSnapshot(
                    external_id=external_id,
                    fetched_at=now,
                    likes=_summary_count(body.get("reactions")),
                    replies=_summary_count(body.get("comments")),
                    # Facebook leaves ``shares`` out until someone shares: that is 0, not unknown.
                    shares=int_or_none(shares.get("count")) if isinstance(shares, dict) else 0,
                    reach=values.get("post_total_media_view_unique"),
                    clicks=values.get("post_clicks"),
                )
            )
        return snapshots

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        response = self.send("DELETE", self.graph_path(f"/{external_id}"), tokens=tokens)
        if response.status_code == 200 or is_missing_object(response):
            return
        raise self.classify_error(response)


def _summary_count(edge: Any) -> int | None:
    if isinstance(edge, dict) and isinstance(edge.get("summary"), dict):
        return int_or_none(edge["summary"].get("total_count"))
    return None
