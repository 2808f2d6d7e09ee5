"""A small Mastodon server double over real HTTP (loopback), reproducing the documented shapes.

Used where the built-in sandbox is not the right tool (timeouts, 5xx, token refresh, server versions).
Shapes and error bodies follow docs.joinmastodon.org and the server's own
code: ``POST /api/v1/apps``, ``/oauth/authorize`` (answers with the redirect straight away, as if the
person consented), ``POST /oauth/token`` (exact redirect URI, PKCE S256 checked), ``POST /oauth/revoke``,
``verify_credentials``, ``POST /api/v2/media`` (202) and ``GET /api/v1/media/:id`` (206 then 200),
``POST /api/v1/statuses`` with ``Idempotency-Key``, ``GET``/``DELETE /api/v1/statuses/:id``,
``GET /api/v1/accounts/:id/statuses``, ``X-RateLimit-*`` headers with an ISO-8601 reset, 401
``{"error":"The access token is invalid"}``, 422 ``{"error":"Validation failed: ..."}``.

Like the real server, per ``DoubleState.version``:

- Scopes: an app asking for a scope the server does not know is refused (422 "Scopes doesn't match
  configured on the server."), and so is an authorisation asking for one the app was not registered
  with (redirect with ``error=invalid_scope``). ``profile`` exists from 4.3 on, when the server also
  publishes ``/.well-known/oauth-authorization-server`` with ``scopes_supported``. ``/api/v2/instance``
  exists from 4.0 on (``domain``, ``version``, ``configuration``), ``/api/v1/instance`` always.
- Idempotency: before 4.5 the key is looked up when the request starts and stored only after the
  status was created, with no lock, so a second request with the same key during a slow create
  (``create_delay``) makes a second status; from 4.5 on requests with one key wait for each other.
- Media: a media id answers ``GET /api/v1/media/:id`` only while it is not attached to a status;
  creating a status refuses ids that are unknown or attached, images mixed with a video, more than
  ``max_media_attachments`` and media still processing (422 "Cannot attach files that have not
  finished processing. Try again in a moment!").
- A login that is disabled, unconfirmed or pending approval answers 403 on every call that needs the
  user (``user_state``); a server that moved answers every request 301 to its new address.

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
import html
import itertools
import json
import re
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import regex

#: Scopes every server version here knows (Doorkeeper's configured scopes, abridged to what clients ask for).
SCOPES_BEFORE_4_3 = frozenset(
    {
        "read",
        "write",
        "follow",
        "push",
        *(f"read:{what}" for what in ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows")),
        *(f"read:{what}" for what in ("lists", "mutes", "notifications", "search", "statuses")),
        *(f"write:{what}" for what in ("accounts", "blocks", "bookmarks", "conversations", "favourites")),
        *(f"write:{what}" for what in ("filters", "follows", "lists", "media", "mutes", "notifications")),
        *(f"write:{what}" for what in ("reports", "statuses")),
    }
)
USER_STATES = {
    "disabled": "Your login is currently disabled",
    "unconfirmed": "Your login is missing a confirmed e-mail address",
    "pending": "Your login is currently pending approval",
}
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"
_URL_PATTERN = r"https?://[^\s<>\"]+?(?=[.,:;!?)\]]*(?:\s|$))"
_MENTION_PATTERN = r"(?<![\w/=])@(\w+(?:[.-]\w+)*)@([\w-]+(?:\.[\w-]+)+)"
_URL = re.compile(_URL_PATTERN)
_REMOTE_MENTION = re.compile(_MENTION_PATTERN)
_ENTITY = re.compile(f"(?P<url>{_URL_PATTERN})|{_MENTION_PATTERN}")


def version_tuple(version: str) -> tuple[int, ...]:
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    return tuple(int(part or 0) for part in match.groups()) if match else (0, 0, 0)


def status_length(text: str) -> int:
    """The double's own, simpler count: graphemes, a link as 23, a remote mention as its user part."""
    text = _REMOTE_MENTION.sub(lambda match: f"@{match.group(1)}", text)
    text = _URL.sub("x" * 23, text)
    return len(regex.findall(r"\X", text))


def render_content(text: str) -> str:
    """The status as HTML, the way Mastodon renders it: paragraphs, line breaks, links split into spans,
    remote mentions shown as ``@user``."""

    def entity(match: re.Match[str]) -> str:
        url = match.group("url")
        if url:
            scheme, rest = url.split("://", 1)
            shown, hidden = rest[:30], rest[30:]
            return (
                f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
                f'<span class="invisible">{scheme}://</span><span class="{"ellipsis" if hidden else ""}">'
                f'{html.escape(shown)}</span><span class="invisible">{html.escape(hidden)}</span></a>'
            )
        user, domain = match.group(2), match.group(3)
        return (
            f'<span class="h-card" translate="no"><a href="https://{domain}/@{user}" class="u-url mention">'
            f"@<span>{user}</span></a></span>"
        )

    def line_html(line: str) -> str:
        pieces, last = [], 0
        for match in _ENTITY.finditer(line):
            pieces.append(html.escape(line[last : match.start()], quote=False))
            pieces.append(entity(match))
            last = match.end()
        pieces.append(html.escape(line[last:], quote=False))
        return "".join(pieces)

    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "".join("<p>" + "<br />".join(line_html(line) for line in p.split("\n")) + "</p>" for p in paragraphs)


@dataclass
class DoubleState:
    apps: dict[str, dict[str, str]] = field(default_factory=dict)  # client_id -> app
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> grant
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> account id
    token_apps: dict[str, str] = field(default_factory=dict)  # access token -> client_id that issued it
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> account id
    revoked: set[str] = field(default_factory=set)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], str] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    #: The server's version: which scopes, discovery documents and idempotency behaviour it has.
    version: str = "4.3.2"
    #: The instance's own domain (LOCAL_DOMAIN), "" for the host the client connected to.
    domain: str = ""
    max_characters: int = 500
    max_media_attachments: int = 4
    image_size_limit: int = 16 * 1024 * 1024
    video_size_limit: int = 99 * 1024 * 1024
    followers_count: int = 321
    rate_limit: int = 300
    rate_remaining: int = 300
    rate_reset_in: float = 120.0
    media_polls_before_ready: int = 2
    #: Seconds a status create takes before the status exists (the Idempotency-Key is stored after it).
    create_delay: float = 0.0
    status_delay: float = 0.0  # seconds to wait after creating a status before answering
    #: Answer this 5xx after a status was created, before the key is stored (a crash in post-processing).
    fail_after_create_with: int | None = None
    read_delay: float = 0.0  # seconds to wait before answering GET /api/v1/statuses/:id
    fail_next_with: int | None = None  # answer the next API request with this 5xx
    #: "disabled" / "unconfirmed" / "pending": the login's state; every call needing the user answers 403.
    user_state: str = ""
    #: An origin ("https://new.example") every request is redirected to, with ``moved_status``.
    moved_to: str = ""
    moved_status: int = 301
    #: Answer ``POST /oauth/revoke`` with this status instead of revoking.
    revoke_fails_with: int | None = None
    #: False: no ``GET /api/v1/accounts/:id/statuses`` (a server that cannot list an account's posts).
    account_statuses_supported: bool = True
    token_expires_in: int | None = None  # when set, tokens expire and come with refresh tokens
    #: The PKCE methods the server takes (and names in its OAuth metadata). Without S256 the server ignores
    #: challenges and verifiers, as one that knows no PKCE does; with it every authorisation must carry one.
    pkce_methods: tuple[str, ...] = ("S256",)
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
    key_locks: defaultdict[tuple[str, str], threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(110000000000000001))

    @property
    def known_scopes(self) -> frozenset[str]:
        if version_tuple(self.version) >= (4, 3):
            return SCOPES_BEFORE_4_3 | {"profile"}
        return SCOPES_BEFORE_4_3

    def uploads(self) -> int:
        return sum(1 for method, path, _headers in self.requests if (method, path) == ("POST", "/api/v2/media"))


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

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _moved(self) -> bool:
        if not self.state.moved_to:
            return False
        self._redirect(f"{self.state.moved_to}{self.path}", self.state.moved_status)
        return True

    def _origin(self) -> str:
        return f"http://{self.headers.get('Host')}"

    def _domain(self) -> str:
        return self.state.domain or str(self.headers.get("Host"))

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
                if part.get_filename():
                    fields[f"{name}.content_type"] = part.get_content_type()
            return fields
        return {key: values[-1] for key, values in parse_qs(raw.decode()).items()}

    def _account_for_token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip()
        account = self.state.tokens.get(token)
        if account is None or token in self.state.revoked:
            self._reply(401, {"error": "The access token is invalid"})
            return None
        if self.state.user_state:
            self._reply(403, {"error": USER_STATES[self.state.user_state]})
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
            "url": f"{self._origin()}/@{username}",
        }

    def _status_json(self, status_id: str, viewer: str | None = None) -> dict[str, Any]:
        status = self.state.statuses[status_id]
        replies = [s for s in self.state.statuses.values() if s.get("in_reply_to_id") == status_id]
        quotes = [s for s in self.state.statuses.values() if s.get("quoted_status_id") == status_id]
        body = {
            "id": status_id,
            "created_at": status["created_at"],
            "in_reply_to_id": status.get("in_reply_to_id"),
            "url": f"{self._origin()}/@person/{status_id}",
            "content": render_content(status["text"]),
            "visibility": status["visibility"],
            "account": self._account_json(status["account"]),
            "favourites_count": status["favourites"] + len(status["favourited_by"]),
            "reblogs_count": status["reblogs"] + len(status["reblogged_by"]),
            "replies_count": status["replies"] + len(replies),
            "favourited": viewer in status["favourited_by"],
            "reblogged": viewer in status["reblogged_by"],
            "media_attachments": [
                {"id": media_id, "type": self.state.media.get(media_id, {}).get("type", "image")}
                for media_id in status["media_ids"]
            ],
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
            following = f"{self._origin()}{path}?limit={limit}&max_id={start + limit}"
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

    # --- discovery --------------------------------------------------------------------

    def _configuration(self) -> dict[str, Any]:
        return {
            "statuses": {
                "max_characters": self.state.max_characters,
                "max_media_attachments": self.state.max_media_attachments,
                "characters_reserved_per_url": 23,
            },
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
                "image_size_limit": self.state.image_size_limit,
                "video_size_limit": self.state.video_size_limit,
            },
        }

    def _discovery(self, path: str) -> bool:
        """The public documents a client reads before it has a token; True when ``path`` was one."""
        version = version_tuple(self.state.version)
        if path == "/.well-known/oauth-authorization-server":
            if version < (4, 3):
                self._reply(404, {"error": "Record not found"})
                return True
            origin = self._origin()
            self._reply(
                200,
                {
                    "issuer": f"{origin}/",
                    "authorization_endpoint": f"{origin}/oauth/authorize",
                    "token_endpoint": f"{origin}/oauth/token",
                    "revocation_endpoint": f"{origin}/oauth/revoke",
                    "app_registration_endpoint": f"{origin}/api/v1/apps",
                    "scopes_supported": sorted(self.state.known_scopes),
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": list(self.state.pkce_methods),
                    "grant_types_supported": ["authorization_code", "client_credentials"],
                },
            )
            return True
        if path == "/api/v2/instance":
            if version < (4, 0):
                self._reply(404, {"error": "Record not found"})
                return True
            self._reply(
                200,
                {
                    "domain": self._domain(),
                    "title": "Double",
                    "version": self.state.version,
                    "configuration": self._configuration(),
                },
            )
            return True
        if path == "/.well-known/webfinger":
            self._webfinger()
            return True
        if path == "/api/v1/instance":
            self._reply(
                200,
                {"uri": self._domain(), "title": "Double", "version": self.state.version, **self._v1_configuration()},
            )
            return True
        return False

    def _webfinger(self) -> None:
        """``acct:user@domain`` -> the account's actor on the API's own host (127.0.0.1, whatever name was used)."""
        resource = parse_qs(urlsplit(self.path).query).get("resource", [""])[0]
        user, _at, domain = resource.removeprefix("acct:").partition("@")
        if domain != self._domain() or user not in self.state.accounts.values():
            self._reply(404, {"error": "Record not found"})
            return
        actor = f"http://127.0.0.1:{self.connection.getsockname()[1]}/users/{user}"
        links = [{"rel": "self", "type": "application/activity+json", "href": actor}]
        self._reply(200, {"subject": resource, "links": links})

    def _v1_configuration(self) -> dict[str, Any]:
        if version_tuple(self.state.version) < (3, 4, 2):
            return {}  # the configuration block came with 3.4.2; older servers say nothing about limits
        return {"configuration": self._configuration()}

    # --- routes -----------------------------------------------------------------------

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(("GET", url.path, dict(self.headers)))
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        if self._moved():
            return None
        if url.path == "/oauth/authorize":
            return self._authorize(query)
        if self._discovery(url.path):
            return None
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
                    "url": f"{self._origin()}/@lena",
                    "avatar": "",
                    "followers_count": self.state.followers_count,
                },
                headers,
            )
        statuses_of = re.fullmatch(r"/api/v1/accounts/([^/]+)/statuses", url.path)
        if statuses_of and self.state.account_statuses_supported:
            owned = [sid for sid, s in self.state.statuses.items() if s["account"] == statuses_of.group(1)]
            newest_first = sorted(owned, key=int, reverse=True)[: min(int(query.get("limit") or 20), 40)]
            return self._reply(200, [self._status_json(sid, account) for sid in newest_first], headers)
        if url.path.startswith("/api/v1/media/"):
            media = self.state.media.get(url.path.rsplit("/", 1)[1])
            if media is None or media["account"] != account or media["status_id"] is not None:
                # The server finds only the caller's media not attached to a status yet.
                return self._reply(404, {"error": "Record not found"}, headers)
            media["polls"] += 1
            ready = media["polls"] > self.state.media_polls_before_ready
            body = {"id": media["id"], "type": media["type"], "url": "http://x/m.png" if ready else None}
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
        redirect_uri = query["redirect_uri"]
        scopes = set((query.get("scope") or "read").split())
        if not scopes <= set(app["scopes"].split()) or not scopes <= self.state.known_scopes:
            # Doorkeeper sends a valid client with a bad scope back to its redirect URI with the error.
            error = {
                "error": "invalid_scope",
                "error_description": "The requested scope is invalid, unknown, or malformed.",
                "state": query.get("state", ""),
            }
            return self._redirect(f"{redirect_uri}?{urlencode(error)}")
        pkce = "S256" in self.state.pkce_methods
        if pkce and (query.get("code_challenge_method") != "S256" or not query.get("code_challenge")):
            return self._reply(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self.state.codes[code] = {
            "client_id": app["client_id"],
            "redirect_uri": redirect_uri,
            "challenge": query["code_challenge"] if pkce else "",
            "scopes": " ".join(sorted(scopes)),
        }
        self._redirect(f"{redirect_uri}?{urlencode({'code': code, 'state': query.get('state', '')})}")
        return None

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        raw = self._body()
        self.state.requests.append(("POST", url.path, dict(self.headers)))
        if self._moved():
            return None
        data = self._form(raw)
        if url.path == "/api/v1/apps":
            return self._register(data)
        if url.path == "/oauth/token":
            return self._token(data)
        if url.path == "/oauth/revoke":
            return self._revoke(data)
        if self._limited():
            return None
        account = self._account_for_token()
        if account is None:
            return None
        headers = self._rate_headers()
        if url.path == "/api/v2/media":
            media_id = str(next(self.state.ids))
            content_type = str(data.get("file.content_type") or "image/png")
            self.state.media[media_id] = {
                "id": media_id,
                "account": account,
                "polls": 0,
                "size": len(data.get("file", b"")),
                "type": "video" if content_type.startswith("video/") else "image",
                "status_id": None,
            }
            return self._reply(202, {"id": media_id, "type": self.state.media[media_id]["type"], "url": None}, headers)
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

    def _register(self, data: dict[str, Any]) -> None:
        scopes = str(data.get("scopes") or "read")
        if not set(scopes.split()) <= self.state.known_scopes:
            return self._reply(422, {"error": "Validation failed: Scopes doesn't match configured on the server."})
        client_id = secrets.token_urlsafe(12)
        app = {
            "client_id": client_id,
            "client_secret": secrets.token_urlsafe(24),
            "redirect_uri": str(data.get("redirect_uris", "")),
            "scopes": scopes,
        }
        self.state.apps[client_id] = app
        return self._reply(200, {"id": "1", "name": data.get("client_name"), **app})

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
        if grant["challenge"] and _s256(str(data.get("code_verifier", ""))) != grant["challenge"]:
            return self._reply(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        return self._reply(200, self._issue("109000000000000001", app, scopes=grant["scopes"]))

    def _revoke(self, data: dict[str, Any]) -> None:
        if self.state.revoke_fails_with:
            return self._reply(self.state.revoke_fails_with, {"error": "Something went wrong on our end"})
        app = self.state.apps.get(str(data.get("client_id", "")))
        token = str(data.get("token", ""))
        issued_by = self.state.token_apps.get(token)
        if (
            app is None
            or data.get("client_secret") != app["client_secret"]
            or issued_by not in (None, app["client_id"])
        ):
            return self._reply(
                403,
                {"error": "unauthorized_client", "error_description": "You are not authorized to revoke this token"},
            )
        if token in self.state.tokens:
            self.state.revoked.add(token)
        return self._reply(200, {})  # RFC 7009: an unknown token is "revoked" too

    def _issue(self, account: str, app: dict[str, str], keep_refresh: str = "", scopes: str = "") -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        self.state.tokens[access] = account
        self.state.token_apps[access] = app["client_id"]
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "scope": scopes or app["scopes"],
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
        if key and version_tuple(self.state.version) >= (4, 5):
            # 4.5 holds a lock per key around look-up, create and store: a second request waits for the first.
            with self.state.key_locks[(account, key)]:
                return self._create_status_unlocked(account, key, data, headers)
        return self._create_status_unlocked(account, key, data, headers)

    def _create_status_unlocked(
        self, account: str, key: str | None, data: dict[str, Any], headers: dict[str, str]
    ) -> None:
        with self.state.lock:
            if key and (account, key) in self.state.idempotency:
                return self._reply(200, self._status_json(self.state.idempotency[(account, key)], account), headers)
        problem = self._media_problem(account, [str(m) for m in data.get("media_ids", [])])
        if problem:
            return self._reply(422, {"error": problem}, headers)
        text = str(data.get("status", ""))
        if status_length(text) > self.state.max_characters:
            limit = self.state.max_characters
            return self._reply(422, {"error": f"Validation failed: Text character limit of {limit} exceeded"}, headers)
        media_ids = [str(m) for m in data.get("media_ids", [])]
        time.sleep(self.state.create_delay)
        with self.state.lock:
            status_id = str(next(self.state.ids))
            self.state.statuses[status_id] = {
                "account": account,
                "text": text.strip(),
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
            for media_id in media_ids:
                self.state.media[media_id]["status_id"] = status_id
        if self.state.fail_after_create_with:
            status, self.state.fail_after_create_with = self.state.fail_after_create_with, None
            return self._reply(status, {"error": "Something went wrong on our end"})
        if key:
            with self.state.lock:
                self.state.idempotency[(account, key)] = status_id
        time.sleep(self.state.status_delay)
        return self._reply(200, self._status_json(status_id, account), headers)

    def _media_problem(self, account: str, media_ids: list[str]) -> str:
        """What the server's media validation refuses, in its order and words ("" when fine)."""
        if not media_ids:
            return ""
        if len(media_ids) > self.state.max_media_attachments:
            return f"Cannot attach more than {self.state.max_media_attachments} files"
        found = [
            self.state.media[m]
            for m in media_ids
            if m in self.state.media
            and self.state.media[m]["account"] == account
            and self.state.media[m]["status_id"] is None
        ]
        missing = [m for m in media_ids if m not in {item["id"] for item in found}]
        if missing:
            return f"Media {', '.join(missing)} not found or already attached to another post"
        if len(found) > 1 and any(item["type"] == "video" for item in found):
            return "Cannot attach a video to a post that already contains images"
        if any(item["polls"] <= self.state.media_polls_before_ready for item in found):
            return NOT_READY
        return ""

    def do_DELETE(self) -> None:
        url = urlsplit(self.path)
        self.state.requests.append(("DELETE", url.path, dict(self.headers)))
        if self._moved():
            return None
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
