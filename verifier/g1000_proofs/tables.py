"""The rule a table assignment must keep, checked the same way by the agenda and by the auditor.

Why this module exists: at a G1000 the participants talk at tables that mix the stakeholder
groups (citizens, employers, government, free thinkers) within configured bounds (issue 14, item
4; the problem as framed by GroupSelect, Sortition Foundation, arXiv 2410.21451). The agenda
service computes an assignment (services/agenda/assignment.py) and checks it with
:func:`check_assignment` before publishing it; ``g1000-verify agenda`` checks the published one
with the same function. The rule:

- every participant sits at exactly one table of the round, and only participants do;
- no table seats more than its capacity;
- per table and group, the count lies within the group's :class:`GroupBound` -- an absolute
  ``min``/``max`` and a share of the table's occupancy in whole percent, ``min_percent`` and
  ``max_percent`` (compared exactly in integers: ``100 * count >= min_percent * occupancy``);
  every table of a round is held, so a minimum applies to every table, even one that is empty;
- the counts reported with the assignment are the counts of its seats.

:func:`repeat_pairs` counts the pairs at one table who already sat together in an earlier round:
a figure reported with the assignment, not a rule. Standard library only, no I/O.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations
from typing import NamedTuple

__all__ = ["GroupBound", "bound_violations", "check_assignment", "group_counts", "repeat_pairs", "share_counts"]

Seats = Mapping[str, str] | Iterable[tuple[str, str]]


class GroupBound(NamedTuple):
    """Bounds on one stakeholder group's count at every table (``max=None``: no absolute max)."""

    min: int = 0
    max: int | None = None
    min_percent: int = 0
    max_percent: int = 100


def _pairs(seats: Seats) -> list[tuple[str, str]]:
    return list(seats.items()) if isinstance(seats, Mapping) else [tuple(s) for s in seats]


def group_counts(seats: Seats, groups: Mapping[str, str], tables: Iterable[str]
                 ) -> dict[str, dict[str, int]]:
    """``{table: {group: count}}`` over every table and every group of ``groups`` (zeros kept)."""
    names = sorted(set(groups.values()))
    counts = {t: dict.fromkeys(names, 0) for t in tables}
    for person, table in _pairs(seats):
        if table in counts and person in groups:
            counts[table][groups[person]] += 1
    return counts


def _breaches(table: str, counts: Mapping[str, int], bounds: Mapping[str, GroupBound]) -> Iterable[str]:
    occupancy = sum(counts.values())
    for group in sorted(bounds):
        b, n = GroupBound(*bounds[group]), counts.get(group, 0)
        if n < b.min:
            yield f"table {table}: {n} {group}, below the minimum of {b.min}"
        if b.max is not None and n > b.max:
            yield f"table {table}: {n} {group}, above the maximum of {b.max}"
        if 100 * n < b.min_percent * occupancy:
            yield f"table {table}: {n} {group} of {occupancy}, below the minimum share of {b.min_percent} %"
        if 100 * n > b.max_percent * occupancy:
            yield f"table {table}: {n} {group} of {occupancy}, above the maximum share of {b.max_percent} %"


def bound_violations(counts: Mapping[str, Mapping[str, int]], capacities: Mapping[str, int],
                     bounds: Mapping[str, GroupBound]) -> list[str]:
    """Every capacity and group bound that ``counts`` (``{table: {group: count}}``) breaks."""
    found = []
    for table in sorted(capacities):
        seated = sum(counts.get(table, {}).values())
        if seated > capacities[table]:
            found.append(f"table {table}: {seated} seated, capacity {capacities[table]}")
        found.extend(_breaches(table, counts.get(table, {}), bounds))
    return found


def check_assignment(groups: Mapping[str, str], capacities: Mapping[str, int],
                     bounds: Mapping[str, GroupBound], seats: Seats,
                     counts: Mapping[str, Mapping[str, int]] | None = None) -> str | None:
    """The first way ``seats`` (``{participant: table}`` or ``(participant, table)`` pairs) breaks
    the rule of this module for participants ``groups`` (``{participant: group}``) and tables
    ``capacities``, or None when it keeps it; ``counts``, when given, must be its group counts."""
    pairs, seen = _pairs(seats), set()
    for person, table in pairs:
        if person not in groups:
            return f"{person} is seated but is not a participant of the round"
        if person in seen:
            return f"{person} is seated at more than one table"
        if table not in capacities:
            return f"{person} is seated at {table}, which is not a table of the round"
        seen.add(person)
    missing = sorted(set(groups) - seen)
    if missing:
        return f"{missing[0]} has no table ({len(missing)} participants without one)"
    actual = group_counts(pairs, groups, capacities)
    if counts is not None:
        for table in sorted(set(actual) | set(counts)):
            reported = {g: n for g, n in counts.get(table, {}).items() if n}
            if reported != {g: n for g, n in actual.get(table, {}).items() if n}:
                return f"table {table}: the reported counts {reported} are not those of its seats"
    violations = bound_violations(actual, capacities, bounds)
    return violations[0] if violations else None


def repeat_pairs(seats: Mapping[str, str], earlier: Sequence[Mapping[str, str]]) -> int:
    """The number of distinct pairs who share a table in ``seats`` and shared one in any earlier
    round (each a ``{participant: table}``)."""
    at: dict[str, list[str]] = defaultdict(list)
    for person, table in seats.items():
        at[table].append(person)
    met = set()
    for members in at.values():
        for round_seats in earlier:
            before: dict[str, list[str]] = defaultdict(list)
            for person in members:
                if person in round_seats:
                    before[round_seats[person]].append(person)
            for mates in before.values():
                met.update(frozenset(pair) for pair in combinations(sorted(mates), 2))
    return len(met)


def share_counts(seats: Mapping[str, str], preferences: Mapping[str, Sequence[str]], ranks: int = 3
                 ) -> Counter:
    """How many participants sit at their choice of rank 1..``ranks`` (key 0: at none of them)."""
    tally: Counter = Counter()
    for person, table in seats.items():
        ranked = list(preferences.get(person, ()))[:ranks]
        tally[ranked.index(table) + 1 if table in ranked else 0] += 1
    return tally
