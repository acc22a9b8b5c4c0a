"""``fairness_report`` on vectors whose statistics are known by hand."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.lottery.selection import (
    Distribution,
    Person,
    SelectionInputError,
    fairness_report,
    find_distribution,
)


def test_equal_probabilities():
    report = fairness_report({f"p{i}": Fraction(1, 4) for i in range(8)})
    assert report["count"] == 8
    assert report["minimum"] == report["maximum"] == report["mean"] == 0.25
    assert report["gini"] == 0.0
    assert math.isclose(report["geometric_mean"], 0.25)
    assert all(report[f"p{q}"] == 0.25 for q in (1, 5, 10, 25, 50))
    assert report["threshold"] is None and report["below_threshold"] is None


def test_known_values():
    probabilities = {"a": Fraction(0), "b": Fraction(1, 4), "c": Fraction(1, 2), "d": Fraction(1)}
    report = fairness_report(probabilities, threshold=Fraction(1, 2))
    assert report["minimum"] == 0.0 and report["maximum"] == 1.0
    assert report["mean"] == 0.4375
    assert report["p50"] == 0.375  # linear interpolation between 1/4 and 1/2
    assert math.isclose(report["p25"], 0.1875)
    # Gini: mean absolute difference / (2 * mean)
    diffs = sum(abs(float(x) - float(y)) for x in probabilities.values()
                for y in probabilities.values())
    assert math.isclose(report["gini"], diffs / (2 * 16 * 0.4375))
    assert report["geometric_mean"] == 0.0
    assert report["below_threshold"] == 2 and report["threshold"] == 0.5


def test_a_distribution_is_accepted():
    people = [Person(f"p{i}", {"g": "ab"[i < 2]}) for i in range(6)]
    dist = find_distribution(people, 2, {"g": {"a": (1, 1), "b": (1, 1)}})
    assert isinstance(dist, Distribution)
    report = fairness_report(dist, threshold=0.3)
    assert report["count"] == 6
    assert math.isclose(report["mean"], 2 / 6)
    assert math.isclose(report["minimum"], 0.25, abs_tol=1e-5)
    assert math.isclose(report["maximum"], 0.5, abs_tol=1e-5)
    assert report["below_threshold"] == 4


@pytest.mark.parametrize("bad", [{}, [0.5], {"a": Fraction(3, 2)}, {"a": -0.1}])
def test_bad_input(bad):
    with pytest.raises(SelectionInputError):
        fairness_report(bad)


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.fractions(min_value=0, max_value=1), min_size=1, max_size=40))
def test_gini_and_order_statistics_are_consistent(values):
    report = fairness_report({f"p{i}": v for i, v in enumerate(values)})
    assert 0.0 <= report["gini"] <= 1.0
    assert report["minimum"] <= report["p1"] <= report["p5"] <= report["p10"] <= report["p25"] \
        <= report["p50"] <= report["maximum"]
    assert report["geometric_mean"] <= report["mean"] + 1e-12
    n, total = len(values), sum(values)
    if total:
        pairs = sum(abs(x - y) for x in values for y in values)
        assert math.isclose(report["gini"], float(pairs / (2 * n * total)), abs_tol=1e-12)
