"""The event catalogue: one schema per (event type, payload version), a published contract.

The ledger validates every payload against `CATALOG` before appending, and auditors read the same
schemas (docs/events.md). For each registered type/version this pins that a good payload passes and
that every kind of wrong payload is refused with SchemaError: missing or non-integer `v`, an unknown
version, unknown members, wrong types, and values outside the documented lengths and ranges, with
`SchemaError.fields` carrying marshmallow's field-level messages so the reason can be shown.
"""

from __future__ import annotations

import copy

import pytest

from services.core.errors import SchemaError, VerificationError
from services.core.event_catalog import CATALOG, PayloadCatalog, SummitCreatedV1

GOOD = {
    ("ledger.summit.created", 1): {
        "v": 1, "theme": "Hoe houden we onze stad leefbaar?", "municipality": "Amersfoort",
        "date": "2027-03-14", "seats": {"citizens": 800, "experts": 150, "organisers": 50},
    },
    ("ledger.summit.created", 2): {
        "v": 2, "theme": "Hoe houden we onze stad leefbaar?", "municipality": "Amersfoort",
        "date": "2027-03-14", "seats": {"citizens": 800, "experts": 150, "organisers": 50},
        "register": {"features": {"age_band": ["16-29", "30-59", "60+"], "wijk": ["centrum", "noord"]}},
    },
    ("ledger.key.registered", 1): {
        "v": 1, "stream": "agenda", "public_key": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8",
        "key_id": "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c",
        "valid_from": "2027-03-14T08:00:00.000Z",
    },
    ("agenda.topic.nominated", 1): {
        "v": 1, "topic_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "title": "Veilig fietsen — één weg",
        "description": "Ruimte voor fietsers",
    },
}
KINDS = sorted(GOOD)
KIND_IDS = [f"{t}.v{v}" for t, v in KINDS]


def _good(kind) -> dict:
    return copy.deepcopy(GOOD[kind])


def _refused(event_type: str, payload: dict) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        CATALOG.validate(event_type, payload)
    return info.value


def test_catalog_holds_the_documented_types():
    assert set(KINDS) <= set(CATALOG.types())
    assert CATALOG.types() == sorted(CATALOG.types())


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_good_payload_is_accepted(kind):
    event_type, _ = kind
    payload = _good(kind)
    assert CATALOG.validate(event_type, payload) is None
    assert payload == GOOD[kind]  # validation does not modify the payload


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
def test_missing_v_is_refused(kind):
    payload = _good(kind)
    del payload["v"]
    error = _refused(kind[0], payload)
    assert "schema version 'v'" in error.reason


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("v", [True, False, "1", None, [1], {"v": 1}], ids=repr)
def test_non_integer_v_is_refused(kind, v):
    payload = _good(kind)
    payload["v"] = v
    assert "schema version 'v'" in _refused(kind[0], payload).reason


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("v", [0, 7, -1, 99])
def test_unknown_version_is_refused(kind, v):
    payload = _good(kind)
    payload["v"] = v
    error = _refused(kind[0], payload)
    assert f"unknown event type {kind[0]!r} version {v}" == error.reason


@pytest.mark.parametrize("event_type", ["agenda.topic.renamed", "ballot.vote.recast", "", "ledger.summit.created.x"])
def test_unknown_type_is_refused(event_type):
    error = _refused(event_type, {"v": 1})
    assert "unknown event type" in error.reason


@pytest.mark.parametrize("kind", KINDS, ids=KIND_IDS)
@pytest.mark.parametrize("member", ["name", "birth_date", "V", "extra"])
def test_unknown_member_is_refused_with_field_message(kind, member):
    payload = _good(kind)
    payload[member] = "x"
    error = _refused(kind[0], payload)
    assert error.fields == {member: ["Unknown field."]}
    assert member in error.reason


def test_schema_error_is_a_verification_error_with_fields():
    error = _refused("agenda.topic.nominated", {"v": 1})
    assert isinstance(error, VerificationError)
    assert set(error.fields) == {"topic_id", "title"}
    assert all(isinstance(m, list) and m and all(isinstance(s, str) for s in m) for m in error.fields.values())


def test_several_errors_are_reported_together():
    payload = _good(("ledger.summit.created", 1))
    payload.update(theme="", date="14-03-2027", seats={})
    payload.pop("municipality")
    error = _refused("ledger.summit.created", payload)
    assert set(error.fields) == {"theme", "date", "seats", "municipality"}


# --------------------------------------------------------------------------------------------
# Per-field violations. Each case: (payload change, the field that must be named).
# --------------------------------------------------------------------------------------------

SUMMIT = ("ledger.summit.created", 1)
KEY = ("ledger.key.registered", 1)
TOPIC = ("agenda.topic.nominated", 1)


def _set(**changes):
    return lambda p: p.update(changes)


def _drop(name):
    return lambda p: p.pop(name)


VIOLATIONS = [
    # ledger.summit.created v1
    (SUMMIT, "no theme", _drop("theme"), "theme"),
    (SUMMIT, "empty theme", _set(theme=""), "theme"),
    (SUMMIT, "theme 501", _set(theme="t" * 501), "theme"),
    (SUMMIT, "theme int", _set(theme=5), "theme"),
    (SUMMIT, "no municipality", _drop("municipality"), "municipality"),
    (SUMMIT, "empty municipality", _set(municipality=""), "municipality"),
    (SUMMIT, "municipality 201", _set(municipality="m" * 201), "municipality"),
    (SUMMIT, "municipality null", _set(municipality=None), "municipality"),
    (SUMMIT, "no date", _drop("date"), "date"),
    (SUMMIT, "date dd-mm-yyyy", _set(date="14-03-2027"), "date"),
    (SUMMIT, "date 30 Feb", _set(date="2027-02-30"), "date"),
    (SUMMIT, "date with time", _set(date="2027-03-14T09:00:00"), "date"),
    (SUMMIT, "date int", _set(date=20270314), "date"),
    (SUMMIT, "no seats", _drop("seats"), "seats"),
    (SUMMIT, "seats empty", _set(seats={}), "seats"),
    (SUMMIT, "seats 21 groups", _set(seats={f"g{i}": 1 for i in range(21)}), "seats"),
    (SUMMIT, "seats list", _set(seats=[["citizens", 800]]), "seats"),
    (SUMMIT, "seat count negative", _set(seats={"citizens": -1}), "seats"),
    (SUMMIT, "seat count 10001", _set(seats={"citizens": 10_001}), "seats"),
    (SUMMIT, "seat count string", _set(seats={"citizens": "800"}), "seats"),
    (SUMMIT, "seat count bool", _set(seats={"citizens": True}), "seats"),
    (SUMMIT, "seat count null", _set(seats={"citizens": None}), "seats"),
    (SUMMIT, "group uppercase", _set(seats={"Citizens": 1}), "seats"),
    (SUMMIT, "group starts with digit", _set(seats={"1citizens": 1}), "seats"),
    (SUMMIT, "group with space", _set(seats={"random citizens": 1}), "seats"),
    (SUMMIT, "group 41 chars", _set(seats={"g" * 41: 1}), "seats"),
    (SUMMIT, "group empty", _set(seats={"": 1}), "seats"),
    # ledger.key.registered v1
    (KEY, "no stream", _drop("stream"), "stream"),
    (KEY, "stream uppercase", _set(stream="Agenda"), "stream"),
    (KEY, "stream empty", _set(stream=""), "stream"),
    (KEY, "stream with dot", _set(stream="g1000.agenda"), "stream"),
    (KEY, "stream int", _set(stream=1), "stream"),
    (KEY, "no public_key", _drop("public_key"), "public_key"),
    (KEY, "public_key uppercase", _set(public_key="03A107BFF3CE10BE1D70DD18E74BC09967E4D6309BA50D5F1DDC8664125531B8"),
     "public_key"),
    (KEY, "public_key 63", _set(public_key="0" * 63), "public_key"),
    (KEY, "public_key 65", _set(public_key="0" * 65), "public_key"),
    (KEY, "public_key base64", _set(public_key="A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="), "public_key"),
    (KEY, "no key_id", _drop("key_id"), "key_id"),
    (KEY, "key_id not hex", _set(key_id="g" * 64), "key_id"),
    (KEY, "key_id list", _set(key_id=["0" * 64]), "key_id"),
    (KEY, "no valid_from", _drop("valid_from"), "valid_from"),
    (KEY, "valid_from int", _set(valid_from=1805018142123), "valid_from"),
    (KEY, "valid_from null", _set(valid_from=None), "valid_from"),
    # agenda.topic.nominated v1
    (TOPIC, "no topic_id", _drop("topic_id"), "topic_id"),
    (TOPIC, "topic_id not a uuid", _set(topic_id="topic-1"), "topic_id"),
    (TOPIC, "topic_id int", _set(topic_id=1), "topic_id"),
    (TOPIC, "no title", _drop("title"), "title"),
    (TOPIC, "empty title", _set(title=""), "title"),
    (TOPIC, "title 201", _set(title="t" * 201), "title"),
    (TOPIC, "title list", _set(title=["t"]), "title"),
    (TOPIC, "description 2001", _set(description="d" * 2001), "description"),
    (TOPIC, "description null", _set(description=None), "description"),
    (TOPIC, "description int", _set(description=0), "description"),
]


@pytest.mark.parametrize(("kind", "change", "field"), [(k, c, f) for k, _, c, f in VIOLATIONS],
                         ids=[f"{k[0]}:{name}" for k, name, _, _ in VIOLATIONS])
def test_field_violation_is_refused_and_named(kind, change, field):
    payload = _good(kind)
    change(payload)
    error = _refused(kind[0], payload)
    assert set(error.fields) == {field}
    assert field in error.reason and f"{kind[0]} v{kind[1]}" in error.reason


ACCEPTED = [
    (SUMMIT, "theme 500", _set(theme="t" * 500)),
    (SUMMIT, "theme 1", _set(theme="t")),
    (SUMMIT, "municipality 200", _set(municipality="m" * 200)),
    (SUMMIT, "20 groups", _set(seats={f"g{i}": 1 for i in range(20)})),
    (SUMMIT, "seat counts 0 and 10000", _set(seats={"a": 0, "b": 10_000})),
    (SUMMIT, "group 40 chars", _set(seats={"g" * 40: 1})),
    (SUMMIT, "group with digits and _", _set(seats={"g2_random": 1})),
    (KEY, "stream with underscore", _set(stream="ballot_2")),
    (TOPIC, "title 200", _set(title="t" * 200)),
    (TOPIC, "title astral", _set(title="😀" * 200)),
    (TOPIC, "description 2000", _set(description="d" * 2000)),
    (TOPIC, "description empty", _set(description="")),
    (TOPIC, "no description", _drop("description")),
]


@pytest.mark.parametrize(("kind", "change"), [(k, c) for k, _, c in ACCEPTED],
                         ids=[f"{k[0]}:{name}" for k, name, _ in ACCEPTED])
def test_boundary_values_are_accepted(kind, change):
    payload = _good(kind)
    change(payload)
    CATALOG.validate(kind[0], payload)


SUMMIT_V2 = ("ledger.summit.created", 2)


@pytest.mark.parametrize("register", [
    None, {}, {"features": {}}, {"features": {"age": ["a"]}, "extra": 1}, {"features": {"age": []}},
    {"features": {"age": ["a", "a"]}}, {"features": {"Age": ["a"]}}, {"features": {"pseudonym": ["a"]}},
    {"features": {"age": ["x" * 65]}}, {"features": {"age": ["a\nb"]}}, {"features": {"age": "a"}},
    {"features": {f"f{i}": ["a"] for i in range(17)}}, {"features": {"age": [str(i) for i in range(101)]}},
], ids=repr)
def test_a_v2_charter_declares_a_valid_vocabulary(register):
    """Issue 10 H1/H2: the charter's allow-list is checked as g1000_proofs.vocabulary says."""
    payload = _good(SUMMIT_V2)
    payload["register"] = register
    assert "register" in _refused("ledger.summit.created", payload).fields


def test_a_v2_charter_needs_its_vocabulary_and_v1_has_none():
    payload = _good(SUMMIT_V2)
    del payload["register"]
    assert "register" in _refused("ledger.summit.created", payload).fields
    old = _good(SUMMIT) | {"register": GOOD[SUMMIT_V2]["register"]}
    assert _refused("ledger.summit.created", old).fields == {"register": ["Unknown field."]}


def test_new_version_is_added_beside_the_old_one():
    class SummitCreatedV2(SummitCreatedV1):
        pass

    catalog = PayloadCatalog()
    catalog.register("ledger.summit.created", 1, SummitCreatedV1)
    catalog.register("ledger.summit.created", 2, SummitCreatedV2)
    payload = _good(SUMMIT)
    catalog.validate("ledger.summit.created", payload)
    catalog.validate("ledger.summit.created", {**payload, "v": 2})
    assert catalog.types() == [("ledger.summit.created", 1), ("ledger.summit.created", 2)]
    with pytest.raises(SchemaError, match="version 3"):
        catalog.validate("ledger.summit.created", {**payload, "v": 3})


# --------------------------------------------------------------------------------------------
# Regression tests for holes found and fixed (each once failed)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        (KEY, _set(stream="agenda\n")),
        (KEY, _set(public_key=GOOD[KEY]["public_key"] + "\n")),
        (KEY, _set(key_id=GOOD[KEY]["key_id"] + "\n")),
        (SUMMIT, _set(seats={"citizens\n": 800})),
    ],
    ids=["stream", "public_key", "key_id", "seat group"],
)
def test_trailing_newline_is_refused(kind, change):
    payload = _good(kind)
    change(payload)
    _refused(kind[0], payload)


@pytest.mark.parametrize("day", ["20270314", "2027-W11-1"])
def test_date_must_be_yyyy_mm_dd(day):
    payload = _good(SUMMIT)
    payload["date"] = day
    _refused("ledger.summit.created", payload)


@pytest.mark.parametrize(
    "topic_id",
    ["3F2504E0-4F89-41D3-9A0C-0305E82C3301", "3f2504e04f8941d39a0c0305e82c3301",
     "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}", "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301"],
    ids=["uppercase", "no hyphens", "braces", "urn"],
)
def test_topic_id_must_be_a_lowercase_hyphenated_uuid(topic_id):
    payload = _good(TOPIC)
    payload["topic_id"] = topic_id
    _refused("agenda.topic.nominated", payload)
