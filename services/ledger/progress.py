"""Read side of the log for the summit API: how far each stream of a summit has been appended."""

from __future__ import annotations

import psycopg


def stream_progress(conn: psycopg.Connection, summit_id: str) -> list[dict]:
    rows = conn.execute(
        "SELECT s.stream, (SELECT count(*) FROM log_entries e WHERE e.summit_id = s.summit_id"
        " AND e.stream = s.stream), s.next_seq - 1,"
        " (SELECT count(*) FROM log_pending p WHERE p.summit_id = s.summit_id AND p.stream = s.stream)"
        " FROM log_streams s WHERE s.summit_id = %s ORDER BY s.stream",
        (summit_id,),
    ).fetchall()
    return [{"stream": r[0], "received": r[1], "last_seq": r[2], "held": r[3]} for r in rows]
