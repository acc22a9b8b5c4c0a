"""Which summits exist, as every service learns it from the ledger's own stream.

The ledger is the only writer of `ledger.summit.created`; every other service keeps a small read
model of those events so it can refuse work for a summit that does not exist (404).
"""

from __future__ import annotations

import json

import psycopg

from .envelope import Event


def apply_summit_created(conn: psycopg.Connection, event: Event) -> None:
    if event.type != "ledger.summit.created":
        return
    p = event.payload
    features = p["register"]["features"] if p.get("v", 1) >= 2 else None  # v1 declares none
    conn.execute(
        "INSERT INTO known_summits (summit_id, theme, municipality, date, features)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (summit_id) DO NOTHING",
        (event.summit_id, p["theme"], p["municipality"], p["date"],
         None if features is None else json.dumps(features)),
    )


def summit_exists(conn: psycopg.Connection, summit_id: str) -> bool:
    return conn.execute("SELECT 1 FROM known_summits WHERE summit_id = %s", (summit_id,)).fetchone() is not None


def summit_vocabulary(conn: psycopg.Connection, summit_id: str) -> dict[str, list[str]] | None:
    """The register vocabulary (`{feature: [value, ...]}`) the summit's charter declares, or
    None for a summit chartered with v1, which declares none (g1000_proofs.vocabulary)."""
    row = conn.execute("SELECT features FROM known_summits WHERE summit_id = %s", (summit_id,)).fetchone()
    return None if row is None else row[0]
