"""The gateway's own PostgreSQL database (`g1000_gateway`): idempotency keys and rate counters.

Opened and migrated like a service database (services/core/db.py), with migrations of package
`gateway` (gateway/migrations/NNNN_*.sql).
"""

from __future__ import annotations

from services.core.db import Database, DatabaseTimeouts, ensure_database_of


def open_gateway_database(url: str, *, pool_size: int = 8, timeouts: DatabaseTimeouts | None = None) -> Database:
    ensure_database_of(url)
    db = Database(url, max_size=pool_size, name="gateway", timeouts=timeouts)
    db.open()
    db.migrate("gateway")
    return db
