"""The one publish-side error ladder every adapter uses (``networks.providers.http``).

At most once: a write whose request may have reached the network and whose answer was lost is ambiguous; a
request that never left, or a lost read, is transient. The transport cases run over real sockets on this machine
(a server that resets the connection after reading the request, a port nobody listens on, a server that never
answers); the status cases classify real ``requests.Response`` objects. A write the origin may have carried out
(500, 502, 504 after sending) is shown per network against its local double: ambiguous, then found by the
network's own look-up, one post on the network.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks.providers import exceptions as net
from networks.providers.facebook import FacebookProvider
from networks.providers.http import (
    HttpClient,
    json_object,
    never_connected,
    request_error,
    retry_after_seconds,
    send,
    status_error,
)
from networks.providers.instagram import InstagramProvider
from networks.providers.linkedin import LinkedInProvider
from networks.providers.mastodon import MastodonProvider
from networks.providers.threads import ThreadsProvider
from networks.providers.tumblr import TumblrProvider
from networks.providers.types import ClientCredentials, MediaItem, PostDraft, PublishState, TokenSet
from networks.providers.x import XProvider
from networks.tests import test_bluesky_unit as bluesky_unit
from networks.tests.doubles.helpers import REDIRECT, client_for, connect
from networks.tests.doubles.linkedin_double import running_linkedin_double
from networks.tests.doubles.meta_double import CLIENT_ID, CLIENT_SECRET, MetaDouble, running_meta_double
from networks.tests.doubles.tumblr_double import running_tumblr_double
from networks.tests.doubles.x_double import running_x_double
from networks.tests.mastodon_double import MastodonDouble

META_CLIENT = ClientCredentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


class _Server:
    """A listening socket whose every connection is handled by ``behaviour`` ("reset" or "silent")."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1/statuses"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(65536))
                if self.behaviour == "reset":
                    # SO_LINGER 0: close() sends a TCP RST, the client sees "connection reset" after sending.
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    self.stop.wait(3)  # silent: read the request, never answer

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def resetting() -> Iterator[_Server]:
    server = _Server("reset")
    yield server
    server.close()


@pytest.fixture
def silent() -> Iterator[_Server]:
    server = _Server("silent")
    yield server
    server.close()


def _closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there now: connection refused
    return f"http://127.0.0.1:{port}/api/v1/statuses"


def _send(url: str, *, write: bool, timeout: tuple[float, float] = (2.0, 2.0)) -> None:
    send(HttpClient(timeout=timeout), "POST", url, label="POST /api/v1/statuses", write=write, data={"status": "hi"})


# --- transport: what became of the request -------------------------------------------------------------------


def test_connection_reset_after_the_request_was_sent_is_ambiguous_for_a_write(resetting: _Server) -> None:
    with pytest.raises(net.AmbiguousOutcome, match="connection lost after sending"):
        _send(resetting.url, write=True)
    assert resetting.received
    assert resetting.received[0].startswith(b"POST /api/v1/statuses")  # it did reach the server


def test_connection_reset_on_a_read_is_transient(resetting: _Server) -> None:
    with pytest.raises(net.Transient):
        _send(resetting.url, write=False)


def test_connection_refused_before_sending_is_transient_even_for_a_write() -> None:
    with pytest.raises(net.Transient) as caught:
        _send(_closed_port_url(), write=True)
    assert not isinstance(caught.value, net.AmbiguousOutcome)
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert never_connected(caught.value.__cause__)


def test_read_timeout_after_sending_is_ambiguous_for_a_write(silent: _Server) -> None:
    with pytest.raises(net.AmbiguousOutcome, match="no answer after sending"):
        _send(silent.url, write=True, timeout=(2.0, 0.3))


def test_read_timeout_on_a_read_is_transient(silent: _Server) -> None:
    with pytest.raises(net.Transient, match="timed out"):
        _send(silent.url, write=False, timeout=(2.0, 0.3))


@pytest.mark.parametrize(
    ("error", "write", "expected"),
    [
        (requests.ConnectTimeout("connect timed out"), True, net.Transient),  # nothing was sent
        (requests.exceptions.SSLError("handshake failed"), True, net.Transient),
        (requests.ConnectionError("NewConnectionError: Connection refused"), True, net.Transient),
        (requests.ConnectionError("NameResolutionError: no such host"), True, net.Transient),
        (requests.ConnectionError("('Connection aborted.', ConnectionResetError(104))"), True, net.AmbiguousOutcome),
        (requests.ConnectionError("('Connection aborted.', ConnectionResetError(104))"), False, net.Transient),
        (requests.ReadTimeout("read timed out"), True, net.AmbiguousOutcome),
        (requests.ReadTimeout("read timed out"), False, net.Transient),
        # The answer's body broke off: the request was sent and answered. The four copies before the shared
        # ladder called this transient (sent again: a second post); now it is ambiguous for a write.
        (requests.exceptions.ChunkedEncodingError("broken"), True, net.AmbiguousOutcome),
        (requests.exceptions.ChunkedEncodingError("broken"), False, net.Transient),
        (requests.exceptions.ContentDecodingError("bad gzip"), True, net.AmbiguousOutcome),
        (requests.exceptions.TooManyRedirects("loop"), True, net.Transient),
    ],
)
def test_request_error_table(error: requests.RequestException, write: bool, expected: type[net.NetworkError]) -> None:
    result = request_error(error, label="POST /x", write=write)
    assert type(result) is expected
    assert result.retryable is (expected is net.Transient)


# --- status: what the network answered ------------------------------------------------------------------------


def _response(status: int, headers: dict[str, str] | None = None, body: bytes = b"{}") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response._content = body
    response.url = "https://network.example/api"
    return response


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, net.Transient),
        (502, net.Transient),
        (503, net.Transient),
        (504, net.Transient),
        (408, net.Transient),
        (400, net.ContentRejected),
        (403, net.ContentRejected),
        (404, net.ContentRejected),
        (413, net.ContentRejected),
        (415, net.ContentRejected),
        (422, net.ContentRejected),
        (401, net.AuthExpired),
        (409, net.NetworkError),
        (302, net.NetworkError),
    ],
)
def test_status_table(status: int, expected: type[net.NetworkError]) -> None:
    error = status_error(_response(status), text="refused")
    assert type(error) is expected
    assert error.status == status


def test_401_is_revoked_where_tokens_do_not_expire() -> None:
    assert type(status_error(_response(401), text="", unauthorized=net.AuthRevoked)) is net.AuthRevoked


def test_429_is_rate_limited_after_retry_after() -> None:
    error = status_error(_response(429, {"Retry-After": "42"}), text="slow down")
    assert isinstance(error, net.RateLimited)
    assert error.retry_after == 42
    assert error.status == 429


def test_429_without_retry_after_waits_until_the_reset_or_the_default() -> None:
    reset_at = datetime.now(UTC) + timedelta(seconds=90)
    error = status_error(_response(429), text="", reset_at=reset_at)
    assert isinstance(error, net.RateLimited)
    assert 89 <= error.retry_after <= 91
    assert error.reset_at == reset_at
    assert retry_after_seconds({}, default=900) == 900
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, default=60) == 60


def test_a_network_may_narrow_the_content_statuses() -> None:
    error = status_error(_response(422), text="", content_statuses=frozenset({400}))
    assert type(error) is net.NetworkError


def test_json_object_wants_an_object() -> None:
    assert json_object(_response(200, body=b'{"id": "1"}')) == {"id": "1"}
    with pytest.raises(net.Transient, match="non-JSON"):
        json_object(_response(200, body=b"<html>"))
    with pytest.raises(net.Transient, match="shape"):
        json_object(_response(200, body=b"[1]"))


# --- a write the origin may have carried out: 500, 502, 504 after sending, per network ----------------------------
#
# The post is created, then the proxy in front of the network answers 502 (it lost the origin's answer) or 504 (it
# stopped waiting), or the origin answers 500 (it failed after storing the post, in its post-processing). Sent again
# blindly, that is a second post; ambiguous, it is resolved by each network's own look-up: one post, found.
# 503 stays transient: the server says it did not take the request (RFC 9110, 15.6.4).

AFTER_THE_WRITE = (500, 502, 504)


@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_x_gateway_answer_to_a_create_is_ambiguous_and_found(status: int) -> None:
    with running_x_double() as double:
        provider = XProvider(base_url=double.url, client=client_for(double.state))
        tokens = connect(provider)
        draft = PostDraft(text=f"did it post? {status}", link="https://brand.example/p")
        double.state.gateway_after_create = status
        with pytest.raises(net.AmbiguousOutcome, match=str(status)):
            provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert len(double.state.posts) == 1
        found = provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert found.state == PublishState.PUBLISHED
        assert list(double.state.posts) == [found.external_id]


@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_linkedin_gateway_answer_to_a_create_is_ambiguous_and_found(status: int) -> None:
    with running_linkedin_double() as double:
        provider = LinkedInProvider(base_url=double.url, client=client_for(double.state))
        tokens = connect(provider)
        draft = PostDraft(text=f"did it post? {status}")
        double.state.gateway_after_create = status
        with pytest.raises(net.AmbiguousOutcome, match=str(status)):
            provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert len(double.state.posts) == 1
        found = provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert found.state == PublishState.PUBLISHED
        assert list(double.state.posts) == [found.external_id]  # the duplicate check named it: no second post


@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_tumblr_gateway_answer_to_a_create_is_ambiguous_and_found(status: int) -> None:
    with running_tumblr_double() as double:
        provider = TumblrProvider(base_url=double.url, client=client_for(double.state))
        tokens = connect(provider)
        draft = PostDraft(text=f"did it post? {status}")
        double.state.gateway_after_create = status
        with pytest.raises(net.AmbiguousOutcome, match=str(status)):
            provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert len(double.state.posts) == 1
        found = provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert found.state == PublishState.PUBLISHED
        assert found.external_id.endswith(next(iter(double.state.posts)))


def _meta_connect(double: MetaDouble, provider: Any) -> TokenSet:
    start = provider.begin_auth(redirect_uri=REDIRECT)
    location = requests.get(start.authorization_url, allow_redirects=False, timeout=5).headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    return provider.complete_auth(code=code, redirect_uri=REDIRECT, code_verifier=start.code_verifier)


@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_facebook_gateway_answer_to_a_post_is_ambiguous_and_found(status: int) -> None:
    with running_meta_double("facebook") as double:
        provider = FacebookProvider(base_url=double.url, client=META_CLIENT)
        user_tokens = _meta_connect(double, provider)
        tokens = provider.page_tokens(provider.list_pages(tokens=user_tokens)[0])
        draft = PostDraft(text=f"Croissants are back {status}")
        double.state.gateway_after_publish = status
        with pytest.raises(net.AmbiguousOutcome, match=str(status)):
            provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert len(double.state.posts) == 1
        found = provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert found.state == PublishState.PUBLISHED
        assert list(double.state.posts) == [found.external_id]


@pytest.mark.parametrize("network", ["instagram", "threads"])
@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_container_publish_gateway_answer_is_ambiguous_and_completed_once(network: str, status: int) -> None:
    provider_class = {"instagram": InstagramProvider, "threads": ThreadsProvider}[network]
    with running_meta_double(network) as double:
        provider = provider_class(base_url=double.url, client=META_CLIENT)
        provider.poll_interval = 0.01
        tokens = _meta_connect(double, provider)
        image = MediaItem(
            content=b"\xff\xd8\xff\xd9", filename="a.jpg", content_type="image/jpeg", url="https://c/a.jpg"
        )
        draft = PostDraft(text=f"Fresh loaves {status}", media=(image,))
        pending = provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
        assert pending.state == PublishState.PENDING
        double.state.gateway_after_publish = status
        with pytest.raises(net.AmbiguousOutcome, match=str(status)):
            provider.complete_pending_publish(tokens=tokens, draft=draft, pending_id=pending.external_id)
        assert len(double.state.posts) == 1
        again = provider.complete_pending_publish(tokens=tokens, draft=draft, pending_id=pending.external_id)
        assert again.state == PublishState.PUBLISHED
        assert list(double.state.posts) == [again.external_id]


@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_mastodon_gateway_answer_to_a_create_is_ambiguous_and_found(
    mastodon_double: MastodonDouble, status: int
) -> None:
    client = MastodonProvider(base_url=mastodon_double.url).register_app(redirect_uri=REDIRECT, website="x")
    provider = MastodonProvider(base_url=mastodon_double.url, client=client)
    tokens = connect(provider)
    draft = PostDraft(text=f"did it post? {status}")
    mastodon_double.state.fail_after_create_with = status
    with pytest.raises(net.AmbiguousOutcome, match=str(status)):
        provider.publish(tokens=tokens, draft=draft, idempotency_key="share-1")
    assert len(mastodon_double.state.statuses) == 1
    found = provider.check_pending_publish(tokens=tokens, draft=draft, idempotency_key="share-1")
    assert found.state == PublishState.PUBLISHED
    assert list(mastodon_double.state.statuses) == [found.external_id]


@pytest.mark.parametrize("status", AFTER_THE_WRITE)
def test_bluesky_documents_idempotent_creates_so_a_gateway_answer_stays_transient(status: int) -> None:
    # The record key is derived from the idempotency key: a repeated create cannot make a second post, so a retry
    # later (with backoff) is safe and is what the publisher does.
    script = bluesky_unit.Script()
    handler = type("Handler", (bluesky_unit._Handler,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        script.on("com.atproto.server.getSession", 200, {"did": bluesky_unit.DID, "handle": "alice.test"})
        script.on("com.atproto.repo.getRecord", 400, bluesky_unit._record_not_found)
        script.on("com.atproto.repo.createRecord", status, {"error": "UpstreamFailure"})
        with pytest.raises(net.Transient) as caught:
            bluesky_unit.make(base).publish(
                tokens=bluesky_unit.TOKENS, draft=PostDraft(text="hello"), idempotency_key="share-1"
            )
        assert not isinstance(caught.value, net.AmbiguousOutcome)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [503, 429])
def test_a_write_the_server_says_it_did_not_take_is_not_ambiguous(status: int) -> None:
    with running_x_double() as double:
        provider = XProvider(base_url=double.url, client=client_for(double.state))
        tokens = connect(provider)
        double.state.fail_next_with = status
        with pytest.raises((net.Transient, net.RateLimited)):
            provider.publish(tokens=tokens, draft=PostDraft(text="not taken"), idempotency_key="share-1")
        assert double.state.posts == {}


def test_send_makes_gateway_answers_to_writes_ambiguous_unless_the_write_is_idempotent() -> None:
    with running_x_double() as double:
        double.state.fail_next_with = 502
        with pytest.raises(net.AmbiguousOutcome):
            send(HttpClient(), "POST", f"{double.url}/2/tweets", label="POST /2/tweets", write=True, json={})
        double.state.fail_next_with = 502
        answer = send(
            HttpClient(), "POST", f"{double.url}/2/tweets", label="POST /2/tweets", write=True, idempotent=True, json={}
        )
        assert answer.status_code == 502  # left to the network's own mapping (Transient)
        double.state.fail_next_with = 502
        assert send(HttpClient(), "GET", f"{double.url}/2/tweets", label="GET", json={}).status_code == 502
