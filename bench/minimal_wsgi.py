"""P1's baseline: the least a redirect service can do, a 302 looked up in an in-memory dict.

Served by the same gunicorn configuration as Linkilike; ``BENCH_REDIRECT_TABLE`` names a file of
``code<TAB>target`` lines (the benchmark writes the same codes the real app serves).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any


def _load(path: str) -> dict[str, str]:
    table: dict[str, str] = {}
    if path:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                code, _, target = line.rstrip("\n").partition("\t")
                table[code] = target
    return table


TABLE = _load(os.environ.get("BENCH_REDIRECT_TABLE", ""))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path: str = environ.get("PATH_INFO", "")
    target = TABLE.get(path[3:]) if path.startswith("/r/") else None
    if target is None:
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
        return [b"not found"]
    start_response("302 Found", [("Location", target), ("Content-Length", "0"), ("Content-Type", "text/html")])
    return [b""]
