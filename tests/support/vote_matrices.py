"""Synthetic statement votes with planted opinion groups and planted consensus statements, for the
common-ground tests (issue 14, Done-when): seeded, so every run sees the same matrices.

Each planted group has its own partisan statements, which its members agree with and everyone
else disagrees with (each with probability ``fidelity``, else a random vote); consensus statements
are agreed by everyone (probability ``consensus_agree``, else a pass); noise statements get random
votes. Each participant votes on each statement with probability ``turnout``; ``light`` extra
participants vote on only a few statements (under Polis's threshold of 7). Roles and ids are
shuffled, so nothing about the plant shows in the order of ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlantedVotes:
    votes: tuple[tuple[str, str, int], ...]  # (participant, statement, vote), log order
    groups: dict[str, int]  # every participant with enough votes -> their planted group
    consensus: frozenset[str]  # the planted consensus statements
    partisan: dict[str, int]  # partisan statement -> the group it belongs to
    light: frozenset[str]  # participants with fewer than 7 votes


def planted_votes(seed: int, sizes: tuple[int, ...] = (20, 20, 20), partisan_per_group: int = 5,
                  n_consensus: int = 3, n_noise: int = 4, turnout: float = 0.8,
                  fidelity: float = 0.85, consensus_agree: float = 0.9, light: int = 3) -> PlantedVotes:
    rng = np.random.default_rng(seed)
    roles = ([("partisan", g) for g in range(len(sizes)) for _ in range(partisan_per_group)]
             + [("consensus", None)] * n_consensus + [("noise", None)] * n_noise)
    order = rng.permutation(len(roles))
    statements = {f"s{int(order[i]):03d}": role for i, role in enumerate(roles)}
    people = [g for g, size in enumerate(sizes) for _ in range(size)]
    ids = rng.permutation(len(people) + light)
    votes, groups = [], {}
    for index, group in enumerate(people):
        participant = f"p{int(ids[index]):04d}"
        groups[participant] = group
        for statement, role in statements.items():
            if rng.random() < turnout:
                votes.append((participant, statement, _vote(rng, role, group, fidelity, consensus_agree)))
    few = set()
    for index in range(len(people), len(people) + light):
        participant = f"p{int(ids[index]):04d}"
        few.add(participant)
        for statement in rng.choice(sorted(statements), size=4, replace=False):
            votes.append((participant, str(statement), int(rng.choice([-1, 0, 1]))))
    shuffled = [votes[i] for i in rng.permutation(len(votes))]
    return PlantedVotes(tuple(shuffled), groups,
                        frozenset(s for s, (kind, _) in statements.items() if kind == "consensus"),
                        {s: g for s, (kind, g) in statements.items() if kind == "partisan"}, frozenset(few))


def _vote(rng: np.random.Generator, role: tuple[str, int | None], group: int,
          fidelity: float, consensus_agree: float) -> int:
    kind, owner = role
    if kind == "consensus":
        return 1 if rng.random() < consensus_agree else 0
    if kind == "partisan" and rng.random() < fidelity:
        return 1 if owner == group else -1
    return int(rng.choice([-1, 0, 1]))
