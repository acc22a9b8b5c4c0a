"""The `g1000` command: run the whole stack locally, run workers, and walk through a demo day."""
