"""M1 long run: the ledger's Hypothesis state machine at nightly size on real PostgreSQL.

    .venv/bin/python -m tests.drills.m1_ledger_long

Runs ``payouts/tests/test_ledger_stateful.py`` through pytest (pytest-django, a fresh test database), in
one process per core (``M1_SHARDS``), each with its own database and Hypothesis seed,
with ``LEDGER_STATEFUL_EXAMPLES=1000`` and ``LEDGER_STATEFUL_STEPS=50`` unless those are set. A small
pytest plugin counts what really ran, because a settings typo would otherwise pass silently with the
CI size: machines built (examples), rules executed (steps) and invariant checks (one after the set-up
and one after every step). Exits non-zero when the test fails or ran less than asked.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TEST_FILE = "payouts/tests/test_ledger_stateful.py"
SEED_BASE = 20261126


@dataclass
class MachineCounter:
    """Wraps the state machine class once it is collected; counts examples, steps and checks."""

    examples: int = 0
    checks: int = 0
    steps_per_example: list[int] = field(default_factory=list)
    max_examples: int | None = None
    step_count: int | None = None
    #: the terminal as it was before pytest captured file descriptor 1
    progress: TextIO = field(default_factory=lambda: os.fdopen(os.dup(1), "w"))

    def pytest_collection_modifyitems(self, items: list[Any]) -> None:
        machine = getattr(items[0].module, "LedgerMachine", None) if items else None
        if machine is None:
            raise SystemExit(f"{TEST_FILE} has no LedgerMachine any more: update this drill.")
        configured = machine.TestCase.settings
        self.max_examples, self.step_count = configured.max_examples, configured.stateful_step_count
        counter = self
        original_init = machine.__init__
        original_check = machine.check_invariants

        def counting_init(instance: Any) -> None:
            counter.examples += 1
            if counter.examples % 100 == 0:  # past pytest's capture: a long run shows it is alive
                progress = f"  ... {counter.examples} examples, {counter.checks} invariant checks"
                print(progress, file=counter.progress, flush=True)
            counter.steps_per_example.append(-1)  # the first check follows the set-up, not a step
            original_init(instance)

        def counting_check(instance: Any, *args: Any, **kwargs: Any) -> None:
            counter.checks += 1
            counter.steps_per_example[-1] += 1
            original_check(instance, *args, **kwargs)

        machine.__init__ = counting_init
        machine.check_invariants = counting_check


def run_shard(index: int, shards: int) -> int:
    """One process's share of the run: its own test database and Hypothesis seed; counts go to a file."""
    import pytest

    counter = MachineCounter()
    started = time.perf_counter()
    exit_code = pytest.main([TEST_FILE, "-x", f"--hypothesis-seed={SEED_BASE + index}"], plugins=[counter])
    result = {
        "exit_code": exit_code,
        "seconds": time.perf_counter() - started,
        "max_examples": counter.max_examples,
        "step_count": counter.step_count,
        "examples": counter.examples,
        "checks": counter.checks,
        "steps_per_example": counter.steps_per_example,
    }
    shard_file(index).write_text(json.dumps(result))
    return exit_code


def shard_file(index: int) -> Path:
    return BASE_DIR / "var" / "bench" / f"m1_ledger_long.shard{index}.json"


def main() -> int:
    os.chdir(BASE_DIR)
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("LINKILIKE_TESTING", "1")
    if len(sys.argv) == 3 and sys.argv[1] == "--shard":
        index, shards = (int(part) for part in sys.argv[2].split("/"))
        return run_shard(index, shards)

    examples = int(os.environ.get("LEDGER_STATEFUL_EXAMPLES", "1000"))
    steps = int(os.environ.setdefault("LEDGER_STATEFUL_STEPS", "50"))
    # The state machine is bound by one process (Python + one database connection): one shard per core,
    # each with its own seed, so the examples differ and together reach the asked number.
    shards = max(1, int(os.environ.get("M1_SHARDS", os.cpu_count() or 1)))
    per_shard = math.ceil(examples / shards)

    from bench.harness import Report

    report = Report("m1_ledger_long", "M1 ledger state machine, long run")
    (BASE_DIR / "var" / "bench").mkdir(parents=True, exist_ok=True)
    for index in range(shards):
        shard_file(index).unlink(missing_ok=True)
    started = time.perf_counter()
    env = {**os.environ, "LEDGER_STATEFUL_EXAMPLES": str(per_shard)}
    processes = [
        subprocess.Popen([sys.executable, "-m", "tests.drills.m1_ledger_long", "--shard", f"{index}/{shards}"], env=env)
        for index in range(shards)
    ]
    exit_codes = [process.wait() for process in processes]
    seconds = time.perf_counter() - started
    results = [json.loads(shard_file(i).read_text()) for i in range(shards) if shard_file(i).exists()]

    report.info("shards (processes, each with its own database and seed)", shards)
    report.figure(
        "pytest outcome",
        "passed" if exit_codes == [0] * shards and len(results) == shards else f"failed (exits {exit_codes})",
        target="passed",
        ok=exit_codes == [0] * shards and len(results) == shards,
    )
    settings_seen = sorted({(r["max_examples"], r["step_count"]) for r in results})
    report.figure(
        "Hypothesis settings per shard (max_examples x stateful_step_count)",
        ", ".join(f"{a} x {b}" for a, b in settings_seen),
        target=f"{per_shard} x {steps}",
        ok=settings_seen == [(per_shard, steps)],
    )
    total_examples = sum(r["examples"] for r in results)
    report.figure(
        "examples run (state machines built)", total_examples, target=f">= {examples}", ok=total_examples >= examples
    )
    per_example = [n for r in results for n in r["steps_per_example"]]
    total_steps = sum(max(0, n) for n in per_example)
    longest = max(per_example, default=0)
    full = sum(1 for n in per_example if n == steps)
    total_checks = sum(r["checks"] for r in results)
    report.figure("longest example (steps)", longest, target=f"== {steps}", ok=longest == steps)
    report.info("examples that ran all steps", full)
    report.info("steps run in total", total_steps)
    report.figure(
        "invariant checks (set-up + after every step)",
        total_checks,
        target=f"== {total_examples} + {total_steps}",
        ok=total_checks == total_examples + total_steps,
    )
    report.info("time (s)", round(seconds, 1))
    report.info("time per step per shard (ms)", round(1000 * seconds * shards / max(total_steps, 1), 2))
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
