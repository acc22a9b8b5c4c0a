"""Which summits exist, as every service learns it from the ledger's own stream.

The ledger is the only writer of `ledger.summit.created`; every other service keeps a small read
model of those events so it can refuse work for a summit that does not exist (404).
"""

from __future__ import annotations

import psycopg

from .envelope import Event


def apply_summit_created(conn: psycopg.Connection, event: Event) -> None:
    if event.type != "ledger.summit.created":
        return
    p = event.payload
    conn.execute(
        "INSERT INTO known_summits (summit_id, theme, municipality, date) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (summit_id) DO NOTHING",
        (event.summit_id, p["theme"], p["municipality"], p["date"]),
    )


def summit_exists(conn: psycopg.Connection, summit_id: str) -> bool:
    return conn.execute("SELECT 1 FROM known_summits WHERE summit_id = %s", (summit_id,)).fetchone() is not None
