"""Threads API (graph.threads.net, v1.0).

Facts from Meta's documentation: authorise at ``threads.net/oauth/authorize``,
exchange the code with ``POST graph.threads.net/oauth/access_token`` (1 hour), swap for a 60-day token
with ``GET /access_token?grant_type=th_exchange_token`` and renew it with
``GET /refresh_access_token?grant_type=th_refresh_token``. ``POST /v1.0/{uid}/threads`` makes a container
(``media_type`` TEXT or IMAGE, ``text`` up to 500 characters, ``image_url`` fetched by Meta,
``link_attachment`` for a link preview on text posts), ``GET /{container}?fields=status,error_message``
goes IN_PROGRESS -> FINISHED (or ERROR / EXPIRED), ``POST /{uid}/threads_publish?creation_id=`` publishes.
Insights ``views, likes, replies, reposts, quotes, shares`` as ``values[0].value`` or ``total_value.value``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.utils.translation import gettext_lazy

from networks.providers.exceptions import AuthRevoked, ContentRejected, NetworkError
from networks.providers.meta import ContainerPublishingProvider, is_missing_object
from networks.providers.types import (
    AccountRef,
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

METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


class ThreadsProvider(ContainerPublishingProvider):
    network = "threads"
    facts = DisplayFacts(
        label=gettext_lazy("Threads"),
        note=gettext_lazy("Reports views."),
        connect_needs=gettext_lazy("A Threads profile."),
        connect_note=gettext_lazy("Posts can have up to 500 characters; links get a preview card."),
    )
    connect_template = "networks/connect/meta.html"
    api_version = "v1.0"
    real_api_host = "https://graph.threads.net"
    real_authorize_host = "https://threads.net"
    real_exchange_host = "https://graph.threads.net"
    scopes = "threads_basic,threads_content_publish,threads_manage_insights"
    publish_edge = "threads_publish"
    refresh_grant_type = "th_refresh_token"
    list_edge = "threads"
    text_field = "text"
    status_field = "status"
    capabilities = Capabilities(
        max_chars=500,
        max_images=1,
        video=False,
        link_handling=LinkHandling.CARD,
        reach_reported=False,
        metrics_batch_size=1,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=True,
        max_image_bytes=8 * 1024 * 1024,
        metrics=("impressions", "likes", "replies", "shares", "quotes"),
        # Insights are totals without names (replies could name their authors, one call per post: not done).
        own_engagement=Reveal.NO,
        media_by_url=True,
        image_types=IMAGE_TYPES,
        needs_app_review=True,
        requirements=(
            "app review for threads_content_publish and threads_manage_insights; images by public URL; "
            "views count every view, not unique people"
        ),
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        return "https://www.threads.net/intent/post?" + urlencode({"text": text})

    # --- connecting ---------------------------------------------------------------

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        client = self._client()
        short = self.exchange_code("/oauth/access_token", host=self.exchange_host, code=code, redirect_uri=redirect_uri)
        long_lived = self.call(
            "GET",
            "/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": client.client_secret,
                "access_token": str(short.get("access_token") or ""),
            },
        )
        return self.token_set(long_lived, refreshable=True, scope=client.scopes or self.scopes)

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        body = self.call(
            "GET",
            self.graph_path("/me"),
            tokens=tokens,
            params={"fields": "id,username,name,threads_profile_picture_url"},
        )
        user_id = str(body["id"])
        username = str(body.get("username") or "")
        return AccountRef(
            external_id=user_id,
            handle=f"@{username}",
            display_name=str(body.get("name") or username),
            profile_url=f"https://www.threads.net/@{username}" if username else "",
            avatar_url=str(body.get("threads_profile_picture_url") or ""),
            followers_count=self._followers(tokens=tokens, user_id=user_id),
        )

    def _followers(self, *, tokens: TokenSet, user_id: str) -> int | None:
        """From the user insights (needs threads_manage_insights); None when they are not available."""
        try:
            body = self.call(
                "GET",
                self.graph_path(f"/{user_id}/threads_insights"),
                tokens=tokens,
                params={"metric": "followers_count"},
            )
        except (ContentRejected, AuthRevoked):  # insights not granted: the profile itself was readable
            return None
        return self.insight_values(body).get("followers_count")

    # --- posting ------------------------------------------------------------------

    def post_text(self, draft: PostDraft) -> str:
        """Text posts carry the link as ``link_attachment`` (a preview card); image posts in the text."""
        if not draft.media:
            return draft.text.strip()
        return super().post_text(draft)

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        text = self.post_text(draft)
        if len(text) > self.capabilities.max_chars:
            problems.append(f"text is {len(text)} characters, the limit is {self.capabilities.max_chars}")
        if not text and not draft.media:
            problems.append("a post needs text or an image")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} image")
        for item in draft.media:
            if item.content_type not in IMAGE_TYPES:
                problems.append(f"{item.filename}: Threads takes JPEG or PNG images")
            if not item.url.startswith(("https://", "http://")):
                problems.append(f"{item.filename}: needs a public URL (Threads downloads the image itself)")
            limit = self.capabilities.max_image_bytes
            if limit and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Create the container and answer PENDING with its id; ``complete_pending_publish`` publishes it."""
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        user_id = self.user_id(tokens)
        data: dict[str, str] = {"text": self.post_text(draft)}
        if draft.media:
            item = draft.media[0]
            data.update(media_type="IMAGE", image_url=item.url)
            if item.description:
                data["alt_text"] = item.description
        else:
            data["media_type"] = "TEXT"
            if draft.link:
                data["link_attachment"] = draft.link
        body = self.call("POST", self.graph_path(f"/{user_id}/threads"), tokens=tokens, data=data)
        return PublishResult(state=PublishState.PENDING, external_id=str(body["id"]))

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        snapshots: list[MetricsSnapshot] = []
        for external_id in external_ids:
            response = self.send(
                "GET",
                self.graph_path(f"/{external_id}/insights"),
                tokens=tokens,
                params={"metric": ",".join(METRICS)},
            )
            now = datetime.now(UTC)
            if response.status_code != 200:
                if is_missing_object(response):
                    snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, exists=False))
                    continue
                raise self.classify_error(response)
            values = self.insight_values(self.json(response))
            snapshots.append(
                MetricsSnapshot(
                    external_id=external_id,
                    fetched_at=now,
                    likes=values.get("likes"),
                    shares=values.get("reposts"),
                    replies=values.get("replies"),
                    quotes=values.get("quotes"),
                    impressions=values.get("views"),
                )
            )
        return snapshots

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        response = self.send("DELETE", self.graph_path(f"/{external_id}"), tokens=tokens)
        if response.status_code == 200 or is_missing_object(response):
            return
        error: NetworkError = self.classify_error(response)
        raise error
