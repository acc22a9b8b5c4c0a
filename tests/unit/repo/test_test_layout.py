"""The test tree's layout (issue 11 Build item 9): tests/unit grouped by package, shared builders in
support modules, no test module importing another. tests/support/layout.py has the rules."""

from __future__ import annotations

from pathlib import Path

from tests.support.layout import layout_problems

TESTS = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "tests" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "tests"


def test_the_repository_keeps_the_layout():
    assert TESTS.name == "tests" and (TESTS / "unit").is_dir()
    assert layout_problems(TESTS) == []


def test_a_clean_tree_has_no_problems(tmp_path):
    tests = write(tmp_path, {
        "__init__.py": "", "unit/__init__.py": "", "unit/core/__init__.py": "",
        "support/__init__.py": "", "support/builders.py": "def build():\n    return 1\n",
        "unit/core/test_a.py": "from tests.support.builders import build\nfrom tests.support import builders\n",
        "unit/core/test_b.py": "from ...support import builders\n",
    })
    assert layout_problems(tests) == []


def test_every_way_of_importing_a_test_module_is_caught(tmp_path):
    tests = write(tmp_path, {
        "__init__.py": "", "unit/__init__.py": "", "unit/core/__init__.py": "", "unit/cli/__init__.py": "",
        "integration/__init__.py": "", "support/__init__.py": "",
        "unit/core/test_b.py": "X = 1\n",
        "unit/cli/test_c.py": "Y = 2\n",
        "unit/core/test_a.py": (
            "from tests.unit.core.test_b import X\n"   # 1: absolute
            "from .test_b import X\n"                  # 2: relative, same package
            "from . import test_b\n"                   # 3: the module itself, relatively
            "from ..cli.test_c import Y\n"             # 4: relative, another package
            "import tests.unit.cli.test_c\n"           # 5: plain import
            "def f():\n"
            "    from tests.unit.core import test_b\n"  # 7: inside a function
        ),
        "integration/test_d.py": "from tests.unit.core.test_b import X  # noqa: F401\n",
        "support/leaky.py": "from tests.unit.cli.test_c import Y\n",
    })
    problems = layout_problems(tests)
    where = sorted(p.split(": ", 1)[0] for p in problems)
    assert where == sorted([
        "tests/unit/core/test_a.py:1", "tests/unit/core/test_a.py:2", "tests/unit/core/test_a.py:3",
        "tests/unit/core/test_a.py:4", "tests/unit/core/test_a.py:5", "tests/unit/core/test_a.py:7",
        "tests/integration/test_d.py:1", "tests/support/leaky.py:1",
    ]), problems
    assert "imports the test module tests.unit.core.test_b" in problems[0]


def test_a_flat_test_module_and_a_folder_without_init_are_caught(tmp_path):
    tests = write(tmp_path, {
        "__init__.py": "", "unit/__init__.py": "",
        "unit/test_flat.py": "",
        "unit/loose/test_x.py": "",
    })
    assert layout_problems(tests) == [
        "tests/unit/test_flat.py: lies directly in tests/unit; put it in the folder of the package it tests",
        "tests/unit/loose: holds test modules but has no __init__.py",
    ]
