"""Opening a summit: its charter and key registrations become the genesis of its log."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, datetime, timezone

from services.core.envelope import format_time
from services.core.runtime import Runtime

from .domain import charter_summit
from .log import LogWriter


def open_summit(rt: Runtime, *, theme: str, municipality: str, day: date, seats: dict[str, int],
                features: dict[str, list[str]]) -> str:
    """Record the charter (event store + outbox) and write the same events as the log's genesis,
    in one transaction: the log exists before any service can learn that the summit does."""
    summit_id = str(uuid.uuid4())
    rt.keyring.reload()
    keys = {key.stream: key.public_key for key in rt.keyring.keys()}
    events = charter_summit(theme=theme, municipality=municipality, day=day, seats=seats,
                            features=features, service_keys=keys, valid_from=format_time(datetime.now(timezone.utc)))
    with rt.store.transaction() as tx:
        recorded = tx.append(summit_id, [_scoped(e, summit_id) for e in events])
        LogWriter().append_genesis(tx.conn, summit_id, recorded)
        tx.conn.execute(
            "INSERT INTO summits (summit_id, theme, municipality, date, seats, register)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (summit_id, theme, municipality, day, json.dumps(seats), json.dumps(events[0].payload["register"])))
    return summit_id


def _scoped(event, summit_id: str):
    """Aggregate ids are per summit: `summit:<id>` and `summit:<id>/key:<stream>`."""
    suffix = "" if event.aggregate_id == "summit" else f"/{event.aggregate_id}"
    return replace(event, aggregate_id=f"summit:{summit_id}{suffix}")
