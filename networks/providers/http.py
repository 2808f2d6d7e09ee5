"""The one HTTP client providers use: timeouts, a User-Agent, and logs without secrets."""

from __future__ import annotations

import logging
import time
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
