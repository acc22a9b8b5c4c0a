"""The supervisor's restart back-off (issue 10 M5): grows on quick failures, resets after a
healthy period."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.core.backoff import Backoff


def test_quick_failures_double_the_pause_up_to_the_ceiling():
    b = Backoff(base=0.5, factor=2, ceiling=4, healthy_after=30)
    pauses = []
    now = 0.0
    for _ in range(6):
        b.started(now)
        now += 1  # dies one second after each start
        pauses.append(b.failed(now))
    assert pauses == [0.5, 1, 2, 4, 4, 4]


def test_a_healthy_period_resets_the_back_off():
    b = Backoff(base=0.5, factor=2, ceiling=30, healthy_after=30)
    now = 0.0
    for _ in range(5):
        b.started(now)
        now += 1
        b.failed(now)
    assert b.failures == 5
    b.started(now)
    now += 30  # up for the whole healthy period, then killed
    assert b.failed(now) == 0.5
    b.started(now)
    assert b.failed(now + 29.9) == 1.0  # a quick failure after that counts again


def test_success_resets_without_a_clock():
    b = Backoff(base=1, factor=3, ceiling=100, healthy_after=1000)
    assert [b.failed(0), b.failed(0), b.failed(0)] == [1, 3, 9]
    b.succeeded()
    assert b.failed(0) == 1


@pytest.mark.parametrize("kwargs", [{"base": 0}, {"factor": 0.5}, {"ceiling": 0.1}, {"healthy_after": -1}])
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        Backoff(**kwargs)


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=40))
def test_pauses_stay_within_bounds_and_never_shrink_while_failing_quickly(uptimes):
    b = Backoff(base=0.25, factor=2, ceiling=8, healthy_after=50)
    now, last = 0.0, 0.0
    for uptime in uptimes:
        b.started(now)
        now += uptime
        pause = b.failed(now)
        assert 0.25 <= pause <= 8
        if uptime >= 50:
            assert pause == 0.25
        else:
            assert pause >= min(last, 8) or last == 0.0
        last = pause
