"""Tasks enqueued by name (``linkilike.dispatch``): every name is a task the worker registers, and the helper
sends to that very task (so tests patching the task see the call)."""

from __future__ import annotations

from unittest import mock

import pytest

from campaigns.publishing import task_names
from campaigns.publishing import tasks as publishing_tasks
from linkilike.celery import app
from linkilike.dispatch import UnknownTask, task_enqueue


def test_every_name_enqueued_by_name_is_a_registered_task() -> None:
    app.loader.import_default_modules()  # autodiscovery, as a worker runs it at start-up
    assert [name for name in task_names.ENQUEUED_BY_NAME if name not in app.tasks] == []
    assert publishing_tasks.publication_publish.name == task_names.PUBLICATION_PUBLISH
    assert publishing_tasks.proof_verify.name == task_names.PROOF_VERIFY


def test_the_helper_delays_the_registered_task_and_refuses_an_unknown_name() -> None:
    with mock.patch.object(publishing_tasks.publication_publish, "delay") as delay:
        task_enqueue(task_names.PUBLICATION_PUBLISH, 42)
    delay.assert_called_once_with(42)
    with pytest.raises(UnknownTask):
        task_enqueue("campaigns.publishing.tasks.no_such_task", 1)
