"""The ballot's event payloads in the catalogue (docs/ballot.md): a good payload of every type passes,
and each kind of wrong payload is refused with SchemaError naming the field, like the other types of
tests/unit/core/test_event_catalog.py. No text of a ballot enters its payloads: only descriptions."""

from __future__ import annotations

import base64
import copy

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from g1000_proofs.ballot import encode_credential_key
from g1000_proofs.texts import describe

from services.core.errors import SchemaError
from services.core.event_catalog import CATALOG

BALLOT = "9b2f6a1e-0c1d-4e5f-8a9b-0c1d2e3f4a5b"
HEX = "ab" * 32
KEY = encode_credential_key(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())
SMALL_KEY = encode_credential_key(rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key())
SIG = base64.b64encode(bytes(256)).decode()
SEALED = base64.b64encode(bytes(32 + 16 + 256)).decode()


def _option(option_id: str) -> dict:
    return {"option_id": option_id, "texts": [describe("en", option_id), describe("nl", option_id + "!")]}


GOOD = {
    "ballot.participant.arrived": {"v": 1, "pseudonym": "p-3f2504e04f89"},
    "ballot.ballot.created": {
        "v": 1, "ballot_id": BALLOT, "title": [describe("en", "Which first?"), describe("nl", "Wat eerst?")],
        "method": {"kind": "approval", "min": 1, "max": 2}, "options": [_option("bikes"), _option("parks")],
        "opens_at": "2027-03-14T10:00:00.000Z", "closes_at": "2027-03-14T11:00:00.000Z",
        "sealing": {"public_key": HEX, "k": 2, "n": 3, "share_hashes": ["01" * 32, "02" * 32, "03" * 32]},
    },
    "ballot.ballot.opened": {"v": 1, "ballot_id": BALLOT, "roll": {"count": 12, "root": HEX}, "credential_key": KEY},
    "ballot.credential.issued": {"v": 1, "ballot_id": BALLOT, "pseudonym": "p-3f2504e04f89"},
    "ballot.vote.cast": {
        "v": 1, "ballot_id": BALLOT, "batch": "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "nullifier": HEX,
        "credential": {"token": HEX, "prefix": "cd" * 32, "signature": SIG}, "sealed": SEALED,
    },
    "ballot.ballot.closed": {"v": 1, "ballot_id": BALLOT, "closed_at": "2027-03-14T10:30:00.000Z", "early": True},
    "ballot.key.revealed": {"v": 1, "ballot_id": BALLOT, "private_key": HEX},
    "ballot.tally.published": {"v": 1, "ballot_id": BALLOT, "counted": 3,
                               "result": {"method": "approval", "counted": 3, "totals": {"bikes": 2, "parks": 1}}},
}
TYPES = sorted(GOOD)


def _good(event_type: str) -> dict:
    return copy.deepcopy(GOOD[event_type])


def _refused(event_type: str, payload: dict) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        CATALOG.validate(event_type, payload)
    return info.value


@pytest.mark.parametrize("event_type", TYPES)
def test_every_ballot_type_is_registered_and_a_good_payload_passes(event_type):
    assert (event_type, 1) in CATALOG.types()
    CATALOG.validate(event_type, _good(event_type))


@pytest.mark.parametrize("event_type", TYPES)
def test_unknown_members_and_missing_v_are_refused(event_type):
    assert "text" in _refused(event_type, {**_good(event_type), "text": "x"}).fields
    payload = _good(event_type)
    del payload["v"]
    _refused(event_type, payload)


CREATED, OPENED, CAST = "ballot.ballot.created", "ballot.ballot.opened", "ballot.vote.cast"


def _set(path: str, value):
    def change(p):
        *parents, last = path.split(".")
        for key in parents:
            p = p[int(key)] if key.isdigit() else p[key]
        p[last] = value
    return change


VIOLATIONS = [
    ("ballot.participant.arrived", "pseudonym with space", _set("pseudonym", "Jan Jansen"), "pseudonym"),
    (CREATED, "title holds the text", _set("title", [{"language": "en", "text": "Which first?"}]), "title"),
    (CREATED, "title language de", _set("title.0.language", "de"), "title"),
    (CREATED, "title twice in one language", _set("title", [describe("en", "a"), describe("en", "b")]), "_schema"),
    (CREATED, "title empty", _set("title", []), "title"),
    (CREATED, "sha256 uppercase", _set("title.0.sha256", "AB" * 32), "title"),
    (CREATED, "length negative", _set("title.0.length", -1), "title"),
    (CREATED, "one option", _set("options", [_option("bikes")]), "options"),
    (CREATED, "options unsorted", _set("options", [_option("parks"), _option("bikes")]), "_schema"),
    (CREATED, "option id uppercase", _set("options.0.option_id", "Bikes"), "options"),
    (CREATED, "option id 41", _set("options.0.option_id", "b" * 41), "options"),
    (CREATED, "method unknown kind", _set("method", {"kind": "plurality"}), "method"),
    (CREATED, "method spec spelling", _set("method", {"method": "approval", "min": 1, "max": 2}), "method"),
    (CREATED, "approval max above options", _set("method", {"kind": "approval", "min": 1, "max": 3}), "method"),
    (CREATED, "closes before opens", _set("closes_at", "2027-03-14T09:00:00.000Z"), "closes_at"),
    (CREATED, "opens_at without ms", _set("opens_at", "2027-03-14T10:00:00Z"), "opens_at"),
    (CREATED, "k above n", _set("sealing.k", 4), "sealing"),
    (CREATED, "share_hashes not n", _set("sealing.share_hashes", ["01" * 32]), "sealing"),
    (CREATED, "share_hashes repeated", _set("sealing.share_hashes", ["01" * 32] * 3), "sealing"),
    (CREATED, "public key short", _set("sealing.public_key", "ab" * 31), "sealing"),
    (OPENED, "roll empty", _set("roll.count", 0), "roll"),
    (OPENED, "credential key of 1024 bits", _set("credential_key", SMALL_KEY), "credential_key"),
    (OPENED, "credential key not base64", _set("credential_key", "not a key"), "credential_key"),
    ("ballot.credential.issued", "no pseudonym", lambda p: p.pop("pseudonym"), "pseudonym"),
    (CAST, "batch not a uuid", _set("batch", "batch-1"), "batch"),
    (CAST, "nullifier short", _set("nullifier", "ab"), "nullifier"),
    (CAST, "token 31 bytes", _set("credential.token", "ab" * 31), "credential"),
    (CAST, "signature urlsafe", _set("credential.signature", SIG.replace("A", "-", 1)), "credential"),
    (CAST, "signature unpadded", _set("credential.signature", base64.b64encode(bytes(257)).decode().rstrip("=")),
     "credential"),
    (CAST, "sealed too long", _set("sealed", base64.b64encode(bytes(32 + 16 + 16 * 256 + 1)).decode()), "sealed"),
    (CAST, "sealed too short", _set("sealed", base64.b64encode(bytes(48)).decode()), "sealed"),
    ("ballot.ballot.closed", "early as 1", _set("early", 1), "early"),
    ("ballot.ballot.closed", "closed_at date", _set("closed_at", "2027-03-14"), "closed_at"),
    ("ballot.key.revealed", "private key base64", _set("private_key", base64.b64encode(bytes(32)).decode()),
     "private_key"),
    ("ballot.tally.published", "result a list", _set("result", [1, 2]), "result"),
    ("ballot.tally.published", "counted negative", _set("counted", -1), "counted"),
]


@pytest.mark.parametrize(("event_type", "change", "field"), [(t, c, f) for t, _, c, f in VIOLATIONS],
                         ids=[f"{t}:{name}" for t, name, _, _ in VIOLATIONS])
def test_field_violation_is_refused_and_named(event_type, change, field):
    payload = _good(event_type)
    change(payload)
    assert set(_refused(event_type, payload).fields) == {field}


@pytest.mark.parametrize("method", [
    {"kind": "approval", "min": 0, "max": 2}, {"kind": "cumulative", "dots": 5, "max_per_option": 2},
    {"kind": "score", "max": 10}, {"kind": "schulze"},
])
def test_every_method_kind_of_the_contract_is_accepted(method):
    CATALOG.validate(CREATED, {**_good(CREATED), "method": method})


def test_one_language_and_a_french_text_are_accepted():
    CATALOG.validate(CREATED, {**_good(CREATED), "title": [describe("fr", "Quoi d'abord ?")]})
