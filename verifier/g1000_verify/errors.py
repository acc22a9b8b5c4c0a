"""The one error hierarchy of ``g1000-verify``.

Why this module exists: the command's exit status is decided by the kind of error -- the log is
wrong (1), or it could not be read or the arguments are bad (2) -- so every error of the package
hangs under one root and is declared here, where the kinds can be read side by side::

    VerifierError
    +-- VerificationFailure        the log is wrong: the first fact found not to hold (exit 1)
    +-- RevealProblem              a register-contract-2 fact is wrong (becomes a failure)
    +-- SourceError                the log could not be read at all (exit 2)
    |   +-- RateLimitedError       the gateway kept rate limiting beyond ``--max-wait``
    +-- UsageError                 a bad argument found after parsing (exit 2)

The verifier stands alone (it imports nothing of the services), so this root is not under the
services' ``CoreError``; the shared rules in ``g1000_proofs`` have their own root, ``ProofError``.
"""

from __future__ import annotations

from typing import Any


class VerifierError(Exception):
    """Root of every error raised by :mod:`g1000_verify`."""


class VerificationFailure(VerifierError):
    """The first fact found wrong: ``index`` (entry index or None), ``check`` and ``reason``."""

    def __init__(self, index: int | None, check: str, reason: str) -> None:
        super().__init__(reason)
        self.index = index
        self.check = check
        self.reason = reason

    def describe(self) -> str:
        """One line for people, e.g. ``entry 17: signature does not verify with key …``."""
        where = "log" if self.index is None else f"entry {self.index}"
        return f"{where}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "check": self.check, "reason": self.reason}

    def __repr__(self) -> str:
        return f"VerificationFailure({self.index!r}, {self.check!r}, {self.reason!r})"


class SourceError(VerifierError):
    """The log could not be read (exit status 2); the message is one line for people."""


class RateLimitedError(SourceError):
    """The gateway kept rate limiting beyond the run's longest wait (``--max-wait``)."""


class UsageError(VerifierError):
    """A bad argument found after parsing (exit status 2)."""


class RevealProblem(VerifierError):
    """A contract-2 fact is wrong; the message is the plain reason."""
