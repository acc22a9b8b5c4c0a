"""The import graph of the tree, read from the source (ast; nothing is imported), and its rules.

Why: the ballot and the agenda will be built by copying what the lottery and the core look like,
so the layering must be checked, not remembered (issue 11, item 3). Rules:

- no cycle among the modules' imports, wherever they stand (``if TYPE_CHECKING:`` blocks and
  imports deferred into functions included: either still ties the two modules together);
- a *pure* module -- the domain of each service, the lottery's selection, ``g1000_proofs`` and
  the few core modules they build on -- imports only the standard library, the allowed
  third-party libraries and other pure modules: no web framework, no database or broker driver,
  no HTTP client, no service adapter;
- ``services.core`` imports no service (``services.lottery`` …); ``g1000_proofs`` imports only
  the standard library, ``cryptography`` and itself; ``g1000_verify`` imports no service.

Pure functions of source text, so the tests can also feed them a deliberate cycle.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from fnmatch import fnmatch
from pathlib import Path

PACKAGES = ("services", "gateway", "g1000", "verifier/g1000_proofs", "verifier/g1000_verify")

PURE = (
    "g1000_proofs", "g1000_proofs.*",
    "services.*.domain", "services.*.errors",
    "services.lottery.rounds", "services.lottery.privacy", "services.lottery.extract",
    "services.lottery.selection", "services.lottery.selection.*", "services.agenda.assignment",
    "services.core.canonical", "services.core.errors", "services.core.events",
    "services.core.envelope", "services.core.signing",  # keys: cryptography and a key file, no adapter
    "services.core.bodylimits", "services.core.registry",
    "services.agenda.common_ground",
)
# what pure modules may import from outside the tree, besides the standard library
PURE_THIRD_PARTY = frozenset({"cryptography", "numpy", "highspy", "sklearn"})
PROOFS_THIRD_PARTY = frozenset({"cryptography"})


def module_names(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the packages under root."""
    found: dict[str, Path] = {}
    for package in packages:
        base = root / package
        anchor = base.parent
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(anchor).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(tree: ast.Module) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import of the module, wherever it is: an import deferred into a function to dodge a
    cycle is still a dependency, and the cycle is still there."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def imported_names(module: str, is_package: bool, source: str) -> set[str]:
    """Every dotted name the module's imports name (`from a import b` names a and a.b)."""
    names: set[str] = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names.add(target)
        names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def build_graph(sources: Mapping[str, tuple[bool, str]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(internal edges, external top-level packages) per module; `sources` maps a module name to
    (is it a package, its source)."""
    internal: dict[str, set[str]] = {}
    external: dict[str, set[str]] = {}
    for module, (is_package, source) in sources.items():
        edges, outside = set(), set()
        for name in imported_names(module, is_package, source):
            target = name
            while target and target not in sources:
                target = target.rpartition(".")[0]
            if target:
                if target != module:
                    edges.add(target)
            else:
                outside.add(name.split(".")[0])
        internal[module], external[module] = edges, outside
    return internal, external


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def is_pure(module: str) -> bool:
    return any(fnmatch(module, pattern) for pattern in PURE)


def layering_problems(internal: Mapping[str, set[str]], external: Mapping[str, set[str]]) -> list[str]:
    """One line per import that breaks a rule of the module docstring."""
    stdlib = sys.stdlib_module_names
    problems = []
    for module in sorted(internal):
        outside = {name for name in external[module] if name not in stdlib and name != "__future__"}
        if module == "g1000_proofs" or module.startswith("g1000_proofs."):
            for name in sorted(outside - PROOFS_THIRD_PARTY):
                problems.append(f"{module} imports {name}: g1000_proofs needs the standard library and cryptography only")
        elif is_pure(module):
            for name in sorted(outside - PURE_THIRD_PARTY):
                problems.append(f"{module} (pure) imports {name}")
        if is_pure(module):
            for target in sorted(internal[module]):
                if not is_pure(target):
                    problems.append(f"{module} (pure) imports {target}, an adapter")
        if module.startswith("services.core"):
            for target in sorted(internal[module]):
                if target.startswith("services.") and not target.startswith("services.core"):
                    problems.append(f"{module} (the core) imports the service module {target}")
        if module.startswith("g1000_verify"):
            for target in sorted(internal[module]):
                if not target.startswith(("g1000_verify", "g1000_proofs")):
                    problems.append(f"{module} (the verifier) imports {target}")
    return problems


def read_tree(root: Path) -> dict[str, tuple[bool, str]]:
    return {name: (path.name == "__init__.py", path.read_text(encoding="utf-8"))
            for name, path in module_names(root).items()}
