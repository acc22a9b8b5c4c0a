"""Golden vectors of the signed event envelope (docs/architecture.md §3), and strict verification.

`tests/unit/core/golden/envelopes.json` pins, for sample events signed with FIXED test keys, the
exact wire bytes (canonical JSON including `sig`), the signed bytes (canonical JSON without `sig`), the
base64 Ed25519 signature and the key id. Ed25519 is deterministic, so re-signing must reproduce the
file byte for byte: any change to canonicalisation, member names, the signing input or the key-id
derivation breaks these tests, and such a change breaks every signature already in the log.

The file is also checked *independently* of our helpers: the key id and public key are derived with
`cryptography` + `hashlib`, the canonical form is recomputed with the stdlib `json` module (for this
float-free, ASCII-keyed subset JCS equals `json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`), and the signature is checked with `cryptography` directly.

The second half pins what `verify_event` must refuse, each with the right VerificationError
subclass: every single-byte corruption, non-canonical re-serialisation, envelope shape errors, and
payloads that the catalogue does not accept.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.core.canonical import canonical_bytes
from services.core.envelope import FIELDS, parse_event, sign_event, verify_event
from services.core.errors import (
    CanonicalizationError,
    SchemaError,
    SignatureError,
    UnknownKeyError,
    VerificationError,
)
from services.core.event_catalog import CATALOG
from services.core.signing import Keyring, Signer, TrustedKey
from services.ledger.domain import charter_summit

GOLDEN_FILE = Path(__file__).parent / "golden" / "envelopes.json"

AGENDA_SEED = bytes(range(32))
LEDGER_SEED = bytes([0x42] * 32)

SUMMIT_ID = "5d3c2b1a-0f9e-4d8c-b7a6-958473625140"
VALID_FROM = "2027-03-14T08:00:00.000Z"
TOPIC_NON_ASCII = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TOPIC_ESCAPES = "3f2504e0-4f89-41d3-9a0c-0305e82c3302"

ESCAPES_TITLE = 'Zeg "nee" tegen \\ en /'
ESCAPES_DESCRIPTION = "regel 1\nregel 2\u2028regel 3\teind\u001f"


def _signers() -> dict[str, Signer]:
    return {"agenda": Signer.from_seed(AGENDA_SEED), "ledger": Signer.from_seed(LEDGER_SEED)}


def build_events() -> list[tuple[str, object]]:
    """The golden events, built by the code under test with fixed ids and times."""
    signers = _signers()
    charter = charter_summit(
        theme="Hoe houden we onze stad leefbaar?",
        municipality="Amersfoort",
        day=date(2027, 3, 14),
        seats={"organisers": 50, "citizens": 800, "experts": 150},
        features={"age_band": ["16-29", "30-59", "60+"]},
        service_keys={"ledger": signers["ledger"].public_key, "agenda": signers["agenda"].public_key},
        valid_from=VALID_FROM,
    )
    # The vectors' charter is payload v1, as every log written before charter v2 (issue 10 H1)
    # begins: the golden bytes stay as they were checked by hand; charter_summit writes v2 now.
    assert charter[0].payload["v"] == 2
    v1 = {k: v for k, v in charter[0].payload.items() if k != "register"} | {"v": 1}
    charter[0] = replace(charter[0], payload=v1)
    names = ["ledger.summit.created", "ledger.key.registered.agenda", "ledger.key.registered.ledger"]
    assert [e.type for e in charter] == ["ledger.summit.created", "ledger.key.registered", "ledger.key.registered"]
    events = []
    for seq, (name, new) in enumerate(zip(names, charter, strict=True), start=1):
        events.append((name, sign_event(
            signers["ledger"], type=new.type, summit_id=SUMMIT_ID, stream="ledger", seq=seq,
            payload=new.payload, event_id=f"0b9a6d4e-8f21-4c3a-9d5e-7a1b2c3d4e5{seq}",
            occurred_at=f"2027-03-14T09:00:00.00{seq}Z",
        )))
    events.append(("agenda.topic.nominated.non_ascii", sign_event(
        signers["agenda"], type="agenda.topic.nominated", summit_id=SUMMIT_ID, stream="agenda", seq=1,
        payload={"v": 1, "topic_id": TOPIC_NON_ASCII, "title": "Veilig fietsen — één weg",
                 "description": "Ruimte voor fietsers én voetgangers op de Stadsring"},
        event_id="0b9a6d4e-8f21-4c3a-9d5e-7a1b2c3d4e61", occurred_at="2027-03-14T10:15:42.123Z",
    )))
    events.append(("agenda.topic.nominated.escapes", sign_event(
        signers["agenda"], type="agenda.topic.nominated", summit_id=SUMMIT_ID, stream="agenda", seq=2,
        payload={"v": 1, "topic_id": TOPIC_ESCAPES, "title": ESCAPES_TITLE, "description": ESCAPES_DESCRIPTION},
        event_id="0b9a6d4e-8f21-4c3a-9d5e-7a1b2c3d4e62", occurred_at="2027-03-14T10:16:00.999Z",
    )))
    return events


def render_golden() -> str:
    """The golden file's text (used once to create it; the tests compare against the file)."""
    signers = _signers()
    doc = {
        "description": "Golden signed envelopes (docs/architecture.md §3). Generated once by "
                       "tests/unit/core/test_envelope_golden.py:render_golden and checked by hand; "
                       "never regenerate to make a failing test pass.",
        "keys": {
            stream: {"seed_hex": s.seed().hex(), "public_key_hex": s.public_key.hex(), "key_id": s.key_id}
            for stream, s in signers.items()
        },
        "events": [
            {
                "name": name, "stream": e.stream, "key_id": e.key_id, "sig": e.sig,
                "signed": rfc8785.dumps({k: v for k, v in e.as_dict().items() if k != "sig"}).decode("utf-8"),
                "body": e.body.decode("utf-8"),
            }
            for name, e in build_events()
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


GOLDEN = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))
GOLDEN_EVENTS = GOLDEN["events"]
GOLDEN_IDS = [g["name"] for g in GOLDEN_EVENTS]


def _independent_public_key(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _stdlib_canonical(obj) -> bytes:
    """JCS for the float-free, ASCII-keyed values of these vectors, without our code or rfc8785."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _keyring() -> Keyring:
    return Keyring([TrustedKey(s.public_key, stream) for stream, s in _signers().items()])


def _seed_of(stream: str) -> bytes:
    return {"agenda": AGENDA_SEED, "ledger": LEDGER_SEED}[stream]


def _forge(unsigned: dict, stream_key: str = "agenda") -> bytes:
    """Sign `unsigned` as given (bypassing sign_event's own checks) and return canonical wire bytes."""
    private = Ed25519PrivateKey.from_private_bytes(_seed_of(stream_key))
    sig = base64.b64encode(private.sign(rfc8785.dumps(unsigned))).decode("ascii")
    return rfc8785.dumps({**unsigned, "sig": sig})


def _golden(name: str) -> dict:
    return next(g for g in GOLDEN_EVENTS if g["name"] == name)


def _unsigned(name: str) -> dict:
    obj = json.loads(_golden(name)["body"])
    del obj["sig"]
    return obj


# --------------------------------------------------------------------------------------------
# The golden file itself, checked independently of our helpers
# --------------------------------------------------------------------------------------------


def test_golden_file_holds_the_required_events():
    assert GOLDEN_IDS == [
        "ledger.summit.created",
        "ledger.key.registered.agenda",
        "ledger.key.registered.ledger",
        "agenda.topic.nominated.non_ascii",
        "agenda.topic.nominated.escapes",
    ]


@pytest.mark.parametrize("stream", ["agenda", "ledger"])
def test_golden_keys_are_derived_as_the_contract_says(stream):
    key = GOLDEN["keys"][stream]
    public = _independent_public_key(_seed_of(stream))
    assert key["seed_hex"] == _seed_of(stream).hex()
    assert key["public_key_hex"] == public.hex()
    assert key["key_id"] == hashlib.sha256(public).hexdigest()
    signer = _signers()[stream]
    assert (signer.public_key, signer.key_id) == (public, key["key_id"])


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_golden_body_is_canonical_per_architecture_section_3(golden):
    body = golden["body"].encode("utf-8")
    pairs = json.loads(body, object_pairs_hook=lambda p: p)
    names = [k for k, _ in pairs]
    assert names == sorted(FIELDS)  # every member, once, in sorted order
    obj = json.loads(body)
    assert obj["v"] == 1 and type(obj["v"]) is int
    assert obj["stream"] == golden["stream"] and obj["type"].split(".")[0] == golden["stream"]
    assert obj["key_id"] == golden["key_id"] == GOLDEN["keys"][golden["stream"]]["key_id"]
    assert obj["sig"] == golden["sig"]
    assert _stdlib_canonical(obj) == body  # no whitespace, sorted keys, minimal escaping
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    assert _stdlib_canonical(unsigned) == golden["signed"].encode("utf-8")


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_golden_signature_verifies_independently(golden):
    public = Ed25519PublicKey.from_public_bytes(_independent_public_key(_seed_of(golden["stream"])))
    sig = base64.b64decode(golden["sig"], validate=True)
    assert len(sig) == 64
    public.verify(sig, golden["signed"].encode("utf-8"))  # raises InvalidSignature on mismatch
    # ... and only over the body *without* sig
    with pytest.raises(InvalidSignature):
        public.verify(sig, golden["body"].encode("utf-8"))


def test_golden_escapes_event_holds_the_escapes_it_is_meant_to_pin():
    body = _golden("agenda.topic.nominated.escapes")["body"]
    assert '"title":"Zeg \\"nee\\" tegen \\\\ en /"' in body
    assert '"description":"regel 1\\nregel 2\u2028regel 3\\teind\\u001f"' in body
    assert "\\u2028" not in body  # JCS writes U+2028 raw
    body = _golden("agenda.topic.nominated.non_ascii")["body"]
    assert "Veilig fietsen — één weg" in body and "\\u" not in body


# --------------------------------------------------------------------------------------------
# Re-signing reproduces the file; verification accepts it
# --------------------------------------------------------------------------------------------


def test_resigning_reproduces_the_golden_file_byte_for_byte():
    built = build_events()
    assert [name for name, _ in built] == GOLDEN_IDS
    for (name, event), golden in zip(built, GOLDEN_EVENTS, strict=True):
        assert event.body == golden["body"].encode("utf-8"), name
        assert event.sig == golden["sig"], name
        assert event.key_id == golden["key_id"], name
    assert render_golden() == GOLDEN_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_verify_event_accepts_each_golden_body(golden):
    body = golden["body"].encode("utf-8")
    event = verify_event(body, _keyring(), CATALOG)
    obj = json.loads(body)
    assert event.body == body
    assert event.as_dict() == obj
    assert (event.stream, event.seq, event.key_id, event.sig) == (obj["stream"], obj["seq"], obj["key_id"], obj["sig"])


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_key_registered_for_another_stream_is_unknown(golden):
    own = golden["stream"]
    other = "agenda" if own == "ledger" else "ledger"
    keyring = Keyring([TrustedKey(_independent_public_key(_seed_of(own)), other)])
    with pytest.raises(UnknownKeyError) as info:
        verify_event(golden["body"].encode("utf-8"), keyring, CATALOG)
    assert info.value.event_id == json.loads(golden["body"])["event_id"]


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_empty_keyring_knows_no_key(golden):
    with pytest.raises(UnknownKeyError):
        verify_event(golden["body"].encode("utf-8"), Keyring(), CATALOG)


def test_key_of_the_other_service_does_not_verify():
    """An agenda event whose key_id is rewritten to the (registered) ledger key fails the signature."""
    unsigned = _unsigned("agenda.topic.nominated.non_ascii")
    sig = _golden("agenda.topic.nominated.non_ascii")["sig"]
    unsigned["key_id"] = GOLDEN["keys"]["ledger"]["key_id"]
    body = rfc8785.dumps({**unsigned, "sig": sig})
    keyring = Keyring([TrustedKey(_signers()["ledger"].public_key, "agenda")])
    with pytest.raises(SignatureError):
        verify_event(body, keyring, CATALOG)


# --------------------------------------------------------------------------------------------
# Corruption and non-canonical forms
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_no_single_byte_corruption_verifies(golden):
    body = golden["body"].encode("utf-8")
    keyring = _keyring()
    seen = set()
    for mask in (0x01, 0x20, 0x80):
        for i in range(len(body)):
            corrupt = bytearray(body)
            corrupt[i] ^= mask
            try:
                verify_event(bytes(corrupt), keyring, CATALOG)
            except VerificationError as e:
                seen.add(type(e))
            else:
                pytest.fail(f"corrupting byte {i} with {mask:#04x} still verifies: {bytes(corrupt)!r}")
    assert seen <= {SchemaError, SignatureError, UnknownKeyError}
    assert {SchemaError, SignatureError, UnknownKeyError} <= seen  # the loop reaches every check


@pytest.mark.parametrize("golden", GOLDEN_EVENTS, ids=GOLDEN_IDS)
def test_non_canonical_reserialisation_is_rejected(golden):
    obj = json.loads(golden["body"])
    keyring = _keyring()
    variants = [
        json.dumps(obj).encode("utf-8"),  # spaces after separators
        json.dumps(obj, sort_keys=True).encode("utf-8"),
        json.dumps(obj, sort_keys=True, indent=1).encode("utf-8"),
        json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),  # original order
        json.dumps(dict(reversed(list(obj.items()))), separators=(",", ":"), ensure_ascii=False).encode(),
        json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8"),
        golden["body"].encode("utf-8") + b"\n",
        b" " + golden["body"].encode("utf-8"),
        golden["body"].replace('"seq":', '"seq": ').encode("utf-8"),
        golden["body"].replace('"v":1}', '"v":1.0}').encode("utf-8"),
    ]
    distinct = {v for v in variants if v != golden["body"].encode("utf-8")}
    assert len(distinct) >= 7
    for variant in distinct:
        with pytest.raises(SchemaError):
            verify_event(variant, keyring, CATALOG)


def test_ensure_ascii_escaping_of_non_ascii_text_is_not_canonical():
    golden = _golden("agenda.topic.nominated.non_ascii")
    escaped = golden["body"].replace("é", "\\u00e9").encode("utf-8")
    assert escaped != golden["body"].encode("utf-8")
    assert json.loads(escaped) == json.loads(golden["body"])  # same value, different bytes
    with pytest.raises(SchemaError, match="canonical"):
        verify_event(escaped, _keyring(), CATALOG)


def test_duplicate_member_is_rejected():
    golden = _golden("agenda.topic.nominated.non_ascii")
    body = golden["body"].replace('{"event_id"', '{"event_id":"x","event_id"', 1).encode("utf-8")
    with pytest.raises(SchemaError, match="duplicate"):
        verify_event(body, _keyring(), CATALOG)


# --------------------------------------------------------------------------------------------
# Envelope shape: every member checked, with the right error class
# --------------------------------------------------------------------------------------------

BASE = "agenda.topic.nominated.non_ascii"


def _mutated(change) -> bytes:
    unsigned = copy.deepcopy(_unsigned(BASE))
    change(unsigned)
    return _forge(unsigned)


def _set(name, value):
    def change(obj):
        obj[name] = value
    return change


def _drop(name):
    def change(obj):
        del obj[name]
    return change


@pytest.mark.parametrize("member", [f for f in FIELDS if f != "sig"])
def test_missing_member_is_rejected(member):
    with pytest.raises(SchemaError, match="missing"):
        verify_event(_mutated(_drop(member)), _keyring(), CATALOG)


def test_missing_sig_is_rejected():
    body = rfc8785.dumps(_unsigned(BASE))
    with pytest.raises(SchemaError, match=r"missing \['sig'\]"):
        verify_event(body, _keyring(), CATALOG)


@pytest.mark.parametrize("extra", ["signature", "prev", "V", "payload_v"])
def test_extra_member_is_rejected(extra):
    with pytest.raises(SchemaError, match="unexpected"):
        verify_event(_mutated(_set(extra, 1)), _keyring(), CATALOG)


SHAPE_ERRORS = {
    "v=2": ("v", 2),
    "v=0": ("v", 0),
    "v=true": ("v", True),
    "v='1'": ("v", "1"),
    "v=null": ("v", None),
    "event_id not a uuid": ("event_id", "not-a-uuid"),
    "event_id uppercase": ("event_id", "0B9A6D4E-8F21-4C3A-9D5E-7A1B2C3D4E61"),
    "event_id braces": ("event_id", "{0b9a6d4e-8f21-4c3a-9d5e-7a1b2c3d4e61}"),
    "event_id urn": ("event_id", "urn:uuid:0b9a6d4e-8f21-4c3a-9d5e-7a1b2c3d4e61"),
    "event_id no hyphens": ("event_id", "0b9a6d4e8f214c3a9d5e7a1b2c3d4e61"),
    "event_id int": ("event_id", 1),
    "summit_id not a uuid": ("summit_id", "summit-1"),
    "summit_id uppercase": ("summit_id", SUMMIT_ID.upper()),
    "summit_id null": ("summit_id", None),
    "type of other stream": ("type", "ledger.summit.created"),
    "type two parts": ("type", "agenda.nominated"),
    "type four parts": ("type", "agenda.topic.nominated.again"),
    "type uppercase": ("type", "agenda.Topic.nominated"),
    "type empty": ("type", ""),
    "type not a string": ("type", ["agenda", "topic", "nominated"]),
    "stream of other type": ("stream", "ledger"),
    "stream uppercase": ("stream", "Agenda"),
    "seq 0": ("seq", 0),
    "seq negative": ("seq", -1),
    "seq true": ("seq", True),
    "seq false": ("seq", False),
    "seq string": ("seq", "1"),
    "seq null": ("seq", None),
    "occurred_at without millis": ("occurred_at", "2027-03-14T10:15:42Z"),
    "occurred_at micros": ("occurred_at", "2027-03-14T10:15:42.123456Z"),
    "occurred_at offset": ("occurred_at", "2027-03-14T10:15:42.123+00:00"),
    "occurred_at lowercase z": ("occurred_at", "2027-03-14T10:15:42.123z"),
    "occurred_at space": ("occurred_at", "2027-03-14 10:15:42.123Z"),
    "occurred_at no zone": ("occurred_at", "2027-03-14T10:15:42.123"),
    "occurred_at date only": ("occurred_at", "2027-03-14"),
    "occurred_at epoch": ("occurred_at", 1805018142123),
    "occurred_at empty": ("occurred_at", ""),
    "payload list": ("payload", [1]),
    "payload string": ("payload", "{}"),
    "payload null": ("payload", None),
    "key_id uppercase": ("key_id", "D" * 64),
    "key_id short": ("key_id", "d" * 63),
    "key_id int": ("key_id", 7),
}


@pytest.mark.parametrize(("member", "value"), list(SHAPE_ERRORS.values()), ids=list(SHAPE_ERRORS))
def test_envelope_shape_errors_are_schema_errors(member, value):
    with pytest.raises(SchemaError):
        verify_event(_mutated(_set(member, value)), _keyring(), CATALOG)


def test_schema_error_carries_the_event_id():
    with pytest.raises(SchemaError) as info:
        verify_event(_mutated(_set("seq", 0)), _keyring(), CATALOG)
    assert info.value.event_id == _unsigned(BASE)["event_id"]


@pytest.mark.parametrize("sig", ["!!!!", "not base64 at all", "YWJ", "YW\nJj", "YWJj-_=="])
def test_sig_that_is_not_base64_is_a_schema_error(sig):
    body = rfc8785.dumps({**_unsigned(BASE), "sig": sig})
    with pytest.raises(SchemaError, match="base64"):
        verify_event(body, _keyring(), CATALOG)


def test_empty_sig_is_a_signature_error():
    body = rfc8785.dumps({**_unsigned(BASE), "sig": ""})
    with pytest.raises(SignatureError):
        verify_event(body, _keyring(), CATALOG)


def test_sig_that_is_not_a_string_is_a_schema_error():
    body = rfc8785.dumps({**_unsigned(BASE), "sig": 12345})
    with pytest.raises(SchemaError, match="sig"):
        verify_event(body, _keyring(), CATALOG)


def test_sig_with_invalid_base64_characters_is_a_schema_error():
    sig = _golden(BASE)["sig"]
    body = rfc8785.dumps({**_unsigned(BASE), "sig": sig[:10] + "*" + sig[11:]})
    with pytest.raises(SchemaError, match="base64"):
        verify_event(body, _keyring(), CATALOG)


def test_signature_of_another_event_is_a_signature_error():
    other_sig = _golden("agenda.topic.nominated.escapes")["sig"]
    body = rfc8785.dumps({**_unsigned(BASE), "sig": other_sig})
    with pytest.raises(SignatureError):
        verify_event(body, _keyring(), CATALOG)


def test_truncated_signature_is_a_signature_error():
    sig = base64.b64decode(_golden(BASE)["sig"])[:63]
    body = rfc8785.dumps({**_unsigned(BASE), "sig": base64.b64encode(sig).decode()})
    with pytest.raises(SignatureError):
        verify_event(body, _keyring(), CATALOG)


def test_unregistered_key_id_is_unknown():
    with pytest.raises(UnknownKeyError):
        verify_event(_mutated(_set("key_id", "ab" * 32)), _keyring(), CATALOG)


def test_seq_is_not_limited_to_small_numbers():
    body = _mutated(_set("seq", 2**53 - 1))
    assert verify_event(body, _keyring(), CATALOG).seq == 2**53 - 1


# --------------------------------------------------------------------------------------------
# Payloads: floats, unknown types and versions, schema violations
# --------------------------------------------------------------------------------------------


def _with_payload(change) -> bytes:
    def apply(obj):
        change(obj["payload"])
    return _mutated(apply)


def test_float_in_the_payload_is_rejected():
    unsigned = _unsigned(BASE)
    unsigned["payload"]["weight"] = 0.5
    with pytest.raises(CanonicalizationError):
        canonical_bytes(unsigned)
    body = rfc8785.dumps({**unsigned, "sig": _golden(BASE)["sig"]})
    with pytest.raises(SchemaError, match="floating-point"):
        verify_event(body, _keyring(), CATALOG)


def test_float_with_integral_value_in_the_payload_is_rejected():
    """JSON `1.0` parses as a float: rejected, even though JCS would write it as `1`."""
    golden = _golden(BASE)
    body = golden["body"].replace('"v":1},', '"v":1.0},').encode("utf-8")
    assert body != golden["body"].encode("utf-8")
    with pytest.raises(SchemaError, match="floating-point"):
        verify_event(body, _keyring(), CATALOG)


def test_sign_event_refuses_a_float_payload():
    with pytest.raises(CanonicalizationError):
        sign_event(_signers()["agenda"], type="agenda.topic.nominated", summit_id=SUMMIT_ID, stream="agenda",
                   seq=1, payload={"v": 1, "score": 0.5})


def test_unknown_event_type_is_rejected_after_the_signature_checks_out():
    body = _mutated(_set("type", "agenda.topic.renamed"))
    with pytest.raises(SchemaError, match="unknown event type") as info:
        verify_event(body, _keyring(), CATALOG)
    assert info.value.event_id == _unsigned(BASE)["event_id"]


def test_unknown_payload_version_is_rejected():
    body = _with_payload(lambda p: p.update(v=9))   # v2 exists since issue 14 (docs/agenda.md)
    with pytest.raises(SchemaError, match="version 9"):
        verify_event(body, _keyring(), CATALOG)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(title=""), "title"),
        (lambda p: p.update(title="x" * 201), "title"),
        (lambda p: p.update(title=7), "title"),
        (lambda p: p.pop("title"), "title"),
        (lambda p: p.update(topic_id="not-a-uuid"), "topic_id"),
        (lambda p: p.update(description="x" * 2001), "description"),
        (lambda p: p.update(voter="Jan Jansen"), "voter"),
    ],
    ids=["empty title", "long title", "int title", "no title", "bad topic_id", "long description", "unknown member"],
)
def test_payload_schema_violations_are_schema_errors_with_fields(change, field):
    with pytest.raises(SchemaError) as info:
        verify_event(_with_payload(change), _keyring(), CATALOG)
    assert field in info.value.fields
    assert info.value.event_id == _unsigned(BASE)["event_id"]


@pytest.mark.parametrize(
    "change",
    [lambda p: p.pop("v"), lambda p: p.update(v=True), lambda p: p.update(v="1")],
    ids=["no v", "bool v", "string v"],
)
def test_payload_without_an_integer_version_is_rejected(change):
    with pytest.raises(SchemaError, match="schema version"):
        verify_event(_with_payload(change), _keyring(), CATALOG)


def test_forged_payload_with_a_valid_signature_verifies():
    """Control for the tests above: _forge itself produces bodies that verify when nothing is wrong."""
    body = _with_payload(lambda p: p.update(title="Andere titel"))
    assert verify_event(body, _keyring(), CATALOG).payload["title"] == "Andere titel"


def test_parse_event_does_not_check_the_signature_but_verify_does():
    golden = _golden(BASE)
    body = rfc8785.dumps({**_unsigned(BASE), "sig": _golden("agenda.topic.nominated.escapes")["sig"]})
    assert parse_event(body).sig != golden["sig"]
    with pytest.raises(SignatureError):
        verify_event(body, _keyring(), CATALOG)


# --------------------------------------------------------------------------------------------
# Regression tests for holes found and fixed (each once failed)
# --------------------------------------------------------------------------------------------


def test_signature_base64_with_nonzero_padding_bits_is_rejected():
    golden = _golden(BASE)
    sig = golden["sig"]
    assert len(sig) == 88 and sig.endswith("==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(sig[-3])
    assert last & 0x0F == 0  # canonical encoding: the 4 unused bits are zero
    twin = sig[:-3] + alphabet[last | 0x01] + "=="
    assert base64.b64decode(twin) == base64.b64decode(sig)  # same signature bytes...
    body = rfc8785.dumps({**_unsigned(BASE), "sig": twin})
    assert body != golden["body"].encode("utf-8")  # ...different wire bytes
    with pytest.raises(SchemaError):
        verify_event(body, _keyring(), CATALOG)


@pytest.mark.parametrize(
    "occurred_at",
    ["2027-03-14T10:15:42.123Z\n", "２０２７-03-14T10:15:42.123Z", "2027-13-45T25:61:61.000Z"],
    ids=["trailing newline", "fullwidth digits", "month 13"],
)
def test_occurred_at_must_be_a_real_rfc3339_utc_time(occurred_at):
    with pytest.raises(SchemaError):
        verify_event(_mutated(_set("occurred_at", occurred_at)), _keyring(), CATALOG)


def test_lone_surrogate_escape_is_a_schema_error():
    golden = _golden(BASE)
    body = golden["body"].replace('"title":"Veilig fietsen — één weg"', '"title":"\\ud800"').encode("utf-8")
    assert body != golden["body"].encode("utf-8")
    with pytest.raises(SchemaError):
        verify_event(body, _keyring(), CATALOG)


def test_deeply_nested_body_is_a_schema_error():
    golden = _golden(BASE)
    nested = "[" * 50_000 + "]" * 50_000
    body = golden["body"].replace('"title":"Veilig fietsen — één weg"', f'"title":{nested}').encode("utf-8")
    with pytest.raises(SchemaError):
        verify_event(body, _keyring(), CATALOG)
