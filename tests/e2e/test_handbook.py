"""docs/running-a-summit.md cannot go stale (issue 12, build item 6): its ```sh blocks, in order,
run in one bash process (`set -euo pipefail`) against a stack started with `g1000 up` on a fresh
data directory without the demo, as an organiser copying them into a terminal would run them.
Then what they printed is checked, and the summit's public log is read as an outsider reads it:
the auditor's verifier said OK, and no code, name or BSN of the rehearsal reached the log."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.e2e.stack_support import Stacks
from tests.payload_scan import scan

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
HANDBOOK = REPO / "docs" / "running-a-summit.md"
FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```$", re.S | re.M)


def handbook_blocks() -> tuple[list[str], list[str]]:
    """(the ```sh blocks in order, the info string of every fenced block)."""
    found = FENCE.findall(HANDBOOK.read_text())
    return [body for lang, body in found if lang == "sh"], [lang for lang, _ in found]


def test_handbook_fences_are_marked():
    """Every block says whether it runs (sh) or is an example only (text, toml, json), so no
    command the reader is meant to type escapes the test by an unmarked fence."""
    blocks, langs = handbook_blocks()
    assert set(langs) <= {"sh", "text", "toml", "json"} and "" not in langs
    assert len(blocks) >= 12
    first = blocks[0]
    for name in ("G=", "ORGANISER=", "DAY="):  # what the stack gives, as shell variables, first
        assert re.search(rf"^{name}", first, re.M), name
    assert "g1000 admin organiser" in first


@pytest.fixture
def stack(tmp_path):
    stacks = Stacks(tmp_path)
    yield stacks.start
    stacks.close()


def test_handbook_runs_in_order_against_g1000_up(stack, tmp_path):
    up = stack()  # a fresh data directory, no --demo
    manifest = up.wait_ready()
    gateway = manifest["gateway"]
    assert requests.get(f"{gateway}/v1/summits", timeout=5).json()["summits"] == []

    blocks, _ = handbook_blocks()
    script = "set -euo pipefail\n" + "\n".join(blocks)
    work, day = tmp_path / "work", tmp_path / "work" / "summit-day"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATA_DIR", "DAY")}
    # the reader's shell: this interpreter's `g1000` and `g1000-verify` first on PATH, nothing else
    env |= {"DATA_DIR": str(up.data_dir), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    out = done.stdout
    assert done.returncode == 0, f"stdout:\n{out[-4000:]}\nstderr:\n{done.stderr[-4000:]}"

    summit_id = re.search(r"^summit ([0-9a-f-]{36})$", out, re.M).group(1)
    assert re.search(r"^a wrong reveal: 422 \S", out, re.M), out
    assert re.search(r"^160 letters to send; the first goes to register line \d+ with code [0-9A-Z-]+$", out, re.M)
    assert re.search(r"^20 citizens seated$", out, re.M)
    assert re.search(r"^[0-9a-f]{32} is replaced by [0-9a-f]{32}$", out, re.M)
    assert re.search(r"^participant$", out, re.M)
    # the ballot (§12): the share checks, one voter on the roll, the key opened with two shares
    assert re.search(r"^share 1 of 3 is registered; 2 shares open the votes", out, re.M), out
    assert re.search(r"^1\npending\nclosed\n1\ntallied\n", out, re.M), out
    assert re.search(r'^\{"fietsen": 1, "groen": 1, "wonen": 0\}$', out, re.M), out
    assert re.search(r"^my vote is in the log$", out, re.M)
    verdict = re.fullmatch(r"OK: every check holds for tree size (\d+); every draw recomputes",
                           out.strip().splitlines()[-1])
    assert verdict, out[-3000:]
    assert "  complete     the latest checkpoint holds every seq its producers' signed heads name" in out
    assert re.search(r"^  agenda       2 served texts checked against the log's sha256, length and withholdings$\n"
                     r"^OK: every check holds for tree size \d+; every served agenda text matches the log$", out, re.M), out

    # the shell's files are where the handbook said, the private ones private
    for private in ("letters.csv", "invitations.json", "codes.json", "vote.json", "trustees/share-1-notaris.txt"):
        assert (day / private).stat().st_mode & 0o077 == 0, private
    assert day.stat().st_mode & 0o077 == 0

    # what the day wrote is in the log, and nothing personal or secret is
    size = int(verdict.group(1))
    # the verdict names the latest checkpoint's tree size; the day's last writes (the check-in's
    # arrival, the nomination) may follow it, verified but not yet signed: read the whole log
    entries = requests.get(f"{gateway}/v1/logs/{summit_id}/entries", timeout=10,
                           params={"start": 0, "end": size + 100}).json()["entries"]
    assert len(entries) >= size and [e["index"] for e in entries] == list(range(len(entries)))
    kinds = [e["event"]["type"] for e in entries]
    assert kinds[0] == "ledger.summit.created"
    counted = Counter(kinds)
    expected = {"lottery.seed.finalized": 3, "lottery.invitations.drawn": 1, "lottery.panel.drawn": 4,
                "lottery.panel.replaced": 1,
                "lottery.seed.contributed": 3 * 4,  # per round: the dice and three reveals
                "agenda.topic.nominated": 1,
                **{f"ballot.{k}": 1 for k in ("participant.arrived", "ballot.created", "ballot.opened",
                                             "credential.issued", "vote.cast", "ballot.closed",
                                             "key.revealed", "tally.published")}}
    assert {kind: counted[kind] for kind in expected} == expected, (size, counted)
    drawn = [e["event"]["payload"] for e in entries if e["event"]["type"] == "lottery.panel.drawn"]
    assert sorted(len(p["members"]) for p in drawn) == [2, 2, 3, 20]

    # every payload only with what its schema declares and the charter's vocabulary allows
    vocabulary = requests.get(f"{gateway}/v1/summits/{summit_id}", timeout=5).json()["register"]["features"]
    assert scan([(i, e["event"]) for i, e in enumerate(entries)], vocabulary) == []

    log_text = json.dumps(entries)
    tokens = set(re.findall(r"[A-Za-z0-9]+", log_text))
    codes = [c["code"] for c in json.loads((day / "invitations.json").read_text())["codes"]]
    codes += [c["code"] for c in json.loads((day / "codes.json").read_text())["codes"]]
    assert len(codes) == 160 + 20
    with open(day / "brp-export.csv") as raw:
        residents = list(csv.DictReader(raw, delimiter=";"))
    assert len(residents) > 500
    words = {*(c.replace("-", "") for c in codes), *(r["bsn"] for r in residents)}
    phrases = {*codes, *(r[k] for r in residents for k in ("achternaam", "straat", "geboortedatum", "postcode"))}
    leaked = sorted({w for w in words if w in tokens} | {p for p in phrases
                                                         if (p in tokens if p.isalnum() else p in log_text)})
    assert leaked == []
