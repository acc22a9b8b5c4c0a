"""``PanelChecker`` says exactly what ``check_quotas`` and ``check_households`` say.

The checker exists only to validate a pool's rows once when hundreds of panels of it are
checked (the selection's self-check, the service before committing a distribution, and
``g1000-verify draw``); its sentences and their order must be the functions' own, for any pool,
quota table and panel -- including members lacking a feature, values without a quota and
households sitting twice.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs.draw import (
    DuplicatePseudonymError,
    PanelChecker,
    QuotaSpecError,
    Row,
    check_households,
    check_quotas,
)

FEATURES = ("age", "gender", "wijk")
VALUES = ("a", "b", "c", "")


@st.composite
def pools(draw):
    size = draw(st.integers(1, 24))
    rows = []
    for i in range(size):
        features = draw(st.dictionaries(st.sampled_from(FEATURES), st.sampled_from(VALUES),
                                        max_size=3))
        household = f"h{draw(st.integers(0, max(0, size // 2)))}"
        rows.append(Row(f"p{i:02d}", household, features))
    return rows


@st.composite
def quota_tables(draw):
    table = {}
    for feature in draw(st.lists(st.sampled_from(FEATURES), min_size=1, max_size=3,
                                 unique=True)):
        values = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=4, unique=True))
        table[feature] = {}
        for value in values:
            low = draw(st.integers(0, 4))
            table[feature][value] = (low, low + draw(st.integers(0, 4)))
    return table


@settings(max_examples=300, deadline=None)
@given(pool=pools(), quotas=quota_tables(), data=st.data())
def test_same_sentences_as_the_functions(pool, quotas, data):
    checker = PanelChecker(pool, quotas)
    for _ in range(3):
        panel = data.draw(st.lists(st.sampled_from(pool), max_size=len(pool),
                                   unique_by=lambda row: row.pseudonym))
        names = [row.pseudonym for row in panel]
        assert checker.quotas(names) == check_quotas(panel, quotas)
        assert checker.households(names) == check_households(panel)
        assert all(name in checker for name in names)


def test_a_household_twice_and_a_quota_broken_are_reported():
    pool = [Row("p1", "h1", {"age": "a"}), Row("p2", "h1", {"age": "a"}),
            Row("p3", "h2", {"age": "b"})]
    checker = PanelChecker(pool, {"age": {"a": (0, 1), "b": (1, 1)}})
    assert checker.quotas(["p1", "p2"]) == ["age=a: 2 members, above max 1",
                                            "age=b: 0 members, below min 1"]
    assert checker.households(["p1", "p2", "p3"]) == ["household h1: 2 members (p1, p2)"]
    assert checker.quotas(["p1", "p3"]) == [] and checker.households(["p1", "p3"]) == []
    assert "p4" not in checker
    with pytest.raises(KeyError):
        checker.quotas(["p4"])


def test_bad_input_is_refused_like_the_functions_refuse_it():
    with pytest.raises(QuotaSpecError):
        PanelChecker([Row("p1", "h1", {})], {"age": {"a": (2, 1)}})
    with pytest.raises(DuplicatePseudonymError):
        PanelChecker([Row("p1", "h1", {}), Row("p1", "h2", {})], {"age": {"a": (0, 1)}})
