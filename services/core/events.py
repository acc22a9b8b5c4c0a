"""What a domain decides to append: an event before it has an envelope, a sequence or a signature.

Why its own module: domain code (each service's `domain.py`) decides which events a command
produces and must stay free of I/O, so it cannot import the event store (`store.py`, which holds
the database adapter). The store turns these into signed envelopes in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NewEvent"]


@dataclass(frozen=True)
class NewEvent:
    """An event to append: `version` is the aggregate version it creates (loaded version + 1)."""

    type: str
    payload: dict
    aggregate_id: str
    version: int
