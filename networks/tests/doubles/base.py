"""What every network double shares: a threaded HTTP server on loopback, request parsing, an
OAuth client registry with authorisation codes (PKCE S256 checked when the network uses it),
bearer tokens that expire or get revoked, a request log and one-shot failures.

Each double (x_double.py, linkedin_double.py, tumblr_double.py) adds its network's routes and
answers with the documented shapes, headers and error bodies.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


@dataclass
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Grant:
    user: str
    scope: str
    expires_at: float | None


@dataclass
class LateLanding:
    """Posts the origin is still creating after the proxy in front of it answered in its place.

    Off (``after`` None), a gateway answer comes after the post exists. On, the gateway answers at once and the
    post appears ``after`` seconds later (a timer), or, with ``math.inf``, only when the test calls ``land()``:
    a look-up made right after the gateway answer finds nothing although the post is on its way.
    """

    after: float | None = None
    pending: list[Callable[[], object]] = field(default_factory=list)
    landed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def on(self) -> bool:
        return self.after is not None

    def schedule(self, create: Callable[[], object]) -> None:
        with self.lock:
            self.pending.append(create)
        if self.after is not None and math.isfinite(self.after):
            timer = threading.Timer(self.after, self.land)
            timer.daemon = True
            timer.start()

    def land(self) -> int:
        """The origin finishes: every post still on its way appears now. How many did."""
        with self.lock:
            pending, self.pending = self.pending, []
            self.landed += len(pending)
        for create in pending:
            create()
        return len(pending)


@dataclass
class DoubleState:
    client_id: str = "linkilike-client"
    client_secret: str = "linkilike-secret"
    redirect_uri: str = "http://testserver/i/accounts/callback/"
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, Grant] = field(default_factory=dict)  # access token -> grant
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    consenting_user: str = "1"
    granted_scope: str = ""  # "" = exactly what was asked for
    access_ttl: int = 7200
    issue_refresh_tokens: bool = True
    rotate_refresh_tokens: bool = True
    refresh_answer_without_refresh_token: bool = False
    refresh_calls: int = 0
    fail_next_with: int | None = None  # answer the next API request with this status
    create_delay: float = 0.0  # seconds before answering a post creation
    #: The post is created, then the proxy in front of the network answers this status instead (502 Bad Gateway,
    #: 504 Gateway Timeout, or the origin's own 500 raised after the post was stored): one post creation only.
    gateway_after_create: int | None = None
    #: With ``gateway_after_create``: the origin stores the post only after the gateway answered (``LateLanding``).
    late: LateLanding = field(default_factory=LateLanding)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def expire_all(self) -> None:
        for grant in self.tokens.values():
            grant.expires_at = time.time() - 1

    def revoke_all(self) -> None:
        self.revoked.update(self.tokens)


class Form:
    def __init__(self, fields: dict[str, str], files: dict[str, Upload]) -> None:
        self.fields = fields
        self.files = files


class DoubleHandler(BaseHTTPRequestHandler):
    state: DoubleState
    server_version = "NetworkDouble/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        return

    # --- plumbing ---------------------------------------------------------------------

    def reply(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def raw_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def form(self, raw: bytes) -> Form:
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
            fields: dict[str, str] = {}
            files: dict[str, Upload] = {}
            for part in message.iter_parts():
                name = str(part.get_param("name", header="content-disposition"))
                payload = part.get_payload(decode=True) or b""
                if part.get_filename():
                    files[name] = Upload(str(part.get_filename()), part.get_content_type(), payload)
                else:
                    fields[name] = payload.decode()
            return Form(fields, files)
        if content_type.startswith("application/x-www-form-urlencoded"):
            return Form({key: values[-1] for key, values in parse_qs(raw.decode()).items()}, {})
        return Form({}, {})

    def json_body(self, raw: bytes) -> dict[str, Any] | None:
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            return None
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def query(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}

    def log_request_line(self, method: str) -> str:
        path = urlsplit(self.path).path
        self.state.requests.append((method, path, dict(self.headers)))
        return path

    # --- OAuth ------------------------------------------------------------------------

    def authorize(self, *, required_scopes: set[str], pkce: bool) -> None:
        """The consent page: answers at once with the redirect, as if the person agreed."""
        query = self.query()
        problems = []
        if query.get("response_type") != "code":
            problems.append("response_type must be code")
        if query.get("client_id") != self.state.client_id:
            problems.append("unknown client_id")
        if query.get("redirect_uri") != self.state.redirect_uri:
            problems.append("redirect_uri is not registered")
        if not query.get("state"):
            problems.append("state is required")
        asked = set(query.get("scope", "").replace(",", " ").split())
        if not required_scopes <= asked:
            problems.append(f"missing scopes {sorted(required_scopes - asked)}")
        if pkce and (query.get("code_challenge_method") != "S256" or not query.get("code_challenge")):
            problems.append("PKCE S256 code_challenge is required")
        if problems:
            return self.reply(400, {"error": "invalid_request", "error_description": "; ".join(problems)})
        code = secrets.token_urlsafe(16)
        self.state.codes[code] = {
            "redirect_uri": query["redirect_uri"],
            "challenge": query.get("code_challenge", ""),
            "scope": self.state.granted_scope or " ".join(sorted(asked)),
        }
        return self.redirect(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")

    def redeem_code(self, data: dict[str, str], *, pkce: bool) -> tuple[dict[str, str] | None, str]:
        """The grant behind ``data['code']`` (single use) or the reason it is refused."""
        grant = self.state.codes.pop(data.get("code", ""), None)
        if grant is None:
            return None, "Value passed for the authorization code was invalid."
        if data.get("redirect_uri") != grant["redirect_uri"]:
            return None, "redirect_uri does not match the authorization request"
        if pkce and s256(data.get("code_verifier", "")) != grant["challenge"]:
            return None, "PKCE verification failed: code_verifier does not match the code_challenge"
        return grant, ""

    def issue_tokens(self, *, user: str, scope: str, with_refresh: bool, keep_refresh: str = "") -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        expires = time.time() + self.state.access_ttl if self.state.access_ttl else None
        self.state.tokens[access] = Grant(user=user, scope=scope, expires_at=expires)
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer", "scope": scope}
        if self.state.access_ttl:
            body["expires_in"] = self.state.access_ttl
        if with_refresh and self.state.issue_refresh_tokens:
            if keep_refresh and not self.state.rotate_refresh_tokens:
                refresh = keep_refresh
            else:
                refresh = secrets.token_urlsafe(24)
            self.state.refresh_tokens[refresh] = Grant(user=user, scope=scope, expires_at=None)
            if not (keep_refresh and self.state.refresh_answer_without_refresh_token):
                body["refresh_token"] = refresh
        return body

    def spend_refresh_token(self, token: str) -> Grant | None:
        with self.state.lock:
            self.state.refresh_calls += 1
            if self.state.rotate_refresh_tokens:
                return self.state.refresh_tokens.pop(token, None)
            return self.state.refresh_tokens.get(token)

    def bearer_grant(self) -> tuple[Grant | None, str]:
        """The grant for the request's bearer token, or why there is none: missing / invalid / expired / revoked."""
        header = self.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None, "missing"
        token = header.removeprefix("Bearer ").strip()
        if token in self.state.revoked:
            return None, "revoked"
        grant = self.state.tokens.get(token)
        if grant is None:
            return None, "invalid"
        if grant.expires_at is not None and grant.expires_at < time.time():
            return None, "expired"
        return grant, ""

    def gateway_instead(self) -> bool:
        """After a post creation: True when the proxy answered in the network's place (``gateway_after_create``)."""
        with self.state.lock:
            status, self.state.gateway_after_create = self.state.gateway_after_create, None
        if status is None:
            return False
        gateway_page(self, status)
        return True

    def gateway_now_post_later(self, create: Callable[[], object]) -> bool:
        """With ``late`` on and a gateway answer due: answer it now and let the origin create the post later."""
        if not self.state.late.on:
            return False
        with self.state.lock:
            status, self.state.gateway_after_create = self.state.gateway_after_create, None
        if status is None:
            return False
        self.state.late.schedule(create)
        gateway_page(self, status)
        return True

    def take_failure(self) -> int | None:
        with self.state.lock:
            status, self.state.fail_next_with = self.state.fail_next_with, None
        return status

    def next_id(self) -> int:
        with self.state.lock:
            return next(self.state.ids)


def gateway_page(handler: BaseHTTPRequestHandler, status: int) -> None:
    """What nginx in front of a network answers when it lost (or never got) the origin's answer: an HTML page."""
    payload = f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>"
    handler.send_response(status)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload.encode())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out on purpose (ambiguous-outcome tests) leave broken pipes behind.
        return


class Double:
    """Start/stop a handler class with its state on a free loopback port."""

    handler: type[DoubleHandler]
    state: DoubleState

    def __init__(self, state: DoubleState) -> None:
        self.state = state
        handler = type("Handler", (self.handler,), {"state": state})
        self.server = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Double:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, method: str, path_prefix: str) -> list[dict[str, str]]:
        return [headers for m, path, headers in self.state.requests if m == method and path.startswith(path_prefix)]
