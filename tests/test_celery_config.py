"""T3: the Celery configuration is asserted, so a task that could never run or never stop is caught."""

from __future__ import annotations

from django.conf import settings

from linkilike.celery import app


def _registered() -> dict[str, object]:
    app.loader.import_default_modules()  # runs autodiscovery as a worker does at start-up
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_scheduled_task_is_registered_in_the_worker() -> None:
    registered = _registered()

    missing = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] not in registered]

    assert not missing, f"beat schedules tasks no worker knows: {missing}"


def test_every_task_declares_its_retry_budget() -> None:
    undeclared = [name for name, task in _registered().items() if getattr(task, "max_retries", None) is None]

    assert not undeclared, f"tasks without max_retries: {undeclared}"


def test_redis_visibility_timeout_outlives_the_task_time_limit() -> None:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert settings.CELERY_BROKER_URL.startswith("redis")
    visibility_timeout = options["visibility_timeout"]
    assert isinstance(visibility_timeout, int)
    assert visibility_timeout > settings.CELERY_TASK_TIME_LIMIT
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
