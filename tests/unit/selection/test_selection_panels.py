"""From compositions to explicit panels: weights, rotation, balance (services ... panels.py)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.lottery.selection import Person
from services.lottery.selection.inputs import check_problem
from services.lottery.selection.panels import build_panels, largest_remainder
from services.lottery.selection.types import build_types


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30)
       .filter(lambda w: sum(w) > 0), st.integers(1, 10**9))
def test_largest_remainder_sums_and_stays_within_one(weights, total):
    rounded = largest_remainder(np.array(weights), total)
    assert int(rounded.sum()) == total
    exact = np.array(weights) / sum(weights) * total
    assert np.all(np.abs(rounded - exact) < 1 + 1e-6)


def _table(people, k, quotas):
    return build_types(check_problem(people, k, quotas))


def _coverage(built):
    cover: dict[str, int] = {}
    for panel, w in zip(built.panels, built.weights):
        for pid in panel:
            cover[pid] = cover.get(pid, 0) + w
    return cover


def test_one_composition_is_rotated_over_a_whole_type():
    # 7 interchangeable people, panels of 3: every person must get 3/7
    table = _table([Person(f"p{i}", {}) for i in range(7)], 3, {})
    built = build_panels(table, np.array([[3]]), np.array([1.0]), np.array([3 / 7]),
                         total_weight=10**6, max_panels=100, tolerance=1e-6)
    cover = _coverage(built)
    assert sum(built.weights) == 10**6
    assert max(cover.values()) - min(cover.values()) <= 1
    assert all(abs(Fraction(c, 10**6) - Fraction(3, 7)) < Fraction(1, 10**6) for c in
               cover.values())


def test_heavy_compositions_are_split_and_light_ones_balance():
    people = [Person(f"a{i}", {"g": "a"}) for i in range(4)] + [Person("b0", {"g": "b"})]
    quotas = {"g": {"a": (0, 2), "b": (0, 1)}}
    table = _table(people, 2, quotas)
    # types: a (4 people), b (1 person); lottery: {a:1, b:1} w.p. 0.6, {a:2} w.p. 0.4
    compositions = np.array([[1, 1], [2, 0]])
    weights = np.array([0.6, 0.4])
    achieved = (weights @ compositions) / table.sizes
    built = build_panels(table, compositions, weights, achieved, total_weight=10**6,
                         max_panels=50, tolerance=1e-5)
    cover = _coverage(built)
    for pid in ("a0", "a1", "a2", "a3"):
        assert abs(cover[pid] / 10**6 - 0.35) <= 1e-5
    assert cover["b0"] == 600_000
    assert all(len(panel) == 2 for panel in built.panels)
    assert built.stats["panels"] == len(built.panels) <= 50


def test_the_budget_is_respected():
    table = _table([Person(f"p{i:02d}", {}) for i in range(31)], 5, {})
    built = build_panels(table, np.array([[5]]), np.array([1.0]), np.array([5 / 31]),
                         total_weight=10**6, max_panels=4, tolerance=1e-9)
    assert len(built.panels) <= 4 and sum(built.weights) == 10**6
