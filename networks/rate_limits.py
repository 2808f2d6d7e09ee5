"""Pacing requests to a network below its documented limit, shared by every process through Redis.

A sliding-window log that counts each call from the moment it is let through until ``seconds``
after its answer came back: at most ``requests`` calls are in that state at once. A call reaches
the network somewhere between those two moments, so however late it arrives (a busy machine, a
slow connection) no ``seconds``-long window on the network's side can see more than ``requests``
of them; counting from the moment of sending only would need a margin for the trip, and a busy
machine overran a 50 ms one. Networks count in fixed windows on their own clock, which this never
overruns; a token bucket of the same size could (a full bucket spent at the end of one window,
then the refill at the start of the next). Without Redis (SQLite demo runs) the log lives in this
process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from networks.providers.exceptions import RateLimited

#: A call still in flight counts until this long after it was let through, if ``release`` never came
#: (a killed worker): longer than any request's timeout, so a live call never stops counting early.
HOLD_SECONDS = 120.0
#: How often a caller looks again while the window is full of calls still in flight.
POLL_SECONDS = 0.01

# Runs atomically in Redis with Redis' own clock, so every worker host agrees on "now". ARGV: window
# (us), limit, member, hold (us), poll (us). A call in flight is stored with a score in the future
# (now + hold); ``_RELEASE`` moves it to its answer's moment. Returns 0 when the call may start, else
# the microseconds to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil((window + tonumber(ARGV[4])) / 1000) + 1000)
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then
  return tonumber(ARGV[5])
end
return math.max(1, oldest + window - now)
"""
_RELEASE = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', tonumber(t[1]) * 1000000 + tonumber(t[2]), ARGV[1])
return 0
"""


def most_in_any_window(moments: list[float], seconds: float) -> int:
    """The most of ``moments`` inside any ``seconds``-long window: what a network's limit counts.

    Checks the limiter's promise from the outside (tests; the P3 benchmark on what its network
    double recorded): two pointers over the sorted moments.
    """
    times = sorted(moments)
    best = left = 0
    for right, moment in enumerate(times):
        while times[left] <= moment - seconds:
            left += 1
        best = max(best, right - left + 1)
    return best


@dataclass(frozen=True)
class RateLimit:
    requests: int
    seconds: float


class _LocalLog:
    """The same log for one process (no Redis): key -> {member: score}."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logs: dict[str, dict[str, float]] = {}

    def acquire(self, key: str, limit: RateLimit, member: str) -> float:
        with self.lock:
            now = time.monotonic()
            log = self.logs.setdefault(key, {})
            for name in [name for name, score in log.items() if score <= now - limit.seconds]:
                del log[name]
            if len(log) < limit.requests:
                log[member] = now + HOLD_SECONDS
                return 0.0
            oldest = min(log.values())
            return POLL_SECONDS if oldest > now else oldest + limit.seconds - now

    def release(self, key: str, member: str) -> None:
        with self.lock:
            log = self.logs.get(key, {})
            if member in log:
                log[member] = time.monotonic()


_local = _LocalLog()


def _redis() -> Any | None:
    if not getattr(settings, "REDIS_URL", ""):
        return None
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


class RateLimiter:
    """``with limiter.slot(max_wait=...):`` around each request; it sleeps while the window is full."""

    def __init__(self, *, name: str, limit: RateLimit, sleep: Callable[[float], None] = time.sleep) -> None:
        self.key = cache.make_key(f"ratelimit:{name}")
        self.limit = limit
        self.sleep = sleep
        client = _redis()
        self._acquire = client.register_script(_ACQUIRE) if client is not None else None
        self._release = client.register_script(_RELEASE) if client is not None else None

    def _try(self, member: str) -> float:
        """0 when the call may start now, else seconds to wait."""
        if self._acquire is None:
            return _local.acquire(self.key, self.limit, member)
        args = [
            int(self.limit.seconds * 1_000_000),
            self.limit.requests,
            member,
            int(HOLD_SECONDS * 1_000_000),
            int(POLL_SECONDS * 1_000_000),
        ]
        return int(self._acquire(keys=[self.key], args=args)) / 1_000_000

    def acquire(self, *, max_wait: float) -> str:
        """Wait for a slot and return its id; ``RateLimited`` when that would take over ``max_wait`` seconds."""
        member = uuid.uuid4().hex
        deadline = time.monotonic() + max_wait
        while True:
            wait = self._try(member)
            if wait <= 0:
                return member
            if time.monotonic() + wait > deadline:
                raise RateLimited("local pacing: the network's window is full", retry_after=wait, status=None)
            self.sleep(wait)

    def release(self, member: str) -> None:
        """The call's answer came back: it counts for ``seconds`` from now."""
        if self._release is None:
            _local.release(self.key, member)
        else:
            self._release(keys=[self.key], args=[member])

    @contextmanager
    def slot(self, *, max_wait: float) -> Iterator[None]:
        member = self.acquire(max_wait=max_wait)
        try:
            yield
        finally:
            self.release(member)
