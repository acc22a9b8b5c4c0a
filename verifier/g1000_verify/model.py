"""The in-memory model of a log that every check runs over, and the verifier's two error types
(declared in errors.py, re-exported here).

Why this module exists: the verifier reads a summit's log from two places -- the public REST
gateway and the offline export bundle (docs/ledger.md, "REST" and "Export bundle") -- and both
must be checked by exactly the same code.  ``sources`` turns either into a :class:`LogModel`;
``checks`` only ever sees that model.  Entries are *streamed* (a log can hold millions of
entries; the model never holds them all), everything else (header, checkpoints, key lines) is
small and held in memory.

Two error types, kept apart on purpose:

* :class:`VerificationFailure` -- the log is wrong: a fact that should hold does not.  It names
  the first failing entry index (or ``None`` when the failure is not about one entry, e.g. a
  checkpoint), the check that failed and a plain-language reason.  Exit status 1.
* :class:`SourceError` -- the log could not be read at all (unreadable file, not a bundle,
  gateway unreachable or answering with something other than 200).  Exit status 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from .errors import RateLimitedError, SourceError, VerificationFailure

__all__ = [
    "CheckpointRecord", "EntryProblem", "KeyLine", "LogModel", "ProofService",
    "SourceError", "VerificationFailure",
]


@dataclass(frozen=True)
class EntryProblem:
    """Stands in the entry stream for a record that could not even be read as an entry.

    ``where`` says where it was found (``line 12 of the bundle``), ``message`` what was wrong.
    The entry check turns it into a ``format`` failure at the index that was expected there.
    """

    where: str
    message: str


@dataclass(frozen=True)
class CheckpointRecord:
    """One kept checkpoint as the source listed it (nothing verified yet)."""

    position: int          # 0-based position in the source's list
    tree_size: Any         # the size the listing claims (must equal the note's)
    note: Any              # the C2SP signed note text


@dataclass(frozen=True)
class KeyLine:
    """One ``kind: key`` line of a bundle, as written (informational, checked against entries)."""

    stream: Any
    key_id: Any
    public_key: Any
    index: Any


class ProofService:
    """Where the gateway's RFC 9162 proofs come from (bundles have none: proofs are rebuilt).

    ``consistency`` and ``inclusion`` return the decoded JSON answers of
    ``/proofs/consistency?first=M&second=N`` and ``/proofs/inclusion?index=I&tree_size=N``.
    """

    def consistency(self, first: int, second: int) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def inclusion(self, index: int, tree_size: int) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class LogModel:
    """A log as read from one source; ``entries()`` streams entry records in source order.

    Each entry record is the JSON object the source gave for one entry
    (``{"index", "event", "leaf_hash", "chain"}``, plus ``"kind"`` in a bundle) or an
    :class:`EntryProblem`.  ``tree_size`` is the size the source claims (the bundle header, or
    the gateway's latest listed checkpoint); it also sizes the work (process pool or not).
    """

    kind: str                                  # "bundle" or "gateway"
    location: str                              # file path or gateway URL, for the report
    log_id: str
    origin: str | None                         # bundle header origin; None: the log key's name
    log_key: str | None                        # the verifier key the source itself publishes
    tree_size: int | None
    checkpoints: list[CheckpointRecord]
    entries: Callable[[], Iterator[Any]]
    key_lines: list[KeyLine] | None = None     # bundle only; None for the gateway
    proofs: ProofService | None = None         # gateway only
    problems: list[str] = field(default_factory=list)  # bundle lines after the entries that are wrong
