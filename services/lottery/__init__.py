"""The lottery: the verifiable two-stage draw (docs/architecture.md §6)."""
