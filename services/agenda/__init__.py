"""The agenda: own agenda (nominations, prioritisation) and common ground (ARCHITECTURE §7)."""
