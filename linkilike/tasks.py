"""Platform-wide tasks: the heartbeat that shows workers and the scheduler are alive, and the monthly
partitions of the tables that grow with traffic (ADR 19)."""

from celery import shared_task

from campaigns.tracking.partitions import CLICKS
from linkilike import health, partitions

#: The tables partitioned by month; the composition layer lists them so the core helper knows no app.
PARTITIONED_TABLES = (CLICKS, partitions.AUDIT_EVENTS)


@shared_task(name="linkilike.tasks.heartbeat", max_retries=0, ignore_result=True)
def heartbeat() -> None:
    health.heartbeat_record()


@shared_task(name="linkilike.tasks.partitions_maintain", max_retries=0, ignore_result=True)
def partitions_maintain() -> None:
    partitions.partitions_maintain(PARTITIONED_TABLES)
