"""Publishing tasks. Each takes ids and calls a service; retries are the services' business
(``next_attempt_at`` with capped backoff and jitter), so the tasks themselves never retry blindly. The
one exception is typed: a database outage (T5) runs the task again a few times, which is safe because
every run is a new conditional claim.

The services enqueue the publish and proof-check jobs by name (``task_names``, ``linkilike.dispatch``): both
jobs run a service that queues the same job again."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaigns.publishing.proof import proof_verify as verify
from campaigns.publishing.services import publication_publish as publish
from campaigns.publishing.services import publication_resolve as resolve
from campaigns.publishing.services import publications_run_due as run
from campaigns.publishing.task_names import PROOF_VERIFY, PUBLICATION_PUBLISH

#: A database restart or failover cuts every connection mid-task. Running the task again is safe: a
#: publish is a new conditional claim, a resolve and a proof check act only on the state they expect.
DB_TRANSIENT = (OperationalError, InterfaceError)


@shared_task(
    name=PUBLICATION_PUBLISH,
    max_retries=3,
    acks_late=False,
    autoretry_for=DB_TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
)
def publication_publish(publication_id: int) -> str | None:
    publication = publish(publication_id=publication_id)
    return publication.state if publication is not None else None


@shared_task(max_retries=0)
def publications_run_due() -> dict[str, int]:
    return run()


@shared_task(max_retries=3, autoretry_for=DB_TRANSIENT, retry_backoff=5, retry_backoff_max=60, retry_jitter=True)
def publication_resolve(publication_id: int) -> str:
    return str(resolve(publication_id=publication_id, staff=True).state)


@shared_task(
    name=PROOF_VERIFY,
    max_retries=3,
    autoretry_for=(OSError, *DB_TRANSIENT),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
)
def proof_verify(publication_id: int) -> str | None:
    publication = verify(publication_id=publication_id)
    return publication.state if publication is not None else None
