"""The agenda: own agenda (nominations, prioritisation) and common ground (docs/architecture.md §7)."""
