"""The one way the server fetches a URL that a user supplied (S7: no SSRF).

Link previews, proof-of-post checks and media-by-URL all call :func:`safe_fetch`. It

- accepts only ``http`` and ``https`` URLs without credentials;
- resolves the host once and refuses loopback, private, link-local, multicast, reserved,
  shared-address and cloud-metadata addresses, in any spelling (decimal, hex, octal, IPv4-mapped
  IPv6), then connects to exactly the address it checked (no DNS rebinding between check and use);
- follows at most a few redirects, checking every hop the same way;
- stops bodies above a size cap and responses slower than an overall deadline.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from django.utils.translation import gettext as _

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
    try:
        addresses: Iterable[str] = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(_("The host %(host)s could not be found.") % {"host": host}) from exc
    checked = [ipaddress.ip_address(address.split("%", 1)[0]) for address in addresses]
    if not checked or not all(policy.allows(address) for address in checked):
        raise UnsafeURL(_("Links to private or internal network addresses cannot be fetched."))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return _Target(scheme=parts.scheme, host=host, port=port, address=str(checked[0]), path=path)


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
) -> FetchResult:
    policy = policy or AddressPolicy()
    resolver = resolver or _default_resolver
    deadline = time.monotonic() + deadline_seconds
    redirects: list[str] = []
    current = url
    while True:
        target = _check_url(current, policy, resolver)
        response = _open(target, method, deadline)
        if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
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
