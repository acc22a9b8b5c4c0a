"""Statistical acceptance tests for the draws, with FIXED seeds (deterministic, never flaky).

Each test runs a draw under many different fixed seeds (``SHA-256(b"g1000 chi-square <j>")``),
counts how often each row (or panel) was chosen and computes Pearson's chi-square statistic
against the uniform (or weight-proportional) expectation.  It compares the statistic with the
chi-square critical value at ``alpha = 1e-6``.  The seeds are fixed, so each test is a fixed
computation: it either always passes or always fails.  A correct draw fails it only if these
particular seeds are a one-in-a-million fluke; a biased draw fails it (the ``*_detects_*`` tests
show that the same acceptance region rejects plausible implementation mistakes).

Critical values are computed here from the regularised upper incomplete gamma function
(continued fraction / series, Numerical Recipes 3rd ed. §6.2; chi-square survival function
``Q(k/2, x/2)``) and solved by bisection.  The implementation is checked against the published
table of the NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.4 "Critical Values of the
Chi-Square Distribution" (df 1 at 0.05: 3.841; df 10 at 0.01: 23.209; df 100 at 0.05: 124.342
and at 0.001: 149.449) and against the normal tail (df 1 at 1e-6 is z^2 with z = 4.891638,
the two-sided 1e-6 normal quantile: 23.928).

Sampling k of N without replacement makes the selection counts negatively correlated: with
M draws each count has variance ``M p (1-p)`` (p = k/N) and covariance ``-M p (1-p) / (N-1)``,
so ``sum (O-E)^2 / E * (N-1) / (N-k)`` is asymptotically chi-square with N-1 degrees of freedom
(the plain Pearson statistic would be too small by the factor (N-k)/(N-1), i.e. conservative).
Floats appear only here, in the test's statistics, never in a draw.
"""

from __future__ import annotations

import hashlib
import math

import pytest

from g1000_proofs import draw
from g1000_proofs.draw import Row
from tests.support.draw_reference import ref_R

ALPHA = 1e-6
DRAWS = 2000
SEEDS = [hashlib.sha256(b"g1000 chi-square %d" % j).digest() for j in range(DRAWS)]


# --- Chi-square distribution (test-side only) ---------------------------------------------------


def _upper_gamma_q(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) (Numerical Recipes §6.2)."""
    if x <= 0:
        return 1.0
    log_prefix = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1:  # series for P(a, x)
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1
            term *= x / ap
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return 1.0 - total * math.exp(log_prefix)
    tiny = 1e-300  # modified Lentz continued fraction for Q(a, x)
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16:
            break
    return math.exp(log_prefix) * h


def chi2_sf(x: float, df: int) -> float:
    return _upper_gamma_q(df / 2, x / 2)


def chi2_critical(df: int, alpha: float) -> float:
    low, high = 0.0, 10.0 * df + 200.0
    for _ in range(200):
        mid = (low + high) / 2
        if chi2_sf(mid, df) > alpha:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def test_critical_values_match_published_tables():
    assert round(chi2_critical(1, 0.05), 3) == 3.841
    assert round(chi2_critical(10, 0.01), 3) == 23.209
    assert round(chi2_critical(100, 0.05), 3) == 124.342
    assert round(chi2_critical(100, 0.001), 3) == 149.449
    assert abs(chi2_critical(1, 1e-6) - 4.891638 ** 2) < 1e-3


# --- Statistics ---------------------------------------------------------------------------------


def without_replacement_statistic(counts: list[int], draws: int, k: int) -> float:
    """Pearson statistic for k-of-N draws, rescaled to be asymptotically chi-square(N-1)."""
    n = len(counts)
    expected = draws * k / n
    pearson = sum((observed - expected) ** 2 for observed in counts) / expected
    return pearson * (n - 1) / (n - k)


def multinomial_statistic(counts: list[int], weights: list[int]) -> float:
    draws, total = sum(counts), sum(weights)
    return sum((o - draws * w / total) ** 2 / (draws * w / total) for o, w in zip(counts, weights))


def selection_counts(rows: list[Row], drawn_lists) -> dict[str, int]:
    counts = {row.pseudonym: 0 for row in rows}
    for drawn in drawn_lists:
        for pseudonym in drawn:
            counts[pseudonym] += 1
    return counts


# --- Invitation draw ----------------------------------------------------------------------------

SINGLES = [Row(f"s{i:03d}", f"h{i:03d}", {"wijk": "centrum"}) for i in range(100)]


def test_invitation_draw_is_uniform_over_single_person_households():
    draws = [draw.invitation_draw(seed, SINGLES, 10) for seed in SEEDS]
    counts = selection_counts(SINGLES, draws)
    assert sum(counts.values()) == DRAWS * 10
    statistic = without_replacement_statistic(list(counts.values()), DRAWS, 10)
    assert statistic < chi2_critical(99, ALPHA), statistic
    # one stratum is the same draw as no stratification
    for seed, drawn in list(zip(SEEDS, draws))[:50]:
        assert draw.invitation_draw(seed, SINGLES, 10, stratify_by="wijk") == drawn


def test_first_invitee_is_uniform():
    # position 0 is the arg-min of R over the register: one multinomial draw per seed
    first = {row.pseudonym: 0 for row in SINGLES}
    for seed in SEEDS:
        first[draw.invitation_draw(seed, SINGLES, 1)[0]] += 1
    statistic = multinomial_statistic(list(first.values()), [1] * 100)
    assert statistic < chi2_critical(99, ALPHA), statistic


def _biased_draw(seed: bytes, rows: list[Row], k: int) -> list[str]:
    """A plausible mistake: only the top 4 bits of R order the rows, ties by pseudonym."""
    order = sorted(rows, key=lambda r: (ref_R(seed, "invite/" + r.pseudonym) >> 252, r.pseudonym))
    return [row.pseudonym for row in order[:k]]


def test_acceptance_region_detects_a_biased_invitation_draw():
    counts = selection_counts(SINGLES, (_biased_draw(seed, SINGLES, 10) for seed in SEEDS))
    statistic = without_replacement_statistic(list(counts.values()), DRAWS, 10)
    assert statistic > chi2_critical(99, ALPHA), statistic


STRATA = {"centrum": 50, "noord": 30, "zuid": 20}
STRATIFIED = [Row(f"{value[0]}{i:02d}", f"{value}-{i}", {"wijk": value})
              for value, size in STRATA.items() for i in range(size)]


def test_stratified_draw_is_uniform_within_each_stratum():
    shares = draw.apportion(10, STRATA)
    assert shares == {"centrum": 5, "noord": 3, "zuid": 2}
    draws = [draw.invitation_draw(seed, STRATIFIED, 10, stratify_by="wijk") for seed in SEEDS]
    counts = selection_counts(STRATIFIED, draws)
    for value, size in STRATA.items():
        stratum = [counts[row.pseudonym] for row in STRATIFIED if row.features["wijk"] == value]
        assert sum(stratum) == DRAWS * shares[value]
        statistic = without_replacement_statistic(stratum, DRAWS, shares[value])
        assert statistic < chi2_critical(size - 1, ALPHA), (value, statistic)


# --- Panel draw ---------------------------------------------------------------------------------

PANEL_WEIGHTS = [1, 2, 3, 5, 8, 13, 21, 47]
PANEL_DRAWS = 20_000


def _panel_counts(pick) -> list[int]:
    counts = [0] * len(PANEL_WEIGHTS)
    for j in range(PANEL_DRAWS):
        counts[pick(SEEDS[j % 20], f"d{j:05d}")] += 1
    return counts


def test_panel_draw_is_proportional_to_the_weights():
    counts = _panel_counts(lambda seed, draw_id: draw.panel_draw(seed, draw_id, PANEL_WEIGHTS))
    statistic = multinomial_statistic(counts, PANEL_WEIGHTS)
    assert statistic < chi2_critical(len(PANEL_WEIGHTS) - 1, ALPHA), (counts, statistic)


def test_acceptance_region_detects_a_biased_panel_draw():
    def biased(seed: bytes, draw_id: str) -> int:
        u = (ref_R(seed, "panel/" + draw_id) >> 249) % 100  # 7 bits mod 100: 0..27 twice as likely
        running = 0
        for i, weight in enumerate(PANEL_WEIGHTS):
            running += weight
            if running > u:
                return i
        raise AssertionError("unreachable")

    statistic = multinomial_statistic(_panel_counts(biased), PANEL_WEIGHTS)
    assert statistic > chi2_critical(len(PANEL_WEIGHTS) - 1, ALPHA), statistic


@pytest.mark.parametrize("df", [1, 7, 19, 29, 49, 99])
def test_critical_value_is_where_the_tail_is_alpha(df):
    critical = chi2_critical(df, ALPHA)
    assert math.isclose(chi2_sf(critical, df), ALPHA, rel_tol=1e-6)
    assert chi2_sf(critical * 0.99, df) > ALPHA > chi2_sf(critical * 1.01, df)
