"""Loaded into drill Q1's workers with ``--include``: notes when each publish task starts.

Celery's ``task_prerun`` fires in the pool process just before the task body runs, so the time written
here is the start the drill measures against the moment it scheduled the publish (same machine, same
clock). The first start of a publication counts; a redelivery does not move it.
"""

from __future__ import annotations

import time
from typing import Any

from celery.signals import task_prerun

PUBLISH_TASK = "campaigns.publishing.tasks.publication_publish"


def started_key(publication_id: int) -> str:
    return f"drill:q1:started:{publication_id}"


@task_prerun.connect
def publish_started(sender: Any = None, args: Any = None, **_: Any) -> None:
    if getattr(sender, "name", None) != PUBLISH_TASK or not args:
        return
    from django.core.cache import cache

    cache.add(started_key(int(args[0])), time.time(), timeout=3600)
