"""The ledger's consumer: records every verified event of every stream exactly once."""

from __future__ import annotations

import psycopg

from services.core.envelope import Event


def record_event(conn: psycopg.Connection, event: Event) -> None:
    conn.execute(
        "INSERT INTO received_events (event_id, summit_id, stream, seq, type, body)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (event.event_id, event.summit_id, event.stream, event.seq, event.type, event.body),
    )


def stream_progress(conn: psycopg.Connection, summit_id: str) -> list[dict]:
    rows = conn.execute(
        "SELECT stream, count(*), max(seq) FROM received_events WHERE summit_id = %s"
        " GROUP BY stream ORDER BY stream",
        (summit_id,),
    ).fetchall()
    return [{"stream": r[0], "received": r[1], "last_seq": r[2]} for r in rows]
