"""The hand-off of one click, between the redirect and the drain: onto the Redis queue (``capture``), or
straight into the database when there is no Redis (``services.clicks_record``). A queue that grows asks for
a drain (``tasks.clicks_drain_task``) before the beat schedule's next one.

Above ``capture``, ``services`` and ``tasks``: the queue side stays free of ORM writes, and the drain's
service and task never import the redirect's hand-off.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError

from campaigns.tracking.capture import ClickEvent, PendingPush, drain_trigger, queue_push_start, redis_client
from campaigns.tracking.services import clicks_record
from campaigns.tracking.tasks import clicks_drain_task

logger = logging.getLogger(__name__)


def click_push(*, event: ClickEvent) -> None:
    """Durable hand-off of one click: LPUSH to Redis, or record it directly without Redis (or when Redis
    cannot take it)."""
    click_push_start(event=event).finish()


class ClickHandoff:
    """A click handed over; ``finish`` waits for Redis to have stored it (a no-op when it was recorded).

    When Redis cannot take it (its connection and the client's own retries fail), the click is recorded in
    the database directly: the visitor may already have their redirect, and the click must not be lost.
    """

    __slots__ = ("event", "push")

    def __init__(self, event: ClickEvent, push: PendingPush | None) -> None:
        self.event, self.push = event, push

    def finish(self) -> None:
        if self.push is None:
            return
        try:
            length = self.push.length()
        except (RedisError, OSError) as error:
            _record_directly(self.event, error)
            return
        trigger = drain_trigger()
        if trigger and length % trigger == 0:
            try:
                clicks_drain_task.delay()
            except Exception:  # the beat schedule drains anyway; never fail a redirect over it
                logger.warning("could not trigger the click drain", exc_info=True)


def click_push_start(*, event: ClickEvent) -> ClickHandoff:
    """Sends the click on its way (``click_push`` without waiting for Redis's answer): the redirect fast path
    answers the visitor first and calls ``finish`` after."""
    client = redis_client()
    if client is None:
        clicks_record(events=[event])
        return ClickHandoff(event, None)
    try:
        return ClickHandoff(event, queue_push_start(client, event.to_json()))
    except (RedisError, OSError) as error:
        _record_directly(event, error)
        return ClickHandoff(event, None)


def _record_directly(event: ClickEvent, error: Exception) -> None:
    logger.warning("Redis did not take a click: recording it directly", exc_info=error)
    clicks_record(events=[event])
