"""Signed stream heads (issue 10 Build 7): the encoding, its signature and the lag rule.

Golden vector: RFC 8032 Ed25519 is deterministic, so a fixed seed and a fixed head give fixed
signed bytes and a fixed signature; any change to the encoding shows here first.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from g1000_proofs.heads import (
    HeadError, StreamHead, head_signing_bytes, lag, parse_head, sign_head, verify_head,
)

SUMMIT = "0b6f8a52-7c1e-4f3a-9d2b-5e8c1a4f7d30"
SEED = bytes(range(32))
PUBLIC = bytes.fromhex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
KEY_ID = "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"
SIGNED_BYTES = (b'g1000-stream-head/v1\n{"key_id":"' + KEY_ID.encode() + b'","last_seq":42,"stream":"lottery",'
                b'"summit_id":"0b6f8a52-7c1e-4f3a-9d2b-5e8c1a4f7d30","time":"2026-12-04T01:30:00.000Z","v":1}')
SIG = "47GiBxjpcxWOOrLk6I5mwhalPvJB6QUH82M06Mk2t7eSDAT/gSo1Z2HtDlcwIn6+A8fQdL6b3A7C9avWaUJnAA=="
GOLDEN = {"v": 1, "summit_id": SUMMIT, "stream": "lottery", "last_seq": 42, "time": "2026-12-04T01:30:00.000Z",
          "key_id": KEY_ID, "sig": SIG}
KEYS = {KEY_ID: ("lottery", PUBLIC)}


def _key():
    return Ed25519PrivateKey.from_private_bytes(SEED)


def test_golden_vector_bytes_and_signature():
    key = _key()
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert public == PUBLIC and hashlib.sha256(public).hexdigest() == KEY_ID
    assert head_signing_bytes(summit_id=SUMMIT, stream="lottery", last_seq=42,
                              time="2026-12-04T01:30:00.000Z", key_id=KEY_ID) == SIGNED_BYTES
    assert sign_head(key.sign, KEY_ID, summit_id=SUMMIT, stream="lottery", last_seq=42,
                     time="2026-12-04T01:30:00.000Z") == GOLDEN
    assert verify_head(GOLDEN, KEYS, SUMMIT) == StreamHead(SUMMIT, "lottery", 42, "2026-12-04T01:30:00.000Z",
                                                          KEY_ID, SIG)


def test_the_signature_is_domain_separated_from_events():
    """The same key signs events (bare JCS); a head's signed bytes never start like an event's."""
    assert SIGNED_BYTES.startswith(b"g1000-stream-head/v1\n") and not SIGNED_BYTES.startswith(b"{")
    unprefixed = _key().sign(SIGNED_BYTES[len(b"g1000-stream-head/v1\n"):])
    import base64
    forged = dict(GOLDEN, sig=base64.b64encode(unprefixed).decode())
    with pytest.raises(HeadError, match="does not verify"):
        verify_head(forged, KEYS, SUMMIT)


@pytest.mark.parametrize("change, reason", [
    ({"last_seq": 43}, "does not verify"),
    ({"time": "2026-12-04T01:30:00.001Z"}, "does not verify"),
    ({"stream": "agenda"}, "registers for stream 'lottery'"),
    ({"key_id": "0" * 64}, "does not register"),
    ({"summit_id": "1b6f8a52-7c1e-4f3a-9d2b-5e8c1a4f7d30"}, "not 0b6f8a52"),
    ({"sig": "not base64!"}, "not base64"),
    ({"sig": "AAAA"}, "not 64 bytes"),
    ({"last_seq": -1}, "0..2\\*\\*53-1"),
    ({"last_seq": True}, "not an integer"),
    ({"last_seq": 2**53}, "0..2\\*\\*53-1"),
    ({"v": 2}, "version"),
    ({"extra": 1}, "unexpected \\['extra'\\]"),
    ({"time": "2026-12-04 01:30:00"}, "time"),
])
def test_a_changed_or_malformed_head_is_refused(change, reason):
    with pytest.raises(HeadError, match=reason):
        verify_head(dict(GOLDEN, **change), KEYS, SUMMIT)


def test_a_missing_member_is_refused():
    with pytest.raises(HeadError, match="missing \\['sig'\\]"):
        parse_head({k: v for k, v in GOLDEN.items() if k != "sig"})
    with pytest.raises(HeadError, match="JSON object"):
        parse_head([GOLDEN])


def test_lag_names_streams_without_a_head():
    result = lag({"lottery": 10, "agenda": 3}, {"lottery": 7, "agenda": 3, "ledger": 5},
                 streams=["ledger", "lottery", "agenda"])
    assert {s: (r.head_seq, r.logged_seq, r.behind, r.complete) for s, r in result.items()} == {
        "agenda": (3, 3, 0, True), "ledger": (None, 5, 0, False), "lottery": (10, 7, 3, False)}


def test_lag_of_verified_heads_takes_each_streams_head():
    heads = [parse_head(GOLDEN)]
    assert lag(heads, {"lottery": 40})["lottery"].as_dict() == {
        "stream": "lottery", "head_seq": 42, "logged_seq": 40, "behind": 2}


_STREAMS = st.sampled_from(["ledger", "lottery", "agenda", "ballot"])
_SEQ = st.integers(min_value=0, max_value=2**53 - 1)


@given(st.dictionaries(_STREAMS, _SEQ), st.dictionaries(_STREAMS, _SEQ))
def test_lag_properties(heads, logged):
    result = lag(heads, logged)
    assert set(result) == set(heads)
    for stream, row in result.items():
        assert row.behind >= 0
        assert row.behind == max(0, heads[stream] - logged.get(stream, 0))
        assert row.complete == (logged.get(stream, 0) >= heads[stream])
        # the log holding everything the head names is exactly "not behind"
        assert (row.behind == 0) == (row.logged_seq >= row.head_seq)


@given(st.dictionaries(_STREAMS, _SEQ), st.dictionaries(_STREAMS, _SEQ), st.dictionaries(_STREAMS, _SEQ))
def test_lag_never_grows_as_the_log_catches_up(heads, logged, more):
    later = {s: logged.get(s, 0) + more.get(s, 0) for s in set(logged) | set(more)}
    before, after = lag(heads, logged), lag(heads, later)
    assert all(after[s].behind <= before[s].behind for s in heads)


@given(_SEQ, st.sampled_from(["ledger", "lottery", "agenda", "ballot"]))
def test_every_signed_head_verifies_and_round_trips(last_seq, stream):
    key = _key()
    head = sign_head(key.sign, KEY_ID, summit_id=SUMMIT, stream=stream, last_seq=last_seq,
                     time="2026-01-01T00:00:00.000Z")
    assert verify_head(head, {KEY_ID: (stream, PUBLIC)}, SUMMIT).as_dict() == head


def test_a_stale_or_future_head_is_refused_as_a_possible_replay():
    from datetime import datetime, timedelta, timezone

    from g1000_proofs.heads import check_fresh, head_age

    head = parse_head(GOLDEN)  # signed 2026-12-04T01:30:00.000Z
    signed = datetime(2026, 12, 4, 1, 30, tzinfo=timezone.utc)
    assert head_age(head, signed + timedelta(seconds=90)) == 90
    check_fresh(head, signed + timedelta(seconds=600), max_age=600)
    with pytest.raises(HeadError, match="601 s ago.*replay"):
        check_fresh(head, signed + timedelta(seconds=601), max_age=600)
    with pytest.raises(HeadError, match="in the future"):
        check_fresh(head, signed - timedelta(seconds=61), max_age=600)
    check_fresh(head, signed - timedelta(seconds=59), max_age=600)  # clocks differ a little
