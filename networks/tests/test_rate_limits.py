"""The sliding-window limiter that paces network reads (ADR 13), on Redis and without it."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from networks.providers.exceptions import RateLimited
from networks.rate_limits import RateLimit, RateLimiter, most_in_any_window


@pytest.fixture(params=["redis", "local"])
def backend(request: Any, settings: Any) -> str:
    if request.param == "local":
        settings.REDIS_URL = ""
    return str(request.param)


def test_calls_start_at_once_until_the_window_is_full(backend: str) -> None:
    limiter = RateLimiter(name=f"t-{uuid.uuid4().hex}", limit=RateLimit(requests=3, seconds=10))
    for _ in range(3):
        limiter.release(limiter.acquire(max_wait=0))
    with pytest.raises(RateLimited) as caught:
        limiter.acquire(max_wait=1)
    assert caught.value.status is None  # refused here, nothing was sent
    assert 9 < caught.value.retry_after <= 10


def test_a_call_in_flight_counts_until_its_answer_is_back(backend: str) -> None:
    limiter = RateLimiter(name=f"t-{uuid.uuid4().hex}", limit=RateLimit(requests=1, seconds=0.2))
    member = limiter.acquire(max_wait=0)
    time.sleep(0.3)  # longer than the window, but the call is still out
    with pytest.raises(RateLimited):
        limiter.acquire(max_wait=0.05)
    limiter.release(member)
    with pytest.raises(RateLimited):
        limiter.acquire(max_wait=0.05)  # the window runs from the answer
    time.sleep(0.2)
    limiter.acquire(max_wait=0)


def test_limiters_of_one_name_share_the_window_and_never_exceed_it(backend: str) -> None:
    """Eight threads with limiters of their own (as in separate workers): at most 4 calls in any 0.3 s."""
    name = f"t-{uuid.uuid4().hex}"
    limit = RateLimit(requests=4, seconds=0.3)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = RateLimiter(name=name, limit=limit)
        for _ in range(3):
            with limiter.slot(max_wait=5):
                with lock:
                    granted.append(time.monotonic())
                time.sleep(0.005)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(granted) == 24
    assert most_in_any_window(granted, limit.seconds) <= 4
    assert time.monotonic() - started >= (24 / 4 - 1) * limit.seconds  # it did wait, window after window
