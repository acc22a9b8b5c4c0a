"""``g1000_proofs.jcs``: RFC 8785 canonical JSON for the float-free subset our events use.

The verifier cannot depend on the ``rfc8785`` package (it must run on the standard library plus
``cryptography``), so it re-implements JCS for float-free values.  These tests hold it to:

* byte-identity with ``rfc8785.dumps`` (the library the services sign with) on random float-free
  JSON values, stressing the places JCS is subtle: UTF-16 member ordering with non-BMP names,
  control characters, ``"`` and ``\\``, U+007F, U+2028/U+2029;
* the RFC 8785 §3.2.3 property-sorting example, transcribed from the RFC;
* the §3.2.2.2 string escaping rule, character by character;
* refusal (``CanonicalJSONError``, a ``ValueError`` and a ``ProofError``) of floats, integers
  outside ±(2**53-1), lone surrogates and non-JSON values;
* the golden signed envelopes: recomputed bytes and signatures match the pinned vectors.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from enum import IntEnum
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs.errors import ProofError
from g1000_proofs.jcs import MAX_SAFE_INTEGER, CanonicalJSONError, dumps, dumps_with_and_without

FAST = settings(max_examples=400, deadline=None, database=None)

INTERESTING = (
    [chr(c) for c in range(0x20)]
    + ['"', "\\", "/", "\x7f", "\x80", "\u00f6", "\u20ac", "\u2028", "\u2029", "\ud7ff",
       "\ue000", "\ufb33", "\ufeff", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff", "a", "1"]
)
characters = st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(INTERESTING))
strings = st.text(alphabet=characters, max_size=12)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    st.sampled_from([0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 2**31, -(2**31)]), strings,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(strings, inner, max_size=6)),
    max_leaves=30,
)


@FAST
@given(json_values)
def test_byte_identical_to_rfc8785_on_float_free_values(value):
    assert dumps(value) == rfc8785.dumps(value)


@FAST
@given(st.dictionaries(strings, json_values, max_size=8), strings)
def test_with_and_without_is_two_dumps(obj, name):
    whole, without = dumps_with_and_without(obj, name)
    assert whole == rfc8785.dumps(obj)
    assert without == rfc8785.dumps({k: v for k, v in obj.items() if k != name})


ascii_names = st.text(alphabet=st.characters(max_codepoint=0x7f), max_size=6)


@FAST
@given(st.dictionaries(ascii_names, json_values, min_size=1, max_size=10), st.data())
def test_with_and_without_splices_any_member_of_an_ascii_keyed_object(obj, data):
    name = data.draw(st.sampled_from(sorted(obj)))
    whole, without = dumps_with_and_without(obj, name)
    assert whole == rfc8785.dumps(obj)
    assert without == rfc8785.dumps({k: v for k, v in obj.items() if k != name})


@FAST
@given(st.dictionaries(st.text(alphabet=st.sampled_from(["\ue000", "\uffff", "\U00010000",
                                                          "\U0001f600", "a", "\ufb33"]),
                               min_size=1, max_size=3), st.integers(0, 9), min_size=2, max_size=8))
def test_member_order_is_utf16_code_units(obj):
    parsed = json.loads(dumps(obj), object_pairs_hook=lambda pairs: [k for k, _ in pairs])
    assert parsed == sorted(obj, key=lambda k: k.encode("utf-16-be"))


# RFC 8785 §3.2.3, "Sorting of Object Properties": the input and the order the RFC prints.
RFC_SORTING_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""
RFC_SORTING_ORDER = [
    "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
    "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
]


def test_rfc8785_section_3_2_3_sorting_example():
    value = json.loads(RFC_SORTING_INPUT)
    out = dumps(value)
    values = list(json.loads(out, object_pairs_hook=lambda pairs: [v for _, v in pairs]))
    assert values == RFC_SORTING_ORDER
    expected = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
                '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
                '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')
    assert out == expected.encode("utf-8")


SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


@pytest.mark.parametrize("code", range(0x20))
def test_control_characters_escape_as_rfc8785_section_3_2_2_2(code):
    char = chr(code)
    expected = SHORT_ESCAPES.get(char, f"\\u{code:04x}")
    assert dumps(char) == f'"{expected}"'.encode("ascii")


@pytest.mark.parametrize("char, written", [
    ('"', '\\"'), ("\\", "\\\\"), ("/", "/"), ("\x7f", "\x7f"), ("\u2028", "\u2028"),
    ("\u2029", "\u2029"), ("\U0001f600", "\U0001f600"), ("é", "é"),
])
def test_only_quote_backslash_and_controls_are_escaped(char, written):
    assert dumps(char) == f'"{written}"'.encode("utf-8")


def test_scalars_and_layout():
    assert dumps(None) == b"null"
    assert dumps(True) == b"true" and dumps(False) == b"false"
    assert dumps(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    assert dumps({"b": [1, {"d": None, "c": []}], "a": {}}) == b'{"a":{},"b":[1,{"c":[],"d":null}]}'
    assert dumps((1, "x")) == b'[1,"x"]'


def test_subclasses_of_json_types_are_written_as_their_base_type():
    class Level(IntEnum):
        HIGH = 3

    class Name(str):
        pass

    value = OrderedDict([(Name("z"), Level.HIGH), ("a", [Name("s")])])
    assert dumps(value) == b'{"a":["s"],"z":3}'


@pytest.mark.parametrize("value", [
    1.5, 0.0, -0.0, float("nan"), float("inf"), [1, 2.0], {"a": {"b": 1e3}},
    MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**64, {"n": [2**53]},
    "\ud800", "a\udfffb", {"\udc00": 1}, ["ok", "\ud83d"],
    {1: "int key"}, {None: 1}, b"bytes", {1, 2}, object(), [1j],
])
def test_values_outside_the_float_free_subset_are_refused(value):
    with pytest.raises(CanonicalJSONError) as caught:
        dumps(value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ProofError)


def test_with_and_without_refuses_non_objects_and_floats():
    with pytest.raises(CanonicalJSONError):
        dumps_with_and_without([1], "sig")
    with pytest.raises(CanonicalJSONError):
        dumps_with_and_without({"sig": "x", "f": 0.5}, "sig")
    assert dumps_with_and_without({"a": 1}, "sig") == (b'{"a":1}', b'{"a":1}')


GOLDEN = json.loads((Path(__file__).parents[1] / "core" / "golden" / "envelopes.json").read_text("utf-8"))


@pytest.mark.parametrize("golden", GOLDEN["events"], ids=[g["name"] for g in GOLDEN["events"]])
def test_golden_envelopes_recompute_byte_for_byte(golden):
    body = golden["body"].encode("utf-8")
    event = json.loads(body)
    whole, signed = dumps_with_and_without(event, "sig")
    assert whole == body
    assert signed == golden["signed"].encode("utf-8")
    public = bytes.fromhex(GOLDEN["keys"][golden["stream"]]["public_key_hex"])
    Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(golden["sig"]), signed)
