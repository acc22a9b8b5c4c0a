"""red-dwarf (the Polis community's Python port of the Polis math, https://github.com/polis-community/red-dwarf)
on the same votes as services/agenda/common_ground.py, for the side-by-side tests.

red-dwarf wants integer ids: participants and statements are numbered in the vote matrix's order.
Its import (pydantic) and its pandas calls raise deprecation warnings of their own, which the
project's ``filterwarnings = error`` would turn into failures; they are silenced here only, around
the third party's code.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pandas as pd

from services.agenda.common_ground import VoteMatrix


@dataclass(frozen=True)
class RedDwarfResult:
    labels: dict[str, int]  # clustered participant -> red-dwarf's group
    representative: dict[int, list[str]]  # group -> its representative statements (as a set: red-dwarf
    # puts its "best agree" first and sorts agrees before disagrees)
    consensus: dict[str, float]  # statement -> group-aware consensus (agree)


def run_red_dwarf(matrix: VoteMatrix, votes, random_state: int = 0) -> RedDwarfResult:
    participant = {p: i for i, p in enumerate(matrix.participants)}
    statement = {s: j for j, s in enumerate(matrix.statements)}
    records = [{"participant_id": participant[p], "statement_id": statement[s], "vote": v, "modified": k}
               for k, (p, s, v) in enumerate(votes)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from reddwarf.implementations.base import run_pipeline
        result = run_pipeline(votes=records, random_state=random_state)
    ids = result.participants_df["cluster_id"]
    labels = {matrix.participants[i]: int(ids[i]) for i in ids.index if pd.notna(ids[i])}
    representative = {int(g): [matrix.statements[int(row["tid"])] for row in rows]
                      for g, rows in result.repness.items()}
    consensus = {matrix.statements[int(j)]: float(value)
                 for j, value in result.group_aware_consensus["agree"].items()}
    return RedDwarfResult(labels, representative, consensus)
