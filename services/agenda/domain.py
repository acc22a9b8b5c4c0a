"""Pure decisions of the agenda service."""

from __future__ import annotations

import uuid

from services.core.events import NewEvent


def nominate_topic(summit_id: str, title: str, description: str) -> tuple[str, NewEvent]:
    """A new topic on the summit's own agenda; returns its id and the event that records it."""
    topic_id = str(uuid.uuid4())
    event = NewEvent(
        type="agenda.topic.nominated",
        payload={"v": 1, "topic_id": topic_id, "title": title.strip(), "description": description.strip()},
        aggregate_id=f"summit:{summit_id}/topic:{topic_id}", version=1,
    )
    return topic_id, event
