"""The one error hierarchy of the lottery service, under the platform's CoreError.

Domain code raises these; they know nothing of HTTP. The REST adapter maps each kind to an
RFC 9457 problem type and status once, at the edge (`PROBLEM_TYPES` in services/lottery/api.py;
the statuses are shown below). Raising inside a request's transaction rolls it back, so a
refused request never changes state::

    LotteryError
    +-- LotteryInvalidError (422)          the request is well formed but not acceptable
    |   +-- ExtractRejectedError           the register CSV has errors (line/column list)
    |   |   +-- KAnonymityError            its published features single people out (counts)
    |   +-- RevealMismatchError            a revealed value does not match its commitment
    |   +-- QuotaError                     quotas that do not fit the pool
    |   +-- DrawRefusedError               the draw contract cannot draw from this input
    +-- LotteryNotFoundError (404)         no such register, round, code, pool, job ...
    +-- LotteryConflictError (409)         the current state does not allow it (yet, any more)
        +-- PhaseError                     the seed round is in the wrong phase (late, early)
        +-- AlreadyDoneError               done once already (register, code used, panel drawn)
        +-- NoReserveError                 no reserve keeps the quotas
    +-- SelectionFailed                    the selection refused a distribution job's problem
    +-- InvalidDistributionError           the selection broke the contract (a bug; the job fails)

The fair selection (services/lottery/selection) keeps its own root, SelectionError: it is a
self-contained optimiser that imports nothing of the platform or the lottery, and the job
translates its errors into SelectionFailed (services/lottery/jobs.py).
"""

from __future__ import annotations

from services.core.errors import CoreError


class LotteryError(CoreError):
    """Root of every refusal of the lottery service."""


    def __init__(self, message: str, *, errors: list | dict | None = None,
                 extensions: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.extensions = extensions   # further problem members, e.g. `k_anonymity`


class LotteryInvalidError(LotteryError):
    """The request is well formed but its content cannot be accepted."""



class ExtractRejectedError(LotteryInvalidError):
    """The register extract has errors; `errors` lists them as {line, column, message}."""


class KAnonymityError(ExtractRejectedError):
    """The register would single people out; `extensions["k_anonymity"]` holds the counts
    (services/lottery/privacy.py), never the values of a combination."""


class RevealMismatchError(LotteryInvalidError):
    """A revealed value does not hash to the party's commitment (refused, never logged)."""


class QuotaError(LotteryInvalidError):
    """The quotas name features or values the pool does not have, or are malformed."""


class DrawRefusedError(LotteryInvalidError):
    """The draw cannot be made from this input (too few households, a stratum runs out)."""


class LotteryNotFoundError(LotteryError):
    """The register, round, code, pool, distribution or job does not exist."""



class LotteryConflictError(LotteryError):
    """The state of the summit's lottery does not allow this now."""



class PhaseError(LotteryConflictError):
    """The seed round is not in the phase this needs (a late commitment, an early reveal …)."""


class AlreadyDoneError(LotteryConflictError):
    """This can happen once and has happened (a register, a used code, a drawn panel)."""


class NoReserveError(LotteryConflictError):
    """No reserve of the pool keeps every quota and the household rule."""


class InvalidDistributionError(LotteryError):
    """The selection produced panels that break the contract (a bug; the job fails)."""


class SelectionFailed(LotteryError):
    """The selection refused the problem; `error` is the job's error object."""

    def __init__(self, error: dict) -> None:
        super().__init__(error["message"])
        self.error = error
