"""A replay double: a loopback HTTP server answering with responses recorded from the real services.

The recordings beside this module are kept verbatim (see each folder's SOURCE.md). A test picks the
interactions it needs, routes them by method + path (+ the query parameters that select the answer)
and points the adapter at ``ReplayServer.url``: the adapter's own ``HttpClient`` session, error
mapping and parsing run unchanged, over real HTTP, against the recorded status, headers and bytes.

What the server changes, and nothing else: hop-by-hop headers and ``Content-Length`` are sent for the
bytes actually served, and the recorded origin (``http://localhost:3000``, ``https://api.twitter.com``)
in ``Link`` / ``Location`` headers is replaced by the replay server's own, as a recording proxy would.
A request no route matches is answered 501 and listed in ``misses``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import yaml

RECORDINGS = Path(__file__).resolve().parent
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"})
_REWRITTEN = frozenset({"link", "location"})


@dataclass(frozen=True)
class Recorded:
    """One recorded answer: status, headers in their recorded order, the body bytes as sent."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass(frozen=True)
class Interaction:
    method: str
    uri: str
    request_body: bytes | str | None
    response: Recorded

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.uri).query).items()}

    @property
    def origin(self) -> str:
        parts = urlsplit(self.uri)
        return f"{parts.scheme}://{parts.netloc}"


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_cassettes: dict[Path, tuple[Interaction, ...]] = {}


def cassette(relative: str) -> tuple[Interaction, ...]:
    """The interactions of a VCR.py cassette (format version 1) under ``recordings/``."""
    path = RECORDINGS / relative
    if path not in _cassettes:
        data = yaml.load(path.read_bytes(), Loader=_LOADER)  # noqa: S506 - the safe loader (C or Python)
        interactions = []
        for index, item in enumerate(data["interactions"]):
            request, response = item["request"], item["response"]
            body = response["body"]["string"]
            headers = tuple(
                (str(name), str(value))
                for name, values in (response.get("headers") or {}).items()
                for value in (values if isinstance(values, list) else [values])
            )
            interactions.append(
                Interaction(
                    method=str(request["method"]).upper(),
                    uri=str(request["uri"]),
                    request_body=request.get("body"),
                    response=Recorded(
                        status=int(response["status"]["code"]),
                        reason=str(response["status"].get("message") or ""),
                        headers=headers,
                        body=body if isinstance(body, bytes) else str(body).encode(),
                        source=f"{relative}#{index}",
                    ),
                )
            )
        _cassettes[path] = tuple(interactions)
    return _cassettes[path]


def interaction(relative: str, index: int, method: str, path: str) -> Interaction:
    """Interaction ``index`` of a cassette, checked to be the recorded ``method path`` the test means."""
    found = cassette(relative)[index]
    assert (found.method, found.path) == (method, path), f"{relative}#{index} is {found.method} {found.path}"
    return found


def body_file(relative: str, *, status: int = 200) -> Recorded:
    """A recorded response body kept as a file of its own (no status or headers were recorded with it).

    ``status`` is what the service answers with such a body; the caller says where it comes from.
    """
    return Recorded(
        status=status,
        reason="",
        headers=(("Content-Type", "application/json; charset=UTF-8"),),
        body=(RECORDINGS / relative).read_bytes(),
        source=relative,
    )


@dataclass
class Route:
    method: str
    path: str
    query: dict[str, str]
    responses: list[Recorded]
    served: int = 0

    def matches(self, method: str, path: str, query: Mapping[str, str]) -> bool:
        return (
            method == self.method
            and path == self.path
            and all(query.get(key) == value for key, value in self.query.items())
        )

    def next_response(self) -> Recorded:
        response = self.responses[min(self.served, len(self.responses) - 1)]
        self.served += 1
        return response


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class ReplayServer:
    """Routes recorded answers; ``requests`` lists what the adapter sent, ``misses`` what matched no route."""

    origins: tuple[str, ...] = ()
    routes: list[Route] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    misses: list[Seen] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, *responses: Recorded, query: Mapping[str, str] | None = None) -> Route:
        """Answer ``method path`` (with these query values) with ``responses`` in turn, the last one repeating."""
        route = Route(method=method.upper(), path=path, query=dict(query or {}), responses=list(responses))
        self.routes.append(route)
        return route

    def replay(self, *interactions: Interaction, query_keys: tuple[str, ...] = ()) -> Route:
        """Route recorded interactions at their own method and path (answered in the given order)."""
        first = interactions[0]
        query = {key: first.query[key] for key in query_keys}
        return self.add(first.method, first.path, *(item.response for item in interactions), query=query)

    def answer(self, seen: Seen) -> Recorded | None:
        with self.lock:
            self.requests.append(seen)
            for route in self.routes:
                if route.matches(seen.method, seen.path, seen.query):
                    return route.next_response()
            self.misses.append(seen)
            return None

    def rewrite(self, value: str) -> str:
        for origin in self.origins:
            value = value.replace(origin, self.url)
        return value

    def sent(self, method: str, path: str) -> list[Seen]:
        return [seen for seen in self.requests if (seen.method, seen.path) == (method, path)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    replay: ClassVar[ReplayServer]

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        seen = Seen(
            method=self.command,
            path=parts.path,
            query={key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()},
            headers=dict(self.headers.items()),
            body=self.rfile.read(length) if length else b"",
        )
        recorded = self.replay.answer(seen)
        if recorded is None:
            payload = f'{{"error": "no recording for {seen.method} {seen.path}"}}'.encode()
            self.send_response_only(501)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response_only(recorded.status, recorded.reason or None)
        for name, value in recorded.headers:
            if name.lower() in _HOP_BY_HOP:
                continue
            self.send_header(name, self.replay.rewrite(value) if name.lower() in _REWRITTEN else value)
        self.send_header("Content-Length", str(len(recorded.body)))
        self.end_headers()
        self.wfile.write(recorded.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


@contextmanager
def running_replay(*origins: str) -> Iterator[ReplayServer]:
    """A replay server on 127.0.0.1 (a free port) for the duration of the block."""
    replay = ReplayServer(origins=origins)
    handler = type("ReplayHandler", (_Handler,), {"replay": replay})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    replay.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="replay-double", daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
