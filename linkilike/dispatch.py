"""Enqueueing a task by its registered name, for the one loop the layers cannot unwind: a job whose service
queues the same job again (a publish attempt that must run again now, a proof check sent by the proof service).

The name constants live next to the tasks (``<package>.task_names``, used as the tasks' ``name=``), and a
test checks each resolves to a registered task. Everything else enqueues through a module-level import of its
package's ``jobs`` module.
"""

from __future__ import annotations

from celery import current_app


class UnknownTask(LookupError):
    """No task is registered under the name: a typo or a task that moved without its ``name=``."""


def task_enqueue(name: str, *args: object) -> None:
    """``delay`` of the task registered as ``name``. A process that has not yet imported the task modules (a
    web process) runs Celery's autodiscovery first, as a worker does at start-up."""
    tasks = current_app.tasks
    if name not in tasks:
        current_app.loader.import_default_modules()
    try:
        task = tasks[name]
    except KeyError as error:
        raise UnknownTask(name) from error
    task.delay(*args)
