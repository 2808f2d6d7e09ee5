"""A small Mastodon server double over real HTTP (loopback), reproducing the documented shapes.

Used where the built-in sandbox is not the right tool (timeouts, 5xx, token refresh). Shapes and
error bodies follow /work/shared/networks.md: ``POST /api/v1/apps``, ``/oauth/authorize`` (answers
with the redirect straight away, as if the person consented), ``POST /oauth/token`` (exact
redirect URI, PKCE S256 checked), ``verify_credentials``, ``POST /api/v2/media`` (202) and
``GET /api/v1/media/:id`` (206 then 200), ``POST /api/v1/statuses`` with ``Idempotency-Key``,
``GET``/``DELETE /api/v1/statuses/:id``, ``X-RateLimit-*`` headers with an ISO-8601 reset, 401
``{"error":"The access token is invalid"}``, 422 ``{"error":"Validation failed: ..."}``.

Several accounts (``MastodonDouble.add_account``) can favourite (``POST .../favourite``), boost
(``POST .../reblog``), reply (``in_reply_to_id``) and quote (``quoted_status_id``, 4.5) a status; the
Status entity then answers ``favourited`` / ``reblogged`` for the account whose token reads it, and
``/context`` (descendants), ``/favourited_by``, ``/reblogged_by`` (<= 80 a page) and ``/quotes`` (author
only, <= 40 a page) name who did it, as docs.joinmastodon.org/methods/statuses describes. Pages follow
the ``Link: <...>; rel="next"`` header.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class DoubleState:
    apps: dict[str, dict[str, str]] = field(default_factory=dict)  # client_id -> app
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> grant
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> account id
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> account id
    revoked: set[str] = field(default_factory=set)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], str] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    followers_count: int = 321
    rate_limit: int = 300
    rate_remaining: int = 300
    rate_reset_in: float = 120.0
    media_polls_before_ready: int = 2
    status_delay: float = 0.0  # seconds to wait before answering POST /api/v1/statuses
    read_delay: float = 0.0  # seconds to wait before answering GET /api/v1/statuses/:id
    fail_next_with: int | None = None  # answer the next API request with this 5xx
    token_expires_in: int | None = None  # when set, tokens expire and come with refresh tokens
    refresh_delay: float = 0.0
    refresh_calls: int = 0
    issue_new_refresh_token: bool = True
    quotes_supported: bool = False
    #: False: the server has no ``/context`` route (like the built-in sandbox): 404.
    context_supported: bool = True
    #: Status ids answered without their counts (a server that cannot give them right now).
    counts_hidden: set[str] = field(default_factory=set)
    #: account id -> username; the first is the account every OAuth grant logs in as.
    accounts: dict[str, str] = field(default_factory=lambda: {"109000000000000001": "lena"})
    page_size: int = 80
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(110000000000000001))


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class _Handler(BaseHTTPRequestHandler):
    state: DoubleState
    server_version = "MastodonDouble/4.4"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- helpers ----------------------------------------------------------------------

    def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _rate_headers(self) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(seconds=self.state.rate_reset_in)
        return {
            "X-RateLimit-Limit": str(self.state.rate_limit),
            "X-RateLimit-Remaining": str(max(self.state.rate_remaining, 0)),
            "X-RateLimit-Reset": reset.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _form(self, raw: bytes) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            return dict(json.loads(raw or b"{}"))
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            fields: dict[str, Any] = {}
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                fields[str(name)] = payload if part.get_filename() else payload.decode()
            return fields
        return {key: values[-1] for key, values in parse_qs(raw.decode()).items()}

    def _account_for_token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        account = self.state.tokens.get(token)
        if account is None or token in self.state.revoked:
            self._reply(401, {"error": "The access token is invalid"})
            return None
        return account

    def _limited(self) -> bool:
        with self.state.lock:
            if self.state.rate_remaining <= 0:
                self._reply(429, {"error": "Too many requests"}, self._rate_headers())
                return True
            self.state.rate_remaining -= 1
        if self.state.fail_next_with:
            status, self.state.fail_next_with = self.state.fail_next_with, None
            self._reply(status, {"error": "Something went wrong on our end"})
            return True
        return False

    def _account_json(self, account_id: str) -> dict[str, Any]:
        username = self.state.accounts.get(account_id, "person")
        return {
            "id": account_id,
            "username": username,
            "acct": username,
            "display_name": username.title(),
            "url": f"http://{self.headers.get('Host')}/@{username}",
        }

    def _status_json(self, status_id: str, viewer: str | None = None) -> dict[str, Any]:
        status = self.state.statuses[status_id]
        replies = [s for s in self.state.statuses.values() if s.get("in_reply_to_id") == status_id]
        quotes = [s for s in self.state.statuses.values() if s.get("quoted_status_id") == status_id]
        body = {
            "id": status_id,
            "created_at": status["created_at"],
            "in_reply_to_id": status.get("in_reply_to_id"),
            "url": f"http://{self.headers.get('Host')}/@person/{status_id}",
            "content": f"<p>{status['text']}</p>",
            "visibility": status["visibility"],
            "account": self._account_json(status["account"]),
            "favourites_count": status["favourites"] + len(status["favourited_by"]),
            "reblogs_count": status["reblogs"] + len(status["reblogged_by"]),
            "replies_count": status["replies"] + len(replies),
            "favourited": viewer in status["favourited_by"],
            "reblogged": viewer in status["reblogged_by"],
            "media_attachments": [{"id": media_id} for media_id in status["media_ids"]],
        }
        if self.state.quotes_supported:
            body["quotes_count"] = status["quotes"] + len(quotes)
        if status.get("quoted_status_id"):
            body["quote"] = {"state": "accepted", "quoted_status": {"id": status["quoted_status_id"]}}
        if status_id in self.state.counts_hidden:
            for name in ("favourites_count", "reblogs_count", "replies_count", "quotes_count"):
                body.pop(name, None)
        return body

    def _page(self, items: list[Any], query: dict[str, str], path: str, headers: dict[str, str]) -> None:
        """One page of ``items`` (offset pagination behind Mastodon's opaque ``max_id``), with a next link."""
        limit = min(int(query.get("limit") or 40), self.state.page_size)
        start = int(query.get("max_id") or 0)
        page = items[start : start + limit]
        if start + limit < len(items):
            following = f"http://{self.headers.get('Host')}{path}?limit={limit}&max_id={start + limit}"
            headers = {**headers, "Link": f'<{following}>; rel="next"'}
        return self._reply(200, page, headers)

    def _status_lists(self, status_id: str, what: str, account: str, query: dict[str, str], path: str) -> None:
        headers = self._rate_headers()
        status = self.state.statuses.get(status_id)
        if status is None:
            return self._reply(404, {"error": "Record not found"}, headers)
        if what == "context":
            if not self.state.context_supported:
                return self._reply(404, {"error": "Record not found"}, headers)
            descendants = [
                self._status_json(sid, account)
                for sid, s in self.state.statuses.items()
                if s.get("in_reply_to_id") == status_id
            ]
            return self._reply(200, {"ancestors": [], "descendants": descendants}, headers)
        if what == "favourited_by":
            return self._page([self._account_json(a) for a in status["favourited_by"]], query, path, headers)
        if what == "reblogged_by":
            return self._page([self._account_json(a) for a in status["reblogged_by"]], query, path, headers)
        if what == "quotes" and self.state.quotes_supported and status["account"] == account:
            quoting = [
                self._status_json(sid, account)
                for sid, s in self.state.statuses.items()
                if s.get("quoted_status_id") == status_id
            ]
            return self._page(quoting, {**query, "limit": str(min(int(query.get("limit") or 20), 40))}, path, headers)
        return self._reply(404, {"error": "Record not found"}, headers)

    # --- routes -----------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(("GET", url.path, dict(self.headers)))
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if url.path == "/oauth/authorize":
            return self._authorize(query)
        if self._limited():
            return None
        account = self._account_for_token()
        if account is None:
            return None
        headers = self._rate_headers()
        if url.path == "/api/v1/accounts/verify_credentials":
            return self._reply(
                200,
                {
                    "id": account,
                    "username": "lena",
                    "acct": "lena",
                    "display_name": "Lena Example",
                    "url": f"http://{self.headers.get('Host')}/@lena",
                    "avatar": "",
                    "followers_count": self.state.followers_count,
                },
                headers,
            )
        if url.path.startswith("/api/v1/media/"):
            media = self.state.media.get(url.path.rsplit("/", 1)[1])
            if media is None:
                return self._reply(404, {"error": "Record not found"}, headers)
            media["polls"] += 1
            ready = media["polls"] > self.state.media_polls_before_ready
            body = {"id": media["id"], "type": "image", "url": "http://x/m.png" if ready else None}
            return self._reply(200 if ready else 206, body, headers)
        parts = url.path.removeprefix("/api/v1/statuses/").split("/")
        if url.path.startswith("/api/v1/statuses/") and len(parts) == 2:
            return self._status_lists(parts[0], parts[1], account, query, url.path)
        if url.path.startswith("/api/v1/statuses/"):
            status_id = url.path.rsplit("/", 1)[1]
            time.sleep(self.state.read_delay)
            if status_id not in self.state.statuses:
                return self._reply(404, {"error": "Record not found"}, headers)
            return self._reply(200, self._status_json(status_id, account), headers)
        return self._reply(404, {"error": "Record not found"})

    def _authorize(self, query: dict[str, str]) -> None:
        app = self.state.apps.get(query.get("client_id", ""))
        if app is None or query.get("redirect_uri") != app["redirect_uri"]:
            return self._reply(400, {"error": "invalid_client"})
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return self._reply(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self.state.codes[code] = {
            "client_id": app["client_id"],
            "redirect_uri": query["redirect_uri"],
            "challenge": query["code_challenge"],
        }
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        self.state.requests.append(("POST", url.path, dict(self.headers)))
        data = self._form(raw)
        if url.path == "/api/v1/apps":
            client_id = secrets.token_urlsafe(12)
            app = {
                "client_id": client_id,
                "client_secret": secrets.token_urlsafe(24),
                "redirect_uri": str(data.get("redirect_uris", "")),
                "scopes": str(data.get("scopes", "")),
            }
            self.state.apps[client_id] = app
            return self._reply(200, {"id": "1", "name": data.get("client_name"), **app})
        if url.path == "/oauth/token":
            return self._token(data)
        if self._limited():
            return None
        account = self._account_for_token()
        if account is None:
            return None
        headers = self._rate_headers()
        if url.path == "/api/v2/media":
            media_id = str(next(self.state.ids))
            self.state.media[media_id] = {"id": media_id, "polls": 0, "size": len(data.get("file", b""))}
            return self._reply(202, {"id": media_id, "type": "image", "url": None}, headers)
        if url.path == "/api/v1/statuses":
            return self._create_status(account, data, headers)
        parts = url.path.removeprefix("/api/v1/statuses/").split("/")
        if url.path.startswith("/api/v1/statuses/") and len(parts) == 2 and parts[1] in ("favourite", "reblog"):
            status = self.state.statuses.get(parts[0])
            if status is None:
                return self._reply(404, {"error": "Record not found"}, headers)
            who = status["favourited_by" if parts[1] == "favourite" else "reblogged_by"]
            if account not in who:
                who.append(account)
            return self._reply(200, self._status_json(parts[0], account), headers)
        return self._reply(404, {"error": "Record not found"})

    def _token(self, data: dict[str, Any]) -> None:
        app = self.state.apps.get(str(data.get("client_id", "")))
        if app is None or data.get("client_secret") != app["client_secret"]:
            return self._reply(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if data.get("grant_type") == "refresh_token":
            with self.state.lock:
                self.state.refresh_calls += 1
            time.sleep(self.state.refresh_delay)
            account = self.state.refresh_tokens.pop(str(data.get("refresh_token", "")), None)
            if account is None:
                return self._reply(400, {"error": "invalid_grant", "error_description": "The refresh token is invalid"})
            return self._reply(200, self._issue(account, app, keep_refresh=str(data["refresh_token"])))
        grant = self.state.codes.pop(str(data.get("code", "")), None)
        if grant is None or grant["client_id"] != app["client_id"]:
            return self._reply(400, {"error": "invalid_grant", "error_description": "The code is invalid"})
        if data.get("redirect_uri") != grant["redirect_uri"]:
            return self._reply(400, {"error": "invalid_grant", "error_description": "redirect_uri mismatch"})
        if _s256(str(data.get("code_verifier", ""))) != grant["challenge"]:
            return self._reply(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        return self._reply(200, self._issue("109000000000000001", app))

    def _issue(self, account: str, app: dict[str, str], keep_refresh: str = "") -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        self.state.tokens[access] = account
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "scope": app["scopes"],
            "created_at": int(time.time()),
        }
        if self.state.token_expires_in:
            body["expires_in"] = self.state.token_expires_in
            if self.state.issue_new_refresh_token or not keep_refresh:
                refresh = secrets.token_urlsafe(32)
                body["refresh_token"] = refresh
            else:
                refresh = keep_refresh
            self.state.refresh_tokens[refresh] = account
        return body

    def _create_status(self, account: str, data: dict[str, Any], headers: dict[str, str]) -> None:
        key = self.headers.get("Idempotency-Key")
        with self.state.lock:
            if key and (account, key) in self.state.idempotency:
                return self._reply(200, self._status_json(self.state.idempotency[(account, key)], account), headers)
        text = str(data.get("status", ""))
        if len(text) > 500:
            return self._reply(422, {"error": "Validation failed: Text character limit of 500 exceeded"}, headers)
        media_ids = [str(m) for m in data.get("media_ids", [])]
        for media_id in media_ids:
            if self.state.media.get(media_id, {}).get("polls", 0) <= self.state.media_polls_before_ready:
                return self._reply(422, {"error": "Validation failed: Media is still processing"}, headers)
        with self.state.lock:
            status_id = str(next(self.state.ids))
            self.state.statuses[status_id] = {
                "account": account,
                "text": text,
                "visibility": data.get("visibility", "public"),
                "media_ids": media_ids,
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "favourites": 0,
                "reblogs": 0,
                "replies": 0,
                "quotes": 0,
                "favourited_by": [],
                "reblogged_by": [],
                "in_reply_to_id": str(data["in_reply_to_id"]) if data.get("in_reply_to_id") else None,
                "quoted_status_id": str(data["quoted_status_id"]) if data.get("quoted_status_id") else None,
            }
            if key:
                self.state.idempotency[(account, key)] = status_id
        time.sleep(self.state.status_delay)
        return self._reply(200, self._status_json(status_id, account), headers)

    def do_DELETE(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(("DELETE", url.path, dict(self.headers)))
        if self._limited():
            return None
        if self._account_for_token() is None:
            return None
        status_id = url.path.rsplit("/", 1)[1]
        if self.state.statuses.pop(status_id, None) is None:
            return self._reply(404, {"error": "Record not found"})
        return self._reply(200, {"id": status_id, "text": ""})


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out on purpose (ambiguous-outcome tests) leave broken pipes behind.
        return


class MastodonDouble:
    def __init__(self) -> None:
        self.state = DoubleState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> MastodonDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def revoke_all(self) -> None:
        self.state.revoked.update(self.state.tokens)

    def add_account(self, username: str) -> tuple[str, str]:
        """Another person on this server: ``(account id, access token)``."""
        account_id = str(next(self.state.ids))
        token = secrets.token_urlsafe(32)
        self.state.accounts[account_id] = username
        self.state.tokens[token] = account_id
        return account_id, token


@contextmanager
def running_double() -> Iterator[MastodonDouble]:
    double = MastodonDouble().start()
    try:
        yield double
    finally:
        double.stop()
