"""The ballot: secret, verifiable votes with blind-signed credentials (docs/architecture.md §8)."""
