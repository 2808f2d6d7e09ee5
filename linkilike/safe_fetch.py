"""The one way the server fetches a URL that a user supplied (S7: no SSRF).

Link previews, proof-of-post checks and media-by-URL all call :func:`safe_fetch`. It

- accepts only ``http`` and ``https`` URLs without credentials;
- resolves the host once and refuses loopback, private, link-local, multicast, reserved,
  shared-address and cloud-metadata addresses, in any spelling (decimal, hex, octal, IPv4-mapped
  IPv6), then connects to exactly the address it checked (no DNS rebinding between check and use);
- follows at most a few redirects, checking every hop the same way;
- stops bodies above a size cap and responses slower than an overall deadline.

Clients that talk to a server a person named over many requests (the Mastodon provider's
``requests`` session) use the same check per connection instead: :class:`PinnedPoolManager`
opens every new connection through :meth:`AddressGuard.connect_address`, which resolves, checks
and returns the one address to connect to, while TLS (SNI, certificate) and ``Host`` keep the name.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.utils.translation import gettext as _
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_DEADLINE_SECONDS = 15.0
DEFAULT_MAX_REDIRECTS = 3
USER_AGENT = "LinkilikeBot/1.0 (+https://linkilike.example/bot)"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class UnsafeFetch(Exception):
    """The URL or its response was refused; ``str()`` is a message fit for the person."""


class UnsafeURL(UnsafeFetch):
    pass


class FetchTooLarge(UnsafeFetch):
    pass


class FetchTooSlow(UnsafeFetch):
    pass


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content_type: str
    content: bytes
    redirects: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved addresses may be contacted. ``extra_allowed`` exists for tests only."""

    extra_allowed: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=())

    def allows(self, address: Address) -> bool:
        if any(address in network for network in self.extra_allowed):
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            return self.allows(address.ipv4_mapped)
        if address in _METADATA_ADDRESSES:
            return False
        return address.is_global and not address.is_multicast


def _default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str


def address_check(host: str, port: int, *, policy: AddressPolicy, resolver: Resolver | None = None) -> str:
    """Resolves ``host`` now and returns the address to connect to.

    Raises :class:`UnsafeURL` unless every answer is allowed: a name with one internal answer among
    public ones is refused, as an attacker controls which answer a client picks.
    """
    try:
        addresses: Iterable[str] = (resolver or _default_resolver)(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(_("The host %(host)s could not be found.") % {"host": host}) from exc
    checked = [ipaddress.ip_address(address.split("%", 1)[0]) for address in addresses]
    if not checked or not all(policy.allows(address) for address in checked):
        raise UnsafeURL(_("Links to private or internal network addresses cannot be fetched."))
    return str(checked[0])


def _check_url(url: str, policy: AddressPolicy, resolver: Resolver) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("This address is not a valid web link.")) from exc
    if parts.scheme not in {"http", "https"}:
        raise UnsafeURL(_("Only http and https links can be fetched."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Links with a user name or password cannot be fetched."))
    host = parts.hostname or ""
    if not host:
        raise UnsafeURL(_("This address is not a valid web link."))
    port = port or (443 if parts.scheme == "https" else 80)
    address = address_check(host, port, policy=policy, resolver=resolver)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme=parts.scheme, host=host, port=port, address=address, path=path)


def _open(target: _Target, method: str, deadline: float) -> urllib3.BaseHTTPResponse:
    remaining = max(0.1, deadline - time.monotonic())
    timeout = urllib3.Timeout(connect=min(5.0, remaining), read=min(10.0, remaining))
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and not target.host.startswith("["):
        host_header = f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
    try:
        return pool.urlopen(
            method,
            target.path,
            headers={"Host": host_header, "User-Agent": USER_AGENT, "Accept": "*/*"},
            redirect=False,
            preload_content=False,
        )
    except urllib3.exceptions.TimeoutError as exc:
        raise FetchTooSlow(_("The other server took too long to answer.")) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise UnsafeFetch(_("The other server could not be reached.")) from exc


def _read_body(response: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchTooLarge(_("The linked file is too large."))
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := response.read1(64 * 1024):  # returns as soon as any bytes arrive
            size += len(chunk)
            if size > max_bytes:
                raise FetchTooLarge(_("The linked file is too large."))
            if time.monotonic() > deadline:
                raise FetchTooSlow(_("The other server took too long to answer."))
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError as exc:
        raise FetchTooSlow(_("The other server took too long to answer.")) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise UnsafeFetch(_("The other server could not be reached.")) from exc
    finally:
        response.release_conn()
    return b"".join(chunks)


def safe_fetch(
    url: str,
    *,
    method: str = "GET",
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    max_redirects: int = DEFAULT_MAX_REDIRECTS,
    policy: AddressPolicy | None = None,
    resolver: Resolver | None = None,
    follow: frozenset[int] = frozenset(REDIRECT_STATUSES),
) -> FetchResult:
    """Fetch ``url`` as the module doc says. Redirects with a status in ``follow`` are followed (each hop
    checked); any other answer, a redirect too, is the result."""
    policy = policy or AddressPolicy()
    resolver = resolver or _default_resolver
    deadline = time.monotonic() + deadline_seconds
    redirects: list[str] = []
    current = url
    while True:
        target = _check_url(current, policy, resolver)
        response = _open(target, method, deadline)
        if response.status in follow and response.headers.get("Location"):
            response.release_conn()
            if len(redirects) >= max_redirects:
                raise UnsafeURL(_("The link redirects too many times."))
            current = urljoin(current, response.headers["Location"])
            redirects.append(current)
            continue
        content = _read_body(response, max_bytes, deadline) if method != "HEAD" else b""
        return FetchResult(
            url=current,
            status=response.status,
            content_type=response.headers.get("Content-Type", ""),
            content=content,
            redirects=tuple(redirects),
        )


# --- pinned connections for long-lived clients ----------------------------------------------


@dataclass(frozen=True)
class AddressGuard:
    """Which address each new connection may go to.

    ``trusted`` lists ``(host, port)`` pairs the operator configured (settings, not people); those
    connect as the system resolves them. Every other host is resolved and checked against
    ``policy`` for each connection, and the connection goes to exactly the checked address.
    """

    policy: AddressPolicy = field(default_factory=AddressPolicy)
    resolver: Resolver | None = None
    trusted: frozenset[tuple[str, int]] = frozenset()

    def connect_address(self, host: str, port: int) -> str:
        if (host.rstrip(".").lower(), port) in self.trusted:
            return host
        return address_check(host, port, policy=self.policy, resolver=self.resolver)


class _PinnedConnectionMixin:
    """Replaces urllib3's ``_new_conn``: the same socket handling, to the address the guard returns.

    ``self.host`` stays the name, so the ``Host`` header, SNI and the certificate check use it.
    """

    host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: Any

    def __init__(self, *args: Any, address_guard: AddressGuard, **kwargs: Any) -> None:
        self.address_guard = address_guard
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        # Resolved and checked here, per connection, never reused from an earlier check: a name whose
        # DNS answer changed since (rebinding) is judged by the answer the socket will really use.
        address = self.address_guard.connect_address(self._dns_host, self.port)  # type: ignore[attr-defined]
        try:
            sock = create_connection(
                (address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PinnedPoolManager(urllib3.PoolManager):
    """A pool manager whose every new connection goes through ``address_guard`` (see the module doc)."""

    def __init__(self, *, address_guard: AddressGuard, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.address_guard = address_guard
        self.pool_classes_by_scheme = {"http": _PinnedHTTPConnectionPool, "https": _PinnedHTTPSConnectionPool}

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        # Added after the pool key is computed (the key's fields are fixed), handed on to each connection.
        context = dict(request_context if request_context is not None else self.connection_pool_kw)
        context["address_guard"] = self.address_guard
        return super()._new_pool(scheme, host, port, context)
