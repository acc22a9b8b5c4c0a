"""The verifier installs and runs with the standard library plus ``cryptography`` (docs/architecture.md §5).

Importing the verifier's modules in a fresh interpreter must not pull in any of the services'
dependencies (Flask, psycopg, Kafka, marshmallow, requests), the ``rfc8785`` package the services
sign with, or the services themselves; and ``g1000_verify/__init__`` imports nothing at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
FORBIDDEN = {"flask", "flask_smorest", "psycopg", "psycopg_pool", "kafka", "marshmallow",
             "rfc8785", "requests", "services", "gateway", "g1000"}


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(REPO / "verifier")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=60, check=True)
    return set(json.loads(done.stdout))


def test_verifier_imports_only_stdlib_cryptography_and_g1000_proofs():
    loaded = _modules_after("import g1000_verify.cli, g1000_verify.checks, g1000_verify.sources, "
                            "g1000_verify.report, g1000_verify.model, g1000_proofs.jcs")
    top_level = {name.split(".")[0] for name in loaded}
    assert not top_level & FORBIDDEN, sorted(top_level & FORBIDDEN)
    assert {"g1000_verify", "g1000_proofs", "cryptography"} <= top_level
    third_party = top_level - set(sys.stdlib_module_names) - {"g1000_verify", "g1000_proofs",
                                                              "cryptography", "_cffi_backend",
                                                              "__main__", "_distutils_hack",
                                                              "__editable___g1000_0_1_0_finder"}
    assert not {m for m in third_party if not m.startswith("_")}, sorted(third_party)


def test_package_init_imports_nothing():
    loaded = _modules_after("import g1000_verify")
    assert not {name for name in loaded if name.startswith("g1000_verify.")}
    assert "g1000_proofs" not in loaded and "cryptography" not in loaded
