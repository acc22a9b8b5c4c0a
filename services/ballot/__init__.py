"""The ballot: secret, verifiable votes with blind-signed credentials (ARCHITECTURE §8)."""
