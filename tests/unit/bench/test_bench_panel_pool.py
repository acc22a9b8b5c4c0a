"""The panel benchmark's pool generator (bench/panel_pool.py): deterministic, skewed, feasible.

The benchmark compares runs over time and against the reference only if every run solves the same
pools, so the generator must give the same pool for the same arguments (pinned here by a digest of
the smallest benchmark pool). Its quotas must look like an assembly's (from population shares,
every value listed, bands that can add up to the panel size) and be feasible: a panel meeting them
must exist, and when none does the smallest relaxation is applied and recorded. The reference
(`sortition-algorithms`) is not needed here.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from g1000_proofs.draw import Row, check_households, check_quotas

from services.lottery.selection import Person
from services.lottery.selection.diagnosis import diagnose

from bench.panel_pool import FEATURES, SIZES, feasible_quotas, make_pool, population_quotas, population_shares

SMALL = (400, 40)


@pytest.fixture(scope="module")
def pool():
    return make_pool(*SMALL)


def test_same_arguments_same_pool(pool):
    again = make_pool(*SMALL)
    assert again == pool
    assert make_pool(*SMALL, seed="another seed").people != pool.people


def test_smallest_benchmark_pool_is_pinned():
    # Changing the generator changes every benchmark figure: update this digest only on purpose.
    pool = make_pool(*SIZES[0])
    rows = json.dumps([[r.pseudonym, r.household, r.features] for r in pool.people], sort_keys=True)
    assert hashlib.sha256(rows.encode()).hexdigest() == \
        "612d89c89b49431da70ced03289709417e550bbb22f46b08e685c461a5d6fc63"
    assert (len(pool.people), pool.panel_size) == SIZES[0]


def test_people_and_households(pool):
    assert len(pool.people) == SMALL[0]
    assert len({row.pseudonym for row in pool.people}) == len(pool.people)
    for row in pool.people:
        assert set(row.features) == set(FEATURES)
        assert row.household
    # one respondent per household, with a few exceptions (never more than a small share)
    assert 0 < pool.shared_households() <= 0.1 * len(pool.people)
    assert len({row.household for row in pool.people}) >= pool.panel_size


def test_population_shares_are_exact_distributions():
    for feature, shares in population_shares().items():
        assert sum(shares.values()) == 1, feature
        assert all(share > 0 for share in shares.values())


def test_quotas_follow_the_population_not_the_pool(pool):
    counts = pool.counts()
    k = pool.panel_size
    for feature, shares in population_shares().items():
        bounds = pool.quotas[feature]
        assert set(bounds) == set(shares)  # every value listed, so every respondent is covered
        assert sum(low for low, _ in bounds.values()) <= k <= sum(high for _, high in bounds.values())
        for value, (low, high) in bounds.items():
            assert 0 <= low <= shares[value] * k <= high
            assert low <= counts[feature][value], (feature, value)
    # the pool is skewed the way real respondent pools are
    n = len(pool.people)
    assert counts["education"]["high"] / n > population_shares()["education"]["high"]
    assert counts["education"]["low"] / n < population_shares()["education"]["low"]
    assert counts["age"]["65+"] / n > population_shares()["age"]["65+"]


def test_the_benchmark_pools_quotas_can_be_met_unchanged(pool):
    people = [Person(row.pseudonym, row.features, row.household) for row in pool.people]
    assert diagnose(people, pool.panel_size, pool.quotas).feasible
    assert pool.widened == ()
    assert pool.quotas == population_quotas(pool.panel_size)


def test_infeasible_bounds_are_widened_and_recorded():
    people = tuple(Row(f"p{i}", f"h{i}", {"f": "a" if i < 2 else "b"}) for i in range(10))
    quotas = {"f": {"a": (3, 4), "b": (0, 1)}}  # only 2 people have "a"; 4 seats need more "b"
    widened = feasible_quotas(people, 4, quotas)
    assert quotas == {"f": {"a": (2, 4), "b": (0, 2)}}  # the smallest change: one seat each way
    assert widened == ("f=a: [3, 4] widened to [2, 4]", "f=b: [0, 1] widened to [0, 2]")
    panel = [row for row in people if row.pseudonym in ("p0", "p1", "p2", "p3")]
    assert check_quotas(panel, quotas) == [] and check_households(panel) == []


def test_quotas_no_change_can_fix_are_refused():
    people = tuple(Row(f"p{i}", "one home", {"f": "a"}) for i in range(5))  # one household: one seat at most
    with pytest.raises(ValueError, match="no quota change"):
        feasible_quotas(people, 3, {"f": {"a": (0, 3)}})
