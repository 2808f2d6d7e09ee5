"""Instagram API with Instagram Login (professional accounts: business or creator).

Facts from Meta's documentation: authorise at
``www.instagram.com/oauth/authorize``, exchange the code with ``POST api.instagram.com/oauth/access_token``
(a 1-hour token), swap it for a 60-day one with ``GET graph.instagram.com/access_token?grant_type=ig_exchange_token``
and renew that with ``GET /refresh_access_token?grant_type=ig_refresh_token``. Meta downloads the image
itself from a public ``image_url`` (JPEG only); ``POST /{ig-user-id}/media`` makes a container, its
``status_code`` goes IN_PROGRESS -> FINISHED (or ERROR / EXPIRED after 24 h), ``POST /{ig-user-id}/media_publish``
publishes it. ``GET /{ig-user-id}/content_publishing_limit`` reports the rolling 24-hour quota; past it
the publish answers code 9 / subcode 2207042. Links in captions are not clickable. Insights:
``reach, views, likes, comments, shares, saved, total_interactions`` (``impressions`` was removed in
v22.0); small posts answer ``(#10) Not enough viewers``, which means "no data yet". Posts cannot be
deleted through the API.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from django.utils.translation import gettext_lazy

from networks.providers.exceptions import ContentRejected, NotSupported
from networks.providers.meta import (
    PUBLISH_LIMIT_RETRY_AFTER,
    ContainerPublishingProvider,
    PublishingLimitReached,
    int_or_none,
    is_missing_object,
    is_not_enough_viewers,
)
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

METRICS = ("reach", "views", "likes", "comments", "shares", "saved", "total_interactions")
PROFESSIONAL_ACCOUNT_TYPES = frozenset({"BUSINESS", "MEDIA_CREATOR", "CREATOR"})
HASHTAG = re.compile(r"(?<!\w)#\w+")
MENTION = re.compile(r"(?<!\w)@[\w.]+")


class InstagramProvider(ContainerPublishingProvider):
    network = "instagram"
    facts = DisplayFacts(
        label=gettext_lazy("Instagram"),
        note=gettext_lazy(
            "Reports reach. Business or creator accounts only; needs an image or video; links are not clickable."
        ),
        max_hashtags=30,
        connect_needs=gettext_lazy(
            "An Instagram business or creator account. Personal accounts cannot publish through Instagram's API: "
            "switch to a professional account in the Instagram app first (it is free)."
        ),
        connect_note=gettext_lazy("Links in Instagram captions are shown as text and cannot be tapped."),
    )
    connect_template = "networks/connect/meta.html"
    api_version = "v23.0"
    real_api_host = "https://graph.instagram.com"
    real_authorize_host = "https://www.instagram.com"
    real_exchange_host = "https://api.instagram.com"
    scopes = "instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights"
    publish_edge = "media_publish"
    refresh_grant_type = "ig_refresh_token"
    list_edge = "media"
    text_field = "caption"
    status_field = "status_code"
    capabilities = Capabilities(
        max_chars=2200,
        max_images=1,
        video=False,
        link_handling=LinkHandling.NOT_CLICKABLE,
        reach_reported=True,
        metrics_batch_size=1,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=True,
        max_image_bytes=8 * 1024 * 1024,
        metrics=("reach", "impressions", "likes", "replies", "shares", "bookmarks"),
        # Insights are totals without names (comments could name their authors, one call per post: not done).
        own_engagement=Reveal.NO,
        image_required=True,
        media_by_url=True,
        image_types=frozenset({"image/jpeg"}),
        needs_app_review=True,
        requirements=(
            "Instagram business or creator account; app review for instagram_business_content_publish and "
            "instagram_business_manage_insights; JPEG images by public URL; at most 100 API posts per 24 hours"
        ),
    )

    # --- connecting ---------------------------------------------------------------

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        client = self._client()
        grant = self.exchange_code(
            "/oauth/access_token", host=self.exchange_host, code=code.removesuffix("#_"), redirect_uri=redirect_uri
        )
        permissions = grant.get("permissions") or ""
        scope = ",".join(permissions) if isinstance(permissions, list) else str(permissions)
        short = self.token_set(grant, refreshable=False)
        long_lived = self.call(
            "GET",
            "/access_token",
            params={
                "grant_type": "ig_exchange_token",
                "client_secret": client.client_secret,
                "access_token": short.access_token,
            },
        )
        return self.token_set(long_lived, refreshable=True, scope=scope)

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        body = self.call(
            "GET",
            self.graph_path("/me"),
            tokens=tokens,
            params={"fields": "user_id,username,name,account_type,profile_picture_url,followers_count"},
        )
        account_type = str(body.get("account_type") or "")
        if account_type and account_type not in PROFESSIONAL_ACCOUNT_TYPES:
            raise NotSupported("only Instagram business and creator accounts can publish through the API")
        username = str(body.get("username") or "")
        return AccountRef(
            external_id=str(body.get("user_id") or body["id"]),
            handle=f"@{username}",
            display_name=str(body.get("name") or username),
            profile_url=f"https://www.instagram.com/{username}/" if username else "",
            avatar_url=str(body.get("profile_picture_url") or ""),
            followers_count=int_or_none(body.get("followers_count")),
        )

    # --- posting ------------------------------------------------------------------

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        caption = self.post_text(draft)
        if len(caption) > self.capabilities.max_chars:
            problems.append(f"caption is {len(caption)} characters, the limit is {self.capabilities.max_chars}")
        if len(HASHTAG.findall(caption)) > 30:
            problems.append("at most 30 hashtags")
        if len(MENTION.findall(caption)) > 20:
            problems.append("at most 20 @mentions")
        if not draft.media:
            problems.append("Instagram posts need an image")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} image")
        for item in draft.media:
            if item.content_type != "image/jpeg":
                problems.append(f"{item.filename}: Instagram takes JPEG images only")
            if not item.url.startswith(("https://", "http://")):
                problems.append(f"{item.filename}: needs a public URL (Instagram downloads the image itself)")
            limit = self.capabilities.max_image_bytes
            if limit and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    def publishing_quota(self, *, tokens: TokenSet, user_id: str) -> tuple[int, int]:
        """(posts published through the API in the last 24 h, the allowed number)."""
        body = self.call(
            "GET",
            self.graph_path(f"/{user_id}/content_publishing_limit"),
            tokens=tokens,
            params={"fields": "quota_usage,config"},
        )
        entry = (body.get("data") or [{}])[0]
        usage = int_or_none(entry.get("quota_usage")) or 0
        total = int_or_none((entry.get("config") or {}).get("quota_total")) or 100
        return usage, total

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Create the container and answer PENDING with its id; ``complete_pending_publish`` publishes it."""
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        user_id = self.user_id(tokens)
        usage, total = self.publishing_quota(tokens=tokens, user_id=user_id)
        if usage >= total:
            raise PublishingLimitReached(
                f"Instagram's publishing limit is used up: {usage} of {total} posts in the last 24 hours",
                retry_after=PUBLISH_LIMIT_RETRY_AFTER,
                status=None,
            )
        item = draft.media[0]
        data = {"image_url": item.url, "caption": self.post_text(draft)}
        if item.description:
            data["alt_text"] = item.description
        body = self.call("POST", self.graph_path(f"/{user_id}/media"), tokens=tokens, data=data)
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
                if is_not_enough_viewers(response):
                    # The post is there; Instagram just shows no insights yet: unknown, never zeros.
                    reason = "Instagram shows no insights for this post yet (not enough viewers)"
                    snapshots.append(MetricsSnapshot(external_id=external_id, fetched_at=now, unknown_reason=reason))
                    continue
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
                    shares=values.get("shares"),
                    replies=values.get("comments"),
                    bookmarks=values.get("saved"),
                    reach=values.get("reach"),
                    impressions=values.get("views"),
                )
            )
        return snapshots

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        raise NotSupported("Instagram posts cannot be deleted through the API")
