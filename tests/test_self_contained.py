"""The project stands alone: no code, docstring or document points at a path outside the repository.

A reader of a clone has only the clone; a reference to a folder beside it (or to the machine it
was written on) is a dead end for them.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Never part of a clone: the environment, installs, and caches the tools write (with this machine's paths).
SKIPPED_DIRS = {
    ".git", ".venv", "var", "node_modules", "__pycache__", "recordings", "vendor",
    ".hypothesis", ".mypy_cache", ".ruff_cache", ".pytest_cache",
}  # fmt: skip
TEXT_SUFFIXES = {
    ".py", ".md", ".html", ".txt", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".json",
    ".lua", ".sh", ".js", ".css", ".po",
}  # fmt: skip
TEXT_NAMES = {"Makefile", "Dockerfile", "run", ".env.example", "Procfile.dev", ".importlinter", ".gitignore"}
OUTSIDE = re.compile(r"\.\./shared\b|/work/(?:main|shared)\b|/work/\.library\b")


def _project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        if any(part in SKIPPED_DIRS for part in path.relative_to(ROOT).parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES):
            files.append(path)
    return files


def test_no_file_refers_to_a_path_outside_the_repository() -> None:
    offenders = []
    for path in _project_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            if OUTSIDE.search(line) and path != Path(__file__).resolve():
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert offenders == []


def test_the_scan_sees_the_project() -> None:
    names = {path.relative_to(ROOT).as_posix() for path in _project_files()}
    assert {
        "README.md",
        "Makefile",
        ".ci/run",
        "linkilike/settings.py",
        "docs/ARCHITECTURE.md",
        ".env.example",
    } <= names
    assert not any(name.startswith((".hypothesis/", ".mypy_cache/")) for name in names)
