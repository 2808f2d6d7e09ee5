"""LinkedIn (member posts through the versioned REST API).

Facts (learn.microsoft.com/linkedin): OAuth 2 authorisation code on
``www.linkedin.com/oauth/v2/authorization`` with scopes ``openid profile w_member_social``;
``POST /oauth/v2/accessToken`` with the client secret in the form. PKCE is only for native apps
that LinkedIn enabled it for, so this web app does not use it. Tokens live 60 days; refresh
tokens are for approved partners only, so everyone else must re-consent: ``refresh`` raises
``NotSupported`` and ``expires_at`` is always set so token health warns ahead of expiry.

Every ``/rest/`` call carries ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version:
2.0.0``. Images: ``POST /rest/images?action=initializeUpload`` -> ``value.uploadUrl`` +
``value.image``, then ``PUT`` the bytes. Posts: ``POST /rest/posts`` -> 201 with an empty body and
the id in the ``x-restli-id`` header. ``commentary`` is "little text": reserved characters must be
backslash-escaped or LinkedIn silently cuts the text at the first one. Rate limits are daily,
reset at midnight UTC and come without headers. Post analytics need the gated
``r_member_postAnalytics`` scope (``memberCreatorPostAnalytics``; its shape is uncertain).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit

import requests
from django.utils.translation import gettext_lazy

from networks.providers.base import first_url
from networks.providers.exceptions import (
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    Duplicate,
    NetworkError,
    NotSupported,
    Transient,
)
from networks.providers.http import status_error
from networks.providers.oauth2_base import (
    OAuth2HttpProvider,
    classify_oauth_token_error,
    int_or_none,
    next_utc_midnight,
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

SCOPES = "openid profile w_member_social"
ANALYTICS_SCOPE = "r_member_postAnalytics"
API_VERSION = "202601"
RESTLI_VERSION = "2.0.0"
#: Little text format: these must be escaped in ``commentary``.
RESERVED = re.compile(r"([\\|{}@\[\]()<>#*_~])")
DUPLICATE_URN = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)", re.IGNORECASE)
#: memberCreatorPostAnalytics query types -> MetricsSnapshot fields (shape uncertain: gated API).
ANALYTICS_TYPES = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "reach",
    "REACTION": "likes",
    "COMMENT": "replies",
    "RESHARE": "shares",
}


def escape_little_text(text: str) -> str:
    return RESERVED.sub(r"\\\1", text)


def granted_scopes(tokens: TokenSet) -> set[str]:
    return set(tokens.scope.replace(",", " ").split())


class LinkedInProvider(OAuth2HttpProvider):
    network = "linkedin"
    facts = DisplayFacts(
        label=gettext_lazy("LinkedIn"),
        note=gettext_lazy("Reach figures need a gated LinkedIn permission; engagement and clicks are counted."),
    )
    connect_template = "networks/connect/oauth.html"
    production_api_url = "https://api.linkedin.com"
    production_web_url = "https://www.linkedin.com"
    default_scopes = SCOPES
    authorize_path = "/oauth/v2/authorization"
    capabilities = Capabilities(
        max_chars=3000,
        max_images=1,  # single-image posts (multi-image posts need the MultiImage API)
        video=False,
        link_handling=LinkHandling.CARD,  # an article card Linkilike fills; LinkedIn does not fetch it
        reach_reported=False,  # only with the gated r_member_postAnalytics permission
        metrics_batch_size=1,
        api_posting_allowed=True,
        cost_per_post_minor=0,
        token_refresh=False,  # refresh tokens are for approved partners: others re-consent every 60 days
        max_image_bytes=36_152_320,
        metrics=(),  # without the gated analytics permission LinkedIn reports no post metrics at all
        own_engagement=Reveal.NO,  # analytics totals only, without names
        needs_app_review=False,  # posting (Share on LinkedIn, w_member_social) is self-serve
        requirements=(
            "Posts as the member. Post analytics need LinkedIn's r_member_postAnalytics permission, granted "
            "only after review; refresh tokens are for approved partners, so people reconnect every 60 days."
        ),
    )

    @classmethod
    def share_intent_url(cls, *, text: str, instance_url: str = "") -> str | None:
        return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": first_url(text)})

    #: What the gated memberCreatorPostAnalytics permission adds.
    metrics_reported_with_analytics: ClassVar[tuple[str, ...]] = tuple(ANALYTICS_TYPES.values())
    #: Features that need LinkedIn's approval before they work for Linkilike.
    gated_features: ClassVar[tuple[str, ...]] = ("analytics", "token_refresh")
    article_title_max: ClassVar[int] = 200
    #: The default settle time stays: ``check_pending_publish`` sends the post again and relies on LinkedIn's
    #: duplicate check, which sees only posts that exist. A resend while the first create is still being carried
    #: out behind the gateway would pass that check and make a second post, so it waits like a look-up does.
    ambiguous_settle: ClassVar[timedelta] = timedelta(minutes=5)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._authors: dict[str, str] = {}

    def _extra_headers(self, url: str) -> dict[str, str]:
        if "/rest/" in urlsplit(url).path:
            return {"LinkedIn-Version": API_VERSION, "X-Restli-Protocol-Version": RESTLI_VERSION}
        return {}

    # --- connecting -------------------------------------------------------------------

    def begin_auth(self, *, redirect_uri: str) -> AuthStart:
        return self._authorization_start(redirect_uri=redirect_uri)  # a web app: no PKCE

    def complete_auth(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        tokens = self._exchange_code(self._web("/oauth/v2/accessToken"), code=code, redirect_uri=redirect_uri)
        if tokens.expires_at is None:
            raise Transient("LinkedIn token answer without expires_in")
        return tokens

    def refresh(self, *, tokens: TokenSet) -> TokenSet:
        raise NotSupported("LinkedIn refresh tokens are for approved partners only; the person must reconnect")

    def fetch_account(self, *, tokens: TokenSet) -> AccountRef:
        body = self._json(self._send("GET", self._api("/v2/userinfo"), tokens=tokens))
        name = str(body.get("name") or " ".join(filter(None, [body.get("given_name"), body.get("family_name")])))
        self._authors[tokens.access_token] = f"urn:li:person:{body['sub']}"
        return AccountRef(
            external_id=str(body["sub"]),
            handle=name or str(body["sub"]),
            display_name=name,
            avatar_url=str(body.get("picture") or ""),
            followers_count=None,  # not readable with member permissions
        )

    def _author(self, tokens: TokenSet) -> str:
        if tokens.access_token not in self._authors:
            self.fetch_account(tokens=tokens)
        return self._authors[tokens.access_token]

    # --- posting ----------------------------------------------------------------------

    def _commentary(self, draft: PostDraft) -> str:
        text = draft.text.strip()
        if draft.link and draft.media and draft.link not in text:
            text = f"{text}\n\n{draft.link}".strip()
        return text

    def validate_draft(self, draft: PostDraft) -> list[str]:
        problems: list[str] = []
        text = self._commentary(draft)
        if len(text) > self.capabilities.max_chars:
            problems.append(f"text is {len(text)} characters, the limit is {self.capabilities.max_chars}")
        if not text and not draft.media and not draft.link:
            problems.append("a post needs text, a link or an image")
        if len(draft.media) > self.capabilities.max_images:
            problems.append(f"at most {self.capabilities.max_images} image")
        limit = self.capabilities.max_image_bytes
        for item in draft.media:
            if item.content_type not in ("image/jpeg", "image/png", "image/gif"):
                problems.append(f"{item.filename}: only JPG, PNG or GIF images")
            elif limit and len(item.content) > limit:
                problems.append(f"{item.filename}: larger than {limit} bytes")
        return problems

    def _upload_image(self, *, tokens: TokenSet, author: str, content: bytes, content_type: str) -> str:
        response = self._send(
            "POST",
            self._api("/rest/images?action=initializeUpload"),
            tokens=tokens,
            json={"initializeUploadRequest": {"owner": author}},
        )
        value = self._json(response).get("value") or {}
        upload_url, image = value.get("uploadUrl"), value.get("image")
        if not upload_url or not image:
            raise Transient("image upload initialisation without uploadUrl/image")
        self._send(
            "PUT",
            str(upload_url),
            tokens=tokens,
            ok=(200, 201),
            data=content,
            headers={"Content-Type": content_type},
        )
        return str(image)

    def _article_title(self, draft: PostDraft) -> str:
        first_line = draft.text.strip().splitlines()[0] if draft.text.strip() else ""
        title = first_line or urlsplit(draft.link).netloc or draft.link
        return title[: self.article_title_max]

    def _create(self, *, tokens: TokenSet, draft: PostDraft) -> requests.Response:
        author = self._author(tokens)
        payload: dict[str, Any] = {
            "author": author,
            "commentary": escape_little_text(self._commentary(draft)),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if draft.media:
            item = draft.media[0]
            image = self._upload_image(
                tokens=tokens, author=author, content=item.content, content_type=item.content_type
            )
            payload["content"] = {"media": {"id": image, "altText": item.description[:4086]}}
        elif draft.link:
            payload["content"] = {"article": {"source": draft.link, "title": self._article_title(draft)}}
        return self._send("POST", self._api("/rest/posts"), tokens=tokens, write=True, ok=(201,), json=payload)

    @staticmethod
    def _result(urn: str) -> PublishResult:
        return PublishResult(
            state=PublishState.PUBLISHED,
            external_id=urn,
            url=f"https://www.linkedin.com/feed/update/{urn}/",
            published_at=datetime.now(UTC),
        )

    def publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        problems = self.validate_draft(draft)
        if problems:
            raise ContentRejected("; ".join(problems))
        response = self._create(tokens=tokens, draft=draft)
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise Transient("post created without an x-restli-id header")
        return self._result(urn)

    def check_pending_publish(self, *, tokens: TokenSet, draft: PostDraft, idempotency_key: str) -> PublishResult:
        """Send the same post again: LinkedIn refuses a duplicate with 422 and names the existing post.

        Member posts cannot be listed without a restricted permission, so the duplicate check is
        the only way to find the first attempt. If the first never arrived, this creates it once.
        """
        try:
            return self.publish(tokens=tokens, draft=draft, idempotency_key=idempotency_key)
        except Duplicate as error:
            match = DUPLICATE_URN.search(str(error))
            if match is None:
                raise
            return self._result(match.group(1))

    # --- metrics ----------------------------------------------------------------------

    def fetch_metrics(self, *, tokens: TokenSet, external_ids: Sequence[str]) -> list[MetricsSnapshot]:
        """All None unless the gated analytics permission was granted (then one call per metric)."""
        now = datetime.now(UTC)
        if ANALYTICS_SCOPE not in granted_scopes(tokens):
            return [MetricsSnapshot(external_id=external_id, fetched_at=now) for external_id in external_ids]
        return [self._analytics(tokens=tokens, urn=external_id) for external_id in external_ids]

    def _analytics(self, *, tokens: TokenSet, urn: str) -> MetricsSnapshot:
        kind = "ugc" if ":ugcPost:" in urn else "share"
        entity = f"({kind}:{quote(urn, safe='')})"
        values: dict[str, int | None] = {}
        for query_type, field_name in ANALYTICS_TYPES.items():
            # Rest.li 2.0 wants the entity's own encoding, so the query string is built by hand.
            url = self._api(f"/rest/memberCreatorPostAnalytics?q=entity&entity={entity}&queryType={query_type}")
            response = self._send("GET", f"{url}&aggregation=TOTAL", tokens=tokens, ok=(200, 404))
            if response.status_code == 404:
                return MetricsSnapshot(external_id=urn, fetched_at=datetime.now(UTC), exists=False)
            elements = self._json(response).get("elements") or []
            counts = [int_or_none(element.get("count")) for element in elements]
            values[field_name] = sum(count for count in counts if count is not None) if elements else None
        return MetricsSnapshot(
            external_id=urn,
            fetched_at=datetime.now(UTC),
            impressions=values.get("impressions"),
            reach=values.get("reach"),
            likes=values.get("likes"),
            replies=values.get("replies"),
            shares=values.get("shares"),
        )

    def delete(self, *, tokens: TokenSet, external_id: str) -> None:
        self._send(
            "DELETE",
            self._api(f"/rest/posts/{quote(external_id, safe='')}"),
            tokens=tokens,
            ok=(200, 204, 404, 410),
            headers={"X-RestLi-Method": "DELETE"},
        )

    # --- responses --------------------------------------------------------------------

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo | None:
        return None  # LinkedIn publishes no rate-limit headers

    def classify_error(self, response: requests.Response) -> NetworkError:
        status = response.status_code
        if "/oauth/v2/" in response.url:
            return classify_oauth_token_error(response, self._oauth_error_text(response))
        body = self._body_or_empty(response)
        code = str(body.get("code") or "")
        message = str(body.get("message") or response.text or response.reason)[:300]
        text = f"{code}: {message}" if code else message
        input_codes = {
            str(entry.get("code"))
            for entry in ((body.get("errorDetails") or {}).get("inputErrors") or [])
            if isinstance(entry, dict)
        }
        if status == 401:
            if code == "REVOKED_ACCESS_TOKEN" or int_or_none(body.get("serviceErrorCode")) == 65601:
                return AuthRevoked(text, status=status)
            return AuthExpired(text, status=status)
        if status == 403 and code == "ACCESS_DENIED":
            return AuthRevoked(text, status=status)  # a permission is missing: only a new consent helps
        if status == 422 and ("DUPLICATE_POST" in input_codes or "duplicate" in message.lower()):
            return Duplicate(text, status=status)
        # Daily quotas, reset at midnight UTC.
        return status_error(response, text=text, reset_at=next_utc_midnight() if status == 429 else None)
