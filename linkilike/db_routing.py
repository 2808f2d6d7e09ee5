"""Analytics reads on a read replica (docs/SCALING.md, section 6; ADR 16).

Reads go to the replica only inside an explicit ``analytics_reads()`` block, which the results
selectors open; never implicitly. A service that reads before it writes (click rules, the earnings
engine, publishing claims) therefore always reads the primary, and so does any read inside a
transaction on the primary (it must see its own writes). Every write goes to the primary, also for an
object that was loaded from the replica.

Without a replica (``DATABASE_REPLICA_URL`` unset, ``ANALYTICS_READS_DATABASE`` None) nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

_ANALYTICS: ContextVar[bool] = ContextVar("linkilike_analytics_reads", default=False)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def analytics_reads() -> Iterator[None]:
    """Reads in this block may be served by the replica (seconds behind the primary)."""
    token = _ANALYTICS.set(True)
    try:
        yield
    finally:
        _ANALYTICS.reset(token)


def analytics_read(function: Callable[P, R]) -> Callable[P, R]:
    """Runs a selector inside ``analytics_reads()``; it must return evaluated data, not a lazy queryset."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with analytics_reads():
            return function(*args, **kwargs)

    return wrapper


def analytics_database() -> str | None:
    alias = getattr(settings, "ANALYTICS_READS_DATABASE", None)
    return alias if alias and alias in settings.DATABASES else None


class AnalyticsReplicaRouter:
    """The project's only router: analytics reads to the replica, everything else to the primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not _ANALYTICS.get():
            return None
        alias = analytics_database()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return alias

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        # Explicit: without it Django writes an object back to the database it was read from.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the primary's rows

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        # The replica follows the primary's schema through replication; it is never migrated itself.
        return None if db == DEFAULT_DB_ALIAS else False
