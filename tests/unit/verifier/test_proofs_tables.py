"""g1000_proofs.tables: every way an assignment can break the rule is reported, first one first."""

from __future__ import annotations

import pytest

from g1000_proofs.tables import GroupBound, bound_violations, check_assignment, group_counts, repeat_pairs, share_counts

GROUPS = {"a": "citizen", "b": "citizen", "c": "employer", "d": "employer"}
CAPACITY = {"t1": 2, "t2": 3}
BOUNDS = {"employer": GroupBound(1, 1), "citizen": GroupBound(0, None, 0, 100)}
GOOD = {"a": "t1", "c": "t1", "b": "t2", "d": "t2"}


def test_a_good_assignment_passes_with_or_without_its_counts():
    counts = {"t1": {"citizen": 1, "employer": 1}, "t2": {"citizen": 1, "employer": 1}}
    assert group_counts(GOOD, GROUPS, CAPACITY) == counts
    assert check_assignment(GROUPS, CAPACITY, BOUNDS, GOOD) is None
    assert check_assignment(GROUPS, CAPACITY, BOUNDS, GOOD.items(), counts) is None


@pytest.mark.parametrize("seats, expected", [
    ([*GOOD.items(), ("x", "t1")], "x is seated but is not a participant of the round"),
    ([*GOOD.items(), ("a", "t2")], "a is seated at more than one table"),
    ({**GOOD, "a": "t9"}, "a is seated at t9, which is not a table of the round"),
    ({k: v for k, v in GOOD.items() if k != "b"}, "b has no table (1 participants without one)"),
    ({**GOOD, "b": "t1"}, "table t1: 3 seated, capacity 2"),
    ({**GOOD, "c": "t2"}, "table t1: 0 employer, below the minimum of 1"),
])
def test_each_breach_is_named(seats, expected):
    assert check_assignment(GROUPS, CAPACITY, BOUNDS, seats) == expected


def test_wrong_reported_counts_are_named():
    wrong = {"t1": {"citizen": 2}, "t2": {"citizen": 1, "employer": 1}}
    assert check_assignment(GROUPS, CAPACITY, BOUNDS, GOOD, wrong).startswith("table t1: the reported counts")


def test_share_bounds_compare_exactly_in_integers():
    counts = {"t": {"g": 1, "h": 2}}  # g is 33.3 % of 3
    assert bound_violations(counts, {"t": 3}, {"g": GroupBound(min_percent=33)}) == []
    assert bound_violations(counts, {"t": 3}, {"g": GroupBound(min_percent=34)}) == [
        "table t: 1 g of 3, below the minimum share of 34 %"]
    assert bound_violations(counts, {"t": 3}, {"h": GroupBound(max_percent=66)}) == [
        "table t: 2 h of 3, above the maximum share of 66 %"]
    assert bound_violations(counts, {"t": 3}, {"h": GroupBound(max=1)}) == ["table t: 2 h, above the maximum of 1"]


def test_repeat_pairs_counts_distinct_pairs_over_rounds():
    now = {"a": "x", "b": "x", "c": "x", "d": "y"}
    one = {"a": "1", "b": "1", "c": "2", "d": "2"}
    two = {"a": "1", "b": "1", "c": "1", "d": "2"}  # a-b again (counted once), a-c and b-c new
    assert repeat_pairs(now, [one]) == 1
    assert repeat_pairs(now, [one, two]) == 3
    assert repeat_pairs(now, []) == 0


def test_share_counts_by_rank():
    prefs = {"a": ["x", "y"], "b": ["y", "x"], "c": []}
    assert share_counts({"a": "x", "b": "x", "c": "x"}, prefs) == {1: 1, 2: 1, 0: 1}
