"""Queues by kind: every task has an explicit route, and every queue a route names has a worker pool.

A task without a route would land in the default queue unnoticed; a route to a queue no worker consumes
would leave its tasks waiting for ever. Both are caught here, against the Celery app's registry after
autodiscovery (as a worker sees it) and against the worker commands in Procfile.dev and
docker-compose.yml (docs/SCALING.md §2, drill Q1).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from django.conf import settings

from linkilike.celery import app

BASE_DIR = Path(settings.BASE_DIR)


def _registered() -> set[str]:
    app.loader.import_default_modules()  # runs autodiscovery as a worker does at start-up
    # tests.* are tasks the test suite itself registers (dead letters); they pick their own queue.
    return {name for name in app.tasks if not name.startswith(("celery.", "tests."))}


def _declared_queues() -> set[str]:
    return {queue.name for queue in settings.CELERY_TASK_QUEUES}


def _consumed_by_groups() -> set[str]:
    return {queue for queues in settings.WORKER_QUEUE_GROUPS.values() for queue in queues}


def _queues_option(command: str) -> set[str] | None:
    """The queues a ``celery worker`` command line consumes (``-Q a,b``, ``-Qa,b``, ``--queues[=]a,b``);
    None when it names none, which makes Celery consume every declared queue."""
    words = shlex.split(command)
    for index, word in enumerate(words):
        value = None
        if word in ("-Q", "--queues") and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith("--queues="):
            value = word.removeprefix("--queues=")
        elif word.startswith("-Q") and len(word) > 2:
            value = word[2:]
        if value is not None:
            return {queue.strip() for queue in value.split(",") if queue.strip()}
    return None


def _is_worker(command: str) -> bool:
    words = shlex.split(command)
    return any(Path(word).name == "celery" for word in words) and "worker" in words


def _compose_workers() -> dict[str, set[str] | None]:
    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    return {
        name: _queues_option(str(service["command"]))
        for name, service in services.items()
        if isinstance(service.get("command"), str) and _is_worker(service["command"])
    }


def _procfile_workers() -> dict[str, set[str] | None]:
    workers = {}
    for line in (BASE_DIR / "Procfile.dev").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)  # honcho's Procfile line
        if match and _is_worker(match.group(2)):
            workers[match.group(1)] = _queues_option(match.group(2))
    return workers


def test_every_registered_task_has_an_explicit_route() -> None:
    unrouted = sorted(_registered() - set(settings.CELERY_TASK_ROUTES))

    assert not unrouted, f"tasks without a route in CELERY_TASK_ROUTES (add one, by name): {unrouted}"


def test_every_route_names_a_registered_task() -> None:
    """A route left behind by a renamed task would hide that the new name has none."""
    stale = sorted(set(settings.CELERY_TASK_ROUTES) - _registered())

    assert not stale, f"routes for tasks no worker registers: {stale}"


def test_every_route_goes_to_a_declared_queue_that_a_worker_group_consumes() -> None:
    routed_to = {name: route["queue"] for name, route in settings.CELERY_TASK_ROUTES.items()}

    undeclared = {name: queue for name, queue in routed_to.items() if queue not in _declared_queues()}
    unconsumed = {name: queue for name, queue in routed_to.items() if queue not in _consumed_by_groups()}

    assert not undeclared, f"routes to queues missing from CELERY_TASK_QUEUES: {undeclared}"
    assert not unconsumed, f"routes to queues no worker group consumes: {unconsumed}"
    assert settings.CELERY_TASK_DEFAULT_QUEUE in _consumed_by_groups()
    assert _consumed_by_groups() <= _declared_queues(), "a worker group consumes a queue that is not declared"


def test_celery_sends_each_task_to_its_routed_queue() -> None:
    """The settings reach Celery's router (the CELERY_ namespace), so the table above is what runs."""
    router = app.amqp.Router()

    sent_to = {name: router.route({}, name)["queue"].name for name in _registered()}

    assert sent_to == {name: settings.CELERY_TASK_ROUTES[name]["queue"] for name in _registered()}


def test_queues_do_not_share_an_exchange_and_routing_key() -> None:
    """On Redis (and AMQP) two queues bound with the same key would each get a copy of every message."""
    bindings = [(queue.exchange.name, queue.routing_key) for queue in settings.CELERY_TASK_QUEUES]

    assert len(set(bindings)) == len(bindings), bindings


def test_the_publishing_sweep_never_waits_behind_publishes() -> None:
    """The sweep that resolves expired leases must not sit in the queue it is meant to rescue (T1 drill)."""
    routes = settings.CELERY_TASK_ROUTES
    sweep = routes["campaigns.publishing.tasks.publications_run_due"]["queue"]

    assert sweep != routes["campaigns.publishing.tasks.publication_publish"]["queue"]
    assert sweep != routes["campaigns.metrics.tasks.metrics_pull_due"]["queue"]


def test_every_beat_scheduled_task_is_routed() -> None:
    scheduled = {str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert not sorted(scheduled - set(settings.CELERY_TASK_ROUTES)), "beat schedules tasks without a route"


def test_docker_compose_runs_one_pool_per_worker_group_with_exactly_its_queues() -> None:
    workers = _compose_workers()

    expected = {f"worker-{group}": set(queues) for group, queues in settings.WORKER_QUEUE_GROUPS.items()}
    assert workers == expected, "docker-compose.yml worker services (-Q) differ from WORKER_QUEUE_GROUPS"


def test_procfile_workers_consume_every_queue() -> None:
    workers = _procfile_workers()

    assert workers, "Procfile.dev starts no Celery worker"
    assert all(queues is not None for queues in workers.values()), "name the queues with -Q in Procfile.dev"
    consumed = set().union(*(queues for queues in workers.values() if queues is not None))
    assert consumed == _declared_queues(), f"Procfile.dev consumes {sorted(consumed)}"


def test_queue_option_parsing() -> None:
    assert _queues_option("celery -A x worker -Q a,b --concurrency=2") == {"a", "b"}
    assert _queues_option("celery -A x worker -Qa") == {"a"}
    assert _queues_option("celery -A x worker --queues=a,b") == {"a", "b"}
    assert _queues_option("celery -A x worker --queues a") == {"a"}
    assert _queues_option("celery -A x worker --concurrency=2") is None
