"""The one HTTP client providers use: timeouts, a User-Agent, logs without secrets, and, for servers a
person named, connections only to the address checked for each connection (S7, ``linkilike.safe_fetch``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from linkilike.log_filters import redact
from linkilike.safe_fetch import AddressGuard, AddressPolicy, PinnedPoolManager, UnsafeFetch
from networks.providers.config import provider_base_url
from networks.providers.exceptions import (
    AddressRefused,
    AmbiguousOutcome,
    AuthExpired,
    ContentRejected,
    NetworkError,
    RateLimited,
    Transient,
)

logger = logging.getLogger("networks.http")

DEFAULT_TIMEOUT = (5.0, 20.0)  # connect, read
_ANYWHERE = (ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0"))


def private_instances_allowed() -> bool:
    """Development and tests connect to servers on this machine; production only to public ones."""
    return bool(getattr(settings, "NETWORKS_ALLOW_PRIVATE_INSTANCES", settings.DEBUG or settings.TESTING))


def instance_address_policy() -> AddressPolicy:
    """Where a server a person named may resolve to: public addresses, plus the private networks the
    operator lists in ``NETWORKS_ALLOWED_PRIVATE_NETWORKS`` (a deliberately allowed internal server)."""
    if private_instances_allowed():
        return AddressPolicy(extra_allowed=_ANYWHERE)
    allowed = getattr(settings, "NETWORKS_ALLOWED_PRIVATE_NETWORKS", ())
    return AddressPolicy(extra_allowed=tuple(ipaddress.ip_network(network, strict=False) for network in allowed))


def _configured_hosts() -> frozenset[tuple[str, int]]:
    """``(host, port)`` of every server the settings name (the built-in sandbox, fixed-URL networks)."""
    hosts = set()
    for network in settings.NETWORK_PROVIDERS:
        parts = urlsplit(provider_base_url(network))
        if parts.hostname:
            hosts.add((parts.hostname.lower(), parts.port or (443 if parts.scheme == "https" else 80)))
    return frozenset(hosts)


def instance_address_guard() -> AddressGuard:
    return AddressGuard(policy=instance_address_policy(), trusted=_configured_hosts())


class PinnedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose connections go through ``linkilike.safe_fetch.PinnedPoolManager``."""

    def __init__(self, address_guard: AddressGuard, **kwargs: Any) -> None:
        self.address_guard = address_guard  # init_poolmanager, called by __init__, needs it
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = PinnedPoolManager(
            address_guard=self.address_guard, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )


class HttpClient:
    """A thin ``requests.Session`` wrapper. Inject a different one in tests if needed."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        user_agent: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent or f"Linkilike/1.0 (+{settings.SITE_URL})"
        self.session.headers["Accept"] = "application/json"
        if not urllib.request.getproxies():
            # requests re-reads proxies, no_proxy, .netrc and the CA bundle from the environment on every
            # request: with a few hundred variables that was 6 ms of CPU per call, the largest share of a
            # metrics read (bench P3, cProfile). Without a proxy configured, read the CA bundle once instead.
            self.session.trust_env = False
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                self.session.verify = bundle

    def pin_checked_addresses(self, address_guard: AddressGuard) -> None:
        """From now on every new connection resolves, checks and connects through ``address_guard``."""
        adapter = PinnedAdapter(address_guard)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        started = time.monotonic()
        try:
            response = self.session.request(method, url, **kwargs)
        except UnsafeFetch as error:
            logger.warning("%s %s refused: %s", method, redact(url), error)
            raise AddressRefused(f"{method} {redact(url)}: {error}") from error
        except requests.RequestException as error:
            logger.warning("%s %s failed: %s", method, redact(url), redact(str(error)))
            raise
        logger.info(
            "%s %s -> %s in %.0f ms",
            method,
            redact(url),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response

    def close(self) -> None:
        self.session.close()


# --- the publish-side error ladder, shared by every adapter ----------------------------------------------------
#
# At most once: a write whose request may have reached the network and whose answer was lost is ambiguous (it may
# have happened: resolve it with ``check_pending_publish``, never send blindly); anything that failed before the
# request left, or any lost read, is transient (safe to try again). So is a write answered with one of
# ``AMBIGUOUS_WRITE_STATUSES``: the origin may have carried it out. Each adapter adds only its own network's
# mapping of answers (codes in bodies, its 401 meaning, its rate-limit clock) on top of ``status_error``.

#: Answers to a write that do not say whether it happened (docs/adr/0009-publishing-at-most-once.md): the proxy in front
#: of the network lost the origin's answer (502) or stopped waiting for it (504) while the origin may still be
#: creating the post, or the origin failed while carrying the request out (500: RFC 9110 says only that it could not
#: fulfil it, and servers do fail after storing the post, in their post-processing). Not 503: the server says it did
#: not take the request (RFC 9110, 15.6.4), like 408 and 429 — those stay transient.
AMBIGUOUS_WRITE_STATUSES = frozenset({500, 502, 504})

#: 4xx answers that refuse this request's content (not the token, not the rate): sending it again cannot help.
CONTENT_STATUSES = frozenset({400, 403, 404, 413, 415, 422})


def never_connected(error: requests.ConnectionError) -> bool:
    """True when the connection was refused (or the name did not resolve) before anything was sent."""
    text = repr(error)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text


def request_error(error: requests.RequestException, *, label: str, write: bool) -> NetworkError:
    """The typed error for a request that got no answer. ``write``: the request may change something."""
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError):
        return Transient(f"{label}: {type(error).__name__}")  # nothing was sent
    if isinstance(error, requests.ConnectionError):
        if write and not never_connected(error):
            return AmbiguousOutcome(f"{label}: connection lost after sending")
        return Transient(f"{label}: {type(error).__name__}")
    if isinstance(error, requests.Timeout):
        if write:
            return AmbiguousOutcome(f"{label}: no answer after sending")
        return Transient(f"{label}: timed out")
    if write and isinstance(error, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        # The network answered and its body broke off: the write reached it (and may well have happened).
        return AmbiguousOutcome(f"{label}: answer broken off after sending")
    return Transient(f"{label}: {type(error).__name__}")


def send(
    http: HttpClient,
    method: str,
    url: str,
    *,
    label: str,
    write: bool = False,
    idempotent: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """``http.request`` with a lost answer turned into ``AmbiguousOutcome`` (writes) or ``Transient``.

    A write answered with one of ``AMBIGUOUS_WRITE_STATUSES`` is ``AmbiguousOutcome`` too, before any network's own
    mapping reads it, unless ``idempotent``: the network documents that sending the same write again cannot make a
    second post (Bluesky's record key derived from the idempotency key), so that answer is left to the network's
    mapping and retried later like any passing fault.
    """
    try:
        response = http.request(method, url, **kwargs)
    except requests.RequestException as error:
        raise request_error(error, label=label, write=write) from error
    if write and not idempotent and response.status_code in AMBIGUOUS_WRITE_STATUSES:
        raise AmbiguousOutcome(f"{label}: {response.status_code} after sending, it may have been carried out")
    return response


def json_object(response: requests.Response) -> dict[str, Any]:
    """The answer's JSON object; anything else (not JSON, a list) is a ``Transient`` surprise."""
    try:
        body = response.json()
    except ValueError as error:
        raise Transient(f"unexpected non-JSON answer ({response.status_code})") from error
    if not isinstance(body, dict):
        raise Transient("unexpected JSON shape")
    return body


def _whole_seconds(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def retry_after_seconds(headers: Mapping[str, str], *, reset_at: datetime | None = None, default: float = 60.0) -> int:
    """``Retry-After`` (seconds) when the answer has it, else whole seconds (at least 1) until ``reset_at``, else
    ``default``."""
    given = _whole_seconds(headers.get("Retry-After"))
    if given is not None:
        return given
    seconds = (reset_at - datetime.now(UTC)).total_seconds() if reset_at else default
    return max(1, int(seconds + 0.999))


def status_error(
    response: requests.Response,
    *,
    text: str,
    unauthorized: type[NetworkError] = AuthExpired,
    reset_at: datetime | None = None,
    default_retry_after: float = 60.0,
    content_statuses: frozenset[int] = CONTENT_STATUSES,
) -> NetworkError:
    """The typed error for an unsuccessful answer, by its status alone.

    401: ``unauthorized`` (``AuthExpired`` where tokens expire, ``AuthRevoked`` where they do not); 429:
    ``RateLimited`` after ``Retry-After`` (else until ``reset_at``, else ``default_retry_after``); a refused
    content (``content_statuses``): ``ContentRejected``; 408 and 5xx: ``Transient``; anything else: a plain,
    final ``NetworkError``.
    """
    status = response.status_code
    if status == 401:
        return unauthorized(text, status=status)
    if status == 429:
        retry_after = retry_after_seconds(response.headers, reset_at=reset_at, default=default_retry_after)
        return RateLimited(text, retry_after=retry_after, reset_at=reset_at, status=status)
    if status in content_statuses:
        return ContentRejected(text, status=status)
    if status == 408 or status >= 500:
        return Transient(text, status=status)
    return NetworkError(text, status=status)
