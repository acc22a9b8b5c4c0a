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
