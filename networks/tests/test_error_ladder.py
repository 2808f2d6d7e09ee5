"""The one publish-side error ladder every adapter uses (``networks.providers.http``).

At most once: a write whose request may have reached the network and whose answer was lost is ambiguous; a
request that never left, or a lost read, is transient. The transport cases run over real sockets on this machine
(a server that resets the connection after reading the request, a port nobody listens on, a server that never
answers); the status cases classify real ``requests.Response`` objects.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from networks.providers import exceptions as net
from networks.providers.http import (
    HttpClient,
    json_object,
    never_connected,
    request_error,
    retry_after_seconds,
    send,
    status_error,
)


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
