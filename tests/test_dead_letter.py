"""T4: a poison task is retried at most ``max_retries`` times, then recorded as one dead letter,
visible in the admin, which can re-enqueue it or mark it resolved."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from linkilike.celery import PlatformTask, app
from linkilike.dead_letters import DeadLetterNotRetryable, dead_letter_record, dead_letter_retry
from linkilike.models import DeadLetter
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

MAX_RETRIES = 3
calls: Counter[str] = Counter()
healthy = {"flaky_until_fixed": False}


# Capped, jittered backoff like every project task (T3); eager retries run at once regardless.
BACKOFF: dict[str, Any] = {"retry_backoff": True, "retry_backoff_max": 1, "retry_jitter": True}


class Transient(Exception):
    """Stands in for a timeout or a 503: worth retrying."""


@app.task(name="tests.dead_letter.poison", max_retries=MAX_RETRIES, autoretry_for=(Transient,), **BACKOFF)
def poison(item_id: int) -> None:
    calls["poison"] += 1
    raise Transient(f"upstream unavailable for item {item_id}")


@app.task(name="tests.dead_letter.recovers", max_retries=MAX_RETRIES, autoretry_for=(Transient,), **BACKOFF)
def recovers(item_id: int) -> int:
    calls["recovers"] += 1
    if calls["recovers"] < 3:
        raise Transient("not yet")
    return item_id


@app.task(name="tests.dead_letter.broken", max_retries=MAX_RETRIES, autoretry_for=(Transient,), **BACKOFF)
def broken(item_id: int, *, access_token: str = "") -> int:
    calls["broken"] += 1
    if not healthy["flaky_until_fixed"]:
        raise ValueError(f"item {item_id} is malformed")  # not retryable: fails for good at once
    return item_id


@pytest.fixture(autouse=True)
def _reset() -> Iterator[None]:
    """Eager tasks run as a worker would: failures are handled (retried, recorded), not raised at
    the caller. (With ``task_eager_propagates`` Celery raises before ``on_failure`` runs.)"""
    calls.clear()
    healthy["flaky_until_fixed"] = False
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = propagates


def run_failing(task: Any, *args: Any, **kwargs: Any) -> BaseException:
    result = task.delay(*args, **kwargs)
    assert result.failed()
    error: BaseException = result.result
    return error


def test_a_poison_task_is_retried_max_retries_times_then_dead_lettered() -> None:
    error = run_failing(poison, 7)

    assert isinstance(error, Transient)
    assert calls["poison"] == MAX_RETRIES + 1
    letter = DeadLetter.objects.get()
    assert letter.task_name == "tests.dead_letter.poison"
    assert letter.args == [7]
    assert letter.attempts == MAX_RETRIES + 1
    assert letter.exception_type.endswith("test_dead_letter.Transient")
    assert letter.exception_message == "upstream unavailable for item 7"
    assert "Transient" in letter.traceback
    assert letter.first_failed_at <= letter.last_failed_at
    assert letter.resolved_at is None


def test_a_task_that_succeeds_on_a_retry_leaves_no_dead_letter() -> None:
    result = recovers.delay(5)

    assert result.get() == 5
    assert calls["recovers"] == 3
    assert not DeadLetter.objects.exists()


def test_a_non_retryable_error_is_dead_lettered_after_one_attempt() -> None:
    error = run_failing(broken, 9)

    assert "malformed" in str(error)
    assert calls["broken"] == 1
    assert DeadLetter.objects.get().attempts == 1


def test_secrets_in_arguments_are_redacted_and_such_a_letter_is_not_replayed() -> None:
    run_failing(broken, 9, access_token="ya29.very-secret")

    letter = DeadLetter.objects.get()
    assert letter.kwargs == {"access_token": "[redacted]"}
    assert letter.arguments_redacted
    with pytest.raises(DeadLetterNotRetryable):
        dead_letter_retry(letter=letter, retried_by=None)


def test_the_same_message_failing_again_updates_its_letter() -> None:
    for attempts in (1, 2):
        dead_letter_record(
            task_name="tests.dead_letter.broken",
            task_id="same-id",
            args=[1],
            kwargs={},
            exception=ValueError("x"),
            traceback="",
            attempts=attempts,
        )

    letter = DeadLetter.objects.get()
    assert letter.attempts == 2


def test_every_project_task_dead_letters_its_final_failure() -> None:
    app.loader.import_default_modules()
    outside = [
        name
        for name, task in app.tasks.items()
        if not name.startswith("celery.") and not isinstance(task, PlatformTask)
    ]

    assert not outside, f"tasks whose final failure would not be recorded: {outside}"


# --- admin --------------------------------------------------------------------------------


@pytest.fixture
def staff(settings: Any) -> Client:
    settings.STAFF_MFA_REQUIRED = False  # staff MFA has its own tests in accounts/tests
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_lists_dead_letters(staff: Client) -> None:
    run_failing(poison, 7)

    html = staff.get(reverse("admin:platform_deadletter_changelist")).content.decode()
    detail = staff.get(reverse("admin:platform_deadletter_change", args=[DeadLetter.objects.get().pk]))

    assert "tests.dead_letter.poison" in html
    assert "upstream unavailable for item 7" in detail.content.decode()


def test_admin_re_enqueues_a_dead_task_once_it_can_succeed(
    staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    run_failing(broken, 11)
    letter = DeadLetter.objects.get()
    healthy["flaky_until_fixed"] = True  # the bug was fixed and deployed

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:platform_deadletter_changelist"),
            {"action": "retry_selected", ACTION_CHECKBOX_NAME: [letter.pk]},
            follow=True,
        )

    assert "1 task re-enqueued." in response.content.decode()
    assert calls["broken"] == 2
    letter.refresh_from_db()
    assert letter.resolved_at is not None
    assert letter.retried_task_id
    assert DeadLetter.objects.count() == 1  # the re-run succeeded: no new letter


def test_admin_marks_dead_tasks_resolved(staff: Client) -> None:
    run_failing(broken, 12)
    letter = DeadLetter.objects.get()

    staff.post(
        reverse("admin:platform_deadletter_changelist"),
        {"action": "resolve_selected", ACTION_CHECKBOX_NAME: [letter.pk]},
    )

    letter.refresh_from_db()
    assert letter.resolved_at is not None
    open_letters = staff.get(reverse("admin:platform_deadletter_changelist"), {"resolved": "no"})
    assert list(open_letters.context["cl"].result_list) == []


# --- a real worker ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_dead_letters_a_poison_task_once() -> None:
    """The same through the Redis broker and an in-process worker: retries are real messages with
    countdowns, and only the last failure is recorded. A queue of its own keeps other test runs'
    workers on the shared Redis server away from these messages."""
    from celery.contrib.testing.worker import start_worker

    queue = f"test-dead-letters-{uuid.uuid4().hex[:8]}"
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", concurrency=1, queues=[queue], perform_ping_check=False):
            poison.apply_async(args=[8], queue=queue)
            recovers.apply_async(args=[6], queue=queue)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not (
                DeadLetter.objects.exists() and calls["poison"] == MAX_RETRIES + 1 and calls["recovers"] >= 3
            ):
                time.sleep(0.2)
            time.sleep(1.5)  # a further (wrong) retry would arrive within the backoff cap
    finally:
        app.conf.task_always_eager = eager

    assert calls["poison"] == MAX_RETRIES + 1
    assert calls["recovers"] == 3
    letter = DeadLetter.objects.get()  # one row: the poison task; the one that recovered left none
    assert (letter.task_name, letter.args, letter.attempts) == ("tests.dead_letter.poison", [8], MAX_RETRIES + 1)
    assert letter.first_failed_at < letter.last_failed_at
