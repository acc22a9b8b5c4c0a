"""The agenda's texts rule (g1000_proofs.agenda) and its payloads in the catalogue."""

from __future__ import annotations

import pytest
from g1000_proofs.agenda import check_served, describe_topic, logged_texts, merge_problem, split_problem
from g1000_proofs.errors import TextError
from g1000_proofs.texts import sha256_hex

from services.agenda.domain import nominate_topic, set_nominations, withhold_text
from services.agenda.errors import AgendaConflictError
from services.core.errors import SchemaError
from services.core.event_catalog import CATALOG

TOPIC = "11111111-1111-4111-8111-111111111111"
TITLE, DESCRIPTION = "Groen in de wijk", "Meer bomen bij de school van Piet."


def _nominated(index=1, topic=TOPIC, language="nl"):
    return (index, {"type": "agenda.topic.nominated",
                    "payload": {"v": 2, "topic_id": topic, "texts": describe_topic(language, TITLE, DESCRIPTION)}})


def _withheld(index, field="description", reason="personal-data", topic=TOPIC):
    return (index, {"type": "agenda.text.withheld",
                    "payload": {"v": 1, "topic_id": topic, "field": field, "reason": reason}})


def _served(field, text, language="nl", withheld=None, topic=TOPIC):
    words = {"title": TITLE, "description": DESCRIPTION}[field]
    return {"topic_id": topic, "field": field, "language": language, "sha256": sha256_hex(words),
            "length": len(words.encode()), "text": text, "withheld": withheld}


def test_describe_topic_holds_no_words_and_skips_an_empty_description():
    texts = describe_topic("fr", TITLE, DESCRIPTION)
    assert [t["field"] for t in texts] == ["description", "title"]
    assert texts[1] == {"field": "title", "language": "fr", "sha256": sha256_hex(TITLE), "length": 16}
    assert [t["field"] for t in describe_topic("nl", TITLE)] == ["title"]
    with pytest.raises(TextError):
        describe_topic("de", TITLE)
    with pytest.raises(TextError):
        describe_topic("nl", "")


def test_served_texts_that_match_the_log_pass():
    events = [_nominated()]
    assert check_served(events, [_served("description", DESCRIPTION), _served("title", TITLE)]) is None
    events.append(_withheld(2))
    assert check_served(events, [_served("description", None, withheld="personal-data"),
                                 _served("title", TITLE)]) is None


@pytest.mark.parametrize("served, found", [
    ([_served("description", DESCRIPTION), _served("title", TITLE + "!")], "does not match its sha256"),
    ([_served("description", DESCRIPTION)], "described in the log but not served"),
    ([_served("description", DESCRIPTION), _served("title", TITLE, language="en")], "served in 'en'"),
    ([_served("description", DESCRIPTION), _served("title", None)], "without its text"),
    ([_served("description", DESCRIPTION), _served("title", TITLE, withheld="abuse")], "records no withholding"),
    ([_served("description", DESCRIPTION), _served("title", TITLE), _served("title", TITLE)], "served twice"),
    ([_served("description", DESCRIPTION), _served("title", TITLE),
      _served("title", TITLE, topic="22222222-2222-4222-8222-222222222222")], "the log does not describe it"),
])
def test_a_served_text_that_differs_from_the_log_is_named(served, found):
    problem = check_served([_nominated()], served)
    assert problem is not None and found in problem


def test_a_withheld_text_must_be_served_without_its_words_and_with_the_logged_reason():
    events = [_nominated(), _withheld(2)]
    still = check_served(events, [_served("description", DESCRIPTION, withheld="personal-data"),
                                  _served("title", TITLE)])
    assert "still served" in still
    other = check_served(events, [_served("description", None, withheld="abuse"), _served("title", TITLE)])
    assert "'abuse'" in other


def test_withholdings_the_log_cannot_hold_are_problems_of_the_log():
    assert "does not describe" in logged_texts([_withheld(1)])[1]
    assert "second time" in logged_texts([_nominated(), _withheld(2), _withheld(3, reason="abuse")])[1]
    v1 = (1, {"type": "agenda.topic.nominated", "payload": {"v": 1, "topic_id": TOPIC, "title": TITLE}})
    assert logged_texts([v1]) == ({}, None)   # its words are in the log itself


def test_the_catalogue_takes_v2_and_keeps_v1():
    topic_id, event, words = nominate_topic("s", f"  {TITLE} ", DESCRIPTION, "en")
    CATALOG.validate(event.type, event.payload)
    assert words == {"title": TITLE, "description": DESCRIPTION} and event.payload["topic_id"] == topic_id
    CATALOG.validate("agenda.topic.nominated", {"v": 1, "topic_id": TOPIC, "title": TITLE, "description": ""})
    texts = describe_topic("nl", TITLE, DESCRIPTION)
    bad = [
        {"v": 2, "topic_id": TOPIC, "texts": texts, "title": TITLE},                      # words beside
        {"v": 2, "topic_id": TOPIC, "texts": texts[:1]},                                   # no title
        {"v": 2, "topic_id": TOPIC, "texts": [texts[1], texts[0]]},                        # out of order
        {"v": 2, "topic_id": TOPIC, "texts": [texts[0], {**texts[1], "language": "en"}]},  # two languages
        {"v": 2, "topic_id": TOPIC, "texts": [{**texts[1], "text": TITLE}]},               # words inside
        {"v": 2, "topic_id": TOPIC, "texts": [{**texts[1], "field": "name"}]},
    ]
    for payload in bad:
        with pytest.raises(SchemaError):
            CATALOG.validate("agenda.topic.nominated", payload)
    CATALOG.validate("agenda.text.withheld", _withheld(1)[1]["payload"])
    with pytest.raises(SchemaError):
        CATALOG.validate("agenda.text.withheld", _withheld(1, reason="because")[1]["payload"])
    CATALOG.validate("agenda.nominations.closed", {"v": 1})
    with pytest.raises(SchemaError):
        CATALOG.validate("agenda.nominations.opened", {"v": 1, "until": "soon"})


def test_the_domain_refuses_what_the_state_does_not_allow():
    with pytest.raises(AgendaConflictError):
        set_nominations("s", True, 0, True)
    assert set_nominations("s", True, 0, False).type == "agenda.nominations.closed"
    topic = {"topic_id": TOPIC, "payload_v": 2, "version": 1, "texts": {"title": None, "description": "abuse"}}
    assert withhold_text("s", topic, "title", "abuse").version == 2
    for field, state in (("description", topic), ("title", {**topic, "payload_v": 1}),
                         ("description", {**topic, "texts": {"title": None}})):
        with pytest.raises(AgendaConflictError):
            withhold_text("s", state, field, "abuse")


OTHER = "22222222-2222-4222-8222-222222222222"
THIRD = "33333333-3333-4333-8333-333333333333"


def _merged(index, into, sources):
    return (index, {"type": "agenda.topics.merged", "payload": {"v": 1, "into": into, "from": sources}})


def _split(index, source, parts):
    return (index, {"type": "agenda.topic.split", "payload": {"v": 1, "from": source, "into": [
        {"topic_id": t, "texts": describe_topic("en", title)} for t, title in parts]}})


def test_provenance_rules():
    states = {TOPIC: "open", OTHER: "open", THIRD: "merged"}
    assert merge_problem(states, TOPIC, [OTHER]) is None
    assert "itself" in merge_problem(states, TOPIC, [TOPIC])
    assert merge_problem(states, TOPIC, [THIRD]) == f"topic {THIRD} is already merged"
    assert merge_problem(states, "44444444-4444-4444-8444-444444444444", [OTHER]).startswith("no topic")
    assert split_problem(states, TOPIC) is None and "already merged" in split_problem(states, THIRD)
    assert split_problem({}, TOPIC) == f"no topic {TOPIC}"


def test_the_log_keeps_provenance_and_describes_the_parts_of_a_split():
    nominated = [_nominated(1), _nominated(2, topic=OTHER)]
    fourth = "44444444-4444-4444-8444-444444444444"
    good = [*nominated, _merged(3, TOPIC, [OTHER]), _split(4, TOPIC, [(THIRD, "Bomen"), (fourth, "Bankjes")])]
    described, problem = logged_texts(good)
    assert problem is None and (THIRD, "title") in described
    served = [_served("description", DESCRIPTION), _served("title", TITLE),
              _served("description", DESCRIPTION, topic=OTHER), _served("title", TITLE, topic=OTHER)]
    missing = check_served(good, served)
    assert missing == f"the title of topic {THIRD} is described in the log but not served"
    assert logged_texts([*nominated, _merged(3, TOPIC, [OTHER]), _merged(4, THIRD, [OTHER])])[1] == \
        f"entry 4: a merge of which no topic {THIRD}"
    assert "is already merged" in logged_texts([*nominated, _merged(3, TOPIC, [OTHER]), _split(4, OTHER, [])])[1]
    assert "is already split" in logged_texts([*nominated, _split(3, OTHER, [(THIRD, "x")]),
                                              _merged(4, TOPIC, [OTHER])])[1]
    assert "which exists" in logged_texts([*nominated, _split(3, OTHER, [(TOPIC, "x")])])[1]


def test_merge_and_split_payloads_in_the_catalogue():
    CATALOG.validate("agenda.topics.merged", _merged(1, TOPIC, [OTHER, THIRD])[1]["payload"])
    for sources in ([], [THIRD, OTHER], [OTHER, OTHER]):
        with pytest.raises(SchemaError):
            CATALOG.validate("agenda.topics.merged", _merged(1, TOPIC, sources)[1]["payload"])
    CATALOG.validate("agenda.topic.split", _split(1, TOPIC, [(OTHER, "a"), (THIRD, "b")])[1]["payload"])
    with pytest.raises(SchemaError):   # one part is no split
        CATALOG.validate("agenda.topic.split", _split(1, TOPIC, [(OTHER, "a")])[1]["payload"])
    words = _split(1, TOPIC, [(OTHER, "a"), (THIRD, "b")])[1]["payload"]
    words["into"][0]["title"] = "Bomen"
    with pytest.raises(SchemaError):
        CATALOG.validate("agenda.topic.split", words)
