"""Summaries of repeated measurements: the machine is shared and noisy, so we report the median
of several repetitions together with the smallest and largest value, never a single run."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Samples:
    """Repeated measurements of one quantity (a rate, a share, a batch size)."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def low(self) -> float:
        return min(self.samples)

    @property
    def high(self) -> float:
        return max(self.samples)


def rate(count: int, seconds: float) -> float:
    """Events per second; a zero-length interval is an error in the harness, not infinity."""
    if seconds <= 0:
        raise ValueError(f"cannot compute a rate over {seconds} s")
    return count / seconds


def fmt(value: float) -> str:
    """A rate for the report: thousands separated, no false precision."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 < q <= 100) by the nearest-rank method: a value that was observed.

    Latencies are reported as percentiles of every timed request, not as a mean: one slow request
    in a hundred is what p99 is there to show.
    """
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]
