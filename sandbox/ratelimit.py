"""Mastodon-style rate limits: a fixed window per access token (or per IP address without one).

Media uploads have their own, stricter limit on top (30 per 30 minutes on Mastodon).
Headers as Mastodon sends them: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (ISO-8601, UTC). The limit and window come from settings so tests can
set them low.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_at: datetime

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def apply_headers(self, response: HttpResponse) -> None:
        response["X-RateLimit-Limit"] = str(self.limit)
        response["X-RateLimit-Remaining"] = str(max(0, self.remaining))
        response["X-RateLimit-Reset"] = self.reset_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rate_limit_hit(
    *, identity: str, now: datetime | None = None, limit: int | None = None, period: int | None = None
) -> RateLimitState:
    """Counts one request of ``identity``; ``limit``/``period`` default to the general API limit."""
    limit = int(settings.SANDBOX_RATE_LIMIT if limit is None else limit)
    period = int(settings.SANDBOX_RATE_LIMIT_PERIOD_SECONDS if period is None else period)
    now = now or timezone.now()
    window_start = int(now.timestamp()) // period * period
    key = f"sandbox:ratelimit:{identity}:{window_start}"
    cache.add(key, 0, timeout=period + 5)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 5)
        used = 1
    return RateLimitState(
        limit=limit, remaining=limit - used, reset_at=datetime.fromtimestamp(window_start + period, tz=UTC)
    )
