"""The one HTTP client providers use: timeouts, a User-Agent, logs without secrets, and, for servers a
person named, connections only to the address checked for each connection (S7, ``linkilike.safe_fetch``).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from linkilike.log_filters import redact
from linkilike.safe_fetch import AddressGuard, AddressPolicy, PinnedPoolManager, UnsafeFetch
from networks.providers.exceptions import AddressRefused

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
    from networks.providers.registry import provider_base_url  # the registry imports this module

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
