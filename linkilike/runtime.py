"""Interpreter settings for bulk work that runs beside reader threads (the metrics sweep, ADR 22).

A metrics sweep of 10,000 posts allocates about a million objects (model instances, reads, rows), nearly
all freed by reference counting as soon as they are dropped. The cyclic collector still runs every few
hundred allocations, and each of its full passes walks every object the process holds (the whole of
Django, the loaded models): profiled at about half a second of a 10,000-post sweep, much of it while reader
threads waited for the interpreter. Paused, nothing is leaked: reference counting frees as before, and
cycles made meanwhile are collected once the collector runs again.

While the sweep's thread stores a chunk, its readers wait for answers; one whose answer has come waits for
the interpreter too, up to the switch interval (5 ms by default, a quarter of a 20 ms read). A shorter
interval hands the interpreter over sooner.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector (process-wide) for the block; a caller's own pause is left as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Threads take turns at most ``seconds`` apart (process-wide) for the block; never longer than before."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, seconds))
    try:
        yield
    finally:
        sys.setswitchinterval(before)
