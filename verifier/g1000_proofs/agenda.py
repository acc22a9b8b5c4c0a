"""The agenda's texts: what the log says of each topic's words, and whether served words match it.

Why this module exists: participants write the agenda's topics, and what they write may hold
personal data or abuse, while the log can never forget (issue 14; docs/agenda.md). So
``agenda.topic.nominated`` v2 carries, per field (``title``, ``description``), only the language
the participant declared and the SHA-256 and UTF-8 length of the text in NFC (:mod:`.texts`:
UAX #15, FIPS 180-4, RFC 3629); so do the parts an ``agenda.topic.split`` makes. The text itself
lives in the agenda's store and is served by its API; ``agenda.text.withheld`` records that a
facilitator or organiser took one text out of service, with a reason from a fixed list, and the
store then deletes it while the log keeps its hash. Facilitators merge duplicates
(``agenda.topics.merged``) and split topics, and the provenance rules (:func:`merge_problem`,
:func:`split_problem`) are applied by the service before it appends and by the verifier after.
The agenda service builds its payloads with :func:`describe_topic`, and both it and
``g1000-verify agenda`` hold a served export against the log with :func:`check_served`.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import TextError
from .texts import LANGUAGES, check_text, describe

__all__ = ["FIELDS", "MERGED", "NOMINATED", "SPLIT", "WITHHELD", "WITHHOLDING_REASONS", "check_served",
           "describe_topic", "logged_texts", "merge_problem", "split_problem"]

FIELDS = ("description", "title")   # code-point order: the order of `texts` in a payload
WITHHOLDING_REASONS = ("abuse", "erasure-request", "off-topic", "personal-data")
NOMINATED = "agenda.topic.nominated"
WITHHELD = "agenda.text.withheld"
MERGED = "agenda.topics.merged"
SPLIT = "agenda.topic.split"


def describe_topic(language: str, title: str, description: str = "") -> list[dict]:
    """The `texts` of a v2 nomination: `{field, language, sha256, length}` per field, in field
    order; an empty description is not described (there is nothing to serve or withhold)."""
    if language not in LANGUAGES:
        raise TextError(f"a language is one of {', '.join(LANGUAGES)}")
    if not title:
        raise TextError("a topic needs a title")
    texts = {"title": title, "description": description}
    return [{"field": field, **describe(language, texts[field])} for field in FIELDS if texts[field]]


def merge_problem(topics: Mapping[str, str], into: str, sources: list[str]) -> str | None:
    """Why facilitators may not merge `sources` into `into`, given each known topic's state
    (`open`, `merged`, `split`), or None: every topic known and still open, `into` not a source."""
    if into in sources:
        return f"topic {into} cannot be merged into itself"
    for topic_id in [into, *sources]:
        if topic_id not in topics:
            return f"no topic {topic_id}"
        if topics[topic_id] != "open":
            return f"topic {topic_id} is already {topics[topic_id]}"
    return None


def split_problem(topics: Mapping[str, str], source: str) -> str | None:
    """Why a topic may not be split, or None: it must be known and still open."""
    if source not in topics:
        return f"no topic {source}"
    if topics[source] != "open":
        return f"topic {source} is already {topics[source]}"
    return None


def _describe(described: dict, topic_id: str, texts: Iterable[Mapping]) -> None:
    for text in texts:
        described[(topic_id, text["field"])] = {"language": text["language"], "sha256": text["sha256"],
                                                "length": text["length"], "withheld": None}


def logged_texts(events: Iterable[tuple[int, Mapping]]) -> tuple[dict[tuple[str, str], dict], str | None]:
    """What the log says of every agenda text: `{(topic_id, field): {language, sha256, length,
    withheld}}` in log order (`withheld`: the recorded reason or None), and the first problem of
    the events themselves, if any: a withholding of a text the log never described, or twice; a
    merge or split of a topic the log does not hold or that was already merged or split (the
    provenance rules of :func:`merge_problem` and :func:`split_problem`, which the service applies
    too). v1 nominations hold their text in the log itself and are not described here."""
    described: dict[tuple[str, str], dict] = {}
    topics: dict[str, str] = {}
    for index, event in events:
        payload = event.get("payload") or {}
        kind = event.get("type")
        if kind == NOMINATED:
            topics[payload.get("topic_id")] = "open"
            if payload.get("v") == 2:
                _describe(described, payload["topic_id"], payload.get("texts", []))
        elif kind == MERGED:
            problem = merge_problem(topics, payload.get("into"), list(payload.get("from", [])))
            if problem is not None:
                return described, f"entry {index}: a merge of which {problem}"
            for topic_id in payload["from"]:
                topics[topic_id] = "merged"
        elif kind == SPLIT:
            problem = split_problem(topics, payload.get("from"))
            if problem is not None:
                return described, f"entry {index}: a split of which {problem}"
            topics[payload["from"]] = "split"
            for part in payload.get("into", []):
                if part.get("topic_id") in topics:
                    return described, f"entry {index}: a split makes topic {part.get('topic_id')}, which exists"
                topics[part["topic_id"]] = "open"
                _describe(described, part["topic_id"], part.get("texts", []))
        elif kind == WITHHELD:
            key = (payload.get("topic_id"), payload.get("field"))
            if key not in described:
                return described, f"entry {index}: withholds the {key[1]} of topic {key[0]}, which the log does not describe"
            if described[key]["withheld"] is not None:
                return described, f"entry {index}: withholds the {key[1]} of topic {key[0]} a second time"
            described[key]["withheld"] = payload.get("reason")
    return described, None


def check_served(events: Iterable[tuple[int, Mapping]], served: Iterable[Mapping[str, Any]]) -> str | None:
    """The first way the served texts differ from the log, or None when they match it exactly.

    `events` are `(index, event)` pairs of the log (other types are skipped); `served` are the
    items of the agenda's text export, `{topic_id, field, language, sha256, length, text,
    withheld}` (docs/agenda.md). Every text the log describes must be served once: with the
    logged language and words of the logged hash and length when it is not withheld, and
    without words but with the logged reason when it is. A served text the log does not
    describe is a mismatch too. Mismatches are looked for in log order, then in served order."""
    described, problem = logged_texts(events)
    if problem is not None:
        return problem
    seen: dict[tuple[str, str], Mapping] = {}
    for item in served:
        if not isinstance(item, Mapping):
            return "a served text is not an object"
        key = (item.get("topic_id"), item.get("field"))
        if key in seen:
            return f"the {key[1]} of topic {key[0]} is served twice"
        seen[key] = item
    for key, logged in described.items():
        topic, field = key
        item = seen.get(key)
        what = f"the {field} of topic {topic}"
        if item is None:
            return f"{what} is described in the log but not served"
        if logged["withheld"] is not None:
            if item.get("text") is not None:
                return f"{what} is withheld in the log ({logged['withheld']}) but its text is still served"
            if item.get("withheld") != logged["withheld"]:
                return f"{what} is served as withheld for {item.get('withheld')!r}, the log says {logged['withheld']!r}"
            continue
        if item.get("withheld") is not None:
            return f"{what} is served as withheld, but the log records no withholding"
        if item.get("language") != logged["language"]:
            return f"{what} is served in {item.get('language')!r}, the log says {logged['language']!r}"
        text = item.get("text")
        if not isinstance(text, str):
            return f"{what} is served without its text"
        try:
            check_text(logged, text)
        except TextError:
            return f"{what} does not match its sha256 and length in the log"
    for key in seen:
        if key not in described:
            return f"the {key[1]} of topic {key[0]} is served but the log does not describe it"
    return None
