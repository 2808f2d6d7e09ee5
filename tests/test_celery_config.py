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


def _project_tasks() -> dict[str, object]:
    return {name: task for name, task in _registered().items() if not name.startswith("tests.")}


def test_soft_time_limit_comes_before_the_hard_one() -> None:
    # The soft limit raises inside the task so it can clean up; the hard one kills the process.
    assert 0 < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT


def test_visibility_timeout_outlives_every_countdown_and_backoff() -> None:
    """A message waiting out a countdown longer than the visibility timeout is redelivered early (twice)."""
    from networks.tasks import MAX_RATE_LIMIT_WAIT

    visibility_timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert isinstance(visibility_timeout, int)
    assert visibility_timeout > MAX_RATE_LIMIT_WAIT  # the longest explicit countdown in the code
    too_long = {
        name: task.retry_backoff_max
        for name, task in _project_tasks().items()
        if getattr(task, "retry_backoff", False) and task.retry_backoff_max >= visibility_timeout
    }
    assert not too_long, f"backoff caps at or above the visibility timeout: {too_long}"


def test_automatic_retries_back_off_with_a_cap_and_jitter() -> None:
    """T3: a task retried on an error backs off exponentially, capped, with jitter (no thundering herd)."""
    unbounded = [
        name
        for name, task in _project_tasks().items()
        if getattr(task, "autoretry_for", ())
        and not (
            getattr(task, "retry_backoff", False)
            and getattr(task, "retry_backoff_max", None)
            and getattr(task, "retry_jitter", False)
        )
    ]

    assert not unbounded, f"tasks retried without capped, jittered backoff: {unbounded}"


def test_a_poison_task_gives_up_soon() -> None:
    """T4: after at most this many retries a failing task is dead-lettered (``linkilike.celery.PlatformTask``)."""
    budgets = {name: task.max_retries for name, task in _project_tasks().items()}

    assert all(budget is not None and budget <= 10 for budget in budgets.values()), budgets
