"""Platform-wide tasks: the heartbeat that shows workers and the scheduler are alive."""

from celery import shared_task

from linkilike import health


@shared_task(name="linkilike.tasks.heartbeat", max_retries=0, ignore_result=True)
def heartbeat() -> None:
    health.heartbeat_record()
