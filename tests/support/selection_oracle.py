"""A brute-force oracle for the panel selection, and the generators the selection tests share.

The oracle knows nothing of types, relaxations or column generation: it enumerates every panel
of a tiny pool that meets the quotas and the household rule, and computes the LEXIMIN
probabilities over those explicit panels with small LPs (HiGHS), fixing people by the textbook
test "can this person's probability rise while nobody fixed falls and nobody else drops below
the current level?" -- a different fixing rule from the dual-based one the module uses
(Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 596, 2021).
tests/unit/selection/test_selection_oracle.py checks the oracle itself on hand-solvable pools.
"""

from __future__ import annotations

import itertools
import random

import highspy
import numpy as np
from hypothesis import strategies as st

from services.lottery.selection import Person

ORACLE_TOL = 1e-7


def household_of(person: Person) -> str:
    return person.id if person.household is None else person.household


def valid_panels(people, k, quotas) -> list[tuple[str, ...]]:
    """Every panel (sorted ids) of ``k`` people meeting ``quotas`` and the household rule."""
    found = []
    for combo in itertools.combinations(sorted(people, key=lambda p: p.id), k):
        if len({household_of(p) for p in combo}) < k:
            continue
        ok = all(p.features[f] in table for f, table in quotas.items() for p in combo)
        for f, table in quotas.items():
            for v, (lo, hi) in table.items():
                if not lo <= sum(p.features[f] == v for p in combo) <= hi:
                    ok = False
        if ok:
            found.append(tuple(p.id for p in combo))
    return found


def _solve(ids, panels, fixed, level, target=None) -> float:
    """max z (target None) or max P(target) over lotteries on ``panels``.

    Fixed people keep ``>= fixed[i]``; with a target, every unfixed person keeps ``>= level``.
    """
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    m = len(panels)
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    none_i, none_v = np.array([], dtype=np.int32), np.array([], dtype=float)
    for _ in range(m):
        h.addCol(0.0, 0.0, 1.0, 0, none_i, none_v)
    h.addCol(1.0 if target is None else 0.0, 0.0, 1.0, 0, none_i, none_v)
    h.addRow(1.0, 1.0, m, np.arange(m, dtype=np.int32), np.ones(m))
    for i in ids:
        cols = [j for j, panel in enumerate(panels) if i in panel]
        if i in fixed:
            h.addRow(fixed[i] - 1e-9, highspy.kHighsInf, len(cols), np.array(cols, np.int32),
                     np.ones(len(cols)))
        elif target is None:
            h.addRow(0.0, highspy.kHighsInf, len(cols) + 1, np.array(cols + [m], np.int32),
                     np.concatenate([np.ones(len(cols)), [-1.0]]))
        else:
            h.addRow(level - 1e-9, highspy.kHighsInf, len(cols), np.array(cols, np.int32),
                     np.ones(len(cols)))
    if target is not None:
        cols = [j for j, panel in enumerate(panels) if target in panel]
        h.changeColsCost(len(cols), np.array(cols, np.int32), np.ones(len(cols)))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(h.getInfo().objective_function_value)


def leximin_oracle(ids, panels) -> dict[str, float]:
    """The LEXIMIN probability of every person, over the explicit ``panels``."""
    fixed: dict[str, float] = {}
    while len(fixed) < len(ids):
        level = _solve(ids, panels, fixed, 0.0)
        stuck = [i for i in ids if i not in fixed
                 and _solve(ids, panels, fixed, level, target=i) <= level + ORACLE_TOL]
        assert stuck, "the oracle made no progress"
        for i in stuck:
            fixed[i] = level
    return fixed


# --- generators ---------------------------------------------------------------------------------


@st.composite
def tiny_pools(draw, max_people: int = 10, max_panel: int = 4, households: bool | None = None):
    """(people, panel_size, quotas) with at least one valid panel (quotas built around one)."""
    n = draw(st.integers(2, max_people))
    features = {f"f{i}": [f"v{j}" for j in range(draw(st.integers(2, 3)))]
                for i in range(draw(st.integers(1, 3)))}
    use_households = draw(st.booleans()) if households is None else households
    people = []
    for i in range(n):
        values = {f: draw(st.sampled_from(vals)) for f, vals in features.items()}
        home = draw(st.sampled_from([None, None, "h0", "h1", "h2"])) if use_households else None
        people.append(Person(f"p{i:02d}", values, home))
    heads: dict[str, Person] = {}
    for person in people:  # one person per household may sit together
        heads.setdefault(household_of(person), person)
    k = draw(st.integers(1, min(max_panel, len(heads))))
    chosen = draw(st.permutations(list(heads.values())))[:k]
    quotas = {}
    for f, vals in features.items():
        quotas[f] = {}
        for v in vals:
            count = sum(p.features[f] == v for p in chosen)
            quotas[f][v] = (max(0, count - draw(st.integers(0, 1))),
                            count + draw(st.integers(0, 2)))
    return people, k, quotas


def skewed_pool(n: int, features: int, seed: int, households: float = 0.0):
    """A G1000-like respondent pool: skewed against the population, correlated features."""
    rng = random.Random(seed)
    specs = [
        ("gender", ["f", "m", "x"], [0.50, 0.48, 0.02], [1.0, 1.1, 0.8]),
        ("age", ["16-24", "25-34", "35-44", "45-54", "55-64", "65+"],
         [0.14, 0.16, 0.16, 0.17, 0.17, 0.20], [0.5, 0.7, 0.9, 1.1, 1.4, 1.6]),
        ("education", ["low", "mid", "high", "none"], [0.30, 0.38, 0.27, 0.05],
         [0.5, 1.0, 2.2, 0.3]),
        ("region", [f"r{i}" for i in range(1, 9)], [0.2, 0.15, 0.15, 0.12, 0.12, 0.1, 0.08, 0.08],
         [1.2, 1.0, 0.9, 1.0, 0.8, 1.1, 0.7, 1.3]),
        ("origin", ["native", "eu", "other"], [0.75, 0.10, 0.15], [1.2, 0.7, 0.4]),
        ("employment", ["employed", "unemployed", "retired", "student"],
         [0.55, 0.07, 0.25, 0.13], [1.0, 0.6, 1.3, 0.8]),
    ][:features]
    people = []
    for i in range(n):
        values = {}
        for name, vals, population, skew in specs:
            w = [p * s for p, s in zip(population, skew)]
            if name == "employment" and "age" in values:
                band = specs[1][1].index(values["age"])  # the old retire, the young study
                w = [w[0], w[1], w[2] * (4 if band >= 4 else 0.05),
                     w[3] * (5 if band == 0 else 0.1)]
            values[name] = rng.choices(vals, w)[0]
        home = f"h{rng.randrange(max(1, n // 3))}" if rng.random() < households else None
        people.append(Person(f"r{i:05d}", values, home))
    return people, specs


def proportional_quotas(specs, k: int, slack: float) -> dict:
    quotas = {}
    for name, vals, population, _ in specs:
        quotas[name] = {}
        for v, p in zip(vals, population):
            target = k * p
            quotas[name][v] = (max(0, int(np.floor(target * (1 - slack)))),
                               int(np.ceil(target * (1 + slack))))
    return quotas
