"""The Celery application: configured from Django settings (``CELERY_*``).

Every task's base class is ``PlatformTask``: a task that fails for good (its retries used up, or an
error it does not retry) is recorded as a ``DeadLetter`` (T4, ``linkilike.dead_letters``).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linkilike.settings")

logger = logging.getLogger(__name__)


class PlatformTask(Task):
    def on_retry(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # start-up order: this module loads with the settings, before Django's app registry, so the models that
        # dead_letters imports can only be imported once a task runs.
        from linkilike.dead_letters import task_failure_first_seen

        task_failure_first_seen(task_id=task_id)

    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        from linkilike.dead_letters import dead_letter_record  # start-up order, as in on_retry

        try:
            dead_letter_record(
                task_name=self.name,
                task_id=task_id,
                args=args,
                kwargs=kwargs,
                exception=exc,
                traceback=str(einfo or ""),
                attempts=int(self.request.retries or 0) + 1,
            )
        except Exception:  # the database may be what failed; the worker log still has the error
            logger.exception("could not record the dead letter of %s[%s]", self.name, task_id)


app = Celery("linkilike", task_cls=PlatformTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery looks for ``<app>.tasks``; campaigns keeps its tasks per concern in sub-packages.
CAMPAIGN_TASK_PACKAGES = [
    "campaigns.matching",
    "campaigns.publishing",
    "campaigns.metrics",
    "campaigns.tracking",
    "campaigns.influencer",
    "campaigns.earnings",
]
app.autodiscover_tasks(CAMPAIGN_TASK_PACKAGES)
# ``<package>.jobs``: the tasks a package's services enqueue, kept apart from its entry points (``tasks``),
# which call those services (docs/ARCHITECTURE.md).
app.autodiscover_tasks(related_name="jobs")
app.autodiscover_tasks(CAMPAIGN_TASK_PACKAGES, related_name="jobs")
