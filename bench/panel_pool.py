"""Generated respondent pools for the panel-selection benchmark, skewed the way real ones are.

Generated, because registration data is personal and cannot be committed, yet anyone must be able
to repeat the benchmark. Skewed, because a fair-selection algorithm is only tested when the pool
does not look like the population: older, highly educated, politically interested people from
well-off neighbourhoods answer invitations far more often, and quotas set from the *population*
then force the panel to take almost every scarce respondent (that tension decides the selection
probabilities and the solver's effort; a uniform pool would flatter everyone).

The model: six features (gender, age band, education, neighbourhood, interest in politics,
migration background; education and migration depend on the neighbourhood's affluence, interest
on education); a resident answers with probability proportional to the product of the values'
propensities (rejection sampling); one respondent per household (the invitation draw takes one row
per household, docs/architecture.md §6) except a small share registering from an earlier
respondent's home; quotas from the exact population marginals, target ± max(1, 10 % of target)
seats, rounded outward. Feasibility is established, not hoped for: the lottery's diagnosis decides
it exactly and, should no panel meet the quotas, the smallest relaxation is applied and recorded in
the pool. `random.Random` is seeded with a string naming the size (str seeds are hashed with
SHA-512), so a pool is the same on every machine.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from g1000_proofs.draw import Row

# The benchmark's sizes: respondents -> panel seats. The last is the G1000 scale.
SIZES: tuple[tuple[int, int], ...] = ((1_000, 100), (3_000, 150), (4_000, 800))

DEFAULT_TOLERANCE = 0.10  # quota band: target +- max(1, 10 % of target) seats
DEFAULT_SHARED_HOUSEHOLDS = 0.02  # share of respondents registering from an earlier respondent's home

# feature -> value -> (population share, response propensity), for features without dependencies
GENDER = {"female": (Fraction(505, 1000), 1.05), "male": (Fraction(485, 1000), 0.95),
          "diverse": (Fraction(10, 1000), 1.0)}
AGE = {"16-24": (Fraction(12, 100), 0.45), "25-34": (Fraction(15, 100), 0.65),
       "35-44": (Fraction(15, 100), 0.85), "45-54": (Fraction(16, 100), 1.0),
       "55-64": (Fraction(17, 100), 1.3), "65+": (Fraction(25, 100), 1.4)}
# neighbourhood -> (population share, response propensity, affluence in [-1, 1])
NEIGHBOURHOODS = {
    "centre": (Fraction(14, 100), 1.2, 0.3), "harbour": (Fraction(13, 100), 0.7, -0.8),
    "hill": (Fraction(9, 100), 1.6, 1.0), "north": (Fraction(16, 100), 0.8, -0.5),
    "old-town": (Fraction(11, 100), 1.4, 0.7), "park": (Fraction(10, 100), 1.3, 0.6),
    "station": (Fraction(15, 100), 0.6, -0.9), "west": (Fraction(12, 100), 0.9, -0.1),
}
EDUCATION_PROPENSITY = {"low": 0.55, "medium": 0.9, "high": 1.7}
INTEREST_PROPENSITY = {"low": 0.4, "medium": 1.0, "high": 2.0}
MIGRATION_PROPENSITY = {"no": 1.0, "yes": 0.6}
# interest in politics given education (rows sum to 1)
INTEREST_GIVEN_EDUCATION = {
    "low": {"low": Fraction(45, 100), "medium": Fraction(40, 100), "high": Fraction(15, 100)},
    "medium": {"low": Fraction(28, 100), "medium": Fraction(50, 100), "high": Fraction(22, 100)},
    "high": {"low": Fraction(15, 100), "medium": Fraction(45, 100), "high": Fraction(40, 100)},
}
FEATURES = ("gender", "age", "education", "neighbourhood", "interest", "migration")


def _education_given(neighbourhood: str) -> dict[str, Fraction]:
    affluence = Fraction(NEIGHBOURHOODS[neighbourhood][2]).limit_denominator(100)
    high = Fraction(25, 100) + Fraction(12, 100) * affluence
    low = Fraction(30, 100) - Fraction(14, 100) * affluence
    return {"low": low, "medium": 1 - low - high, "high": high}


def _migration_given(neighbourhood: str) -> dict[str, Fraction]:
    affluence = Fraction(NEIGHBOURHOODS[neighbourhood][2]).limit_denominator(100)
    yes = Fraction(26, 100) - Fraction(12, 100) * affluence
    return {"no": 1 - yes, "yes": yes}


def population_shares() -> dict[str, dict[str, Fraction]]:
    """The exact population marginal of every feature value (what the quotas are set from)."""
    education: Counter = Counter()
    migration: Counter = Counter()
    for name, (share, _, _) in NEIGHBOURHOODS.items():
        for value, p in _education_given(name).items():
            education[value] += share * p
        for value, p in _migration_given(name).items():
            migration[value] += share * p
    interest: Counter = Counter()
    for edu, p_edu in education.items():
        for value, p in INTEREST_GIVEN_EDUCATION[edu].items():
            interest[value] += p_edu * p
    return {
        "gender": {v: s for v, (s, _) in GENDER.items()},
        "age": {v: s for v, (s, _) in AGE.items()},
        "education": dict(education),
        "neighbourhood": {v: s for v, (s, _, _) in NEIGHBOURHOODS.items()},
        "interest": dict(interest),
        "migration": dict(migration),
    }


def _pick(rng: random.Random, shares: dict[str, Fraction]) -> str:
    u, acc = rng.random(), 0.0
    for value, share in shares.items():
        acc += float(share)
        if u < acc:
            return value
    return value  # float rounding at the very top of the range


def _resident(rng: random.Random) -> dict[str, str]:
    """One resident drawn from the population model."""
    neighbourhood = _pick(rng, {v: s for v, (s, _, _) in NEIGHBOURHOODS.items()})
    education = _pick(rng, _education_given(neighbourhood))
    return {
        "gender": _pick(rng, {v: s for v, (s, _) in GENDER.items()}),
        "age": _pick(rng, {v: s for v, (s, _) in AGE.items()}),
        "education": education,
        "neighbourhood": neighbourhood,
        "interest": _pick(rng, INTEREST_GIVEN_EDUCATION[education]),
        "migration": _pick(rng, _migration_given(neighbourhood)),
    }


def _propensity(features: dict[str, str]) -> float:
    return (GENDER[features["gender"]][1] * AGE[features["age"]][1]
            * EDUCATION_PROPENSITY[features["education"]] * NEIGHBOURHOODS[features["neighbourhood"]][1]
            * INTEREST_PROPENSITY[features["interest"]] * MIGRATION_PROPENSITY[features["migration"]])


MAX_PROPENSITY = (max(p for _, p in GENDER.values()) * max(p for _, p in AGE.values())
                  * max(EDUCATION_PROPENSITY.values()) * max(p for _, p, _ in NEIGHBOURHOODS.values())
                  * max(INTEREST_PROPENSITY.values()) * max(MIGRATION_PROPENSITY.values()))


def respondents(count: int, rng: random.Random, shared_households: float) -> tuple[Row, ...]:
    """`count` respondents: residents accepted with probability propensity / MAX_PROPENSITY."""
    rows: list[Row] = []
    by_neighbourhood: dict[str, list[str]] = {}
    while len(rows) < count:
        features = _resident(rng)
        if rng.random() * MAX_PROPENSITY >= _propensity(features):
            continue
        index = len(rows)
        earlier = by_neighbourhood.setdefault(features["neighbourhood"], [])
        if earlier and rng.random() < shared_households:
            household = rng.choice(earlier)
        else:
            household = f"h{index:05d}"
            earlier.append(household)
        rows.append(Row(f"r{index:05d}", household, features))
    return tuple(rows)


def _bounds(target: Fraction, tolerance: float) -> tuple[int, int]:
    slack = max(Fraction(1), target * Fraction(tolerance).limit_denominator(1000))
    return max(0, math.floor(target - slack)), math.ceil(target + slack)


def population_quotas(panel_size: int, tolerance: float = DEFAULT_TOLERANCE) -> dict[str, dict[str, tuple[int, int]]]:
    """Quotas as an assembly sets them: population share x seats, +- the tolerance."""
    return {feature: {value: _bounds(share * panel_size, tolerance) for value, share in sorted(values.items())}
            for feature, values in population_shares().items()}


@dataclass(frozen=True)
class PanelPool:
    """One benchmark instance: the respondents, the panel size, the quotas and a feasible panel."""

    seed: str
    panel_size: int
    people: tuple[Row, ...]
    quotas: dict[str, dict[str, tuple[int, int]]]
    widened: tuple[str, ...]  # quota bounds the feasibility search had to widen, as sentences

    @property
    def label(self) -> str:
        return f"{len(self.people):,} → {self.panel_size:,}"

    def counts(self) -> dict[str, Counter]:
        """Respondents per feature value."""
        return {feature: Counter(row.features[feature] for row in self.people) for feature in self.quotas}

    def distinct_types(self) -> int:
        """Distinct feature vectors among the respondents (what a type-based algorithm solves over)."""
        return len({tuple(row.features[f] for f in FEATURES) for row in self.people})

    def shared_households(self) -> int:
        """Respondents who share their household with another respondent."""
        sizes = Counter(row.household for row in self.people)
        return sum(size for size in sizes.values() if size > 1)


def make_pool(size: int, panel_size: int, *, seed: str | None = None, tolerance: float = DEFAULT_TOLERANCE,
              shared_households: float = DEFAULT_SHARED_HOUSEHOLDS) -> PanelPool:
    """The pool of `size` respondents for a panel of `panel_size`, the same for the same arguments."""
    if not 0 < panel_size <= size:
        raise ValueError(f"panel size {panel_size} must be between 1 and the pool size {size}")
    seed = seed if seed is not None else f"g1000-bench-panel/{size}/{panel_size}"
    people = respondents(size, random.Random(seed), shared_households)
    quotas = population_quotas(panel_size, tolerance)
    return PanelPool(seed, panel_size, people, quotas, feasible_quotas(people, panel_size, quotas))


def feasible_quotas(people: tuple[Row, ...], panel_size: int, quotas: dict[str, dict[str, tuple[int, int]]]
                    ) -> tuple[str, ...]:
    """Make `quotas` satisfiable in place, with the lottery's own diagnosis (an exact integer
    program over the pool, households counted once): if no panel meets them, apply the smallest
    relaxation it finds. Returns the widenings as sentences (none for the benchmark's pools)."""
    from services.lottery.selection import Person
    from services.lottery.selection.diagnosis import diagnose

    found = diagnose([Person(row.pseudonym, row.features, row.household) for row in people], panel_size, quotas)
    if not found.feasible and not found.relaxation:
        raise ValueError(f"no quota change makes a panel of {panel_size} possible: {found.message}")
    widened = []
    for (feature, value), bounds in sorted(found.relaxation.items()):
        widened.append(f"{feature}={value}: {list(quotas[feature][value])} widened to {list(bounds)}")
        quotas[feature][value] = bounds
    return tuple(widened)
