"""Dead letters (T4): a task that failed for good is kept as a ``DeadLetter`` row for staff to
re-enqueue or mark resolved.

``linkilike.celery.PlatformTask`` calls ``dead_letter_record`` from ``on_failure``, which Celery
runs only for a final failure: after ``max_retries`` retries were used up, or for an error the
task does not retry. A retry that later succeeds leaves nothing behind.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from celery import current_app
from celery.utils import uuid
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linkilike.audit import redact
from linkilike.log_filters import redact as redact_text
from linkilike.models import DeadLetter

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)

FIRST_FAILURE_KEY = "deadletter:first-failure:{task_id}"
# Kept as long as a retry can be in flight (the broker's visibility timeout bounds countdowns).
FIRST_FAILURE_TTL = 6 * 3600
MAX_TEXT = 20_000


def task_failure_first_seen(*, task_id: str) -> None:
    """Remember when a task first failed, so its dead letter can say how long it kept failing."""
    try:
        cache.add(FIRST_FAILURE_KEY.format(task_id=task_id), timezone.now().isoformat(), FIRST_FAILURE_TTL)
    except Exception:  # the cache is a nicety here; never turn a retry into a crash
        logger.warning("could not remember the first failure of task %s", task_id, exc_info=True)


def _first_failure(task_id: str, now: datetime) -> datetime:
    try:
        seen = cache.get(FIRST_FAILURE_KEY.format(task_id=task_id))
        cache.delete(FIRST_FAILURE_KEY.format(task_id=task_id))
    except Exception:  # as above: fall back to this failure's time
        logger.warning("could not read the first failure of task %s", task_id, exc_info=True)
        return now
    return datetime.fromisoformat(seen) if isinstance(seen, str) else now


@transaction.atomic
def dead_letter_record(
    *,
    task_name: str,
    task_id: str,
    args: Any,
    kwargs: Any,
    exception: BaseException,
    traceback: str,
    attempts: int,
) -> DeadLetter:
    """One row per task id; the same message failing for good again (a redelivery) updates it."""
    now = timezone.now()
    clean_args, args_redacted = redact(list(args or ()))
    clean_kwargs, kwargs_redacted = redact(dict(kwargs or {}))
    fields = {
        "task_name": task_name[:200],
        "args": clean_args,
        "kwargs": clean_kwargs,
        "arguments_redacted": args_redacted or kwargs_redacted,
        "exception_type": f"{type(exception).__module__}.{type(exception).__qualname__}"[:200],
        "exception_message": redact_text(str(exception))[:MAX_TEXT],
        "traceback": redact_text(traceback)[-MAX_TEXT:],
        "attempts": attempts,
        "last_failed_at": now,
        "resolved_at": None,
        "resolved_by": None,
    }
    letter = DeadLetter.objects.select_for_update().filter(task_id=task_id).first()
    if letter is None:
        return DeadLetter.objects.create(task_id=task_id, first_failed_at=_first_failure(task_id, now), **fields)
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save()
    return letter


@transaction.atomic
def dead_letter_resolve(*, letter: DeadLetter, resolved_by: AbstractBaseUser | None) -> DeadLetter:
    locked = DeadLetter.objects.select_for_update().get(pk=letter.pk)
    if locked.resolved_at is None:
        locked.resolved_at = timezone.now()
        locked.resolved_by_id = resolved_by.pk if resolved_by is not None else None
        locked.save(update_fields=["resolved_at", "resolved_by"])
    return locked


class DeadLetterNotRetryable(Exception):
    pass


@transaction.atomic
def dead_letter_retry(*, letter: DeadLetter, retried_by: AbstractBaseUser | None) -> DeadLetter:
    """Re-enqueue the task with its stored arguments under a new id (after commit) and resolve the row.

    Refused when secrets were redacted from the arguments: replaying them would run the task on
    placeholders.
    """
    app = current_app  # the project's Celery app (linkilike.celery), set as current when it is created
    locked = DeadLetter.objects.select_for_update().get(pk=letter.pk)
    if locked.arguments_redacted:
        raise DeadLetterNotRetryable(
            _("%(task)s: secrets were removed from its arguments, so it cannot be re-enqueued.") % {"task": locked}
        )
    if locked.resolved_at is not None:
        raise DeadLetterNotRetryable(_("%(task)s is already resolved.") % {"task": locked})
    if locked.task_name not in app.tasks:
        raise DeadLetterNotRetryable(_("%(task)s is no longer a known task.") % {"task": locked.task_name})
    new_id = uuid()
    locked.retried_task_id = new_id
    locked.resolved_at = timezone.now()
    locked.resolved_by_id = retried_by.pk if retried_by is not None else None
    locked.save(update_fields=["retried_task_id", "resolved_at", "resolved_by"])
    name, args, kwargs = locked.task_name, tuple(locked.args), dict(locked.kwargs)
    task = app.tasks[name]
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs, task_id=new_id))
    return locked
