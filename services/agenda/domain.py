"""Pure decisions of the agenda service (docs/agenda.md).

A nomination's words stay out of the log: the event carries what g1000_proofs.agenda.describe_topic
makes of them (language, sha256, length per field), and the words go to the agenda's store.
"""

from __future__ import annotations

import uuid

from g1000_proofs.agenda import WITHHOLDING_REASONS, describe_topic, merge_problem, split_problem
from g1000_proofs.texts import normalise

from services.core.events import NewEvent

from .errors import AgendaConflictError, AgendaNotFoundError

DEFAULT_LANGUAGE = "nl"


def topic_aggregate(summit_id: str, topic_id: str) -> str:
    return f"summit:{summit_id}/topic:{topic_id}"


def nominations_must_be_open(summit_id: str, is_open: bool) -> None:
    if not is_open:
        raise AgendaConflictError(f"nominations for summit {summit_id} are closed")


def nominate_topic(summit_id: str, title: str, description: str,
                   language: str = DEFAULT_LANGUAGE) -> tuple[str, NewEvent, dict[str, str]]:
    """A new topic on the summit's own agenda: its id, the event that records it (v2, no words)
    and the words to store per field (stripped, in NFC: exactly what was hashed)."""
    words = {"title": normalise(title.strip()), "description": normalise(description.strip())}
    topic_id = str(uuid.uuid4())
    texts = describe_topic(language, words["title"], words["description"])
    event = NewEvent(type="agenda.topic.nominated", payload={"v": 2, "topic_id": topic_id, "texts": texts},
                     aggregate_id=topic_aggregate(summit_id, topic_id), version=1)
    return topic_id, event, {t["field"]: words[t["field"]] for t in texts}


def set_nominations(summit_id: str, currently_open: bool, version: int, open_: bool) -> NewEvent:
    """The event that opens or closes nominations; refused when they already are so."""
    if currently_open and open_:
        raise AgendaConflictError(f"nominations for summit {summit_id} are already open")
    if not currently_open and not open_:
        raise AgendaConflictError(f"nominations for summit {summit_id} are already closed")
    return NewEvent(type=f"agenda.nominations.{'opened' if open_ else 'closed'}", payload={"v": 1},
                    aggregate_id=f"summit:{summit_id}/nominations", version=version + 1)


def withhold_text(summit_id: str, topic: dict, field: str, reason: str) -> NewEvent:
    """The event that withholds one text of a topic. `topic` is `{topic_id, payload_v, version,
    texts: {field: withheld reason or None}}` as the store holds it."""
    assert reason in WITHHOLDING_REASONS  # the schema allows only these
    topic_id = topic["topic_id"]
    if topic["payload_v"] < 2:
        raise AgendaConflictError(f"topic {topic_id} was nominated with its words in the log (v1); "
                                  "they cannot be withheld")
    if field not in topic["texts"]:
        raise AgendaConflictError(f"topic {topic_id} has no {field}")
    if topic["texts"][field] is not None:
        raise AgendaConflictError(f"the {field} of topic {topic_id} is already withheld")
    return NewEvent(type="agenda.text.withheld",
                    payload={"v": 1, "topic_id": topic_id, "field": field, "reason": reason},
                    aggregate_id=topic_aggregate(summit_id, topic_id), version=topic["version"] + 1)


def merge_topics(summit_id: str, states: dict[str, str], into: str, sources: list[str], version: int) -> NewEvent:
    """The event that merges duplicate topics `sources` into `into` (`states`: each known topic's
    state; `version`: the `into` topic aggregate's version). The provenance rule is
    g1000_proofs.agenda.merge_problem, which g1000-verify applies to the log too."""
    sources = sorted(set(sources))
    problem = merge_problem(states, into, sources)
    if problem is not None:
        raise (AgendaNotFoundError if problem.startswith("no topic") else AgendaConflictError)(problem)
    return NewEvent(type="agenda.topics.merged", payload={"v": 1, "into": into, "from": sources},
                    aggregate_id=topic_aggregate(summit_id, into), version=version + 1)


def split_topic(summit_id: str, states: dict[str, str], source: str, version: int,
                parts: list[dict]) -> tuple[NewEvent, list[tuple[str, str, dict[str, str]]]]:
    """The event that splits `source` into new topics, one per part `{title, description,
    language}`, and per new topic (id, language, words by field) to store."""
    problem = split_problem(states, source)
    if problem is not None:
        raise (AgendaNotFoundError if problem.startswith("no topic") else AgendaConflictError)(problem)
    made, into = [], []
    for part in parts:
        words = {"title": normalise(part["title"].strip()), "description": normalise(part["description"].strip())}
        topic_id = str(uuid.uuid4())
        texts = describe_topic(part["language"], words["title"], words["description"])
        into.append({"topic_id": topic_id, "texts": texts})
        made.append((topic_id, part["language"], {t["field"]: words[t["field"]] for t in texts}))
    event = NewEvent(type="agenda.topic.split", payload={"v": 1, "from": source, "into": into},
                     aggregate_id=topic_aggregate(summit_id, source), version=version + 1)
    return event, made
