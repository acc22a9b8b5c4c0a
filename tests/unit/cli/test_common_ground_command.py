"""`g1000 agenda common-ground VOTES` (g1000/agenda_cli.py): the common ground of a votes file as
JSON, the same bytes for the same votes, and a clear one-line error for a bad file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from g1000.cli import EXIT_FAILED, main
from tests.support.vote_matrices import planted_votes


def _write(path, votes, statements=None):
    document = {"votes": [{"participant": p, "statement": s, "vote": v} for p, s, v in votes]}
    if statements is not None:
        document["statements"] = statements
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_command_prints_the_groups_and_the_consensus(tmp_path, capsys):
    plant = planted_votes(2, (20, 20))
    assert main(["agenda", "common-ground", str(_write(tmp_path / "votes.json", plant.votes))]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed)
    groups = [set(g["members"]) for g in summary["groups"]]
    planted = [{p for p, g in plant.groups.items() if g == k} for k in (0, 1)]
    assert sorted(groups, key=min) == sorted(planted, key=min)
    assert {c["statement"] for c in summary["consensus"][:3]} == plant.consensus
    assert summary["parameters"]["min_votes"] == 7

    shuffled = [plant.votes[i] for i in np.random.default_rng(7).permutation(len(plant.votes))]
    assert main(["agenda", "common-ground", str(_write(tmp_path / "again.json", shuffled))]) == 0
    assert capsys.readouterr().out == printed


@pytest.mark.parametrize("content, message", [
    ("not json", "cannot read the votes"),
    ('{"votes": {}}', "a list `votes`"),
    ('{"votes": [], "statements": [1]}', "list of ids"),
    ('{"votes": [{"participant": "a", "vote": 1}]}', "vote 0 needs"),
    ('{"votes": [{"participant": "a", "statement": "s", "vote": 5}]}', "is not +1"),
])
def test_a_bad_votes_file_is_one_line_of_error(tmp_path, capsys, content, message):
    path = tmp_path / "votes.json"
    path.write_text(content, encoding="utf-8")
    assert main(["agenda", "common-ground", str(path)]) == EXIT_FAILED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("g1000: error: ") and message in captured.err


def test_a_missing_file_is_an_error_too(tmp_path, capsys):
    assert main(["agenda", "common-ground", str(tmp_path / "absent.json")]) == EXIT_FAILED
    assert "cannot read the votes" in capsys.readouterr().err
