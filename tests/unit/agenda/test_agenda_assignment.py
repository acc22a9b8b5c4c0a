"""The table assignment (services/agenda/assignment.py): properties, hand-checked optima, repeats."""

from __future__ import annotations

import dataclasses
import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs.tables import check_assignment, group_counts
from services.agenda.assignment import GroupBound, Participant, Table, TableProblem, assign_tables
from services.agenda.errors import AssignmentInputError, InfeasibleBoundsError
from tests.support.tables import planted

SOME = settings(max_examples=60, deadline=None, database=None)


def _groups(problem):
    return {p.pseudonym: p.group for p in problem.participants}


def _capacities(problem):
    return {t.table_id: t.capacity for t in problem.tables}


@SOME
@given(planted())
def test_a_feasible_instance_seats_everyone_once_within_capacity_and_bounds(case):
    problem, _ = case
    result = assign_tables(problem)
    assert set(result.seats) == {p.pseudonym for p in problem.participants}
    assert check_assignment(_groups(problem), _capacities(problem), problem.bounds, result.seats, result.counts) is None
    assert result.violations == ()
    assert result.counts == group_counts(result.seats, _groups(problem), _capacities(problem))
    assert sum(result.choices.values()) == len(problem.participants)


@SOME
@given(planted(), st.randoms(use_true_random=False))
def test_the_same_seed_gives_the_same_assignment_whatever_the_input_order(case, rng):
    problem, _ = case
    people, tables = list(problem.participants), list(problem.tables)
    rng.shuffle(people)
    rng.shuffle(tables)
    shuffled = dataclasses.replace(problem, participants=people, tables=tables)
    assert assign_tables(problem) == assign_tables(problem) == assign_tables(shuffled)


@SOME
@given(planted(), st.sampled_from(["min", "max"]))
def test_bounds_that_cannot_hold_are_refused_naming_the_bound(case, kind):
    problem, _ = case
    group = sorted(problem.bounds)[0]
    size = sum(1 for p in problem.participants if p.group == group)
    tables = len(problem.tables)
    # min: more of the group than exist, summed over the tables; max: fewer seats than the group needs
    bound = GroupBound(size // tables + 1) if kind == "min" else GroupBound(0, (size - 1) // tables)
    if kind == "max" and size == 0:
        return
    broken = dataclasses.replace(problem, bounds={**problem.bounds, group: bound})
    with pytest.raises(InfeasibleBoundsError) as info:
        assign_tables(broken)
    assert (info.value.group, info.value.bound) == (group, kind)
    assert info.value.shortfall >= 1 and f"{kind}=" in str(info.value) and group in str(info.value)


def test_too_few_seats_are_refused_as_capacity():
    people = [Participant(f"p{i}", "citizen") for i in range(5)]
    with pytest.raises(InfeasibleBoundsError) as info:
        assign_tables(TableProblem(people, [Table("a", 2), Table("b", 2)]))
    assert (info.value.group, info.value.bound, info.value.shortfall) == (None, "capacity", 1)


def test_a_share_bound_that_no_integer_count_meets_is_refused():
    """3 people at one table of 3: a share of at least 50 % of group g is 2 of 3, but only 1 exists."""
    people = [Participant("a", "g"), Participant("b", "h"), Participant("c", "h")]
    with pytest.raises(InfeasibleBoundsError) as info:
        assign_tables(TableProblem(people, [Table("t", 3)], bounds={"g": GroupBound(min_percent=50)}))
    assert (info.value.group, info.value.bound) == ("g", "min_percent")


@pytest.mark.parametrize("problem", [
    TableProblem([Participant("a", "g"), Participant("a", "h")], [Table("t", 2)]),
    TableProblem([Participant("a", "g")], [Table("t", 2), Table("t", 1)]),
    TableProblem([Participant("a", "g")], [Table("t", 2)], preferences={"a": ["x"]}),
    TableProblem([Participant("a", "g")], [Table("t", 2)], preferences={"a": ["t", "t"]}),
    TableProblem([Participant("a", "g")], [Table(c, 2) for c in "tuvw"], preferences={"a": list("tuvw")}),
    TableProblem([Participant("a", "g")], [Table("t", 2)], preferences={"b": ["t"]}),
    TableProblem([Participant("a", "g")], [Table("t", 2)], bounds={"g": GroupBound(3, 2)}),
    TableProblem([Participant("a", "g")], [Table("t", 2)], bounds={"g": GroupBound(0, None, 60, 40)}),
    TableProblem([Participant("a", "g")], [Table("t", -1)]),
    TableProblem([], [Table("t", 2)]),
    TableProblem([Participant("a", "g")], [Table("t", 2)], weights=(3, 2.5, 1)),
    TableProblem([Participant("a", "g")], [Table("t", 2)], time_limit=0),
])
def test_malformed_input_is_refused(problem):
    with pytest.raises(AssignmentInputError):
        assign_tables(problem)


def test_a_hand_checked_optimum():
    """Tables t1, t2 of 2, each with at least one A and one B. a1, a2 and b1 want t1, b2 wants t2.
    Only one A fits t1: the best is one A and b1 at t1 (3 + 3), b2 at t2 (3), the other A at t2
    (0): 9. Which A gets t1 is the seed's choice, and different seeds choose differently."""
    people = [Participant("a1", "A"), Participant("a2", "A"), Participant("b1", "B"), Participant("b2", "B")]
    prefs = {"a1": ["t1"], "a2": ["t1"], "b1": ["t1", "t2"], "b2": ["t2"]}
    winners = set()
    for seed in range(12):
        result = assign_tables(TableProblem(people, [Table("t1", 2), Table("t2", 2)], prefs,
                                            {"A": GroupBound(1), "B": GroupBound(1)}, seed=bytes([seed])))
        assert result.choices == {0: 1, 1: 3, 2: 0, 3: 0} and result.shares == (0.75, 0.0, 0.0)
        assert result.seats["b1"] == "t1" and result.seats["b2"] == "t2"
        winners.add(next(a for a in ("a1", "a2") if result.seats[a] == "t1"))
    assert winners == {"a1", "a2"}


@settings(max_examples=10, deadline=None, database=None)
@given(planted())
def test_a_time_limit_that_is_not_reached_changes_nothing(case):
    problem, _ = case
    assert assign_tables(dataclasses.replace(problem, time_limit=3600.0)) == assign_tables(problem)


def _brute_force(problem: TableProblem) -> int:
    """The best preference score minus repeated pairs, over every assignment that keeps the rule."""
    people, tables = [p.pseudonym for p in problem.participants], [t.table_id for t in problem.tables]
    best = None
    for choice in itertools.product(tables, repeat=len(people)):
        seats = dict(zip(people, choice))
        if check_assignment(_groups(problem), _capacities(problem), problem.bounds, seats) is not None:
            continue
        score = sum(problem.weights[problem.preferences[p].index(s)]
                    for p, s in seats.items() if s in problem.preferences.get(p, ()))
        for earlier in problem.earlier:
            score -= problem.repeat_weight * sum(1 for p, q in itertools.combinations(people, 2)
                                                 if seats[p] == seats[q] and earlier[p] == earlier[q])
        best = score if best is None else max(best, score)
    return best


@settings(max_examples=40, deadline=None, database=None)
@given(planted(max_people=6, max_tables=3), st.randoms(use_true_random=False))
def test_the_optimum_matches_enumeration_on_small_instances(case, rng):
    problem, _ = case
    earlier = {p.pseudonym: rng.choice("xy") for p in problem.participants}
    problem = dataclasses.replace(problem, earlier=(earlier,))
    result = assign_tables(problem)
    score = sum(problem.weights[rank - 1] * n for rank, n in result.choices.items() if rank)
    repeats = sum(1 for p, q in itertools.combinations(sorted(result.seats), 2)
                  if result.seats[p] == result.seats[q] and earlier[p] == earlier[q])
    assert score - problem.repeat_weight * repeats == _brute_force(problem)


def test_round_two_seats_nobody_with_a_round_one_mate_when_that_is_possible():
    """16 people, 4 tables of 4, no preferences: round 2 can take one person from each round-1
    table per table (a Latin square), so no pair meets twice; round 3 likewise against both."""
    people = [Participant(f"p{i:02d}", "citizen") for i in range(16)]
    tables = [Table(f"t{j}", 4) for j in range(4)]
    first = {p.pseudonym: f"t{i // 4}" for i, p in enumerate(people)}
    second = assign_tables(TableProblem(people, tables, earlier=(first,)))
    assert second.repeats == 0
    for table in {t.table_id for t in tables}:
        assert sorted(first[p] for p, s in second.seats.items() if s == table) == ["t0", "t1", "t2", "t3"]
    again = assign_tables(TableProblem(people, tables, earlier=(first,), repeat_weight=0))
    assert again.repeats > 0  # without the repeat term the tie-break alone does not spread them
    third = assign_tables(TableProblem(people, tables, earlier=(first, second.seats)))
    assert third.repeats == 0


def test_repeats_fall_in_round_two_against_preferences_that_cluster():
    """60 people at 6 tables whose preferences favour two tables: round 2 with the repeat term
    meets fewer round-1 mates than the same round without it, keeping the bounds, and gives up
    no more preference score than the repeats it saves (each pair weighs 1)."""
    rng = random.Random(7)
    people = [Participant(f"p{i:02d}", "citizen" if i % 3 else "employer") for i in range(60)]
    tables = [Table(f"t{j}", 11) for j in range(6)]
    bounds = {"employer": GroupBound(2, 5)}

    def prefs():
        return {p.pseudonym: rng.sample(["t0", "t0", "t1", "t1", "t2", "t3", "t4", "t5"], 1) for p in people}

    first = assign_tables(TableProblem(people, tables, prefs(), bounds, seed=b"r1"))
    later = prefs()
    with_term = assign_tables(TableProblem(people, tables, later, bounds, (first.seats,), seed=b"r2"))
    without = assign_tables(TableProblem(people, tables, later, bounds, (first.seats,), seed=b"r2", repeat_weight=0))
    assert with_term.violations == () and without.violations == ()
    assert with_term.repeats < without.repeats

    def score(result):
        return sum((3, 2, 1)[rank - 1] * n for rank, n in result.choices.items() if rank)

    assert score(without) - score(with_term) <= without.repeats - with_term.repeats
