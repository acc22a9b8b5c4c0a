"""The benchmark's workload: `agenda.topic.nominated` events, as participants nominate topics.

Each event is a new topic aggregate (version 1) of one summit, with a short title and description,
so the signed bytes are about 400 and an event on the wire (with `sig`) about 500 bytes. One summit is
what a G1000 day is: all its events share a Kafka message key and therefore one partition.
"""

from __future__ import annotations

import uuid

from services.core.events import NewEvent
from services.core.store import EventStore

EVENT_TYPE = "agenda.topic.nominated"
TITLE = "Groen in de wijk"
DESCRIPTION = "Meer bomen."


def nomination(summit_id: str) -> NewEvent:
    topic_id = str(uuid.uuid4())
    payload = {"v": 1, "topic_id": topic_id, "title": TITLE, "description": DESCRIPTION}
    return NewEvent(EVENT_TYPE, payload, f"summit:{summit_id}/topic:{topic_id}", 1)


def nominations(summit_id: str, count: int) -> list[NewEvent]:
    return [nomination(summit_id) for _ in range(count)]


def append_in_batches(store: EventStore, summit_id: str, events: list[NewEvent], batch: int) -> None:
    """Append `events` with `batch` events per transaction (1 = what one API request does)."""
    for start in range(0, len(events), batch):
        store.append(summit_id, events[start:start + batch])
