"""Grouping respondents into *types*: people the quotas cannot tell apart.

Why this module exists: the quotas only look at a person's values of the quota features, so two
respondents with the same feature vector are interchangeable -- swapping them maps every valid
panel to a valid panel.  The LEXIMIN distribution (Flanigan, Gölz, Gupta, Hennig, Procaccia,
"Fair algorithms for selecting citizens' assemblies", Nature 596, 2021) is unique in its vector
of selection probabilities, and that vector is invariant under such swaps, so interchangeable
people get equal probability.  Working over types instead of people shrinks the problem sharply
(a skewed pool of 3,000 with 5 features has about 530 types; docs/architecture.md §6): a panel becomes a
*composition*, an integer count ``x_t`` of members of each type ``t`` with ``0 <= x_t <= n_t``.

The household rule breaks the symmetry: two people sharing a household may not both sit on a
panel.  A person whose household key (``household``, or their own id when ``None``) is shared
with someone else in the pool therefore becomes a singleton type of their own, and each shared
household contributes the constraint "at most one of these singleton types is chosen".  In a
realistic respondent pool almost every household is unique (the invitation draw takes at most
one person per household), so almost every type is a true group of interchangeable people.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .inputs import Problem

__all__ = ["QuotaRow", "TypeTable", "build_types"]


@dataclass(frozen=True)
class QuotaRow:
    """One quota ``feature = value`` with bounds ``[low, high]`` and the types that count for it."""

    feature: str
    value: str
    low: int
    high: int
    types: np.ndarray  # int32 indices of the types having this value


@dataclass(frozen=True)
class TypeTable:
    """The types of a :class:`~services.lottery.selection.inputs.Problem`, in canonical order.

    ``vectors[t]`` is the feature vector of type ``t`` (values in the order of
    ``problem.features``); ``members[t]`` its person ids, sorted; ``sizes[t] = n_t``;
    ``households`` lists, per shared household, the (singleton) types of its members;
    ``rows`` the quota rows.  Types are ordered by feature vector, then by first member id.
    """

    problem: Problem
    vectors: tuple[tuple[str, ...], ...]
    members: tuple[tuple[str, ...], ...]
    sizes: np.ndarray  # int64
    households: tuple[tuple[int, ...], ...]
    household_keys: tuple[str, ...]
    rows: tuple[QuotaRow, ...]

    @property
    def count(self) -> int:
        return len(self.vectors)

    def describe(self, t: int) -> str:
        """``feature=value, ...`` of type ``t`` (for messages)."""
        pairs = [f"{f}={v}" for f, v in zip(self.problem.features, self.vectors[t])]
        return ", ".join(pairs) if pairs else "(no quota features)"


def build_types(problem: Problem) -> TypeTable:
    """Group the people of ``problem`` into types (see the module docstring)."""
    by_household: dict[str, list[str]] = {}
    for person in problem.people:
        by_household.setdefault(problem.households[person.id], []).append(person.id)
    shared = {key for key, ids in by_household.items() if len(ids) > 1}

    groups: dict[tuple, list[str]] = {}
    for person in problem.people:  # sorted by id, so member lists come out sorted
        vector = tuple(person.features[f] for f in problem.features)
        key = problem.households[person.id]
        group = (vector, person.id) if key in shared else (vector, "")
        groups.setdefault(group, []).append(person.id)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[1][0]))
    vectors = tuple(group[0] for group, _ in ordered)
    members = tuple(tuple(ids) for _, ids in ordered)
    sizes = np.array([len(ids) for ids in members], dtype=np.int64)

    type_of = {ids[0]: t for t, ids in enumerate(members)}
    household_keys = tuple(sorted(shared))
    households = tuple(tuple(sorted(type_of[pid] for pid in by_household[key]))
                       for key in household_keys)

    rows = []
    for i, (feature, values) in enumerate(zip(problem.features, problem.values)):
        for value in values:
            low, high = problem.bounds[(feature, value)]
            having = np.array([t for t, vec in enumerate(vectors) if vec[i] == value],
                              dtype=np.int32)
            rows.append(QuotaRow(feature, value, low, high, having))
    return TypeTable(problem, vectors, members, sizes, households, household_keys, tuple(rows))
