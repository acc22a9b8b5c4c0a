"""The ledger: one append-only, verifiable log per summit (ARCHITECTURE §4)."""
