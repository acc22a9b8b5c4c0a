"""One error root per package (issue 11, item 4).

Every exception class a package defines is declared in that package's errors.py and derives from
the package's root; the service roots hang under CoreError; no error carries an HTTP status (the
mapping to problem+json happens once, at the edge). A private exception (`_Name`) used for control
flow inside one module is allowed there, as long as no other module names it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

from services.core.errors import CoreError

REPO = Path(__file__).resolve().parents[3]

# package -> (its root, the subpackages that are packages of their own)
PACKAGES = {
    "services.core": ("CoreError", ()),
    "services.ledger": ("LedgerError", ()),
    "services.agenda": ("AgendaError", ()),
    "services.lottery": ("LotteryError", ("services.lottery.selection",)),
    # a self-contained optimiser that imports nothing of the platform: its own root
    "services.lottery.selection": ("SelectionError", ()),
    "gateway": ("GatewayError", ()),
    "g1000": ("CommandError", ()),
    "g1000_verify": ("VerifierError", ()),
    "g1000_proofs": ("ProofError", ()),
}
UNDER_CORE = ("services.agenda", "services.ledger", "services.lottery", "gateway", "g1000")
HTTP_MEMBERS = {"status", "status_code", "code", "http_status", "title"}


def _modules(package: str) -> list[str]:
    own_subpackages = PACKAGES[package][1]
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if not any(info.name == sub or info.name.startswith(sub + ".") for sub in own_subpackages):
            names.append(info.name)
    return names


def _exceptions(package: str) -> list[type]:
    found = []
    for name in _modules(package):
        module = importlib.import_module(name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == name:
                found.append(value)
    return found


def _source_names(package: str) -> dict[str, str]:
    """module name -> its source text, for every module of the package."""
    out = {}
    for name in _modules(package):
        module = importlib.import_module(name)
        out[name] = Path(module.__file__).read_text(encoding="utf-8")
    return out


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_error_is_declared_in_errors_py_under_the_root(package):
    root_name, _ = PACKAGES[package]
    errors = importlib.import_module(package + ".errors")
    root = getattr(errors, root_name)
    misplaced, rootless = [], []
    for cls in _exceptions(package):
        if cls.__name__.startswith("_"):
            continue  # checked below: private to its module
        if cls.__module__ != package + ".errors":
            misplaced.append(f"{cls.__module__}.{cls.__name__}")
        elif not issubclass(cls, root):
            rootless.append(cls.__name__)
    assert misplaced == [], f"declare these in {package}/errors.py"
    assert rootless == [], f"these do not derive from {root_name}"
    assert len([c for c in _exceptions(package) if c.__module__ == package + ".errors"]) >= 1


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_private_exception_never_leaves_its_module(package):
    sources = _source_names(package)
    for cls in _exceptions(package):
        if not cls.__name__.startswith("_"):
            continue
        for name, text in sources.items():
            if name != cls.__module__:
                names = {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)} | \
                        {n.attr for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Attribute)}
                assert cls.__name__ not in names, f"{name} uses {cls.__module__}.{cls.__name__}"


@pytest.mark.parametrize("package", UNDER_CORE)
def test_service_roots_hang_under_core_error(package):
    root = getattr(importlib.import_module(package + ".errors"), PACKAGES[package][0])
    assert issubclass(root, CoreError) and root is not CoreError


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_no_error_carries_an_http_status(package):
    carrying = [f"{cls.__name__}.{member}" for cls in _exceptions(package)
                for klass in cls.__mro__ if klass.__module__ not in ("builtins",)
                for member in HTTP_MEMBERS if member in vars(klass)]
    assert carrying == []


def test_the_checker_sees_a_misplaced_error(tmp_path, monkeypatch):
    """A walker that found nothing would pass: a package with an error outside errors.py fails."""
    pkg = tmp_path / "errpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("class PkgError(Exception):\n    pass\n")
    (pkg / "thing.py").write_text("class Stray(ValueError):\n    status = 400\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(PACKAGES, "errpkg", ("PkgError", ()))
    with pytest.raises(AssertionError, match="declare these"):
        test_every_error_is_declared_in_errors_py_under_the_root("errpkg")
    with pytest.raises(AssertionError):
        test_no_error_carries_an_http_status("errpkg")


def test_the_lottery_maps_each_kind_once_at_the_edge():
    from services.core import problem_types
    from services.lottery import errors
    from services.lottery.api import problem_type_of

    assert problem_type_of(errors.KAnonymityError("x")).status == 422
    assert problem_type_of(errors.KAnonymityError("x")).slug == "refused"
    assert problem_type_of(errors.NoReserveError("x")).status == 409
    assert problem_type_of(errors.LotteryNotFoundError("x")).status == 404
    assert problem_type_of(errors.LotteryError("x")).status == 400
    for cls in _exceptions("services.lottery"):
        assert problem_type_of(cls.__new__(cls)).slug in problem_types.CATALOGUE
