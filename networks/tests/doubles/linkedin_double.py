"""A LinkedIn double over real HTTP, following learn.microsoft.com/linkedin.

Routes: ``/oauth/v2/authorization`` (scopes required, no PKCE: web apps use the client secret),
``POST /oauth/v2/accessToken`` (60-day tokens, no refresh token, comma-separated scopes),
``GET /v2/userinfo``, ``POST /rest/images?action=initializeUpload`` + ``PUT`` of the bytes to the
returned upload URL, ``POST /rest/posts`` (201, empty body, ``x-restli-id``), ``DELETE
/rest/posts/{urn}``, ``GET /rest/memberCreatorPostAnalytics`` (only with r_member_postAnalytics;
the real shape is uncertain). Every ``/rest/`` call without ``LinkedIn-Version`` or
``X-Restli-Protocol-Version: 2.0.0`` is refused. Commentary is read as little text: an unescaped
reserved character cuts the text there, as LinkedIn does. Errors: revoked 401
``{"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN"}``, 429 without rate-limit headers,
duplicate 422 ``DUPLICATE_POST`` naming the existing post.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from networks.tests.doubles.base import Double, DoubleHandler, DoubleState

REQUIRED_SCOPES = {"openid", "profile", "w_member_social"}
RESERVED = set("\\|{}@[]()<>#*_~")
VERSION = re.compile(r"^20\d{4}$")


def read_little_text(raw: str) -> str:
    """What LinkedIn shows: escapes removed, and the text cut at the first unescaped reserved character."""
    out: list[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw) and raw[index + 1] in RESERVED:
            out.append(raw[index + 1])
            index += 2
            continue
        if char in RESERVED:
            break
        out.append(char)
        index += 1
    return "".join(out)


@dataclass
class LinkedInState(DoubleState):
    member: str = "yQ7nPz3AbC"
    access_ttl: int = 5184000  # 60 days
    issue_refresh_tokens: bool = False
    images: dict[str, dict[str, Any]] = field(default_factory=dict)  # urn -> {owner, upload, content}
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    analytics: dict[str, dict[str, int]] = field(default_factory=dict)
    throttled: bool = False


class LinkedInHandler(DoubleHandler):
    state: LinkedInState
    grant_scope: str = ""

    def error(self, status: int, message: str, code: str = "", service_code: int | None = None) -> None:
        body: dict[str, Any] = {"status": status, "message": message}
        if code:
            body["code"] = code
        if service_code is not None:
            body["serviceErrorCode"] = service_code
        return self.reply(status, body)

    def guard(self, path: str) -> str | None:
        """Version headers (for /rest/), throttling, injected failures and the bearer token."""
        if path.startswith("/rest/"):
            if not VERSION.match(self.headers.get("LinkedIn-Version", "")):
                self.error(
                    400,
                    "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                    "VERSION_MISSING",
                )
                return None
            if self.headers.get("X-Restli-Protocol-Version") != "2.0.0":
                self.error(400, "Rest.li protocol version 2.0.0 is required (X-Restli-Protocol-Version)", "BAD_REQUEST")
                return None
        if self.state.throttled:
            self.error(
                429,
                "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
                "TOO_MANY_REQUESTS",
                101,
            )
            return None
        failure = self.take_failure()
        if failure:
            self.error(failure, "Internal Server Error")
            return None
        grant, why = self.bearer_grant()
        if grant is None:
            if why == "revoked":
                self.error(
                    401, "The token used in the request has been revoked by the user", "REVOKED_ACCESS_TOKEN", 65601
                )
            elif why == "expired":
                self.error(401, "The token used in the request has expired", "EXPIRED_ACCESS_TOKEN", 65602)
            else:
                self.error(401, "Invalid access token", "", 65600)
            return None
        self.grant_scope = grant.scope
        return grant.user

    def do_GET(self) -> None:
        path = self.log_request_line("GET")
        if path == "/oauth/v2/authorization":
            return self.authorize(required_scopes=REQUIRED_SCOPES, pkce=False)
        user = self.guard(path)
        if user is None:
            return None
        if path == "/v2/userinfo":
            return self.reply(
                200,
                {
                    "sub": user,
                    "name": "Lena Example",
                    "given_name": "Lena",
                    "family_name": "Example",
                    "picture": "https://media.licdn.com/dms/image/lena.jpg",
                    "locale": {"country": "DE", "language": "de"},
                },
            )
        if path == "/rest/memberCreatorPostAnalytics":
            return self.analytics()
        return self.error(404, f"No resource found for {path}", "NOT_FOUND")

    def analytics(self) -> None:
        if "r_member_postAnalytics" not in self.grant_scope.replace(",", " ").split():
            return self.error(
                403, "Not enough permissions to access: memberCreatorPostAnalytics.GET.20260101", "ACCESS_DENIED", 100
            )
        query = self.query()
        match = re.fullmatch(r"\((share|ugc):(.+)\)", query.get("entity", ""))
        if query.get("q") != "entity" or match is None or not query.get("queryType"):
            return self.error(400, "Invalid query parameters", "BAD_REQUEST")
        urn = unquote(match.group(2))
        if urn not in self.state.posts:
            return self.error(404, f"Not found: {urn}", "NOT_FOUND")
        count = self.state.analytics.get(urn, {}).get(query["queryType"], 0)
        return self.reply(
            200,
            {
                "elements": [
                    {
                        "count": count,
                        "metricType": {
                            "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": query[
                                "queryType"
                            ]
                        },
                    }
                ]
            },
        )

    def do_POST(self) -> None:
        path = self.log_request_line("POST")
        raw = self.raw_body()
        if path == "/oauth/v2/accessToken":
            return self.token(raw)
        user = self.guard(path)
        if user is None:
            return None
        body = self.json_body(raw)
        if body is None:
            return self.error(400, "Request body must be JSON", "BAD_REQUEST")
        author = f"urn:li:person:{user}"
        if path == "/rest/images" and self.query().get("action") == "initializeUpload":
            owner = (body.get("initializeUploadRequest") or {}).get("owner")
            if owner != author:
                return self.error(403, "Not enough permissions to act as this owner", "ACCESS_DENIED", 100)
            urn = f"urn:li:image:D4E10AQ{secrets.token_hex(6)}"
            upload = secrets.token_urlsafe(12)
            self.state.images[urn] = {"owner": owner, "upload": upload, "content": None}
            value = {
                "uploadUrlExpiresAt": int(time.time() * 1000) + 3600_000,
                "uploadUrl": f"http://{self.headers.get('Host')}/dms-uploads/{upload}",
                "image": urn,
            }
            return self.reply(200, {"value": value})
        if path == "/rest/posts":
            return self.create(author, body)
        return self.error(404, f"No resource found for {path}", "NOT_FOUND")

    def create(self, author: str, body: dict[str, Any]) -> None:
        problems = []
        if body.get("author") != author:
            problems.append("author must be the authenticated member")
        if body.get("visibility") not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
            problems.append("visibility is required")
        if (body.get("distribution") or {}).get("feedDistribution") not in ("MAIN_FEED", "NONE"):
            problems.append("distribution.feedDistribution is required")
        if body.get("lifecycleState") != "PUBLISHED":
            problems.append("lifecycleState must be PUBLISHED")
        content = body.get("content") or {}
        if "media" in content:
            image = self.state.images.get(str(content["media"].get("id")))
            if image is None or image["content"] is None:
                problems.append("content.media.id is not an uploaded image")
        if "article" in content and not (content["article"].get("source") and content["article"].get("title")):
            problems.append("content.article needs source and title")
        if problems:
            return self.reply(
                422,
                {
                    "errorDetailType": "com.linkedin.common.error.BadRequest",
                    "message": "; ".join(problems),
                    "errorDetails": {
                        "inputErrors": [{"description": p, "input": {}, "code": "INVALID_VALUE"} for p in problems]
                    },
                    "status": 422,
                },
            )
        commentary = read_little_text(str(body.get("commentary") or ""))
        with self.state.lock:
            for urn, post in self.state.posts.items():
                # Same member, same text: LinkedIn calls it a duplicate (a fresh image URN does not make
                # it new, as far as the public reports go (?)).
                same = post["commentary"] == commentary if commentary else post["content"] == content
                if post["author"] == author and same:
                    message = (
                        "com.linkedin.content.common.exception.BadRequestResponseException: "
                        f"Content is a duplicate of {urn}"
                    )
                    details = {
                        "inputErrors": [
                            {"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}
                        ]
                    }
                    body422 = {
                        "errorDetailType": "com.linkedin.common.error.BadRequest",
                        "message": message,
                        "errorDetails": details,
                        "status": 422,
                    }
                    return self.reply(422, body422)
            urn = f"urn:li:share:{7400000000000000000 + next(self.state.ids)}"
            self.state.posts[urn] = {"author": author, "commentary": commentary, "content": content}
        time.sleep(self.state.create_delay)
        if self.gateway_instead():
            return None
        return self.reply(201, None, {"x-restli-id": urn, "x-linkedin-id": urn})

    def do_PUT(self) -> None:
        path = self.log_request_line("PUT")
        raw = self.raw_body()
        grant, _why = self.bearer_grant()
        if grant is None:
            return self.error(401, "Invalid access token", "", 65600)
        upload = path.removeprefix("/dms-uploads/")
        for image in self.state.images.values():
            if image["upload"] == upload and raw:
                image["content"] = raw
                return self.reply(201, None)
        return self.error(400, "Invalid upload", "BAD_REQUEST")

    def do_DELETE(self) -> None:
        path = self.log_request_line("DELETE")
        if self.guard(path) is None:
            return None
        urn = unquote(path.removeprefix("/rest/posts/"))
        if self.state.posts.pop(urn, None) is None:
            return self.error(404, f"Not found: {urn}", "NOT_FOUND")
        return self.reply(204, None)

    def token(self, raw: bytes) -> None:
        data = self.form(raw).fields
        if data.get("client_id") != self.state.client_id or data.get("client_secret") != self.state.client_secret:
            return self.reply(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if data.get("grant_type") != "authorization_code":
            return self.reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Refresh tokens are not enabled for this application",
                },
            )
        grant, reason = self.redeem_code(data, pkce=False)
        if grant is None:
            return self.reply(400, {"error": "invalid_request", "error_description": reason})
        body = self.issue_tokens(user=self.state.member, scope=grant["scope"].replace(" ", ","), with_refresh=False)
        body["id_token"] = "eyJhbGciOiJSUzI1NiJ9.e30.signature"
        return self.reply(200, body)


class LinkedInDouble(Double):
    handler = LinkedInHandler
    state: LinkedInState

    def __init__(self) -> None:
        super().__init__(LinkedInState())


@contextmanager
def running_linkedin_double() -> Iterator[LinkedInDouble]:
    double = LinkedInDouble()
    double.start()
    try:
        yield double
    finally:
        double.stop()
