"""Infeasible quotas: the diagnosis names the conflicts and the smallest relaxation.

The relaxation is checked against brute force on tiny pools: over every set of ``k`` people who
may sit together, the total amount by which the quotas must move to admit it; the smallest such
total must equal the diagnosis' total, and the relaxed quotas must admit a panel.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.lottery.selection import (
    InfeasibleQuotasError,
    Person,
    SelectionError,
    diagnose,
    find_distribution,
)
from tests.support.selection_oracle import household_of, valid_panels


def _people(spec: dict[str, int], feature: str = "gender") -> list[Person]:
    people = []
    for value, count in spec.items():
        people += [Person(f"{value}{i:03d}", {feature: value}) for i in range(count)]
    return people


def _total(relaxation, quotas) -> int:
    return sum(abs(new[0] - quotas[f][v][0]) + abs(new[1] - quotas[f][v][1])
               for (f, v), new in relaxation.items())


def _relaxed(quotas, relaxation):
    out = {f: dict(table) for f, table in quotas.items()}
    for (f, v), bounds in relaxation.items():
        out[f][v] = bounds
    return out


def test_feasible_quotas():
    people = _people({"female": 50, "male": 50})
    result = diagnose(people, 10, {"gender": {"female": (5, 5), "male": (5, 5)}})
    assert result.feasible and result.conflicts == [] and result.relaxation == {}
    assert "can be met" in result.message


def test_a_minimum_larger_than_the_respondents_having_the_value():
    people = _people({"female": 41, "male": 200})
    quotas = {"gender": {"female": (60, 100), "male": (0, 100)}}
    result = diagnose(people, 100, quotas)
    assert not result.feasible
    assert "gender=female min 60 but only 41 respondents have it" in result.conflicts
    assert result.relaxation == {("gender", "female"): (41, 100)}
    assert "lower the minimum of gender=female from 60 to 41" in result.message
    with pytest.raises(InfeasibleQuotasError) as raised:
        find_distribution(people, 100, quotas)
    assert raised.value.diagnosis == result
    assert isinstance(raised.value, SelectionError)
    assert str(raised.value) == result.message


def test_minimums_summing_to_more_than_the_panel():
    people = [Person(f"p{i}", {"age": band}) for i, band in
              enumerate(["young", "middle", "old"] * 100)]
    quotas = {"age": {"young": (40, 60), "middle": (40, 60), "old": (40, 60)}}
    result = diagnose(people, 100, quotas)
    assert not result.feasible
    assert "the minimums of age sum to 120 > panel size 100" in result.conflicts
    assert _total(result.relaxation, quotas) == 20
    assert all(new[0] <= 40 and new[1] == 60 for new in result.relaxation.values())
    find_distribution(people, 100, _relaxed(quotas, result.relaxation))  # now feasible


def test_maximums_summing_to_less_than_the_panel():
    people = _people({"female": 100, "male": 100})
    quotas = {"gender": {"female": (0, 30), "male": (0, 40)}}
    result = diagnose(people, 100, quotas)
    assert "the maximums of gender sum to 70 < panel size 100" in result.conflicts
    assert _total(result.relaxation, quotas) == 30
    assert diagnose(people, 100, _relaxed(quotas, result.relaxation)).feasible


def test_maximums_capped_by_the_respondents_available():
    people = _people({"female": 20, "male": 100})
    quotas = {"gender": {"female": (0, 60), "male": (0, 40)}}
    result = diagnose(people, 100, quotas)
    assert any("capped by the respondents" in c for c in result.conflicts)
    assert result.relaxation == {("gender", "male"): (0, 80)}


def test_two_features_that_conflict_jointly():
    # every woman is young and every man is old: 7 women but at most 5 young is impossible,
    # though each feature alone is fine
    people = ([Person(f"w{i}", {"gender": "f", "age": "young"}) for i in range(20)]
              + [Person(f"m{i}", {"gender": "m", "age": "old"}) for i in range(20)])
    quotas = {"gender": {"f": (7, 10), "m": (0, 10)}, "age": {"young": (0, 5), "old": (0, 10)}}
    result = diagnose(people, 10, quotas)
    assert not result.feasible
    joint = [c for c in result.conflicts if "cannot all be met together" in c]
    assert joint and "gender=f" in joint[0] and "age=young" in joint[0]
    assert _total(result.relaxation, quotas) == 2
    assert diagnose(people, 10, _relaxed(quotas, result.relaxation)).feasible


def test_households_limit_who_can_sit_together():
    # 6 respondents but only 3 households: a panel of 4 is impossible whatever the quotas
    people = [Person(f"p{i}", {"g": "a"}, f"h{i // 2}") for i in range(6)]
    result = diagnose(people, 4, {"g": {"a": (0, 4)}})
    assert not result.feasible
    assert any("at most one per household" in c for c in result.conflicts)
    assert result.relaxation == {}
    assert "No change of quotas can help" in result.message


def test_households_count_once_towards_a_minimum():
    people = ([Person(f"f{i}", {"g": "f"}, "shared") for i in range(5)]
              + [Person(f"m{i}", {"g": "m"}) for i in range(10)])
    quotas = {"g": {"f": (2, 5), "m": (0, 10)}}
    result = diagnose(people, 5, quotas)
    assert not result.feasible
    assert any("g=f min 2 but only 1 respondent has it" in c and "household" in c
               for c in result.conflicts)
    assert result.relaxation == {("g", "f"): (1, 5)}


@st.composite
def tiny_quota_problems(draw):
    n = draw(st.integers(2, 8))
    features = {f"f{i}": ["a", "b", "c"][: draw(st.integers(2, 3))]
                for i in range(draw(st.integers(1, 2)))}
    people = [Person(f"p{i}", {f: draw(st.sampled_from(v)) for f, v in features.items()},
                     draw(st.sampled_from([None, None, "h0", "h1"]))) for i in range(n)]
    k = draw(st.integers(1, n))
    quotas = {}
    for f, values in features.items():
        quotas[f] = {}
        for v in values:
            low = draw(st.integers(0, k))
            quotas[f][v] = (low, draw(st.integers(low, k)))
    return people, k, quotas


def _brute_force_relaxation(people, k, quotas) -> int | None:
    best = None
    for combo in itertools.combinations(people, k):
        if len({household_of(p) for p in combo}) < k:
            continue
        cost = 0
        for f, table in quotas.items():
            for v, (low, high) in table.items():
                count = sum(p.features[f] == v for p in combo)
                cost += max(0, low - count) + max(0, count - high)
        best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=150, deadline=None, database=None)
@given(problem=tiny_quota_problems())
def test_the_diagnosis_agrees_with_brute_force(problem):
    people, k, quotas = problem
    result = diagnose(people, k, quotas)
    assert result.feasible == bool(valid_panels(people, k, quotas))
    best = _brute_force_relaxation(people, k, quotas)
    if result.feasible:
        assert result.relaxation == {} and result.conflicts == [] and best == 0
        return
    assert result.conflicts and result.message.startswith("No panel of")
    if best is None:  # the household rule alone forbids every panel
        assert result.relaxation == {}
        return
    assert _total(result.relaxation, quotas) == best
    assert valid_panels(people, k, _relaxed(quotas, result.relaxation))
