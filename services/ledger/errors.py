"""The ledger's error hierarchy."""

from services.core.errors import CoreError


class LedgerError(CoreError):
    """The ledger refuses an event or a request about a log."""


class DamagedStoreError(LedgerError):
    """The stored log lacks an entry or node it must have (rows deleted below the application):
    answered as a clear problem, never as a bare 500, and never repaired silently."""
