"""The one HTTP client providers use: timeouts, a User-Agent, and logs without secrets."""

from __future__ import annotations

import logging
import os
import time
import urllib.request
from typing import Any

import requests
from django.conf import settings

from linkilike.log_filters import redact

logger = logging.getLogger("networks.http")

DEFAULT_TIMEOUT = (5.0, 20.0)  # connect, read


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

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        started = time.monotonic()
        try:
            response = self.session.request(method, url, **kwargs)
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
