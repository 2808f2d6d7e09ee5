"""Collect the figures of the last benchmark runs (var/bench/*.json) into docs/BENCHMARKS.md.

`make bench` runs every benchmark and then this; the README links the file. It exits non-zero when a
benchmark is missing or failed, so a partial run never reads as a pass.
"""

from __future__ import annotations

import json
import sys

from bench.harness import BASE_DIR, RESULTS_DIR

ORDER = ["p1_redirect", "p2_results", "p3_metrics", "p4_earnings", "p5_matching", "p6_load"]
OUTPUT = BASE_DIR / "docs" / "BENCHMARKS.md"


def _table(result: dict) -> list[str]:
    lines = ["| figure | measured | target | |", "|---|---|---|---|"]
    for fig in result["figures"]:
        verdict = "" if fig["ok"] is None else ("pass" if fig["ok"] else "**FAIL**")
        lines.append(f"| {fig['label']} | {fig['value']} | {fig['target']} | {verdict} |")
    return lines


def main() -> int:
    lines = [
        "# Benchmark figures",
        "",
        "Written by `make bench` (`bench/summary.py`) from the last run of each benchmark. Every target is a",
        "ratio measured against its lower bound in the same run; absolute times depend on the machine and",
        "what else ran on it. How the figures feed the capacity plan: [SCALING.md](SCALING.md).",
        "",
    ]
    status = 0
    for name in ORDER:
        path = RESULTS_DIR / f"{name}.json"
        if not path.exists():
            lines += [f"## {name}", "", "Not run.", ""]
            status = 1
            continue
        result = json.loads(path.read_text())
        verdict = "passed" if result["passed"] else "FAILED"
        lines += [
            f"## {result['title']} (`make bench-{name}`)",
            "",
            f"{verdict}, {result['finished_at']}, {result['seconds']} s, {result['machine']}.",
            "",
            *_table(result),
            "",
        ]
        if not result["passed"]:
            status = 1
    OUTPUT.write_text("\n".join(lines))
    print(f"Figures written to {OUTPUT.relative_to(BASE_DIR)}" + ("" if status == 0 else " (some missing or failed)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
