"""Respondents and quotas as the panel selection receives them, checked and put in one order.

Why this module exists: every later step (grouping into types, the LEXIMIN column generation of
Flanigan, Gölz, Gupta, Hennig and Procaccia, "Fair algorithms for selecting citizens'
assemblies", Nature 596, 2021, the diagnosis) assumes a clean, canonical input.  Checking it once
here gives error messages that name the offending id or feature, and sorting it once here makes
the whole computation independent of the order in which the caller lists people, features or
values (same input in any order -> same output).

The quota format is the one of :mod:`g1000_proofs.draw` (``{feature: {value: (min, max)}}``,
integers ``0 <= min <= max``, a 2-item list accepted for the pair), with the same meaning: every
panel member must have each quota feature with a value listed for it.  A respondent whose value
is not listed could never sit on a panel, which is almost certainly a data error, so it is
rejected here rather than silently given probability zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .errors import SelectionInputError

__all__ = ["Person", "Problem", "check_problem"]


@dataclass(frozen=True)
class Person:
    """One respondent: pseudonym, coarse features, and household (``None``: lives alone)."""

    id: str
    features: Mapping[str, str]
    household: str | None = None


@dataclass(frozen=True)
class Problem:
    """A checked selection problem in canonical order.

    ``people`` sorted by id; ``features`` the quota features in code-point order; ``values[i]``
    the listed values of ``features[i]`` in code-point order; ``bounds[(feature, value)] =
    (min, max)``.  ``households`` maps a person id to their household key (the person's own id
    when ``household`` is ``None``, as in :class:`g1000_proofs.draw.Row`).
    """

    people: tuple[Person, ...]
    panel_size: int
    features: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    bounds: Mapping[tuple[str, str], tuple[int, int]]
    households: Mapping[str, str]

    def quota_table(self) -> dict[str, dict[str, tuple[int, int]]]:
        """The quotas as ``{feature: {value: (min, max)}}`` (for :func:`g1000_proofs.draw.check_quotas`)."""
        return {f: {v: self.bounds[(f, v)] for v in vals}
                for f, vals in zip(self.features, self.values)}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_quotas(quotas: object) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...],
                                           dict[tuple[str, str], tuple[int, int]]]:
    if not isinstance(quotas, Mapping):
        raise SelectionInputError("quotas must be a mapping {feature: {value: (min, max)}}")
    bounds: dict[tuple[str, str], tuple[int, int]] = {}
    values: dict[str, tuple[str, ...]] = {}
    for feature, table in quotas.items():
        if not isinstance(feature, str) or not feature:
            raise SelectionInputError(f"quota feature {feature!r} must be a non-empty str")
        if not isinstance(table, Mapping) or not table:
            raise SelectionInputError(f"quotas[{feature!r}] must be a non-empty mapping "
                                      "{value: (min, max)}")
        for value, pair in table.items():
            if not isinstance(value, str):
                raise SelectionInputError(f"quota value {value!r} of feature {feature!r} "
                                          "must be a str")
            if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
                    _is_int(b) for b in pair):
                raise SelectionInputError(f"quotas[{feature!r}][{value!r}] = {pair!r} must be "
                                          "a pair (min, max) of ints")
            low, high = int(pair[0]), int(pair[1])
            if not 0 <= low <= high:
                raise SelectionInputError(f"quotas[{feature!r}][{value!r}] = {pair!r} needs "
                                          "0 <= min <= max")
            bounds[(feature, value)] = (low, high)
        values[feature] = tuple(sorted(table))
    features = tuple(sorted(values))
    return features, tuple(values[f] for f in features), bounds


def check_problem(people: Sequence[Person], panel_size: int, quotas: object) -> Problem:
    """Check the input and return it in canonical order; raise :class:`SelectionInputError`."""
    features, values, bounds = _check_quotas(quotas)
    if isinstance(people, (str, bytes, Mapping)) or not isinstance(people, Sequence):
        raise SelectionInputError("people must be a sequence of Person")
    listed = {f: set(vals) for f, vals in zip(features, values)}
    seen: set[str] = set()
    for index, person in enumerate(people):
        if not isinstance(person, Person):
            raise SelectionInputError(f"people[{index}] must be a Person, not "
                                      f"{type(person).__name__}")
        if not isinstance(person.id, str) or not person.id:
            raise SelectionInputError(f"people[{index}].id {person.id!r} must be a non-empty str")
        if person.id in seen:
            raise SelectionInputError(f"person id {person.id!r} occurs more than once")
        seen.add(person.id)
        if person.household is not None and (not isinstance(person.household, str)
                                             or not person.household):
            raise SelectionInputError(f"person {person.id!r}: household must be a non-empty "
                                      "str or None")
        if not isinstance(person.features, Mapping):
            raise SelectionInputError(f"person {person.id!r}: features must be a mapping")
        for feature in features:
            if feature not in person.features:
                raise SelectionInputError(f"person {person.id!r} has no value for quota "
                                          f"feature {feature!r}")
            value = person.features[feature]
            if not isinstance(value, str):
                raise SelectionInputError(f"person {person.id!r}: feature {feature!r} value "
                                          f"{value!r} must be a str")
            if value not in listed[feature]:
                raise SelectionInputError(
                    f"person {person.id!r} has {feature}={value!r}, a value with no quota "
                    f"(listed: {', '.join(repr(v) for v in sorted(listed[feature]))}); such a "
                    "person could never be on a panel")
    if not _is_int(panel_size):
        raise SelectionInputError(f"panel_size must be an int, not {type(panel_size).__name__}")
    if not 1 <= panel_size <= len(people):
        raise SelectionInputError(f"panel_size {panel_size} is out of range: it must be between "
                                  f"1 and the number of people ({len(people)})")
    ordered = tuple(sorted(people, key=lambda p: p.id))
    households = {p.id: (p.id if p.household is None else p.household) for p in ordered}
    return Problem(ordered, int(panel_size), features, values, bounds, households)
