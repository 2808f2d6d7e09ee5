"""A Tumblr API v2 double over real HTTP, following github.com/tumblr/docs.

Routes: ``/oauth2/authorize`` (``basic write`` required; a refresh token only with
``offline_access``), ``POST /v2/oauth2/token`` (client secret; refresh hands out a new access and
refresh token and spends the old one), ``GET /v2/user/info``, ``POST /v2/blog/{blog}/posts`` (NPF;
images only as multipart with a ``json`` part and one part per media ``identifier``),
``GET /v2/blog/{blog}/posts?npf=true``, ``GET /v2/blog/{blog}/notes?id=&mode=conversation``,
``POST /v2/blog/{blog}/post/delete``. Every API answer has ``x-ratelimit-per{hour,day}-*``
headers (reset in seconds); errors use ``{"meta", "response": [], "errors": [{title, code, detail}]}``;
250 posts a day answer 403 code 8023; an exhausted hour answers 429.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from networks.tests.doubles.base import Double, DoubleHandler, DoubleState, Form

REQUIRED_SCOPES = {"basic", "write"}
BLOG_PATH = re.compile(r"/v2/blog/([^/]+)/(posts|notes|post/delete)")
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Limit Exceeded",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class TumblrState(DoubleState):
    user: str = "lenamakes"
    blog_uuid: str = "t:0aY0xL2Fi1OFJg4YxpmegQ"
    followers: int = 812
    access_ttl: int = 2520
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, dict[str, int]] = field(default_factory=dict)
    daily_post_limit: int = 250
    posts_today: int = 0
    hour_limit: int = 1000
    hour_remaining: int = 1000
    day_limit: int = 5000
    day_remaining: int = 5000
    reject_next_post: bool = False


class TumblrHandler(DoubleHandler):
    state: TumblrState

    def rate_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-perday-limit": str(self.state.day_limit),
            "x-ratelimit-perday-remaining": str(max(self.state.day_remaining, 0)),
            "x-ratelimit-perday-reset": "76341",
            "x-ratelimit-perhour-limit": str(self.state.hour_limit),
            "x-ratelimit-perhour-remaining": str(max(self.state.hour_remaining, 0)),
            "x-ratelimit-perhour-reset": "753",
        }

    def fail(self, status: int, code: int, title: str, detail: str = "") -> None:
        body = {
            "meta": {"status": status, "msg": REASONS.get(status, "Error")},
            "response": [],
            "errors": [{"title": title, "code": code, "detail": detail or title}],
        }
        return self.reply(status, body, self.rate_headers())

    def ok(self, status: int, response: Any) -> None:
        body = {"meta": {"status": status, "msg": "Created" if status == 201 else "OK"}, "response": response}
        return self.reply(status, body, self.rate_headers())

    def guard(self, *, api_key_enough: bool = False) -> str | None:
        with self.state.lock:
            exhausted = self.state.hour_remaining <= 0 or self.state.day_remaining <= 0
            if not exhausted:
                self.state.hour_remaining -= 1
                self.state.day_remaining -= 1
        if exhausted:
            self.fail(429, 0, "Limit Exceeded", "Hourly rate limit exceeded for this consumer key")
            return None
        failure = self.take_failure()
        if failure:
            self.fail(failure, 0, REASONS.get(failure, "Error"), "Something went wrong")
            return None
        grant, _why = self.bearer_grant()
        if grant is None:
            if (
                api_key_enough
                and self.query().get("api_key") == self.state.client_id
                and "Authorization" not in self.headers
            ):
                return ""
            self.fail(401, 1016, "Unauthorized", "Unable to authorize")
            return None
        return grant.user

    def blog_of(self, identifier: str) -> bool:
        ident = unquote(identifier)
        return ident in (self.state.blog_uuid, self.state.user, f"{self.state.user}.tumblr.com")

    def do_GET(self) -> None:
        path = self.log_request_line("GET")
        if path == "/oauth2/authorize":
            return self.authorize(required_scopes=REQUIRED_SCOPES, pkce=False)
        match = BLOG_PATH.fullmatch(path)
        user = self.guard(api_key_enough=bool(match and match.group(2) == "notes"))
        if user is None:
            return None
        if path == "/v2/user/info":
            blog = {
                "name": self.state.user,
                "title": "Lena makes things",
                "url": f"https://{self.state.user}.tumblr.com/",
                "uuid": self.state.blog_uuid,
                "primary": True,
                "followers": self.state.followers,
                "type": "public",
            }
            other = {
                "name": "lena-sideblog",
                "title": "Side",
                "url": "https://lena-sideblog.tumblr.com/",
                "uuid": "t:side",
                "primary": False,
                "followers": 3,
            }
            return self.ok(
                200, {"user": {"name": self.state.user, "likes": 5, "following": 20, "blogs": [other, blog]}}
            )
        if match and self.blog_of(match.group(1)):
            query = self.query()
            if match.group(2) == "notes":
                post = self.state.posts.get(query.get("id", ""))
                if post is None:
                    return self.fail(404, 0, "Not Found", "Post not found")
                counts = self.state.notes.get(query["id"], {})
                likes, reblogs, replies = counts.get("likes", 0), counts.get("reblogs", 0), counts.get("replies", 0)
                if query.get("mode") != "conversation":
                    return self.ok(200, {"notes": [], "total_notes": likes + reblogs + replies})
                return self.ok(
                    200,
                    {
                        "notes": [],
                        "rollup_notes": [],
                        "total_notes": replies,
                        "total_likes": likes,
                        "total_reblogs": reblogs,
                    },
                )
            if match.group(2) == "posts":
                posts = sorted(self.state.posts.items(), key=lambda item: int(item[0]), reverse=True)
                limit = int(query.get("limit", "20"))
                listed = [
                    {
                        "id": int(pid),
                        "id_string": pid,
                        "post_url": f"https://{self.state.user}.tumblr.com/post/{pid}",
                        "content": p["content"],
                    }
                    for pid, p in posts[:limit]
                ]
                return self.ok(200, {"posts": listed, "total_posts": len(posts)})
        return self.fail(404, 0, "Not Found", "Not found")

    def do_POST(self) -> None:
        path = self.log_request_line("POST")
        raw = self.raw_body()
        if path == "/v2/oauth2/token":
            return self.token(self.form(raw))
        user = self.guard()
        if user is None:
            return None
        match = BLOG_PATH.fullmatch(path)
        if match is None:
            return self.fail(404, 0, "Not Found", "Not found")
        if not self.blog_of(match.group(1)):
            return self.fail(404, 0, "Not Found", "Blog not found")
        if match.group(2) == "post/delete":
            post_id = self.form(raw).fields.get("id", "")
            if self.state.posts.pop(post_id, None) is None:
                return self.fail(404, 0, "Not Found", "Post not found")
            return self.ok(200, {"id": post_id})
        return self.create(raw)

    def create(self, raw: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        uploads = {}
        if content_type.startswith("multipart/form-data"):
            form = self.form(raw)
            try:
                body = json.loads(form.fields.get("json", "null"))
            except ValueError:
                body = None
            uploads = form.files
        else:
            body = self.json_body(raw)
        if not isinstance(body, dict) or not isinstance(body.get("content"), list) or not body["content"]:
            return self.fail(400, 8001, "'content' must be an array'", "Invalid NPF JSON")
        for block in body["content"]:
            if block.get("type") == "image":
                for media in block.get("media") or []:
                    upload = uploads.get(str(media.get("identifier")))
                    if upload is None or not upload.content or not upload.content_type.startswith("image/"):
                        return self.fail(400, 8005, "Bad Request", f"No media part named {media.get('identifier')!r}")
            if block.get("type") == "link" and not block.get("url"):
                return self.fail(400, 8001, "Bad Request", "link blocks need a url")
        if self.state.reject_next_post:
            self.state.reject_next_post = False
            return self.fail(400, 8001, "Bad Request", "This post can't be published")
        with self.state.lock:
            if self.state.posts_today >= self.state.daily_post_limit:
                return self.fail(403, 8023, "Forbidden", "You've hit your daily post limit (250 posts)")
            self.state.posts_today += 1
            post_id = str(740000000000000000 + next(self.state.ids))
            self.state.posts[post_id] = {
                "content": body["content"],
                "state": body.get("state", "published"),
                "media": {k: v.content for k, v in uploads.items()},
            }
        time.sleep(self.state.create_delay)
        if self.gateway_instead():
            return None
        return self.ok(201, {"id": post_id})

    def token(self, form: Form) -> None:
        data = form.fields
        if data.get("client_id") != self.state.client_id or data.get("client_secret") != self.state.client_secret:
            return self.reply(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if data.get("grant_type") == "refresh_token":
            grant = self.spend_refresh_token(data.get("refresh_token", ""))
            if grant is None:
                return self.reply(401, {"error": "invalid_grant", "error_description": "The refresh token has expired"})
            return self.reply(
                200,
                self.issue_tokens(
                    user=grant.user, scope=grant.scope, with_refresh=True, keep_refresh=data["refresh_token"]
                ),
            )
        if data.get("grant_type") != "authorization_code":
            return self.reply(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})
        grant_info, reason = self.redeem_code(data, pkce=False)
        if grant_info is None:
            return self.reply(400, {"error": "invalid_grant", "error_description": reason})
        scope = grant_info["scope"]
        body = self.issue_tokens(user=self.state.user, scope=scope, with_refresh="offline_access" in scope.split())
        body["id_token"] = False
        return self.reply(200, body)


class TumblrDouble(Double):
    handler = TumblrHandler
    state: TumblrState

    def __init__(self) -> None:
        super().__init__(TumblrState())


@contextmanager
def running_tumblr_double() -> Iterator[TumblrDouble]:
    double = TumblrDouble()
    double.start()
    try:
        yield double
    finally:
        double.stop()
