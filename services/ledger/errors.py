"""The ledger's error hierarchy."""

from services.core.errors import CoreError


class LedgerError(CoreError):
    """The ledger refuses an event or a request about a log."""
