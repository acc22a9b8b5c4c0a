"""No function in gateway/ is longer than 60 lines (issue 11, item 5): the request pipeline is a
sequence of small named steps (gateway/pipeline.py), not one closure-laden factory. Read from
the source with ast; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[3] / "gateway"
LIMIT = 60


def long_functions(source: str, limit: int = LIMIT) -> list[tuple[str, int]]:
    """(name, lines) of every function or method, nested ones included, longer than `limit`
    lines from its `def` (decorators excluded) to its last line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def test_no_function_in_the_gateway_is_longer_than_60_lines():
    sources = sorted(GATEWAY.rglob("*.py"))
    assert len(sources) >= 10  # the check read the package, not an empty directory
    offenders = {f"{path.relative_to(GATEWAY.parent)}:{name}": lines
                 for path in sources for name, lines in long_functions(path.read_text())}
    assert offenders == {}


def test_a_long_function_is_caught_even_when_nested():
    inner = ["    def inner():"] + [f"        x{i} = {i}" for i in range(LIMIT)]
    source = "\n".join(["def outer():", *inner, "    return inner", ""])
    assert sorted(long_functions(source)) == [("inner", LIMIT + 1), ("outer", LIMIT + 3)]
    assert long_functions("def short():\n    return 1\n") == []
