"""The lottery: the verifiable two-stage draw (ARCHITECTURE §6)."""
