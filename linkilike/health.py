"""Liveness of the parts the platform needs: database, cache and the Celery worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "linkilike:worker-heartbeat"
HEARTBEAT_STALE_AFTER = timedelta(minutes=3)


@dataclass(frozen=True)
class HealthReport:
    database: bool
    cache: bool
    last_worker_heartbeat: datetime | None

    @property
    def worker(self) -> bool:
        if self.last_worker_heartbeat is None:
            return False
        return timezone.now() - self.last_worker_heartbeat < HEARTBEAT_STALE_AFTER

    @property
    def ok(self) -> bool:
        return self.database and self.cache


def heartbeat_record() -> None:
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)


def health_check() -> HealthReport:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        database = False
    try:
        cache.set("linkilike:health-probe", "1", timeout=10)
        cache_ok = cache.get("linkilike:health-probe") == "1"
        raw = cache.get(HEARTBEAT_KEY)
    except Exception:  # noqa: BLE001
        cache_ok, raw = False, None
    return HealthReport(
        database=database,
        cache=cache_ok,
        last_worker_heartbeat=datetime.fromisoformat(raw) if raw else None,
    )
