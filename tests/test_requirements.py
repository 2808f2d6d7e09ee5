"""Production installs requirements.txt only; the test and development tools live in requirements-dev.txt.

The Docker image installs requirements.txt alone, so every module production can import must import with
what that file (and what its packages depend on) installs: the production modules' third-party imports are
read from their syntax trees and each must belong to a distribution in that closure. Test code (tests/,
<app>/tests/, conftest.py) and the benchmarks (bench/) may use the development tools.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.production import probe, production_env

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = {path.parent.name for path in ROOT.glob("*/__init__.py")}
NOT_PRODUCTION = {"tests", "bench", ".venv", "var", "node_modules"}
#: Tools no production module may need: if one of these turns up in requirements.txt, it belongs in -dev.
DEV_TOOLS = {"pytest", "pytest-django", "pytest-xdist", "factory-boy", "hypothesis", "moto", "mastodon-py"}


def _requirements(name: str) -> list[Requirement]:
    found = []
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def _closure(requirements: list[Requirement]) -> set[str]:
    """The distributions ``pip install`` of these requirements brings in (this interpreter's markers)."""
    seen: set[str] = set()
    pending = [(requirement, frozenset(requirement.extras)) for requirement in requirements]
    while pending:
        requirement, extras = pending.pop()
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(extras))}]"
        if key in seen:
            continue
        seen.add(key)
        for dependency in metadata.requires(requirement.name) or []:
            dep = Requirement(dependency)
            if dep.marker is not None and not any(dep.marker.evaluate({"extra": extra}) for extra in (extras or {""})):
                continue
            pending.append((dep, frozenset(dep.extras)))
    return {key.split("[", 1)[0] for key in seen}


def _production_modules() -> list[Path]:
    modules = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in NOT_PRODUCTION or "tests" in parts or "migrations" in parts or parts[0] not in PROJECT_PACKAGES:
            continue
        modules.append(path)
    return modules


def _top_level_imports(path: Path) -> set[str]:
    """The top-level names a module imports when it runs (not those under ``if TYPE_CHECKING:``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    type_checking_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
        for statement in node.body
        for inner in ast.walk(statement)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_checking_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_requirements_dev_builds_on_requirements() -> None:
    lines = [line for line in (ROOT / "requirements-dev.txt").read_text().splitlines() if not line.startswith("#")]

    assert lines[0] == "-r requirements.txt"


def test_no_development_tool_in_production_requirements() -> None:
    production = {canonicalize_name(requirement.name) for requirement in _requirements("requirements.txt")}
    development = {canonicalize_name(requirement.name) for requirement in _requirements("requirements-dev.txt")}

    assert not production & development, "a package is pinned in both files"
    assert not production & DEV_TOOLS
    assert development >= DEV_TOOLS


def test_the_docker_image_installs_production_requirements_only() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    installs = re.findall(r"pip install [^\n]*", dockerfile)
    assert installs == ["pip install --no-cache-dir -r requirements.txt"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"tests", "**/tests", "bench", "conftest.py", "requirements-dev.txt"} <= set(ignored)


def test_production_modules_import_only_what_requirements_txt_installs() -> None:
    installed = _closure(_requirements("requirements.txt"))
    providers = metadata.packages_distributions()
    stdlib = set(sys.stdlib_module_names) | {"__future__"}

    missing: list[str] = []
    for path in _production_modules():
        imports = _top_level_imports(path)
        missing.extend(f"{path.relative_to(ROOT)}: {name} (test code)" for name in sorted(imports & NOT_PRODUCTION))
        for name in sorted(imports - stdlib - PROJECT_PACKAGES):
            distributions = {canonicalize_name(dist) for dist in providers.get(name, [])}
            if not distributions & installed:
                missing.append(f"{path.relative_to(ROOT)}: {name} ({', '.join(sorted(distributions)) or '?'})")

    assert not missing, "production imports a package requirements.txt does not install:\n" + "\n".join(missing)


def test_the_import_scan_sees_production_code() -> None:
    modules = {path.relative_to(ROOT).as_posix() for path in _production_modules()}

    assert {"linkilike/settings.py", "payouts/providers/stripe_checkout.py"} <= modules
    assert not any(name.startswith(("tests/", "bench/")) or "/tests/" in name for name in modules)


PRODUCTION_PROBE = """
import json
import django
from django.conf import settings
from django.core.management import get_commands

django.setup()
values = {name: repr(getattr(settings, name)) for name in dir(settings) if name.isupper()}
print(json.dumps({
    "apps": list(settings.INSTALLED_APPS),
    "bench_commands": sorted(name for name in get_commands() if name.startswith("bench_")),
    "test_paths": sorted(name for name, value in values.items() if "tests." in value or "doubles" in value),
}))
"""


def test_production_installs_no_test_or_benchmark_code() -> None:
    """Production's settings name no test double, and the benchmarks' seeding commands do not exist there."""
    found = probe(PRODUCTION_PROBE, env=production_env())

    assert "bench" not in found["apps"]
    assert found["bench_commands"] == []
    assert found["test_paths"] == []


def test_tests_and_benchmarks_have_the_seeding_commands() -> None:
    from django.core.management import get_commands

    commands = get_commands()

    assert {commands[name] for name in commands if name.startswith("bench_seed_")} == {"bench"}
    assert "bench_seed_results" in commands
