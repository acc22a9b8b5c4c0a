"""The gateway's own PostgreSQL database (`g1000_gateway`): idempotency keys and rate counters.

Opened and migrated like a service database (services/core/db.py), with migrations of package
`gateway` (gateway/migrations/NNNN_*.sql).
"""

from __future__ import annotations

from services.core.db import Database, DatabaseTimeouts, ensure_database_of
from services.core.provision import migrate_and_grant


def open_gateway_database(url: str, *, pool_size: int = 8, timeouts: DatabaseTimeouts | None = None,
                          migration_url: str | None = None) -> Database:
    """The gateway's pool on `url` (its runtime role). With `migration_url` (the owner role) the
    migrations and the grants of services/core/privileges.py run as the owner first."""
    if migration_url:
        migrate_and_grant(migration_url, ("gateway",), "gateway", url, timeouts)
    else:
        ensure_database_of(url)
    db = Database(url, max_size=pool_size, name="gateway", timeouts=timeouts)
    db.open()
    db.migrate("gateway")
    return db
