"""S7: a Mastodon server a person names is checked on every connection, not only when it is entered.

The instance address is checked once when the person connects it; a DNS answer that changes after
(rebinding) must not point the worker at an internal address later. These tests answer one address
when the form checks it and another when the provider connects, and watch every socket connect.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from networks.errors import ConnectError
from networks.providers.exceptions import AddressRefused
from networks.providers.http import HttpClient, instance_address_guard
from networks.providers.registry import provider_get
from networks.providers.types import TokenSet
from networks.selectors import provider_get_for_account
from networks.services import instance_url_normalize, oauth_app_get_or_register
from networks.tests.mastodon_double import MastodonDouble
from tests.factories.networks import ConnectedAccountFactory

PUBLIC = "93.184.216.34"
REDIRECT_URI = "https://linkilike.example/n/callback/"


class Connections:
    """Every TCP connect made while a test runs; anything beyond loopback fails the test unconnected."""

    def __init__(self) -> None:
        self.addresses: list[str] = []

    def to(self, port: int) -> int:
        return sum(1 for address in self.addresses if address.endswith(f":{port}"))


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Connections:
    seen = Connections()
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            host = ipaddress.ip_address(str(address[0]).split("%")[0])
            if not host.is_loopback:
                raise AssertionError(f"connection attempted to {address[0]}")
            seen.addresses.append(f"{address[0]}:{address[1]}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def scripted_dns(monkeypatch: pytest.MonkeyPatch, host: str, answers: list[str]) -> list[str]:
    """``host`` resolves to ``answers`` in turn (the last one repeats); other names resolve as usual."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(name: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if name != host:
            return real(name, port, *args, **kwargs)
        answer = answers[min(len(asked), len(answers) - 1)]
        asked.append(answer)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def production(settings: Any) -> Any:
    settings.NETWORKS_ALLOW_PRIVATE_INSTANCES = False
    settings.NETWORKS_ALLOWED_PRIVATE_NETWORKS = []
    return settings


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts and hangs up: whatever reaches it was let through."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _address = server.accept()
            except (TimeoutError, OSError):
                continue
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.mark.django_db
def test_rebinding_after_the_instance_check_is_refused_without_connecting(
    production: Any, connections: Connections, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = scripted_dns(monkeypatch, "rebind.example", [PUBLIC, "127.0.0.1"])
    url = instance_url_normalize(raw=f"rebind.example:{listener}")  # the check sees a public address

    with pytest.raises(ConnectError):
        oauth_app_get_or_register(network="mastodon", instance_url=url, redirect_uri=REDIRECT_URI)

    assert asked[0] == PUBLIC
    assert asked[1:], "the provider resolved the name again when it connected"
    assert connections.to(listener) == 0, "no connection reached the internal address"


@pytest.mark.django_db
def test_stored_account_whose_server_now_resolves_inside_is_refused(
    production: Any, connections: Connections, listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripted_dns(monkeypatch, "moved.example", ["127.0.0.1"])
    account = ConnectedAccountFactory(network="mastodon", instance_url=f"https://moved.example:{listener}")
    provider = provider_get_for_account(account=account)

    with pytest.raises(AddressRefused):
        provider.fetch_account(tokens=TokenSet(access_token="t"))

    assert connections.to(listener) == 0


@pytest.mark.django_db
@pytest.mark.parametrize("inside", ["10.0.0.5", "169.254.169.254", "192.168.1.20", "::1"])
def test_private_answers_at_call_time_are_never_contacted(
    production: Any, connections: Connections, monkeypatch: pytest.MonkeyPatch, inside: str
) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(name: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if name == "inside.example":
            family = socket.AF_INET6 if ":" in inside else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (inside, int(port or 0)))]
        return real(name, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    provider = provider_get("mastodon", base_url="https://inside.example")

    with pytest.raises(AddressRefused):
        provider.register_app(redirect_uri=REDIRECT_URI, website="https://linkilike.example")

    assert connections.addresses == []


@pytest.mark.django_db
def test_a_normal_instance_still_works(
    production: Any, mastodon_double: MastodonDouble, connections: Connections
) -> None:
    production.NETWORKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]  # the double stands in for a public server

    app = oauth_app_get_or_register(network="mastodon", instance_url=mastodon_double.url, redirect_uri=REDIRECT_URI)

    assert app.client_id
    assert ("POST", "/api/v1/apps") in [(method, path) for method, path, _headers in mastodon_double.state.requests]


@pytest.mark.django_db
def test_without_the_allowance_a_loopback_instance_is_refused(
    production: Any, mastodon_double: MastodonDouble, connections: Connections
) -> None:
    with pytest.raises(ConnectError):
        oauth_app_get_or_register(network="mastodon", instance_url=mastodon_double.url, redirect_uri=REDIRECT_URI)

    assert mastodon_double.state.requests == []


@pytest.mark.django_db
def test_the_configured_sandbox_stays_allowed(
    production: Any, mastodon_double: MastodonDouble, connections: Connections
) -> None:
    production.SANDBOX_BASE_URL = mastodon_double.url  # named in settings: the operator's choice, not a person's

    provider_get("sandbox").register_app(redirect_uri=REDIRECT_URI, website="https://linkilike.example")

    assert mastodon_double.state.requests


# --- TLS keeps the name ---------------------------------------------------------------------


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, dict[str, str]]]:
    cert_path, key_path = _certificate(tmp_path, "mastodon.test")
    seen: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            seen["host"] = self.headers.get("Host", "")
            body = b'{"uri": "mastodon.test"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)

    def remember_sni(_sock: ssl.SSLObject, name: str, _context: ssl.SSLContext) -> None:
        seen["sni"] = name

    context.sni_callback = remember_sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], cert_path, seen
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_tls_to_the_pinned_address_still_verifies_the_name(
    production: Any, tls_server: tuple[int, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert_path, seen = tls_server
    production.NETWORKS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1/32"]
    scripted_dns(monkeypatch, "mastodon.test", ["127.0.0.1"])
    http = HttpClient()
    http.session.verify = str(cert_path)
    http.pin_checked_addresses(instance_address_guard())

    response = http.request("GET", f"https://mastodon.test:{port}/api/v1/instance")

    assert response.status_code == 200
    assert seen == {"sni": "mastodon.test", "host": f"mastodon.test:{port}"}
