"""Input checks of the panel selection, the error hierarchy, and the light package import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.lottery.selection import (
    InfeasibleQuotasError,
    Person,
    SelectionError,
    SelectionInputError,
    SelectionTimeoutError,
    diagnose,
    find_distribution,
)

PEOPLE = [Person(f"p{i}", {"g": "ab"[i % 2], "age": "young"}) for i in range(6)]
QUOTAS = {"g": {"a": (1, 2), "b": (1, 2)}, "age": {"young": (0, 4)}}


def test_the_error_hierarchy():
    assert issubclass(SelectionInputError, SelectionError)
    assert issubclass(SelectionInputError, ValueError)
    assert issubclass(InfeasibleQuotasError, SelectionError)
    assert issubclass(SelectionTimeoutError, SelectionError)


@pytest.mark.parametrize("call", [find_distribution, diagnose])
def test_duplicate_ids_are_named(call):
    people = PEOPLE + [Person("p3", {"g": "a", "age": "young"})]
    with pytest.raises(SelectionInputError, match="'p3' occurs more than once"):
        call(people, 2, QUOTAS)


@pytest.mark.parametrize("call", [find_distribution, diagnose])
def test_a_missing_feature_is_named(call):
    people = PEOPLE + [Person("q1", {"g": "a"})]
    with pytest.raises(SelectionInputError, match="'q1' has no value for quota feature 'age'"):
        call(people, 2, QUOTAS)


def test_a_value_without_a_quota_is_named():
    people = PEOPLE + [Person("q1", {"g": "c", "age": "young"})]
    with pytest.raises(SelectionInputError, match="'q1' has g='c', a value with no quota"):
        find_distribution(people, 2, QUOTAS)


@pytest.mark.parametrize("quotas, fragment", [
    ([("g", "a")], "must be a mapping"),
    ({"": {"a": (0, 1)}}, "non-empty str"),
    ({"g": {}}, "non-empty mapping"),
    ({"g": {"a": (2, 1), "b": (0, 2)}, "age": {"young": (0, 4)}}, "'a'.*0 <= min <= max"),
    ({"g": {"a": (-1, 1), "b": (0, 2)}, "age": {"young": (0, 4)}}, "0 <= min <= max"),
    ({"g": {"a": (0, 1.5), "b": (0, 2)}, "age": {"young": (0, 4)}}, "pair \\(min, max\\) of ints"),
    ({"g": {"a": (True, 1), "b": (0, 2)}, "age": {"young": (0, 4)}}, "of ints"),
    ({"g": {"a": (0, 1, 2), "b": (0, 2)}, "age": {"young": (0, 4)}}, "of ints"),
    ({"g": {1: (0, 1)}}, "must be a str"),
])
def test_bad_quotas(quotas, fragment):
    with pytest.raises(SelectionInputError, match=fragment):
        find_distribution(PEOPLE, 2, quotas)


def test_quota_pairs_may_be_lists_as_json_gives_them():
    quotas = {"g": {"a": [1, 2], "b": [1, 2]}, "age": {"young": [0, 4]}}
    assert find_distribution(PEOPLE, 2, quotas).panels


@pytest.mark.parametrize("size", [0, -1, 7, 2.0, True, "2"])
def test_panel_size_out_of_range(size):
    with pytest.raises(SelectionInputError, match="panel_size"):
        find_distribution(PEOPLE, size, QUOTAS)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"total_weight": 0}, "total_weight"), ({"total_weight": 1.5}, "total_weight"),
    ({"max_panels": 0}, "max_panels"), ({"time_limit": 0}, "time_limit"),
    ({"time_limit": "1"}, "time_limit"),
])
def test_bad_options(kwargs, fragment):
    with pytest.raises(SelectionInputError, match=fragment):
        find_distribution(PEOPLE, 2, QUOTAS, **kwargs)


@pytest.mark.parametrize("people, fragment", [
    ("abc", "sequence of Person"),
    ([("p1", {"g": "a"})], "must be a Person"),
    ([Person("", {"g": "a", "age": "young"})], "non-empty str"),
    ([Person("p1", {"g": "a", "age": "young"}, "")], "household"),
    ([Person("p1", {"g": 1, "age": "young"})], "must be a str"),
])
def test_bad_people(people, fragment):
    with pytest.raises(SelectionInputError, match=fragment):
        find_distribution(people, 1, QUOTAS)


def test_features_outside_the_quotas_are_free():
    people = [Person(p.id, {**p.features, "hobby": "chess"}) for p in PEOPLE]
    assert find_distribution(people, 2, QUOTAS).panels


def test_a_tiny_time_limit_raises_instead_of_returning_an_unproven_lottery():
    people = [Person(f"p{i:03d}", {"g": "abc"[i % 3], "h": "xyz"[i % 7 % 3]})
              for i in range(300)]
    quotas = {"g": {v: (10, 25) for v in "abc"}, "h": {v: (10, 25) for v in "xyz"}}
    with pytest.raises(SelectionTimeoutError):
        find_distribution(people, 50, quotas, time_limit=1e-6)


def test_importing_the_package_does_not_load_the_solver():
    code = ("import sys; import services.lottery.selection as s; "
            "assert 'highspy' not in sys.modules and 'numpy' not in sys.modules; "
            "s.Person; s.fairness_report; s.find_distribution; "
            "assert 'highspy' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
