"""The ledger: one append-only, verifiable log per summit (docs/architecture.md §4)."""
