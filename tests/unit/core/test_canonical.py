"""RFC 8785 (JCS) conformance of the canonical bytes every signature in the system is made over.

Events are signed over their canonical JSON (docs/architecture.md §3), so producers, the ledger and outside
auditors must derive *identical* bytes. This file pins two layers:

1. ``rfc8785.dumps`` as we use it, against the RFC's own published vectors: the §3.2.2 sample and
   its §3.2.3 canonical form / §3.2.4 UTF-8 bytes, the §3.2.3 property-sorting example (UTF-16
   code-unit order, where an astral emoji sorts *before* U+FB33), and the Appendix B number
   serialisation table. The expected values are transcribed from the RFC, never produced by the
   library under test, so a library upgrade that changes a byte fails here first.
2. Our wrapper ``services.core.canonical``: its project rules on top of JCS (no floats anywhere,
   integers only within ±(2**53-1), string keys, JSON types only) and ``parse_json_object``'s strict
   parsing (no duplicate keys, UTF-8 only, objects only), plus a Hypothesis property that canonical
   bytes are a fixed point of parse-then-canonicalise and that member order is UTF-16 sorted.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from services.core.canonical import MAX_SAFE_INTEGER, canonical_bytes, parse_json_object
from services.core.errors import CanonicalizationError

FAST = settings(max_examples=200, deadline=None, database=None)

# --------------------------------------------------------------------------------------------
# RFC 8785 §3.2.2 / §3.2.3 / §3.2.4: the sample object
# --------------------------------------------------------------------------------------------

# The JSON *text* of §3.2.2, verbatim (a raw string, so every JSON escape reaches the parser).
RFC_SAMPLE_TEXT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""

# Its canonical form as printed in §3.2.3 (the RFC writes the euro sign as a raw character).
# Raw triple-quoted string: each backslash below is one byte of the canonical output.
RFC_SAMPLE_CANONICAL = (
    r"""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"""
    r""""string":"€$\u000f\nA'B\"\\\\\"/"}"""
).encode("utf-8")

# The same result as the UTF-8 bytes listed in §3.2.4 (an independent transcription of the
# expected output, so a mistake in the escaping of the literal above cannot go unnoticed).
RFC_SAMPLE_UTF8_HEX = """
    7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
    75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
    5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
    65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
    5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
    30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
"""


def test_rfc_sample_literal_and_utf8_bytes_agree():
    """Guard on the test data itself: the §3.2.3 literal and the §3.2.4 bytes are the same."""
    assert bytes.fromhex(RFC_SAMPLE_UTF8_HEX) == RFC_SAMPLE_CANONICAL


def test_rfc_sample_string_value_parses_as_the_rfc_describes():
    """The parsed string is € $ U+000F LF A ' B " \\ \\ " / (so the escaping of the input is right)."""
    value = json.loads(RFC_SAMPLE_TEXT)["string"]
    assert value == "\u20ac$\x0f\nA'B\"\\\\\"/"
    assert len(value) == 12


def test_rfc_8785_section_3_2_2_sample_canonicalises_exactly():
    assert rfc8785.dumps(json.loads(RFC_SAMPLE_TEXT)) == RFC_SAMPLE_CANONICAL


def test_rfc_sample_is_a_fixed_point():
    """Canonicalising the canonical form again changes nothing."""
    assert rfc8785.dumps(json.loads(RFC_SAMPLE_CANONICAL)) == RFC_SAMPLE_CANONICAL


def test_our_wrapper_refuses_the_rfc_sample_because_it_holds_floats():
    """The RFC sample is valid JCS but not a valid *event* value: our project rule bans floats."""
    with pytest.raises(CanonicalizationError, match=r"\$\.numbers\[0\].*floating-point"):
        canonical_bytes(json.loads(RFC_SAMPLE_TEXT))


def test_our_wrapper_matches_the_rfc_sample_without_its_numbers():
    """On the float-free part of the sample our wrapper yields the RFC's bytes unchanged."""
    value = json.loads(RFC_SAMPLE_TEXT)
    del value["numbers"]
    expected = RFC_SAMPLE_CANONICAL.replace(
        b'"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],', b""
    )
    assert canonical_bytes(value) == expected


# --------------------------------------------------------------------------------------------
# RFC 8785 §3.2.3: sorting of object properties by UTF-16 code units
# --------------------------------------------------------------------------------------------

RFC_SORTING_INPUT = {
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\U0001f600": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis",
}

RFC_SORTED_KEYS = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_rfc_sorting_example_uses_utf16_code_unit_order():
    out = rfc8785.dumps(RFC_SORTING_INPUT)
    keys = list(json.loads(out, object_pairs_hook=lambda pairs: [k for k, _ in pairs]))
    assert keys == RFC_SORTED_KEYS
    # Exact bytes: only \r is escaped; U+0080 and everything above is emitted as raw UTF-8.
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode("utf-8")
    assert out == expected
    assert canonical_bytes(RFC_SORTING_INPUT) == expected


def test_rfc_sorting_example_differs_from_code_point_and_utf8_order():
    """The example is discriminating: sorting by code point (or UTF-8) puts U+FB33 first."""
    assert sorted(RFC_SORTING_INPUT) != RFC_SORTED_KEYS
    assert sorted(RFC_SORTING_INPUT, key=lambda k: k.encode("utf-8")) != RFC_SORTED_KEYS
    assert sorted(RFC_SORTING_INPUT, key=lambda k: k.encode("utf-16-be")) == RFC_SORTED_KEYS


def test_sorting_is_recursive_and_array_order_is_kept():
    value = {"b": [{"z": 1, "a": 2}, {"y": 3, "c": 4}], "a": {"d": None, "c": True}}
    assert canonical_bytes(value) == b'{"a":{"c":true,"d":null},"b":[{"a":2,"z":1},{"c":4,"y":3}]}'


# --------------------------------------------------------------------------------------------
# RFC 8785 Appendix B: ECMAScript-compatible number serialisation samples
# --------------------------------------------------------------------------------------------

# (IEEE 754 binary64 as big-endian hex, JSON representation), all finite rows of Appendix B.
RFC_APPENDIX_B = [
    ("0000000000000000", "0"),  # Zero
    ("8000000000000000", "0"),  # Minus zero
    ("0000000000000001", "5e-324"),  # Min pos number
    ("8000000000000001", "-5e-324"),  # Min neg number
    ("7fefffffffffffff", "1.7976931348623157e+308"),  # Max pos number
    ("ffefffffffffffff", "-1.7976931348623157e+308"),  # Max neg number
    ("4340000000000000", "9007199254740992"),  # Max pos int (1)
    ("c340000000000000", "-9007199254740992"),  # Max neg int (1)
    ("4430000000000000", "295147905179352830000"),  # ~2**68 (2)
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),  # Round to even (4)
]

# Appendix B rows whose JSON representation is empty: "Values out of range are not permitted".
RFC_APPENDIX_B_INVALID = [
    ("7fffffffffffffff", "NaN"),
    ("7ff0000000000000", "Infinity"),
]


def _double(hex_bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(hex_bits))[0]


@pytest.mark.parametrize(("hex_bits", "expected"), RFC_APPENDIX_B, ids=[h for h, _ in RFC_APPENDIX_B])
def test_rfc_appendix_b_number_serialisation(hex_bits, expected):
    value = _double(hex_bits)
    assert rfc8785.dumps(value) == expected.encode("ascii")
    # Sanity on the transcription: each RFC string reads back as the very same double.
    assert float(expected) == value


def test_rfc_appendix_b_minus_zero_loses_its_sign():
    assert math.copysign(1.0, _double("8000000000000000")) == -1.0
    assert rfc8785.dumps(_double("8000000000000000")) == b"0"


@pytest.mark.parametrize(("hex_bits", "name"), RFC_APPENDIX_B_INVALID, ids=[n for _, n in RFC_APPENDIX_B_INVALID])
def test_rfc_appendix_b_out_of_range_values_are_refused(hex_bits, name):
    value = _double(hex_bits)
    assert not math.isfinite(value)
    with pytest.raises(rfc8785.FloatDomainError):
        rfc8785.dumps(value)
    with pytest.raises(rfc8785.FloatDomainError):
        rfc8785.dumps(-value)


# --------------------------------------------------------------------------------------------
# Our wrapper: canonical_bytes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (1.5, r"^\$: floating"),
        (1.0, r"^\$: floating"),
        ({"a": 0.5}, r"^\$\.a: floating"),
        ([1, 2, 3.0], r"^\$\[2\]: floating"),
        ({"a": [{"b": {"c": [0, -2.5]}}]}, r"^\$\.a\[0\]\.b\.c\[1\]: floating"),
        ((1, (2, 1e300)), r"^\$\[1\]\[1\]: floating"),
    ],
)
def test_floats_are_rejected_anywhere_with_their_path(value, where):
    with pytest.raises(CanonicalizationError, match=where):
        canonical_bytes(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_rejected(value):
    with pytest.raises(CanonicalizationError):
        canonical_bytes(value)
    with pytest.raises(CanonicalizationError):
        canonical_bytes({"x": [value]})


@pytest.mark.parametrize("value", [MAX_SAFE_INTEGER + 1, -(MAX_SAFE_INTEGER + 1), 2**64, -(2**63), 10**30])
def test_integers_outside_the_safe_range_are_rejected(value):
    with pytest.raises(CanonicalizationError, match="outside the safe range"):
        canonical_bytes(value)
    with pytest.raises(CanonicalizationError, match=r"\$\.n\[0\]"):
        canonical_bytes({"n": [value]})


def test_boundary_integers_are_accepted_and_written_exactly():
    assert MAX_SAFE_INTEGER == 9007199254740991
    assert canonical_bytes(MAX_SAFE_INTEGER) == b"9007199254740991"
    assert canonical_bytes(-MAX_SAFE_INTEGER) == b"-9007199254740991"
    assert canonical_bytes({"a": [0, -1, MAX_SAFE_INTEGER]}) == b'{"a":[0,-1,9007199254740991]}'


def test_literals_are_written_as_json_literals():
    """bool is an int subclass in Python; it must still come out as true/false, not 1/0."""
    assert canonical_bytes([True, False, None]) == b"[true,false,null]"


@pytest.mark.parametrize("key", [1, None, True, 1.5, (1, 2), b"k"])
def test_non_string_keys_are_rejected(key):
    with pytest.raises(CanonicalizationError, match="is not a string"):
        canonical_bytes({key: 1})
    with pytest.raises(CanonicalizationError, match=r"^\$\.outer: object key"):
        canonical_bytes({"outer": {key: 1}})


@pytest.mark.parametrize(
    "value",
    [
        {1, 2},
        b"bytes",
        bytearray(b"x"),
        decimal.Decimal("1"),
        datetime.date(2027, 3, 14),
        object(),
        frozenset(),
        complex(1, 2),
    ],
    ids=lambda v: type(v).__name__,
)
def test_non_json_types_are_rejected(value):
    with pytest.raises(CanonicalizationError, match="is not a JSON value"):
        canonical_bytes(value)
    with pytest.raises(CanonicalizationError, match=r"^\$\.a\[0\]: "):
        canonical_bytes({"a": [value]})


def test_string_escaping_is_minimal():
    """JCS escapes only ", \\ and U+0000..U+001F (\\b \\t \\n \\f \\r by name, others \\u00xx lowercase)."""
    value = "\"\\/\b\t\n\f\r\x00\x1f\x7f\u2028\u2029é😀"
    expected = '"\\"\\\\/\\b\\t\\n\\f\\r\\u0000\\u001f\x7f\u2028\u2029é😀"'.encode("utf-8")
    assert canonical_bytes(value) == expected


def test_no_whitespace_is_emitted():
    assert canonical_bytes({"a": [1, {"b": "c d"}], "e": {}}) == b'{"a":[1,{"b":"c d"}],"e":{}}'


def test_lone_surrogate_is_rejected_with_our_error():
    with pytest.raises(CanonicalizationError):
        canonical_bytes({"title": "\ud800"})


# --------------------------------------------------------------------------------------------
# Our wrapper: parse_json_object
# --------------------------------------------------------------------------------------------


def test_parse_json_object_returns_the_object():
    assert parse_json_object('{"a":[1,"é",{"b":null}]}'.encode()) == {"a": [1, "é", {"b": None}]}


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1,"a":1}',
        b'{"a":1,"b":2,"a":3}',
        b'{"x":{"k":1,"k":2}}',
        b'{"x":[{"k":1},{"k":1,"k":1}]}',
        '{"é":1,"\\u00e9":2}'.encode(),  # the same key, once raw and once escaped
    ],
)
def test_duplicate_keys_are_rejected(data):
    with pytest.raises(CanonicalizationError, match="duplicate key"):
        parse_json_object(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":"\xff"}',
        b'{"a":"\xc3"}',  # truncated two-byte sequence
        b'{"a":"\xed\xa0\x80"}',  # CESU-8 encoded surrogate
        '{"a":"é"}'.encode("latin-1"),
        '{"a":1}'.encode("utf-16"),
    ],
)
def test_invalid_utf8_is_rejected(data):
    with pytest.raises(CanonicalizationError, match="not valid UTF-8 JSON"):
        parse_json_object(data)


@pytest.mark.parametrize("data", [b"[]", b"[{}]", b'"s"', b"1", b"null", b"true"])
def test_non_objects_are_rejected(data):
    with pytest.raises(CanonicalizationError, match="not a JSON object"):
        parse_json_object(data)


@pytest.mark.parametrize("data", [b"", b"{", b'{"a":1,}', b"{'a':1}", b'{"a":1}{}', b'\xef\xbb\xbf{"a":1}'])
def test_malformed_json_is_rejected(data):
    with pytest.raises(CanonicalizationError):
        parse_json_object(data)


def test_deeply_nested_json_is_rejected_with_our_error():
    with pytest.raises(CanonicalizationError):
        parse_json_object(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


# --------------------------------------------------------------------------------------------
# Property: canonical bytes are a fixed point, and members are sorted by UTF-16 code units
# --------------------------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text(max_size=12)
)
_json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5),
    max_leaves=30,
)


def _key_orders(data: bytes) -> list[list[str]]:
    """Every object's member names, in the order they appear in the serialised bytes."""
    orders: list[list[str]] = []

    def hook(pairs):
        orders.append([k for k, _ in pairs])
        return dict(pairs)

    json.loads(data, object_pairs_hook=hook)
    return orders


@FAST
@given(_json_values)
def test_canonical_bytes_are_a_fixed_point(value):
    once = canonical_bytes(value)
    assert canonical_bytes(json.loads(once)) == once
    assert json.loads(once) == value


@settings(max_examples=100, deadline=None, database=None)
@given(st.dictionaries(st.text(max_size=6), _json_values, max_size=4))
def test_parse_json_object_round_trips_canonical_bytes(value):
    once = canonical_bytes(value)
    assert canonical_bytes(parse_json_object(once)) == once


@FAST
@given(_json_values)
def test_members_are_sorted_by_utf16_code_units(value):
    for names in _key_orders(canonical_bytes(value)):
        assert names == sorted(names, key=lambda k: k.encode("utf-16-be"))
        assert len(set(names)) == len(names)


@FAST
@given(st.dictionaries(st.text(max_size=6), st.integers(0, 9), min_size=2, max_size=8), st.randoms())
def test_member_order_of_the_input_does_not_matter(value, rnd):
    items = list(value.items())
    rnd.shuffle(items)
    assert canonical_bytes(dict(items)) == canonical_bytes(value)


# --- the C-accelerated path of canonical_bytes must equal rfc8785 byte for byte -----------------

_any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_tricky_keys = st.sampled_from(["a", "\r", "\u0080", "\u00f6", "\u20ac", "\ufb33", "\U0001f600", "1", ""])
_keys = st.one_of(_any_text, _tricky_keys)
_json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), _any_text),
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(_keys, children, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_json_values)
def test_fast_canonical_path_equals_rfc8785(value):
    assert canonical_bytes(value) == rfc8785.dumps(value)
