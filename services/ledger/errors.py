"""The ledger's error hierarchy."""

from services.core.errors import CoreError


class LedgerError(CoreError):
    """The ledger refuses an event or a request about a log."""


class UnknownLogError(LedgerError):
    """No log exists for the summit an event or request names."""


class UnregisteredKeyError(LedgerError):
    """The event's key is not registered for its stream in this summit's log."""


class ProofRangeError(LedgerError):
    """A proof was asked for sizes or indexes the log does not have."""
