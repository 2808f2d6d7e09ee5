"""The hand-off of one click, between the redirect and the drain: onto the Redis queue (``capture``), or
straight into the database when there is no Redis (``services.clicks_record``). A queue that grows asks for
a drain (``tasks.clicks_drain_task``) before the beat schedule's next one.

Above ``capture``, ``services`` and ``tasks``: the queue side stays free of ORM writes, and the drain's
service and task never import the redirect's hand-off.
"""

from __future__ import annotations

import logging

from campaigns.tracking.capture import ClickEvent, drain_trigger, queue_push, redis_client
from campaigns.tracking.services import clicks_record
from campaigns.tracking.tasks import clicks_drain_task

logger = logging.getLogger(__name__)


def click_push(*, event: ClickEvent) -> None:
    """Durable hand-off of one click: LPUSH to Redis, or record it directly without Redis."""
    client = redis_client()
    if client is None:
        clicks_record(events=[event])
        return
    length = queue_push(client, event.to_json())
    trigger = drain_trigger()
    if trigger and length % trigger == 0:
        try:
            clicks_drain_task.delay()
        except Exception:  # the beat schedule drains anyway; never fail a redirect over it
            logger.warning("could not trigger the click drain", exc_info=True)
