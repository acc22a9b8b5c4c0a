"""Summaries of repeated measurements. The machine is shared and noisy, so the report shows the
median of several repetitions with the smallest and largest value, and latencies as nearest-rank
percentiles of every timed request (a value that was observed), never a single run or a mean."""

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


@dataclass
class Latencies:
    """Milliseconds of every timed request of one kind."""

    label: str
    millis: list[float]

    def p(self, q: float) -> float:
        return percentile(self.millis, q)


def rate(count: int, seconds: float) -> float:
    """Events per second; a zero-length interval is an error in the harness, not infinity."""
    if seconds <= 0:
        raise ValueError(f"cannot compute a rate over {seconds} s")
    return count / seconds


def fmt(value: float) -> str:
    """A rate for the report: thousands separated, no false precision."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 < q <= 100) by the nearest-rank method."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]
