"""The registered names of the publishing tasks the publishing services enqueue by name
(``linkilike.dispatch.task_enqueue``): the publish job's service queues the job again, and the proof service
queues the proof check whose job runs it, so neither service can import ``campaigns.publishing.tasks``.
``campaigns.publishing.tasks`` registers its tasks under these names."""

from __future__ import annotations

from typing import Final

PUBLICATION_PUBLISH: Final = "campaigns.publishing.tasks.publication_publish"
PROOF_VERIFY: Final = "campaigns.publishing.tasks.proof_verify"

#: Every name enqueued by name; a test checks each is a registered task.
ENQUEUED_BY_NAME: Final = (PUBLICATION_PUBLISH, PROOF_VERIFY)
