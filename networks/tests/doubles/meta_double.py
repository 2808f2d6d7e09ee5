"""Local doubles of Meta's Graph hosts (Instagram, Threads, Facebook Pages) over real HTTP on loopback.

One server per network (``MetaDouble("instagram" | "threads" | "facebook")``). It reproduces what
Meta's documentation describes:

- OAuth: ``/oauth/authorize`` (Instagram, Threads) and ``/v23.0/dialog/oauth`` (Facebook) consent at once
  and redirect with ``code`` and ``state``; the code exchange checks client id, secret and the exact
  redirect URI; the long-lived exchange (``ig_exchange_token`` / ``th_exchange_token`` /
  ``fb_exchange_token``) and the refresh (``ig_refresh_token`` / ``th_refresh_token``).
- Every Graph call needs ``access_token`` (code 104 without it); expired tokens answer 190/463,
  revoked ones 190/460 (password changed) or 190/458 (app removed).
- Instagram: ``POST /{ig-user}/media`` needs ``image_url`` (text-only is refused), containers are
  ``IN_PROGRESS`` for ``container_polls`` reads, then ``FINISHED``; ``media_publish`` needs
  ``creation_id``, publishes a container once (``PUBLISHED``), and refuses past the quota with code 9
  subcode 2207042; ``content_publishing_limit`` reports ``quota_usage`` and ``config``; insights refuse
  ``impressions`` (code 100) and answer ``(#10) Not enough viewers`` for media in ``small_media``.
- Threads: ``POST /{uid}/threads`` (``media_type`` TEXT/IMAGE, ``image_url``, ``link_attachment`` on text
  only), container ``status``, ``threads_publish``, insights with ``values`` / ``total_value``.
- Facebook: ``/me/accounts`` with page tokens, ``POST /{page}/photos`` (``published=false``), ``/feed`` with
  ``attached_media`` and ``link``, ``(#506) Duplicate status message``, insights refusing the removed
  ``post_impressions_unique``, counts via ``fields=shares,reactions.summary(true),comments.summary(true)``.
- ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` on every answer; ``fail_next[<endpoint>] = <kind>``
  makes the next call of that endpoint fail with ``rate_limit``, ``server_error``, ``policy``, ``permission``
  or ``app_token``.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from networks.tests.doubles.base import LateLanding, gateway_page

CLIENT_ID = "1234567890"
CLIENT_SECRET = "app-secret-for-tests"
VERSIONS = {"instagram": "v23.0", "threads": "v1.0", "facebook": "v23.0"}
IG_METRICS = {"reach", "views", "likes", "comments", "shares", "saved", "total_interactions"}
IG_REMOVED = {"impressions", "plays", "clips_replays_count", "ig_reels_aggregated_all_plays_count"}
TH_METRICS = {"views", "likes", "replies", "reposts", "quotes", "shares"}
FB_METRICS = {"post_total_media_view_unique", "post_clicks", "post_total_media_view", "post_reactions_by_type_total"}
FB_REMOVED = {"post_impressions_unique", "post_impressions", "post_engaged_users"}


@dataclass
class MetaState:
    network: str
    user_id: str = "17841400000000001"
    username: str = "linki.creator"
    account_type: str = "BUSINESS"
    followers: int = 1520
    pages: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"id": "101000000000001", "name": "Corner Bakery"},
            {"id": "101000000000002", "name": "Weekend Runs"},
        ]
    )
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> {kind, owner, expires_at, created}
    revoked: dict[str, int] = field(default_factory=dict)  # token -> subcode
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    photos: dict[str, dict[str, Any]] = field(default_factory=dict)
    small_media: set[str] = field(default_factory=set)  # insights answer "(#10) Not enough viewers"
    quota_total: int = 100
    quota_usage: int = 0
    container_polls: int = 2  # reads answering IN_PROGRESS before FINISHED
    publish_delay: float = 0.0  # sleep after publishing (media_publish / threads_publish / feed)
    #: The post is published, then the proxy in front of Graph answers this status instead (one publish only).
    gateway_after_publish: int | None = None
    #: With ``gateway_after_publish``: the post appears only after the gateway answered (``LateLanding``).
    late: LateLanding = field(default_factory=LateLanding)
    #: endpoint -> rate_limit | server_error | policy | permission | app_token
    fail_next: dict[str, str] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=lambda: {"call_count": 7, "total_cputime": 3, "total_time": 4})
    regain_minutes: int = 0
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    exchanges: int = 0
    refreshes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(17900000000000001))


class _Handler(BaseHTTPRequestHandler):
    state: MetaState
    server_version = "MetaGraphDouble/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- plumbing -----------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        usage = dict(self.state.usage)
        buc_entry = {**usage, "type": self.state.network, "estimated_time_to_regain_access": self.state.regain_minutes}
        owner = self.state.pages[0]["id"] if self.state.network == "facebook" else self.state.user_id
        return {
            "X-App-Usage": json.dumps(usage),
            "X-Business-Use-Case-Usage": json.dumps({owner: [buc_entry]}),
            "x-fb-trace-id": secrets.token_urlsafe(8),
        }

    def _reply(self, status: int, body: Any, *, redirect: str = "") -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        if redirect:
            self.send_header("Location", redirect)
        for name, value in self._headers().items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _error(
        self,
        status: int,
        message: str,
        *,
        code: int,
        subcode: int | None = None,
        kind: str = "OAuthException",
        **extra: Any,
    ) -> None:
        error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_urlsafe(9)}
        if subcode is not None:
            error["error_subcode"] = subcode
        error.update(extra)
        self._reply(status, {"error": error})

    def _params(self) -> dict[str, Any]:
        url = urlsplit(self.path)
        params: dict[str, Any] = {key: values[-1] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            for part in message.iter_parts():
                name = str(part.get_param("name", header="content-disposition"))
                payload = part.get_payload(decode=True)
                params[name] = payload if part.get_filename() else payload.decode()
        elif raw:
            params.update({key: values[-1] for key, values in parse_qs(raw.decode()).items()})
        return params

    def _token(self, params: dict[str, Any]) -> dict[str, Any] | None:
        token = params.get("access_token")
        if not token:
            self._error(400, "An access token is required to request this resource.", code=104)
            return None
        grant = self.state.tokens.get(str(token))
        if grant is None:
            self._error(400, "Invalid OAuth access token - Cannot parse access token", code=190)
            return None
        if str(token) in self.state.revoked:
            subcode = self.state.revoked[str(token)]
            message = {
                458: "Error validating access token: The user has not authorized application 1234567890.",
                460: (
                    "Error validating access token: The session has been invalidated because the user "
                    "changed their password."
                ),
            }.get(subcode, "Error validating access token: The session is invalid because the user logged out.")
            self._error(400, message, code=190, subcode=subcode)
            return None
        if grant["expires_at"] is not None and grant["expires_at"] <= time.time():
            self._error(
                400, "Error validating access token: Session has expired on Thursday, 26-Nov-26.", code=190, subcode=463
            )
            return None
        return grant

    def _injected(self, endpoint: str) -> bool:
        kind = self.state.fail_next.pop(endpoint, None)
        if kind is None:
            return False
        if kind == "rate_limit":
            self.state.usage = {"call_count": 100, "total_cputime": 40, "total_time": 55}
            self.state.regain_minutes = 7
            code = 80002 if self.state.network == "instagram" else 32 if self.state.network == "facebook" else 4
            self._error(400, f"(#{code}) There have been too many calls. Please wait a bit and try again.", code=code)
        elif kind == "server_error":
            self._error(
                500, "An unexpected error has occurred. Please retry your request later.", code=2, is_transient=True
            )
        elif kind == "permission":
            # Recorded from the Graph API (recordings/meta/base/error_data.json): code 100 without subcode 33.
            self._error(
                400,
                "(#100) Object does not exist, cannot be loaded due to missing permission or reviewable feature, "
                "or does not support this operation. This endpoint requires the 'pages_read_engagement' permission "
                "or the 'Page Public Content Access' feature.",
                code=100,
            )
        elif kind == "app_token":
            self._error(400, "(#100) This endpoint requires an app access token", code=100)
        elif kind == "policy":
            self._error(
                400,
                "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
                code=368,
                subcode=1390008,
            )
        return True

    def _gateway_instead(self) -> bool:
        with self.state.lock:
            status, self.state.gateway_after_publish = self.state.gateway_after_publish, None
        if status is None:
            return False
        gateway_page(self, status)
        return True

    def _gateway_now_post_later(self, create: Callable[[], object]) -> bool:
        """With ``late`` on and a gateway answer due: answer it now and let Graph create the post later."""
        if not self.state.late.on:
            return False
        with self.state.lock:
            status, self.state.gateway_after_publish = self.state.gateway_after_publish, None
        if status is None:
            return False
        self.state.late.schedule(create)
        gateway_page(self, status)
        return True

    def _new_id(self) -> str:
        with self.state.lock:
            return str(next(self.state.ids))

    def _issue(self, *, kind: str, owner: str, lifetime: int | None) -> str:
        token = f"{kind[:2].upper()}{secrets.token_urlsafe(24)}"
        self.state.tokens[token] = {
            "kind": kind,
            "owner": owner,
            "expires_at": time.time() + lifetime if lifetime else None,
            "created": time.time(),
        }
        return token

    # --- dispatch -----------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        params = self._params()
        path = urlsplit(self.path).path
        self.state.requests.append((method, path, {k: v for k, v in params.items() if not isinstance(v, bytes)}))
        version = VERSIONS[self.state.network]
        network = self.state.network
        if (network in ("instagram", "threads") and path == "/oauth/authorize") or path == f"/{version}/dialog/oauth":
            return self._authorize(params)
        if path in ("/oauth/access_token", f"/{version}/oauth/access_token"):
            return self._code_exchange(method, params)
        if path == "/access_token":
            return self._long_lived(params)
        if path == "/refresh_access_token":
            return self._refresh(params)
        if not path.startswith(f"/{version}/"):
            return self._error(400, "Unknown path components: " + path, code=2500)
        parts = path.split("/")[2:]
        grant = self._token(params)
        if grant is None:
            return None
        handler = getattr(self, f"_{network}", None)
        assert handler is not None
        handler(method, parts, params, grant)
        return None

    # --- OAuth --------------------------------------------------------------------

    def _authorize(self, params: dict[str, Any]) -> None:
        if (
            params.get("client_id") != CLIENT_ID
            or not params.get("redirect_uri")
            or params.get("response_type") != "code"
        ):
            return self._error(400, "Invalid platform app", code=100)
        if not params.get("state") or not params.get("scope"):
            return self._error(400, "The parameter scope and state are required", code=100)
        code = secrets.token_urlsafe(16)
        self.state.codes[code] = str(params["redirect_uri"])
        target = f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params['state']})}"
        if self.state.network == "instagram":
            target += "#_"  # Instagram appends #_ to the redirect
        return self._reply(302, None, redirect=target)

    def _check_app(self, params: dict[str, Any]) -> bool:
        if params.get("client_id") not in (CLIENT_ID, None) or params.get("client_secret") != CLIENT_SECRET:
            self._error(400, "Error validating client secret.", code=1, subcode=None, kind="OAuthException")
            return False
        return True

    def _code_exchange(self, method: str, params: dict[str, Any]) -> None:
        network = self.state.network
        if network == "facebook" and params.get("grant_type") == "fb_exchange_token":
            return self._long_lived(params)
        expected = "GET" if network == "facebook" else "POST"
        if method != expected:
            return self._error(400, f"Unsupported {method} request.", code=100)
        if params.get("client_id") != CLIENT_ID or not self._check_app(params):
            return None
        if network != "facebook" and params.get("grant_type") != "authorization_code":
            return self._error(400, "Invalid grant_type", code=100, kind="IGApiException")
        redirect_uri = self.state.codes.pop(str(params.get("code", "")), None)
        if redirect_uri is None:
            return self._error(400, "This authorization code has been used.", code=100, subcode=36009)
        if redirect_uri != params.get("redirect_uri"):
            return self._error(
                400, "Error validating verification code. Please make sure your redirect_uri is identical.", code=100
            )
        owner = self.state.user_id
        token = self._issue(kind="short", owner=owner, lifetime=3600)
        if network == "instagram":
            return self._reply(
                200,
                {
                    "data": [
                        {
                            "access_token": token,
                            "user_id": owner,
                            "permissions": "instagram_business_basic,instagram_business_content_publish",
                        }
                    ]
                },
            )
        if network == "threads":
            return self._reply(200, {"access_token": token, "user_id": owner})
        return self._reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 5183})

    def _long_lived(self, params: dict[str, Any]) -> None:
        network = self.state.network
        expected = {"instagram": "ig_exchange_token", "threads": "th_exchange_token", "facebook": "fb_exchange_token"}[
            network
        ]
        if params.get("grant_type") != expected:
            return self._error(400, "Unsupported grant_type", code=100)
        if not self._check_app(params):
            return None
        short = str(params.get("fb_exchange_token") if network == "facebook" else params.get("access_token") or "")
        grant = self._token({"access_token": short})
        if grant is None:
            return None
        if grant["kind"] != "short":
            return self._error(400, "Only short-lived tokens can be exchanged", code=100)
        self.state.exchanges += 1
        token = self._issue(kind="long", owner=grant["owner"], lifetime=5184000)
        return self._reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 5184000})

    def _refresh(self, params: dict[str, Any]) -> None:
        expected = {"instagram": "ig_refresh_token", "threads": "th_refresh_token"}.get(self.state.network)
        if expected is None or params.get("grant_type") != expected:
            return self._error(400, "Unsupported grant_type", code=100)
        grant = self._token(params)
        if grant is None:
            return None
        if grant["kind"] != "long":
            return self._error(400, "Only long-lived tokens can be refreshed", code=100)
        self.state.refreshes += 1
        token = self._issue(kind="long", owner=grant["owner"], lifetime=5184000)
        return self._reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 5184000})

    # --- shared container flow (Instagram, Threads) --------------------------------

    def _container_status(self, container_id: str) -> str:
        container = self.state.containers[container_id]
        if container["status"] == "IN_PROGRESS":
            if container["polls_left"] > 0:
                container["polls_left"] -= 1
            else:
                container["status"] = "ERROR" if "broken" in container["image_url"] else "FINISHED"
        return str(container["status"])

    def _publish_container(self, params: dict[str, Any], owner: str) -> None:
        creation_id = str(params.get("creation_id") or "")
        if not creation_id:
            return self._error(400, "(#100) The parameter creation_id is required", code=100)
        container = self.state.containers.get(creation_id)
        if container is None or container["owner"] != owner:
            return self._error(
                400, "(#100) Invalid parameter", code=100, subcode=2207006, error_user_msg="The media ID is invalid."
            )
        status = self._container_status(creation_id)
        if self.state.network == "instagram" and self.state.quota_usage >= self.state.quota_total:
            return self._error(
                400,
                "Application request limit reached",
                code=9,
                subcode=2207042,
                error_user_title="Max posts reached",
                error_user_msg=(
                    "You reached maximum number of posts that is allowed to be published by Content Publishing API."
                ),
            )
        if status == "PUBLISHED":
            return self._error(400, "(#100) The media has already been published", code=100, subcode=2207008)
        if status != "FINISHED":
            return self._error(
                400,
                "Media ID is not available",
                code=9007,
                subcode=2207027,
                error_user_msg="The media is not ready for publishing.",
            )
        media_id = self._new_id()
        container["status"] = "PUBLISHED"
        self.state.quota_usage += 1
        self.state.posts[media_id] = {
            "owner": owner,
            "text": container["text"],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "container": creation_id,
            "insights": {},
        }
        time.sleep(self.state.publish_delay)
        if self._gateway_instead():
            return None
        return self._reply(200, {"id": media_id})

    def _insights(self, post_id: str, params: dict[str, Any], allowed: set[str], removed: set[str]) -> None:
        post = self.state.posts.get(post_id)
        if post is None:
            return self._error(
                400, f"Unsupported get request. Object with ID '{post_id}' does not exist.", code=100, subcode=33
            )
        wanted = [m for m in str(params.get("metric") or "").split(",") if m]
        if not wanted:
            return self._error(400, "(#100) The parameter metric is required", code=100)
        for metric in wanted:
            if metric in removed or metric not in allowed:
                names = ", ".join(sorted(allowed))
                message = f"(#100) metric[{wanted.index(metric)}] must be one of the following values: {names}"
                if metric == "impressions":
                    message = (
                        "(#100) Starting from version v22.0 and above, the impressions metric is no longer supported."
                    )
                return self._error(400, message, code=100)
        if post_id in self.state.small_media:
            return self._error(400, "(#10) Not enough viewers for the media to show insights", code=10)
        data = []
        for metric in wanted:
            value = post["insights"].get(metric, 0)
            entry: dict[str, Any] = {
                "name": metric,
                "period": "lifetime",
                "title": metric,
                "id": f"{post_id}/insights/{metric}/lifetime",
            }
            if self.state.network == "threads" and metric == "views":
                entry["total_value"] = {"value": value}
            else:
                entry["values"] = [{"value": value}]
            data.append(entry)
        return self._reply(200, {"data": data})

    # --- Instagram ----------------------------------------------------------------

    def _instagram(self, method: str, parts: list[str], params: dict[str, Any], grant: dict[str, Any]) -> None:
        owner = grant["owner"]
        if parts == ["me"] and method == "GET":
            return self._reply(
                200,
                {
                    "id": "2600000000000001",
                    "user_id": owner,
                    "username": self.state.username,
                    "name": "Linki Creator",
                    "account_type": self.state.account_type,
                    "profile_picture_url": "https://scontent.example/p.jpg",
                    "followers_count": self.state.followers,
                    "media_count": len(self.state.posts),
                },
            )
        if len(parts) == 2 and parts[0] == owner and parts[1] == "content_publishing_limit":
            return self._reply(
                200,
                {
                    "data": [
                        {
                            "quota_usage": self.state.quota_usage,
                            "config": {"quota_total": self.state.quota_total, "quota_duration": 86400},
                        }
                    ]
                },
            )
        if len(parts) == 2 and parts[0] == owner and parts[1] == "media" and method == "POST":
            if self._injected("media"):
                return None
            image_url = str(params.get("image_url") or "")
            if not image_url and params.get("media_type") not in ("VIDEO", "REELS", "CAROUSEL", "STORIES"):
                return self._error(400, "(#100) The parameter image_url is required.", code=100)
            if not image_url.startswith(("http://", "https://")):
                return self._error(
                    400, "(#9004) Only photo or video can be accepted as media type.", code=9004, subcode=2207052
                )
            caption = str(params.get("caption") or "")
            if len(caption) > 2200:
                return self._error(400, "(#100) The caption is too long", code=100, subcode=2207010)
            container_id = self._new_id()
            self.state.containers[container_id] = {
                "owner": owner,
                "text": caption,
                "image_url": image_url,
                "status": "IN_PROGRESS",
                "polls_left": self.state.container_polls,
            }
            return self._reply(200, {"id": container_id})
        if len(parts) == 2 and parts[0] == owner and parts[1] == "media_publish" and method == "POST":
            if self._injected("media_publish"):
                return None
            return self._publish_container(params, owner)
        if len(parts) == 2 and parts[0] == owner and parts[1] == "media" and method == "GET":
            items = [
                {
                    "id": pid,
                    "caption": post["text"],
                    "timestamp": post["timestamp"],
                    "permalink": f"https://www.instagram.com/p/{pid}/",
                }
                for pid, post in reversed(self.state.posts.items())
                if post["owner"] == owner
            ]
            return self._reply(200, {"data": items[: int(params.get("limit") or 25)]})
        if len(parts) == 2 and parts[1] == "insights":
            if self._injected("insights"):
                return None
            return self._insights(parts[0], params, IG_METRICS, IG_REMOVED)
        if len(parts) == 1 and parts[0] in self.state.containers:
            if self._injected("status"):
                return None
            container = self.state.containers[parts[0]]
            status = self._container_status(parts[0])
            body = {"id": parts[0], "status_code": status}
            if status == "ERROR":
                body["status"] = "Error: 2207003 The media could not be downloaded"
            elif status == "IN_PROGRESS":
                body["status"] = "In Progress: Media is still being processed."
            assert container
            return self._reply(200, body)
        if len(parts) == 1 and parts[0] in self.state.posts:
            post = self.state.posts[parts[0]]
            return self._reply(
                200,
                {
                    "id": parts[0],
                    "permalink": f"https://www.instagram.com/p/{parts[0]}/",
                    "timestamp": post["timestamp"],
                },
            )
        return self._error(
            400,
            f"Unsupported {method.lower()} request. Object with ID '{parts[0]}' does not exist.",
            code=100,
            subcode=33,
        )

    # --- Threads ------------------------------------------------------------------

    def _threads(self, method: str, parts: list[str], params: dict[str, Any], grant: dict[str, Any]) -> None:
        owner = grant["owner"]
        if parts == ["me"] and method == "GET":
            return self._reply(
                200,
                {
                    "id": owner,
                    "username": self.state.username,
                    "name": "Linki Creator",
                    "threads_profile_picture_url": "https://scontent.example/t.jpg",
                },
            )
        if len(parts) == 2 and parts[0] == owner and parts[1] == "threads_insights":
            if params.get("metric") != "followers_count":
                return self._error(400, "(#100) The parameter metric is required", code=100)
            return self._reply(
                200,
                {
                    "data": [
                        {"name": "followers_count", "period": "day", "total_value": {"value": self.state.followers}}
                    ]
                },
            )
        if len(parts) == 2 and parts[0] == owner and parts[1] == "threads" and method == "POST":
            if self._injected("threads"):
                return None
            media_type = params.get("media_type")
            text = str(params.get("text") or "")
            if media_type not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
                return self._error(400, "(#100) The parameter media_type is required", code=100)
            if media_type == "TEXT" and not text:
                return self._error(400, "(#100) The parameter text is required for TEXT posts", code=100)
            if media_type == "IMAGE" and not params.get("image_url"):
                return self._error(400, "(#100) The parameter image_url is required", code=100)
            if params.get("link_attachment") and media_type != "TEXT":
                return self._error(400, "(#100) link_attachment is only supported for TEXT posts", code=100)
            if len(text) > 500:
                return self._error(
                    400, "(#100) Param text must be at most 500 characters long.", code=100, subcode=4279009
                )
            container_id = self._new_id()
            self.state.containers[container_id] = {
                "owner": owner,
                "text": text,
                "image_url": str(params.get("image_url") or ""),
                "link": str(params.get("link_attachment") or ""),
                "status": "IN_PROGRESS",
                "polls_left": self.state.container_polls,
            }
            return self._reply(200, {"id": container_id})
        if len(parts) == 2 and parts[0] == owner and parts[1] == "threads_publish" and method == "POST":
            if self._injected("threads_publish"):
                return None
            return self._publish_container(params, owner)
        if len(parts) == 2 and parts[0] == owner and parts[1] == "threads" and method == "GET":
            items = [
                {
                    "id": pid,
                    "text": post["text"],
                    "timestamp": post["timestamp"],
                    "permalink": f"https://www.threads.net/@{self.state.username}/post/{pid}",
                }
                for pid, post in reversed(self.state.posts.items())
                if post["owner"] == owner
            ]
            return self._reply(200, {"data": items[: int(params.get("limit") or 25)]})
        if len(parts) == 2 and parts[1] == "insights":
            if self._injected("insights"):
                return None
            return self._insights(parts[0], params, TH_METRICS, set())
        if len(parts) == 1 and parts[0] in self.state.containers:
            status = self._container_status(parts[0])
            body = {"id": parts[0], "status": status}
            if status == "ERROR":
                body["error_message"] = "FAILED_DOWNLOADING_IMAGE"
            return self._reply(200, body)
        if len(parts) == 1 and parts[0] in self.state.posts:
            if method == "DELETE":
                del self.state.posts[parts[0]]
                return self._reply(200, {"success": True, "deleted_id": parts[0]})
            return self._reply(
                200,
                {
                    "id": parts[0],
                    "permalink": f"https://www.threads.net/@{self.state.username}/post/{parts[0]}",
                    "timestamp": self.state.posts[parts[0]]["timestamp"],
                },
            )
        return self._error(
            400,
            f"Unsupported {method.lower()} request. Object with ID '{parts[0]}' does not exist.",
            code=100,
            subcode=33,
        )

    # --- Facebook Pages -----------------------------------------------------------

    def _page_for(self, grant: dict[str, Any]) -> dict[str, str] | None:
        return next((page for page in self.state.pages if page["id"] == grant["owner"]), None)

    def _facebook(self, method: str, parts: list[str], params: dict[str, Any], grant: dict[str, Any]) -> None:
        page = self._page_for(grant) if grant["kind"] == "page" else None
        if parts == ["me", "accounts"] and method == "GET":
            if grant["kind"] != "long" and grant["kind"] != "short":
                return self._error(
                    400, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)", code=100
                )
            data = []
            for entry in self.state.pages:
                token = next(
                    (
                        t
                        for t, g in self.state.tokens.items()
                        if g["kind"] == "page" and g["owner"] == entry["id"] and t not in self.state.revoked
                    ),
                    None,
                ) or self._issue(kind="page", owner=entry["id"], lifetime=None)
                item = {"id": entry["id"], "name": entry["name"], "category": "Bakery"}
                if "access_token" in str(params.get("fields", "")):
                    item["access_token"] = token
                data.append(item)
            return self._reply(200, {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}})
        if parts == ["me"] and method == "GET":
            if page is None:
                return self._reply(200, {"id": grant["owner"], "name": "Person Using Facebook"})
            return self._reply(
                200,
                {
                    "id": page["id"],
                    "name": page["name"],
                    "link": f"https://www.facebook.com/{page['id']}",
                    "followers_count": self.state.followers,
                    "picture": {"data": {"url": "https://scontent.example/page.jpg"}},
                },
            )
        if len(parts) == 2 and parts[1] in ("photos", "feed", "posts"):
            if page is None or page["id"] != parts[0]:
                return self._error(403, "(#200) Requires pages_manage_posts permission to manage the object", code=200)
            if parts[1] == "photos" and method == "POST":
                if self._injected("photos"):
                    return None
                if not params.get("source") and not params.get("url"):
                    return self._error(400, "(#324) Requires upload file", code=324)
                photo_id = self._new_id()
                self.state.photos[photo_id] = {"page": page["id"], "published": params.get("published") != "false"}
                return self._reply(200, {"id": photo_id})
            if parts[1] == "feed" and method == "POST":
                if self._injected("feed"):
                    return None
                return self._feed(page, params)
            if parts[1] == "posts" and method == "GET":
                items = [
                    {
                        "id": pid,
                        "message": post["text"],
                        "created_time": post["timestamp"],
                        "permalink_url": f"https://www.facebook.com/{pid}",
                    }
                    for pid, post in reversed(self.state.posts.items())
                    if post["owner"] == page["id"]
                ]
                return self._reply(200, {"data": items[: int(params.get("limit") or 25)]})
        if len(parts) == 2 and parts[1] == "insights":
            if self._injected("insights"):
                return None
            return self._insights(parts[0], params, FB_METRICS, FB_REMOVED)
        if len(parts) == 1 and parts[0] in self.state.posts:
            post = self.state.posts[parts[0]]
            if method == "DELETE":
                del self.state.posts[parts[0]]
                return self._reply(200, {"success": True})
            fields = str(params.get("fields") or "")
            body: dict[str, Any] = {"id": parts[0]}
            if "permalink_url" in fields:
                body["permalink_url"] = f"https://www.facebook.com/{parts[0]}"
            if "created_time" in fields:
                body["created_time"] = post["timestamp"]
            if "shares" in fields and post["insights"].get("shares"):
                body["shares"] = {"count": post["insights"]["shares"]}  # absent when nobody shared
            if "reactions.summary(true)" in fields:
                body["reactions"] = {
                    "data": [],
                    "summary": {"total_count": post["insights"].get("reactions", 0), "viewer_reaction": "NONE"},
                }
            if "comments.summary(true)" in fields:
                body["comments"] = {
                    "data": [],
                    "summary": {
                        "order": "ranked",
                        "total_count": post["insights"].get("comments", 0),
                        "can_comment": True,
                    },
                }
            return self._reply(200, body)
        return self._error(
            400,
            f"Unsupported {method.lower()} request. Object with ID '{parts[0]}' does not exist.",
            code=100,
            subcode=33,
        )

    def _feed(self, page: dict[str, str], params: dict[str, Any]) -> None:
        message = str(params.get("message") or "")
        link = str(params.get("link") or "")
        attached: list[dict[str, str]] = []
        if params.get("attached_media"):
            try:
                attached = list(json.loads(str(params["attached_media"])))
            except ValueError:
                return self._error(400, "(#100) param attached_media must be an array.", code=100)
        if not message and not link and not attached:
            return self._error(400, "(#100) Missing message or attachment", code=100)
        for item in attached:
            photo = self.state.photos.get(str(item.get("media_fbid")))
            if photo is None or photo["page"] != page["id"]:
                return self._error(400, "(#100) Invalid media_fbid", code=100)
            if photo["published"]:
                return self._error(
                    400, "(#100) Photos attached to a post must be uploaded with published=false", code=100
                )
        duplicate = any(
            p["owner"] == page["id"] and p["text"] == message and message for p in self.state.posts.values()
        )
        if duplicate:
            return self._error(400, "(#506) Duplicate status message", code=506)

        def store() -> str:
            post_id = f"{page['id']}_{self._new_id()}"
            self.state.posts[post_id] = {
                "owner": page["id"],
                "text": message,
                "link": link,
                "photos": [item["media_fbid"] for item in attached],
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "insights": {},
            }
            return post_id

        if self._gateway_now_post_later(store):
            return None
        post_id = store()
        time.sleep(self.state.publish_delay)
        if self._gateway_instead():
            return None
        return self._reply(200, {"id": post_id})


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # clients that time out on purpose leave broken pipes behind


class MetaDouble:
    def __init__(self, network: str) -> None:
        self.state = MetaState(network=network)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> MetaDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def revoke(self, token: str, *, subcode: int = 460) -> None:
        self.state.revoked[token] = subcode

    def expire(self, token: str) -> None:
        self.state.tokens[token]["expires_at"] = time.time() - 1

    def set_insights(self, post_id: str, **values: int) -> None:
        self.state.posts[post_id]["insights"].update(values)


@contextmanager
def running_meta_double(network: str) -> Iterator[MetaDouble]:
    double = MetaDouble(network).start()
    try:
        yield double
    finally:
        double.stop()
