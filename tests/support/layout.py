"""The rules of the test tree's layout (issue 11 Build item 9), as a function over a directory.

- No module under ``tests/`` imports a test module (a ``test_*.py``): what tests share lives in a
  support module (``tests/support/``, or a ``*_support.py`` beside its users), so a test module can
  be moved, split or deleted without breaking another, and pytest never collects a test twice
  under two names.
- ``tests/unit`` is grouped by package: no ``test_*.py`` lies directly in it, and every folder under it that holds
  test modules is a package (an ``__init__.py``), so two packages may have test modules of the
  same name.

Only the standard library; the tree is read, never imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

def _module_name(root: Path, path: Path) -> str:
    """Dotted name of ``path``, with ``root`` (the ``tests`` folder) as the top-level package."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, is_package: bool, node: ast.AST) -> list[str]:
    """The dotted names an import statement may bind, relative imports resolved."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[:len(package) - (node.level - 1)] if node.level > 1 else package
        base = ".".join([*anchor, *([base] if base else [])])
    # ``from pkg import name`` binds a submodule when ``name`` is one; count both readings
    return [base, *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")]


def _is_test_module(dotted: str) -> bool:
    return dotted.split(".")[0] == "tests" and dotted.rsplit(".", 1)[-1].startswith("test_")


def import_problems(root: Path) -> list[str]:
    """Every import, in any module under ``root``, of a test module; one line each."""
    problems = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(module, path.name == "__init__.py", node):
                if _is_test_module(name) and name != module:
                    problems.append(f"{path.relative_to(root.parent)}:{node.lineno}: imports the test "
                                    f"module {name}; move what it needs into a support module")
    return problems


def placement_problems(root: Path) -> list[str]:
    """Test modules directly in ``root/unit``, and folders of test modules without ``__init__.py``."""
    unit = root / "unit"
    problems = []
    for path in sorted(unit.glob("test_*.py")):
        problems.append(f"{path.relative_to(root.parent)}: lies directly in tests/unit; put it in "
                        "the folder of the package it tests")
    for folder in sorted({p.parent for p in unit.rglob("test_*.py")}):
        if not (folder / "__init__.py").exists():
            problems.append(f"{folder.relative_to(root.parent)}: holds test modules but has no __init__.py")
    return problems


def layout_problems(root: Path) -> list[str]:
    """All layout problems of the test tree at ``root`` (the ``tests`` folder); empty when clean."""
    return import_problems(root) + placement_problems(root)
