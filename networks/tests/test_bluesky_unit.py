"""Bluesky provider without the dev-env: facet byte offsets, record keys, limits, and error mapping.

The real PDS cannot be made to answer 429 or 5xx on demand, so those cases use a small local HTTP
double (real HTTP over loopback) that answers each XRPC method with a scripted response.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from networks.providers.bluesky import (
    BlueskyProvider,
    facets_for,
    grapheme_count,
    jwt_claims,
    tid_from_key,
)
from networks.providers.exceptions import (
    AmbiguousOutcome,
    AuthExpired,
    AuthRevoked,
    ContentRejected,
    RateLimited,
    Transient,
)
from networks.providers.http import HttpClient
from networks.providers.types import MediaItem, PostDraft, TokenSet

TID_CHARS = set("234567abcdefghijklmnopqrstuvwxyz")


def spans(text: str) -> list[tuple[str, str]]:
    """(text covered by the facet's byte range, feature type) for each facet."""
    data = text.encode("utf-8")
    return [
        (
            data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode("utf-8"),
            f["features"][0]["$type"].rsplit("#", 1)[1],
        )
        for f in facets_for(text)
    ]


# --- facets ----------------------------------------------------------------------------------


def test_link_facets_count_utf8_bytes_after_accents_and_emoji() -> None:
    text = "Grüße 👋🏽 aus Köln → https://example.com/ä?x=1"
    [facet] = facets_for(text)

    prefix_bytes = len("Grüße 👋🏽 aus Köln → ".encode())
    assert prefix_bytes > len("Grüße 👋🏽 aus Köln → ")  # characters and bytes differ here
    assert facet["index"] == {"byteStart": prefix_bytes, "byteEnd": prefix_bytes + len(b"https://example.com/") + 6}
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/ä?x=1"}]


def test_several_links_trailing_punctuation_and_parentheses() -> None:
    text = "One https://a.example/x. Two (https://b.example/y) three https://c.example/wiki/Foo_(bar)!"
    assert spans(text) == [
        ("https://a.example/x", "link"),
        ("https://b.example/y", "link"),
        ("https://c.example/wiki/Foo_(bar)", "link"),
    ]


def test_hashtags_but_not_numbers_or_url_fragments() -> None:
    text = "🎉 #Kaffee, #2024 and https://x.example/#anchor #wien"
    assert spans(text) == [("#Kaffee", "tag"), ("https://x.example/#anchor", "link"), ("#wien", "tag")]


def test_no_facets_for_plain_text() -> None:
    assert facets_for("Just words, no links.") == []


# --- record keys, graphemes, limits ----------------------------------------------------------


def test_record_key_is_a_stable_tid_per_idempotency_key() -> None:
    first = tid_from_key("share-42")
    assert first == tid_from_key("share-42")
    assert first != tid_from_key("share-43")
    assert len(first) == 13
    assert set(first) <= TID_CHARS
    assert first[0] in "234567abcdefghij"  # top bit is zero


def test_graphemes_count_what_people_see() -> None:
    assert grapheme_count("👨‍👩‍👧") == 1
    assert grapheme_count("é") == 1  # e + combining accent
    assert grapheme_count("abc") == 3


@pytest.fixture
def provider() -> BlueskyProvider:
    return BlueskyProvider(base_url="http://127.0.0.1:9", appview_url="http://127.0.0.1:9", web_url="https://bsky.app")


def test_validate_draft_counts_graphemes_and_includes_the_link(provider: BlueskyProvider) -> None:
    wave = "👋🏽"  # two code points, eight bytes, one grapheme
    assert provider.validate_draft(PostDraft(text=wave * 300)) == []
    assert provider.validate_draft(PostDraft(text=wave * 301)) == ["text is 301 characters, Bluesky allows 300"]
    assert provider.validate_draft(PostDraft(text="👨‍👩‍👧" * 200)) == ["text is longer than 3000 bytes"]
    link = "https://example.com/" + "x" * 20
    assert provider.validate_draft(PostDraft(text="a" * 270, link=link)) == [
        "text is 312 characters, Bluesky allows 300"
    ]


def test_validate_draft_refuses_big_many_or_non_images(provider: BlueskyProvider) -> None:
    small = MediaItem(content=b"x" * 10, filename="a.png", content_type="image/png")
    big = MediaItem(content=b"x" * 1_000_001, filename="big.jpg", content_type="image/jpeg")
    video = MediaItem(content=b"x", filename="clip.mp4", content_type="video/mp4")

    assert provider.validate_draft(PostDraft(text="ok", media=(small,) * 4)) == []
    assert provider.validate_draft(PostDraft(text="ok", media=(small,) * 5)) == [
        "Bluesky allows at most 4 images per post"
    ]
    assert provider.validate_draft(PostDraft(text="ok", media=(big,))) == [
        "big.jpg is 1,000,001 bytes; Bluesky accepts images up to 1,000,000 bytes (1 MB)"
    ]
    assert provider.validate_draft(PostDraft(text="ok", media=(video,))) == [
        "clip.mp4: Bluesky posts can carry JPEG, PNG, WebP or GIF images only"
    ]


def test_record_has_text_link_card_and_utc_time(provider: BlueskyProvider) -> None:
    draft = PostDraft(text="Neu ☕", link="https://shop.example/p/1")
    record = provider.build_record(
        draft,
        embed={"$type": "app.bsky.embed.external", "external": {"uri": draft.link, "title": "t", "description": ""}},
        created_at=datetime(2026, 11, 26, 1, 2, 3, 456789, tzinfo=UTC),
    )
    assert record["text"] == "Neu ☕\n\nhttps://shop.example/p/1"
    assert record["createdAt"] == "2026-11-26T01:02:03.456Z"
    assert spans(record["text"]) == [("https://shop.example/p/1", "link")]


# --- a scripted XRPC double ------------------------------------------------------------------


class Script:
    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any, dict[str, str], float]] = {}
        self.calls: list[tuple[str, dict[str, list[str]], dict[str, str], bytes]] = []
        self.lock = threading.Lock()

    def on(self, nsid: str, status: int, body: Any = None, headers: dict[str, str] | None = None, delay: float = 0):
        self.answers[nsid] = (status, body, headers or {}, delay)


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        nsid = parts.path.removeprefix("/xrpc/")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.script.lock:
            self.script.calls.append((nsid, parse_qs(parts.query), dict(self.headers), body))
        status, answer, headers, delay = self.script.answers.get(nsid, (404, {"error": "MethodNotImplemented"}, {}, 0))
        if callable(answer):
            answer = answer(parse_qs(parts.query))
        if delay:
            time.sleep(delay)
        payload = b"" if answer is None else json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            return

    do_GET = _serve
    do_POST = _serve


@pytest.fixture
def xrpc() -> Iterator[tuple[Script, str]]:
    script = Script()
    handler = type("Handler", (_Handler,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield script, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


DID = "did:plc:abcdefghijklmnopqrstuvwx"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# An access JWT as the PDS issues it (the signature is not checked on our side).
ACCESS = ".".join(
    [
        _b64({"typ": "at+jwt", "alg": "HS256"}),
        _b64({"scope": "com.atproto.appPass", "sub": DID, "iat": 1795657414, "exp": 1795664614}),
        "c2lnbmF0dXJl",
    ]
)
TOKENS = TokenSet(access_token=ACCESS, refresh_token="refresh.jwt.x")


def make(base: str, *, read_timeout: float = 5.0) -> BlueskyProvider:
    return BlueskyProvider(
        base_url=base, appview_url=base, web_url="https://bsky.app", http=HttpClient(timeout=(2.0, read_timeout))
    )


def test_jwt_claims_give_did_scope_and_expiry() -> None:
    claims = jwt_claims(ACCESS)
    assert claims["sub"] == DID
    assert claims["scope"] == "com.atproto.appPass"
    assert jwt_claims("garbage") == {}


def test_session_expiry_comes_from_the_jwt(xrpc: tuple[Script, str]) -> None:
    script, base = xrpc
    script.on("com.atproto.server.createSession", 200, {"accessJwt": ACCESS, "refreshJwt": "r.r.r", "did": DID})
    tokens = make(base).create_session(identifier="@Alice.bsky.social ", password="abcd-efgh-ijkl-mnop")

    assert tokens.expires_at == datetime.fromtimestamp(1795664614, tz=UTC)
    assert tokens.scope == "com.atproto.appPass"
    sent = json.loads(script.calls[0][3])
    assert sent == {"identifier": "Alice.bsky.social", "password": "abcd-efgh-ijkl-mnop"}


def test_rate_limit_429_waits_until_the_announced_reset(xrpc: tuple[Script, str]) -> None:
    script, base = xrpc
    reset = int(time.time()) + 120
    script.on(
        "com.atproto.server.getSession",
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(reset),
            "ratelimit-policy": "3000;w=300",
        },
    )
    provider = make(base)
    with pytest.raises(RateLimited) as error:
        provider.fetch_account(tokens=TOKENS)

    assert 118 <= error.value.retry_after <= 121
    assert error.value.reset_at == datetime.fromtimestamp(reset, tz=UTC)
    assert error.value.retryable
    assert provider.last_rate_limit is not None
    assert provider.last_rate_limit.remaining == 0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": "ExpiredToken", "message": "Token has expired"}, AuthExpired),
        (400, {"error": "InvalidToken", "message": "Token could not be verified"}, AuthRevoked),
        (401, {"error": "AuthMissing", "message": "Authentication Required"}, AuthExpired),
        (401, {"error": "AccountTakedown", "message": "Account has been taken down"}, AuthRevoked),
        (502, {"error": "UpstreamFailure"}, Transient),
        (503, None, Transient),
        (400, {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"}, ContentRejected),
    ],
)
def test_documented_errors_become_typed_errors(
    xrpc: tuple[Script, str], status: int, body: Any, expected: type[Exception]
) -> None:
    script, base = xrpc
    script.on("com.atproto.server.getSession", status, body)
    with pytest.raises(expected):
        make(base).publish(tokens=TOKENS, draft=PostDraft(text="hi"), idempotency_key="k")


def test_refresh_with_a_revoked_or_expired_refresh_token(xrpc: tuple[Script, str]) -> None:
    script, base = xrpc
    script.on("com.atproto.server.refreshSession", 400, {"error": "ExpiredToken", "message": "Token has been revoked"})
    with pytest.raises(AuthRevoked):
        make(base).refresh(tokens=TOKENS)
    script.on("com.atproto.server.refreshSession", 400, {"error": "ExpiredToken", "message": "Token has expired"})
    with pytest.raises(AuthExpired):
        make(base).refresh(tokens=TOKENS)
    assert script.calls[0][2]["Authorization"] == "Bearer refresh.jwt.x"


def _record_not_found(_query: dict[str, list[str]]) -> dict[str, str]:
    return {"error": "RecordNotFound", "message": "Could not locate record"}


def test_create_record_timeout_is_ambiguous_but_an_upload_timeout_is_not(xrpc: tuple[Script, str]) -> None:
    script, base = xrpc
    script.on("com.atproto.server.getSession", 200, {"did": DID, "handle": "alice.test"})
    script.on("com.atproto.repo.getRecord", 400, _record_not_found)
    script.on("com.atproto.repo.createRecord", 200, {"uri": f"at://{DID}/app.bsky.feed.post/x", "cid": "c"}, delay=2)
    provider = make(base, read_timeout=0.5)
    with pytest.raises(AmbiguousOutcome):
        provider.publish(tokens=TOKENS, draft=PostDraft(text="hello"), idempotency_key="share-1")

    script.on("com.atproto.repo.uploadBlob", 200, {"blob": {}}, delay=2)
    image = MediaItem(content=b"\x89PNG", filename="a.png", content_type="image/png")
    with pytest.raises(Transient) as error:
        provider.publish(tokens=TOKENS, draft=PostDraft(text="hello", media=(image,)), idempotency_key="share-2")
    assert not isinstance(error.value, AmbiguousOutcome)


def test_publish_sends_the_derived_record_key_and_builds_the_web_url(xrpc: tuple[Script, str]) -> None:
    script, base = xrpc
    rkey = tid_from_key("share-7")
    script.on("com.atproto.server.getSession", 200, {"did": DID, "handle": "alice.bsky.social"})
    script.on("com.atproto.repo.getRecord", 400, _record_not_found)
    script.on("com.atproto.repo.createRecord", 200, {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafy"})

    result = make(base).publish(tokens=TOKENS, draft=PostDraft(text="hi"), idempotency_key="share-7")

    sent = json.loads(next(call for call in script.calls if call[0] == "com.atproto.repo.createRecord")[3])
    assert sent["rkey"] == rkey
    assert sent["repo"] == DID
    assert result.external_id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert result.url == f"https://bsky.app/profile/alice.bsky.social/post/{rkey}"


def test_metrics_go_to_the_appview_in_batches_of_25(xrpc: tuple[Script, str]) -> None:
    script, base = xrpc
    uris = [f"at://{DID}/app.bsky.feed.post/{tid_from_key(str(n))}" for n in range(26)]

    def posts(query: dict[str, list[str]]) -> dict[str, Any]:
        return {
            "posts": [
                {"uri": uri, "likeCount": 3, "repostCount": 1, "replyCount": 0, "quoteCount": 2, "bookmarkCount": 5}
                for uri in query["uris"]
            ]
        }

    script.on("app.bsky.feed.getPosts", 200, posts)
    snapshots = make(base).fetch_metrics(tokens=TOKENS, external_ids=uris)

    batches = [len(call[1]["uris"]) for call in script.calls if call[0] == "app.bsky.feed.getPosts"]
    assert batches == [25, 1]
    assert [s.external_id for s in snapshots] == uris
    first = snapshots[0]
    assert (first.likes, first.shares, first.replies, first.quotes, first.bookmarks) == (3, 1, 0, 2, 5)
    assert (first.reach, first.impressions, first.clicks) == (None, None, None)
    assert not any("Authorization" in call[2] for call in script.calls)  # the AppView gets no PDS token
