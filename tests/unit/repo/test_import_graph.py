"""The layering of the tree (issue 11, item 3): no import cycle, pure modules free of adapters,
the core free of services, the verifier free of both. tests/import_graph.py has the rules."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import build_graph, cycles, layering_problems, read_tree

REPO = Path(__file__).resolve().parents[3]


def _tree():
    return build_graph(read_tree(REPO))


def test_the_tree_has_no_import_cycle():
    internal, _ = _tree()
    assert cycles(internal) == []


def test_pure_modules_import_no_adapter_and_the_core_no_service():
    internal, external = _tree()
    assert layering_problems(internal, external) == []


def test_the_graph_covers_the_tree():
    """A checker that read nothing would pass: it must see the modules and their edges."""
    internal, external = _tree()
    assert {"services.core.store", "services.lottery.domain", "g1000_proofs.draw",
            "g1000_verify.cli", "gateway.app", "g1000.stack"} <= set(internal)
    assert "services.core.events" in internal["services.lottery.domain"]
    assert "g1000_proofs.draw" in internal["services.lottery.domain"] or \
        "g1000_proofs" in internal["services.lottery.domain"]
    assert "psycopg" in external["services.core.store"]
    assert "flask" in external["gateway.app"]


def test_a_deliberate_cycle_is_caught():
    sources = {
        "pkg": (True, ""),
        "pkg.a": (False, "from . import b\n"),
        "pkg.b": (False, "from .c import thing\n"),
        "pkg.c": (False, "if True:\n    from pkg.a import x\nthing = 1\n"),
        "pkg.d": (False, "import pkg.a\n"),   # reaches the cycle but is not in it
    }
    internal, _ = build_graph(sources)
    assert cycles(internal) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_a_cycle_through_an_import_deferred_into_a_function_is_caught():
    sources = {
        "pkg": (True, ""),
        "pkg.api": (False, "def views():\n    from .views import blp\n    return [blp]\n"),
        "pkg.views": (False, "from .api import PREFIX\n"),
    }
    assert cycles(build_graph(sources)[0]) == [["pkg.api", "pkg.views"]]


def test_a_cycle_through_type_checking_imports_is_caught_too():
    sources = {
        "pkg": (True, ""),
        "pkg.errors": (False, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .diagnosis import D\n"),
        "pkg.diagnosis": (False, "from .errors import E\n"),
    }
    assert cycles(build_graph(sources)[0]) == [["pkg.diagnosis", "pkg.errors"]]


def test_a_domain_module_importing_an_adapter_is_caught():
    sources = {
        "services": (True, ""), "services.core": (True, ""),
        "services.core.store": (False, "import psycopg\n"),
        "services.core.auth": (False, "from services.lottery import api\n"),
        "services.lottery": (True, ""),
        "services.lottery.api": (False, "import flask\n"),
        "services.lottery.domain": (False, "from services.core.store import Thing\nimport requests\n"),
        "g1000_proofs": (True, ""),
        "g1000_proofs.merkle": (False, "import hashlib\nimport numpy\n"),
        "g1000_verify": (True, ""),
        "g1000_verify.cli": (False, "from services.core import store\n"),
    }
    problems = layering_problems(*build_graph(sources))
    assert problems == [
        "g1000_proofs.merkle imports numpy: g1000_proofs needs the standard library and cryptography only",
        "g1000_verify.cli (the verifier) imports services.core",
        "g1000_verify.cli (the verifier) imports services.core.store",
        "services.core.auth (the core) imports the service module services.lottery",
        "services.core.auth (the core) imports the service module services.lottery.api",
        "services.lottery.domain (pure) imports requests",
        "services.lottery.domain (pure) imports services.core.store, an adapter",
    ]
