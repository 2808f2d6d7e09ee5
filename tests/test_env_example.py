""".env.example lists every environment variable linkilike/settings.py reads, and nothing else.

The settings are read as source (their syntax tree): every ``env_str/env_bool/env_int/env_list("NAME", ...)``,
``os.environ.get("NAME")``, ``os.getenv("NAME")`` and ``os.environ["NAME"]``. The example lists a variable as
``NAME=value`` or, where the default is right for most installations, commented out as ``# NAME=value``;
each carries a comment (on its line or the line above). A variable whose default is a non-empty string must
not be listed with an empty value: ``env_str`` returns the empty string as it is, so a copied ``.env`` would
silently replace the default (an empty ``LINKILIKE_SANDBOX_BASE_URL`` or ``LINKILIKE_VAR_DIR``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ROOT / "linkilike" / "settings.py"
EXAMPLE = ROOT / ".env.example"
ENV_HELPERS = {"env_str", "env_bool", "env_int", "env_list"}
ENVIRON_CALLS = {"os.environ.get", "os.getenv"}
LINE = re.compile(r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>[^#]*?)\s*(?:#\s*(?P<comment>.*))?$")


@dataclass(frozen=True)
class Read:
    name: str
    helper: str
    #: The default as written in the settings ("" when there is none).
    default: str


@dataclass(frozen=True)
class Listed:
    name: str
    value: str
    commented: bool
    documented: bool


def settings_reads(source: str) -> dict[str, Read]:
    reads: dict[str, Read] = {}
    tree = ast.parse(source)
    # The helpers' own bodies read os.environ.get(name) with the name they are given.
    helper_bodies = {
        id(inner)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in ENV_HELPERS
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in helper_bodies:
            continue
        if isinstance(node, ast.Call):
            helper = ast.unparse(node.func)
            if helper not in ENV_HELPERS | ENVIRON_CALLS or not node.args:
                continue
            first = node.args[0]
            assert isinstance(first, ast.Constant), f"settings.py:{node.lineno} reads a computed variable name"
            default = ast.unparse(node.args[1]) if len(node.args) > 1 else ""
            reads.setdefault(first.value, Read(first.value, helper, default))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            assert isinstance(node.slice, ast.Constant), f"settings.py:{node.lineno} reads a computed variable name"
            reads.setdefault(node.slice.value, Read(node.slice.value, "os.environ[]", ""))
    return reads


def example_entries(text: str) -> dict[str, Listed]:
    entries: dict[str, Listed] = {}
    previous = ""
    for raw in text.splitlines():
        line = raw.strip()
        match = LINE.match(line)
        if match:
            name = match["name"]
            assert name not in entries, f".env.example lists {name} twice"
            # A comment line above describes it too (a "# --- section ---" header does not).
            above_is_comment = (
                previous.startswith("#") and not previous.startswith("# ---") and not LINE.match(previous)
            )
            entries[name] = Listed(
                name=name,
                value=match["value"].strip(),
                commented=bool(match["commented"]),
                documented=bool(match["comment"]) or above_is_comment,
            )
        previous = line
    return entries


def test_settings_reads_are_found() -> None:
    """The parser itself: it sees the variables every deployment sets (else the other tests prove nothing)."""
    reads = settings_reads(SETTINGS.read_text())

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "LINKILIKE_VAR_DIR", "STRIPE_SECRET_KEY"} <= set(reads)
    assert len(reads) > 50


def test_every_variable_the_settings_read_is_in_env_example() -> None:
    missing = sorted(set(settings_reads(SETTINGS.read_text())) - set(example_entries(EXAMPLE.read_text())))

    assert not missing, f"add these to .env.example, each with a comment: {missing}"


def test_env_example_lists_only_variables_the_settings_read() -> None:
    unread = sorted(set(example_entries(EXAMPLE.read_text())) - set(settings_reads(SETTINGS.read_text())))

    assert not unread, f".env.example lists variables linkilike/settings.py never reads: {unread}"


def test_every_listed_variable_says_what_it_does() -> None:
    undocumented = sorted(name for name, entry in example_entries(EXAMPLE.read_text()).items() if not entry.documented)

    assert not undocumented, f"give these a comment in .env.example: {undocumented}"


def test_no_listed_empty_value_replaces_a_string_default() -> None:
    reads = settings_reads(SETTINGS.read_text())
    entries = example_entries(EXAMPLE.read_text())

    overridden = sorted(
        name
        for name, entry in entries.items()
        if name in reads
        and not entry.commented
        and entry.value == ""
        and reads[name].helper in {"env_str", "os.environ.get", "os.getenv"}
        and reads[name].default not in {"", "''", '""'}
    )

    assert not overridden, f"an empty value replaces the default: comment these out or give a value: {overridden}"


def test_the_parser_reads_every_form_of_entry() -> None:
    entries = example_entries(
        "# --- section ---\nA=1  # inline\n# what B does\nB=\n# C=https://x.example   # commented out\nD=plain\n"
    )

    assert entries["A"] == Listed("A", "1", commented=False, documented=True)
    assert entries["B"] == Listed("B", "", commented=False, documented=True)
    assert entries["C"] == Listed("C", "https://x.example", commented=True, documented=True)
    assert entries["D"].documented is False
