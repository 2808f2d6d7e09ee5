"""M1 long run: the ledger's Hypothesis state machine at nightly size on real PostgreSQL.

    .venv/bin/python -m tests.drills.m1_ledger_long

Runs ``payouts/tests/test_ledger_stateful.py`` through pytest (pytest-django, a fresh test database)
with ``LEDGER_STATEFUL_EXAMPLES=1000`` and ``LEDGER_STATEFUL_STEPS=50`` unless those are set. A small
pytest plugin counts what really ran, because a settings typo would otherwise pass silently with the
CI size: machines built (examples), rules executed (steps) and invariant checks (one after the set-up
and one after every step). Exits non-zero when the test fails or ran less than asked.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

BASE_DIR = Path(__file__).resolve().parent.parent.parent
TEST_FILE = "payouts/tests/test_ledger_stateful.py"


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


def main() -> int:
    os.chdir(BASE_DIR)
    sys.path.insert(0, str(BASE_DIR))
    examples = int(os.environ.setdefault("LEDGER_STATEFUL_EXAMPLES", "1000"))
    steps = int(os.environ.setdefault("LEDGER_STATEFUL_STEPS", "50"))
    os.environ.setdefault("LINKILIKE_TESTING", "1")

    import pytest

    from bench.harness import Report

    report = Report("m1_ledger_long", "M1 ledger state machine, long run")
    counter = MachineCounter()
    started = time.perf_counter()
    exit_code = pytest.main([TEST_FILE, "-x"], plugins=[counter])
    seconds = time.perf_counter() - started

    report.figure(
        "pytest outcome",
        "passed" if exit_code == 0 else f"failed (exit {exit_code})",
        target="passed",
        ok=exit_code == 0,
    )
    report.figure(
        "Hypothesis settings (max_examples x stateful_step_count)",
        f"{counter.max_examples} x {counter.step_count}",
        target=f"{examples} x {steps}",
        ok=(counter.max_examples, counter.step_count) == (examples, steps),
    )
    report.figure(
        "examples run (state machines built)",
        counter.examples,
        target=f">= {examples}",
        ok=counter.examples >= examples,
    )
    total_steps = sum(max(0, n) for n in counter.steps_per_example)
    longest = max(counter.steps_per_example, default=0)
    full = sum(1 for n in counter.steps_per_example if n == steps)
    report.figure("longest example (steps)", longest, target=f"== {steps}", ok=longest == steps)
    report.info("examples that ran all steps", full)
    report.info("steps run in total", total_steps)
    report.figure(
        "invariant checks (set-up + after every step)",
        counter.checks,
        target=f"== {counter.examples} + {total_steps}",
        ok=counter.checks == counter.examples + total_steps,
    )
    report.info("time (s)", round(seconds, 1))
    report.info("time per step (ms)", round(1000 * seconds / max(total_steps, 1), 2))
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())
