"""The harness's pure arithmetic: summaries of repeated measurements (bench/stats.py), the fairness
figures of a panel distribution (bench/panel.py `Fairness`) and the profile categorisers
(bench/profiling.py, bench/gateway.py). The report prints these numbers as measured, so they must be
right; nothing here needs a server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.gateway import GATEWAY_CATEGORIES, GENERIC
from bench.panel import Fairness
from bench.profiling import OTHER, categorise
from bench.stats import Samples, fmt, percentile, rate

values = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50)


@given(values, st.floats(min_value=0.01, max_value=100))
def test_percentile_is_an_observed_value_with_at_least_q_percent_at_or_below_it(xs, q):
    p = percentile(xs, q)
    assert p in xs
    assert sum(1 for x in xs if x <= p) >= len(xs) * q / 100
    assert sum(1 for x in xs if x < p) < len(xs) * q / 100


def test_percentile_by_nearest_rank():
    xs = list(range(1, 101))
    assert [percentile(xs, q) for q in (1, 50, 90, 99, 100)] == [1, 50, 90, 99, 100]
    assert percentile([3.0], 50) == 3.0
    for bad in (0, 101):
        with pytest.raises(ValueError):
            percentile(xs, bad)
    with pytest.raises(ValueError):
        percentile([], 50)


@given(values)
def test_samples_give_median_min_and_max(xs):
    s = Samples(tuple(xs))
    assert s.low == min(xs) and s.high == max(xs)
    assert s.low <= s.median <= s.high


def test_rate_refuses_an_empty_interval_and_fmt_shows_no_false_precision():
    assert rate(10, 2.0) == 5.0
    with pytest.raises(ValueError):
        rate(10, 0.0)
    assert [fmt(v) for v in (12_345.6, 100.0, 99.94, 5.0)] == ["12,346", "100", "99.9", "5.0"]


def test_fairness_figures_of_a_distribution():
    equal = Fairness.of([0.1] * 10)
    assert equal.minimum == 0.1 and equal.gini == pytest.approx(0.0) and equal.geometric_mean == pytest.approx(0.1)
    skewed = Fairness.of([0.0, 0.0, 0.5, 0.5])  # half the people never sit
    assert skewed.minimum == 0.0 and skewed.geometric_mean == 0.0
    assert skewed.gini == pytest.approx(0.5)
    assert skewed.share_below(0.5) == 0.5 and skewed.share_below(0.5 + 1e-7) == 0.5
    assert skewed.percentile(50) == 0.0 and skewed.percentile(100) == 0.5


def fake_stats(entries: dict[tuple, tuple[float, dict]]) -> SimpleNamespace:
    """pstats-shaped: key -> (calls, primitive calls, own time, cumulative, {caller: (.., .., own time caused, ..)})."""
    return SimpleNamespace(stats={key: (1, 1, own, own, callers) for key, (own, callers) in entries.items()})


def test_pipeline_categories_charge_an_unclaimed_builtin_to_its_callers():
    canon, builtin = ("/x/services/core/canonical.py", 1, "dumps"), ("~", 0, "<built-in method sort>")
    stats = fake_stats({canon: (1.0, {}), builtin: (0.5, {canon: (1, 1, 0.5, 0.5)})})
    totals = categorise(stats, (("canonical JSON", ("canonical.py",)),))
    assert totals == {"canonical JSON": 1.5}
    other = categorise(fake_stats({("/x/app.py", 1, "main"): (2.0, {})}), (("canonical JSON", ("canonical.py",)),))
    assert other == {OTHER: 2.0}


def test_gateway_categories_charge_generic_helpers_up_the_call_graph_by_the_time_each_caller_caused():
    flask = ("/v/flask/app.py", 1, "dispatch")
    psycopg = ("/v/psycopg/cursor.py", 1, "execute")
    helper = ("/usr/lib/python3.11/contextlib.py", 1, "__enter__")  # generic: charged to its callers
    stats = fake_stats({
        flask: (1.0, {}),
        psycopg: (1.0, {}),
        helper: (0.4, {flask: (1, 1, 0.3, 0.3), psycopg: (1, 1, 0.1, 0.1)}),
    })
    totals = categorise(stats, GATEWAY_CATEGORIES, GENERIC)
    flask_cat = next(k for k in totals if k.startswith("Flask"))
    pg_cat = next(k for k in totals if k.startswith("PostgreSQL"))
    assert totals[flask_cat] == pytest.approx(1.3) and totals[pg_cat] == pytest.approx(1.1)
    assert OTHER not in totals
