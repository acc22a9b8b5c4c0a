"""A moderate-scale run: 1,000 skewed respondents, 5 features, panel of 100 (no timing checks).

The pool is G1000-like (skewed against the population, correlated age and employment, a few
shared households); the result must be a valid lottery whose people are within 1e-4 of their
LEXIMIN probability (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 596, 2021).
"""

from __future__ import annotations

from fractions import Fraction

from g1000_proofs.draw import Row, check_households, check_quotas

from services.lottery.selection import fairness_report, find_distribution
from tests.support.selection_oracle import household_of, proportional_quotas, skewed_pool


def test_one_thousand_to_one_hundred_with_five_features():
    people, specs = skewed_pool(1000, 5, seed=7, households=0.02)
    quotas = proportional_quotas(specs, 100, slack=0.1)
    dist = find_distribution(people, 100, quotas)

    rows = {p.id: Row(p.id, household_of(p), dict(p.features)) for p in people}
    assert sum(dist.weights) == 1_000_000 and all(w > 0 for w in dist.weights)
    assert len(dist.panels) <= 2_000 and len(set(dist.panels)) == len(dist.panels)
    for panel in dist.panels:
        members = [rows[i] for i in panel]
        assert len(panel) == 100
        assert check_quotas(members, quotas) == [] and check_households(members) == []
    assert sum(dist.probabilities.values()) == 100
    assert dist.stats["max_deviation"] <= 1e-4
    assert abs(float(min(dist.probabilities.values())) - dist.lp_minimum) <= 1e-4

    # interchangeable people (same features, household of their own) share one probability
    shared = {household_of(p) for p in people if p.household is not None}
    shared = {h for h in shared if sum(household_of(q) == h for q in people) > 1}
    groups: dict[tuple, list[Fraction]] = {}
    for p in people:
        if household_of(p) not in shared:
            groups.setdefault(tuple(sorted(p.features.items())), []).append(
                dist.probabilities[p.id])
    assert max(max(g) - min(g) for g in groups.values()) <= Fraction(2, 10**4)

    report = fairness_report(dist, threshold=dist.lp_minimum - 1e-4)
    assert report["count"] == 1000 and report["below_threshold"] == 0
    assert abs(report["mean"] - 0.1) < 1e-12
