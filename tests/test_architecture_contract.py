"""The layers of ADR 18: the drawing in docs/ARCHITECTURE.md is the import-linter contract's (.importlinter).

`make lint` runs the contract (lint-imports); these tests keep the drawing a person reads equal to it, keep
every module of the project package in one of its two layers, and find imports hidden inside functions,
which the rule allows only to spare start-up cost (with a comment saying so). No database needed.
"""

from __future__ import annotations

import ast
import configparser
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / ".importlinter"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
SECTION = "## Apps and their arrows"
PROJECT_PACKAGE = "linkilike"
# The marker an import inside a function must carry (on its line or the comment lines right above it).
START_UP = "start-up"


@dataclass(frozen=True)
class Layer:
    modules: frozenset[str]
    #: True: siblings never import each other ("a | b"); False: they may (a package's modules, "a : b");
    #: None: one module alone.
    independent: bool | None


def _layer(modules: list[str], independent: bool) -> Layer:
    return Layer(frozenset(modules), independent if len(modules) > 1 else None)


def _contract() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(CONTRACT, encoding="utf-8")
    return parser


def contract_layers() -> list[Layer]:
    parser = _contract()
    (section,) = [name for name in parser.sections() if parser.get(name, "type", fallback="") == "layers"]
    layers = []
    for line in parser.get(section, "layers").strip().splitlines():
        if "|" in line:
            layers.append(_layer([part.strip() for part in line.split("|")], independent=True))
        else:
            layers.append(_layer([part.strip() for part in line.split(":")], independent=False))
    return layers


def contract_root_packages() -> set[str]:
    return set(_contract().get("importlinter", "root_packages").split())


def drawing_layers(text: str) -> list[Layer]:
    """Parses the drawing: ``N  a | b`` (apps, independent) or ``N  linkilike <part>: m1 m2 ...`` (modules of
    the package, continued on indented lines); lines with only an arrow separate the layers."""
    section = text.split(SECTION, 1)[1]
    block = section.split("```", 2)[1]
    numbered: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip() or line.strip() == "↓":
            continue
        match = re.match(r"^(\d+)\s+(.*)$", line)
        if match:
            numbered.append((int(match.group(1)), match.group(2).strip()))
        else:
            assert numbered, f"the drawing starts with a line that is no layer: {line!r}"
            number, content = numbered[-1]
            numbered[-1] = (number, f"{content} {line.strip()}")
    assert [number for number, _content in numbered] == list(range(1, len(numbered) + 1)), "layers numbered 1, 2, …"
    layers = []
    for _number, content in numbered:
        if ":" in content:
            label, names = content.split(":", 1)
            package = label.split()[0]
            layers.append(_layer([f"{package}.{name}" for name in names.split()], independent=False))
        else:
            layers.append(_layer([part.strip() for part in content.split("|")], independent=True))
    return layers


def project_apps() -> set[str]:
    """The project's Django apps: the top-level packages with an ``apps.py``."""
    return {path.parent.name for path in ROOT.glob("*/apps.py")}


def test_the_drawing_is_the_contract() -> None:
    drawn = drawing_layers(ARCHITECTURE.read_text(encoding="utf-8"))
    contracted = contract_layers()

    assert [sorted(layer.modules) for layer in drawn] == [sorted(layer.modules) for layer in contracted], (
        "docs/ARCHITECTURE.md and .importlinter list different layers or orders"
    )
    assert [layer.independent for layer in drawn] == [layer.independent for layer in contracted], (
        "docs/ARCHITECTURE.md and .importlinter differ in which siblings are independent"
    )


def test_the_drawing_parser_sees_order_and_independence() -> None:
    """The comparison above is only as good as the parser: a swapped order or a lost bar must show."""
    text = f"{SECTION}\n\n```\n1  b | a\n   ↓\n2  pkg core: x y\n       z\n```\n"
    assert drawing_layers(text) == [
        Layer(frozenset({"a", "b"}), True),
        Layer(frozenset({"pkg.x", "pkg.y", "pkg.z"}), False),
    ]
    swapped = f"{SECTION}\n\n```\n1  pkg core: x y z\n   ↓\n2  a b\n```\n"
    assert drawing_layers(swapped) != drawing_layers(text)


def test_every_app_is_a_root_package_in_one_layer() -> None:
    layered = [module.split(".")[0] for layer in contract_layers() for module in layer.modules]
    apps_layered = [name for name in layered if name != PROJECT_PACKAGE]

    assert contract_root_packages() == project_apps()
    assert sorted(apps_layered) == sorted(project_apps() - {PROJECT_PACKAGE}), "each app in exactly one layer"


def test_every_module_of_the_project_package_is_in_one_of_its_layers() -> None:
    package = ROOT / PROJECT_PACKAGE
    modules = {
        f"{PROJECT_PACKAGE}.{path.stem if path.is_file() else path.name}"
        for path in package.iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py") or (path / "__init__.py").exists()
    } - {f"{PROJECT_PACKAGE}.tests"}
    layered = [module for layer in contract_layers() for module in layer.modules if module.startswith("linkilike.")]

    assert sorted(set(layered)) == sorted(layered), "a module of linkilike is in two layers"
    assert modules - set(layered) == set(), "place these modules in the composition or the core layer"
    assert set(layered) - modules == set(), "the contract lists modules that no longer exist"


# --- imports inside functions ------------------------------------------------------------------------------


def _is_test_module(relative: Path) -> bool:
    return "tests" in relative.parts or relative.name == "conftest.py"


def _has_start_up_comment(lines: list[str], node: ast.stmt) -> bool:
    own = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
    if any(START_UP in line for line in own):
        return True
    index = node.lineno - 2
    while index >= 0 and lines[index].strip().startswith("#"):
        if START_UP in lines[index]:
            return True
        index -= 1
    return False


def _imported_roots(node: ast.Import | ast.ImportFrom, this_app: str) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        return {this_app} if node.level else {(node.module or "").split(".")[0]}
    return {alias.name.split(".")[0] for alias in node.names}


def _is_app_config_ready(function: ast.FunctionDef | ast.AsyncFunctionDef, relative: Path) -> bool:
    """Django's documented place to import an app's signal and check modules: ``AppConfig.ready``."""
    return relative.name == "apps.py" and function.name == "ready"


Function = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def module_function_level_imports(source: str, relative: Path, apps: set[str]) -> list[str]:
    """``path:line: import`` for each import of a project app inside a function without a start-up comment."""
    lines = source.splitlines()
    this_app = relative.parts[0]
    found = []

    def visit(node: ast.AST, function: Function | None) -> None:
        for child in ast.iter_child_nodes(node):
            if (
                function is not None
                and isinstance(child, ast.Import | ast.ImportFrom)
                and _imported_roots(child, this_app) & apps
                and not (isinstance(function, ast.FunctionDef) and _is_app_config_ready(function, relative))
                and not _has_start_up_comment(lines, child)
            ):
                found.append(f"{relative}:{child.lineno}: {lines[child.lineno - 1].strip()}")
            visit(child, child if isinstance(child, Function) else function)

    visit(ast.parse(source, filename=str(relative)), None)
    return found


def function_level_imports(apps: set[str]) -> list[str]:
    found = []
    for app in sorted(apps):
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if not _is_test_module(relative) and "migrations" not in relative.parts:
                found += module_function_level_imports(path.read_text(encoding="utf-8"), relative, apps)
    return found


def test_no_import_of_a_project_app_hides_inside_a_function() -> None:
    """Such an import dodged a cycle the layers forbid; one that spares start-up cost says so ("start-up")."""
    offenders = function_level_imports(project_apps())

    assert offenders == [], "imports inside functions without a start-up comment:\n" + "\n".join(offenders)


def test_the_scan_finds_a_hidden_import_and_accepts_a_commented_one() -> None:
    source = (
        "import campaigns.models\n"
        "\n"
        "def f():\n"
        "    from campaigns.models import Campaign\n"
        "\n"
        "def g():\n"
        "    # start-up cost: the PDF library takes a second to import\n"
        "    from payouts.statements import render\n"
        "\n"
        "def h():\n"
        "    import json\n"
        "    from . import selectors\n"
    )

    found = module_function_level_imports(source, Path("payouts/example.py"), {"campaigns", "payouts"})

    assert found == [
        "payouts/example.py:4: from campaigns.models import Campaign",
        "payouts/example.py:12: from . import selectors",
    ]
