"""`g1000 agenda common-ground VOTES`: the common ground of a table's (or the summit's) statement
votes, recomputed with services/agenda/common_ground.py and printed as JSON (docs/agenda.md,
"Common ground").

VOTES is a JSON file: ``{"statements": [ids, in the order to list them] (optional),
"votes": [{"participant": pseudonym, "statement": id, "vote": 1 | 0 | -1}, ...]}``, the votes in
log order (a later vote on a statement replaces the earlier one). The output is
``CommonGround.summary()``: the parameters, the groups with their representative statements and
the consensus ranking, floats rounded, keys sorted, so two runs on the same votes print the same
bytes. Reading the votes straight from the log follows once the statement-vote events exist.
"""

from __future__ import annotations

import json
from pathlib import Path

from services.agenda.common_ground import common_ground, vote_matrix
from services.agenda.errors import VoteMatrixError


def read_votes(path: Path) -> tuple[list[tuple[str, str, int]], list[str]]:
    """The (participant, statement, vote) triples and the statement order of a VOTES file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VoteMatrixError(f"{path}: cannot read the votes: {e}") from None
    if not isinstance(document, dict) or not isinstance(document.get("votes"), list):
        raise VoteMatrixError(f"{path}: expected an object with a list `votes`")
    statements = document.get("statements", [])
    if not isinstance(statements, list) or not all(isinstance(s, str) for s in statements):
        raise VoteMatrixError(f"{path}: `statements` must be a list of ids")
    triples = []
    for index, entry in enumerate(document["votes"]):
        if not (isinstance(entry, dict) and isinstance(entry.get("participant"), str)
                and isinstance(entry.get("statement"), str) and "vote" in entry):
            raise VoteMatrixError(f"{path}: vote {index} needs a participant, a statement and a vote")
        triples.append((entry["participant"], entry["statement"], entry["vote"]))
    return triples, statements


def common_ground_json(path: Path) -> str:
    votes, statements = read_votes(path)
    summary = common_ground(vote_matrix(votes, statements)).summary()
    return json.dumps(summary, sort_keys=True, ensure_ascii=False, indent=2)
