"""Pacing requests to a network below its documented limit, shared by every process through Redis.

A sliding-window log: at most ``requests`` calls start in any ``seconds`` (widened by a small margin,
because a call reaches the network a little after it was let through). Networks count in fixed
windows on their own clock, which a sliding window never overruns; a token bucket of the same size
could (a full bucket spent at the end of one window, then the refill at the start of the next).
Without Redis (SQLite demo runs) the same log lives in this process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from networks.providers.exceptions import RateLimited

# Runs atomically in Redis with Redis' own clock, so every worker host agrees on "now".
# Returns 0 when the call may start, else the microseconds until the oldest call leaves the window.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
"""


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: float

    @property
    def padded_seconds(self) -> float:
        """The window the limiter enforces: the network's plus 2% and 50 ms for the trip there."""
        return self.seconds * 1.02 + 0.05


class _LocalLog:
    """The same sliding-window log for one process (no Redis)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logs: dict[str, deque[float]] = {}

    def acquire(self, key: str, limit: RateLimit) -> float:
        window = limit.padded_seconds
        with self.lock:
            now = time.monotonic()
            log = self.logs.setdefault(key, deque())
            while log and log[0] <= now - window:
                log.popleft()
            if len(log) < limit.requests:
                log.append(now)
                return 0.0
            return log[0] + window - now


_local = _LocalLog()


def _redis() -> Any | None:
    if not getattr(settings, "REDIS_URL", ""):
        return None
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


class RateLimiter:
    """``acquire()`` before each request; it sleeps while the window is full."""

    def __init__(self, *, name: str, limit: RateLimit, sleep: Callable[[float], None] = time.sleep) -> None:
        self.key = cache.make_key(f"ratelimit:{name}")
        self.limit = limit
        self.sleep = sleep
        self.waited = 0.0
        client = _redis()
        self._script = client.register_script(_ACQUIRE) if client is not None else None

    def _try(self) -> float:
        """0 when a call may start now, else seconds to wait."""
        if self._script is None:
            return _local.acquire(self.key, self.limit)
        window_us = int(self.limit.padded_seconds * 1_000_000)
        wait_us = int(self._script(keys=[self.key], args=[window_us, self.limit.requests, uuid.uuid4().hex]))
        return wait_us / 1_000_000

    def acquire(self, *, max_wait: float) -> None:
        """Wait for a slot; ``RateLimited`` when it would take longer than ``max_wait`` seconds in all."""
        deadline = time.monotonic() + max_wait
        while True:
            wait = self._try()
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise RateLimited("local pacing: the network's window is full", retry_after=wait, status=None)
            self.sleep(wait)
            self.waited += wait
