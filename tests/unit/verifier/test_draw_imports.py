"""The draw modules are pure: standard library and g1000_proofs only (docs/architecture.md §2 and §5).

The verifier imports them, and it must install and run with the standard library plus
``cryptography``; the draws do not even need ``cryptography``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_draw_and_seed_import_only_the_standard_library_and_g1000_proofs():
    code = ("import g1000_proofs.draw, g1000_proofs.seed, json, sys\n"
            "print(json.dumps(sorted(sys.modules)))")
    env = {**os.environ, "PYTHONPATH": str(REPO / "verifier")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=60, check=True)
    top_level = {name.split(".")[0] for name in json.loads(done.stdout)}
    foreign = top_level - set(sys.stdlib_module_names) - {"g1000_proofs", "__main__"}
    assert not {name for name in foreign if not name.startswith("_")}, sorted(foreign)
    assert "cryptography" not in top_level
