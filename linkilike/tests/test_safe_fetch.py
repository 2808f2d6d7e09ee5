"""S7: every server-side fetch of a user-supplied URL refuses internal targets, big and slow bodies."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from linkilike.safe_fetch import AddressPolicy, FetchTooLarge, FetchTooSlow, UnsafeURL, safe_fetch

LOCAL_ONLY = AddressPolicy(extra_allowed=(ipaddress.ip_network("127.0.0.1/32"),))


def fake_resolver(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("unknown host")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.178.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
    ],
)
def test_internal_addresses_are_refused_in_every_spelling(url: str) -> None:
    with pytest.raises(UnsafeURL):
        safe_fetch(url)


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "javascript:alert(1)", "dict://x:11211/"],
)
def test_non_http_schemes_are_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="Only http and https"):
        safe_fetch(url)


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(UnsafeURL):
        safe_fetch("http://user:pw@example.com/")


def test_a_public_name_resolving_to_a_private_address_is_refused() -> None:
    resolver = fake_resolver({"rebind.example": ["93.184.216.34", "10.0.0.5"]})

    with pytest.raises(UnsafeURL, match="private or internal"):
        safe_fetch("http://rebind.example/", resolver=resolver)


def test_an_unknown_host_is_refused_with_a_clear_message() -> None:
    with pytest.raises(UnsafeURL, match="could not be found"):
        safe_fetch("http://nowhere.invalid/", resolver=fake_resolver({}))


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        port = self.server.server_address[1]  # type: ignore[index]
        routes = {
            "/ok": (200, {"Content-Type": "text/html"}, b"<title>hello</title>"),
            "/to-ok": (302, {"Location": "/ok"}, b""),
            "/to-loopback": (302, {"Location": f"http://127.0.0.2:{port}/ok"}, b""),
            "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
            "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
            "/loop": (302, {"Location": "/loop"}, b""),
            "/big": (200, {"Content-Length": str(2_000_000)}, b"x" * 2_000_000),
        }
        if self.path == "/big-chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(40):
                chunk = b"y" * 65536
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"z" * 10)
                self.wfile.flush()
                time.sleep(0.3)
            return
        status, headers, body = routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """The client hanging up on an oversize or slow body is the point of those tests."""


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_an_allowed_page_is_fetched_and_redirects_followed(server: str) -> None:
    result = safe_fetch(f"{server}/to-ok", policy=LOCAL_ONLY)

    assert result.status == 200
    assert result.content == b"<title>hello</title>"
    assert result.redirects == (f"{server}/ok",)


@pytest.mark.parametrize("path", ["/to-loopback", "/to-metadata", "/to-file"])
def test_redirects_to_internal_targets_are_refused(server: str, path: str) -> None:
    with pytest.raises(UnsafeURL):
        safe_fetch(f"{server}{path}", policy=LOCAL_ONLY)


def test_redirect_loops_stop(server: str) -> None:
    with pytest.raises(UnsafeURL, match="redirects too many times"):
        safe_fetch(f"{server}/loop", policy=LOCAL_ONLY)


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_oversize_bodies_are_refused(server: str, path: str) -> None:
    with pytest.raises(FetchTooLarge):
        safe_fetch(f"{server}{path}", policy=LOCAL_ONLY, max_bytes=1_000_000)


def test_slow_bodies_are_cut_off_at_the_deadline(server: str) -> None:
    started = time.monotonic()

    with pytest.raises(FetchTooSlow):
        safe_fetch(f"{server}/slow", policy=LOCAL_ONLY, deadline_seconds=1.0)

    assert time.monotonic() - started < 2.5
