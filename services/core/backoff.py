"""The restart back-off of `g1000 up`'s supervisor, as a small pure policy (issue 10 M5).

Why: a child that dies again right after each restart (a broken config, a port taken) must not
be restarted in a hot loop, so every quick failure doubles the pause before the next restart, up
to a ceiling.  But a child that ran healthily for a while and then died once (the broker killed,
PostgreSQL crashed) deserves a prompt restart, not the long pause its history of failures years
ago would give it: once a child has stayed up for `healthy_after` seconds, its back-off resets.
The earlier supervisor only ever grew the pause, so a long-lived stack restarted slower and
slower.  The same policy drives the relays' retries when the broker is unreachable.

Time is passed in (a monotonic clock reading), so the policy is tested without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    """Pauses `base * factor**n` (capped at `ceiling`) for the n-th failure in a row.

    `failed(now)` records a failure and returns the pause before the next attempt;
    `started(now)` records that an attempt began; an attempt that has lasted `healthy_after`
    seconds when the next failure comes (or when `succeeded` is called) resets the count.
    """

    base: float = 0.5
    factor: float = 2.0
    ceiling: float = 30.0
    healthy_after: float = 30.0
    failures: int = 0
    _started_at: float | None = None

    def __post_init__(self) -> None:
        if not (self.base > 0 and self.factor >= 1 and self.ceiling >= self.base and self.healthy_after >= 0):
            raise ValueError("need base > 0, factor >= 1, ceiling >= base, healthy_after >= 0")

    def started(self, now: float) -> None:
        self._started_at = now

    def succeeded(self) -> None:
        """An attempt did its work (e.g. the relay published a batch): the next failure is the first."""
        self.failures = 0

    def failed(self, now: float) -> float:
        """Record a failure at `now`; the pause before the next attempt."""
        if self._started_at is not None and now - self._started_at >= self.healthy_after:
            self.failures = 0  # it ran healthily long enough: this is a new, first failure
        self._started_at = None
        pause = min(self.ceiling, self.base * self.factor ** min(self.failures, 64))
        self.failures += 1
        return pause
