"""An X API v2 double over real HTTP, following docs.x.com.

Routes: ``/i/oauth2/authorize`` (PKCE S256 and the scopes required), ``POST /2/oauth2/token``
(HTTP Basic client auth, code + verifier, refresh tokens that rotate), ``GET /2/users/me``,
``POST /2/media/upload`` (multipart ``media`` + ``media_category``), ``POST /2/tweets`` (201),
``GET /2/tweets?ids=`` (<= 100; ``non_public_metrics`` refused for posts older than 30 days),
``GET /2/users/:id/tweets``, ``DELETE /2/tweets/:id``. Every API answer carries
``x-rate-limit-*`` (reset as unix epoch); errors are problem+json, the 429 either problem+json or
the v1.1 ``{"errors":[{"code":88}]}`` body; duplicates are 403 with X's exact detail.
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from networks.tests.doubles.base import Double, DoubleHandler, DoubleState

TWITTER_EPOCH_MS = 1288834974657
PROBLEM = "application/problem+json"
REQUIRED_SCOPES = {"tweet.read", "tweet.write", "users.read", "media.write", "offline.access"}
URL = re.compile(r"https?://\S+")


def snowflake(at: datetime, sequence: int) -> str:
    millis = int(at.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((millis << 22) | (sequence & 0xFFF))


@dataclass
class XState(DoubleState):
    user_id: str = "1467726470533754880"
    username: str = "lena_makes"
    followers: int = 4321
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)  # media id -> owner
    rate_limit: int = 100
    rate_remaining: int = 100
    rate_reset_in: int = 900
    rate_limit_style: str = "problem"  # or "v1"
    reject_next_post: str = ""  # detail for a 403 refusal of the next post
    #: Posts answered without ``public_metrics`` (X leaves the field out now and then).
    omit_public_metrics: set[str] = field(default_factory=set)

    def add_post(self, *, text: str, user: str | None = None, created: datetime | None = None) -> str:
        post_id = snowflake(created or datetime.now(UTC), next(self.ids))
        self.posts[post_id] = {
            "user": user or self.user_id,
            "text": text,
            "media": [],
            "public": {
                "retweet_count": 0,
                "reply_count": 0,
                "like_count": 0,
                "quote_count": 0,
                "bookmark_count": 0,
                "impression_count": 0,
            },
            "private": {"impression_count": 0, "url_link_clicks": 0, "user_profile_clicks": 0},
        }
        return post_id


class XHandler(DoubleHandler):
    state: XState

    # --- plumbing ---------------------------------------------------------------------

    def problem(self, status: int, title: str, detail: str, kind: str = "about:blank") -> None:
        body = {"title": title, "detail": detail, "type": kind, "status": status}
        return self.reply(status, body, self.rate_headers(), PROBLEM)

    def rate_headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.state.rate_limit),
            "x-rate-limit-remaining": str(max(self.state.rate_remaining, 0)),
            "x-rate-limit-reset": str(int(time.time()) + self.state.rate_reset_in),
        }

    def api_guard(self, *scopes: str) -> str | None:
        """Rate limit, injected failure, bearer auth and scopes for an API call; the user id when allowed."""
        with self.state.lock:
            limited = self.state.rate_remaining <= 0
            if not limited:
                self.state.rate_remaining -= 1
        if limited:
            if self.state.rate_limit_style == "v1":
                body = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
                self.reply(429, body, self.rate_headers())
            else:
                self.problem(429, "Too Many Requests", "Too Many Requests")
            return None
        failure = self.take_failure()
        if failure:
            self.problem(failure, "Service Unavailable", "Service Unavailable")
            return None
        grant, why = self.bearer_grant()
        if grant is None:
            self.problem(401, "Unauthorized", f"Unauthorized ({why} token)")
            return None
        if not set(scopes) <= set(grant.scope.split()):
            # What X answers when the token lacks a scope the endpoint needs.
            self.problem(403, "Forbidden", "Forbidden")
            return None
        return grant.user

    # --- routes -----------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.log_request_line("GET")
        if path == "/i/oauth2/authorize":
            return self.authorize(required_scopes=REQUIRED_SCOPES, pkce=True)
        user = self.api_guard("tweet.read", "users.read")
        if user is None:
            return None
        query = self.query()
        if path == "/2/users/me":
            data: dict[str, Any] = {"id": user, "name": "Lena Example", "username": self.state.username}
            fields = query.get("user.fields", "")
            if "public_metrics" in fields:
                data["public_metrics"] = {"followers_count": self.state.followers, "following_count": 12}
            if "profile_image_url" in fields:
                data["profile_image_url"] = "https://pbs.twimg.com/profile_images/1/lena_normal.jpg"
            return self.reply(200, {"data": data}, self.rate_headers())
        if path == "/2/tweets":
            return self.lookup(user, query)
        match = re.fullmatch(r"/2/users/(\d+)/tweets", path)
        if match:
            limit = int(query.get("max_results", "10"))
            if not 5 <= limit <= 100:
                return self.problem(400, "Invalid Request", "max_results must be between 5 and 100")
            own = [(pid, p) for pid, p in self.state.posts.items() if p["user"] == match.group(1)]
            own.sort(key=lambda item: int(item[0]), reverse=True)
            data_list = [{"id": pid, "text": p["text"]} for pid, p in own[:limit]]
            return self.reply(200, {"data": data_list, "meta": {"result_count": len(data_list)}}, self.rate_headers())
        return self.problem(404, "Not Found Error", "no such route")

    def lookup(self, user: str, query: dict[str, str]) -> None:
        ids = [value for value in query.get("ids", "").split(",") if value]
        if not ids or len(ids) > 100 or not all(value.isdigit() for value in ids):
            return self.problem(
                400,
                "Invalid Request",
                "The `ids` query parameter value must be 1 to 100 numeric ids.",
                "https://api.x.com/2/problems/invalid-request",
            )
        fields = set(query.get("tweet.fields", "").split(","))
        data = []
        errors = []
        for post_id in ids:
            post = self.state.posts.get(post_id)
            if post is None:
                errors.append(
                    {
                        "value": post_id,
                        "detail": f"Could not find tweet with ids: [{post_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": post_id,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )
                continue
            item: dict[str, Any] = {"id": post_id, "text": post["text"]}
            if "public_metrics" in fields and post_id not in self.state.omit_public_metrics:
                item["public_metrics"] = dict(post["public"])
            if "non_public_metrics" in fields:
                created_ms = (int(post_id) >> 22) + TWITTER_EPOCH_MS
                if post["user"] != user or time.time() * 1000 - created_ms > 30 * 86400 * 1000:
                    return self.problem(
                        400,
                        "Field Authorization Error",
                        "Sorry, you are not authorized to access non_public_metrics on this Tweet "
                        "(own posts created within the last 30 days only).",
                        "https://api.twitter.com/2/problems/not-authorized-for-field",
                    )
                private = dict(post["private"])
                if not URL.search(post["text"]):
                    private.pop("url_link_clicks", None)
                item["non_public_metrics"] = private
            data.append(item)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return self.reply(200, body, self.rate_headers())

    def do_POST(self) -> None:
        path = self.log_request_line("POST")
        raw = self.raw_body()
        if path == "/2/oauth2/token":
            return self.token(raw)
        needed = ("media.write",) if path == "/2/media/upload" else ("tweet.read", "tweet.write", "users.read")
        user = self.api_guard(*needed)
        if user is None:
            return None
        if path == "/2/media/upload":
            form = self.form(raw)
            upload = form.files.get("media")
            category = form.fields.get("media_category", "")
            if upload is None or not upload.content:
                return self.problem(400, "Invalid Request", "One or more parameters to your request was invalid.")
            if category not in ("tweet_image", "tweet_gif", "tweet_video"):
                return self.problem(400, "Invalid Request", f"media_category {category!r} is not valid")
            media_id = snowflake(datetime.now(UTC), self.next_id())
            self.state.media[media_id] = user
            data = {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(upload.content),
                "expires_after_secs": 86400,
                "image": {"image_type": upload.content_type, "w": 1, "h": 1},
            }
            return self.reply(200, {"data": data}, self.rate_headers())
        if path == "/2/tweets":
            return self.create(user, raw)
        return self.problem(404, "Not Found Error", "no such route")

    def create(self, user: str, raw: bytes) -> None:
        body = self.json_body(raw)
        if body is None:
            return self.problem(400, "Invalid Request", "Request body must be JSON")
        text = str(body.get("text", ""))
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids", [])]
        if not text and not media_ids:
            return self.problem(400, "Invalid Request", "text or media is required")
        if len(URL.sub("x" * 23, text)) > 280:
            return self.problem(400, "Invalid Request", "Your Tweet text is too long.")
        if any(self.state.media.get(media_id) != user for media_id in media_ids):
            return self.problem(400, "Invalid Request", "Your media IDs are invalid.")
        if self.state.reject_next_post:
            detail, self.state.reject_next_post = self.state.reject_next_post, ""
            return self.problem(403, "Forbidden", detail)
        with self.state.lock:
            duplicate = any(p["user"] == user and p["text"] == text for p in self.state.posts.values())
            if duplicate:
                return self.problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
        if self.gateway_now_post_later(lambda: self.store_post(user=user, text=text, media_ids=media_ids)):
            return None
        post_id = self.store_post(user=user, text=text, media_ids=media_ids)
        time.sleep(self.state.create_delay)
        if self.gateway_instead():
            return None
        shortened = URL.sub("https://t.co/abc123", text)
        return self.reply(201, {"data": {"id": post_id, "text": shortened}}, self.rate_headers())

    def store_post(self, *, user: str, text: str, media_ids: list[str]) -> str:
        with self.state.lock:
            post_id = self.state.add_post(text=text, user=user)
            self.state.posts[post_id]["media"] = media_ids
        return post_id

    def token(self, raw: bytes) -> None:
        expected = base64.b64encode(f"{self.state.client_id}:{self.state.client_secret}".encode()).decode()
        if self.headers.get("Authorization", "") != f"Basic {expected}":
            return self.reply(
                401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"}
            )
        data = self.form(raw).fields
        if data.get("grant_type") == "refresh_token":
            grant = self.spend_refresh_token(data.get("refresh_token", ""))
            if grant is None:
                return self.reply(
                    400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
                )
            body = self.issue_tokens(
                user=grant.user, scope=grant.scope, with_refresh=True, keep_refresh=data["refresh_token"]
            )
            return self.reply(200, body)
        if data.get("grant_type") != "authorization_code" or data.get("client_id") != self.state.client_id:
            return self.reply(400, {"error": "invalid_request", "error_description": "Missing required parameter."})
        grant_info, reason = self.redeem_code(data, pkce=True)
        if grant_info is None:
            return self.reply(400, {"error": "invalid_request", "error_description": reason})
        scope = grant_info["scope"]
        body = self.issue_tokens(user=self.state.user_id, scope=scope, with_refresh="offline.access" in scope.split())
        return self.reply(200, body)

    def do_DELETE(self) -> None:
        path = self.log_request_line("DELETE")
        user = self.api_guard("tweet.read", "tweet.write", "users.read")
        if user is None:
            return None
        post_id = path.rsplit("/", 1)[-1]
        post = self.state.posts.get(post_id)
        if post is None or post["user"] != user:
            return self.reply(200, {"data": {"deleted": False}}, self.rate_headers())
        del self.state.posts[post_id]
        return self.reply(200, {"data": {"deleted": True}}, self.rate_headers())


class XDouble(Double):
    handler = XHandler
    state: XState

    def __init__(self) -> None:
        super().__init__(XState())


@contextmanager
def running_x_double() -> Iterator[XDouble]:
    double = XDouble()
    double.start()
    try:
        yield double
    finally:
        double.stop()
