"""An adversary with the operator's whole database before closing cannot compute any count
(issue 13, "Secrecy tests"; docs/ballot.md: the sealing key's private half is made by the
trustees' tool and split k-of-n, RFC 9180 HPKE seals each vote to its public half).

With eight votes cast and the ballot still open, every value of every table of every database is
dumped (bytea raw, text as is, and every hex run and base64 token in either decoded): no 32-byte
window of any of them is an X25519 private key whose public half is the ballot's sealing key; no
stored sealed vote opens with any whole 32-byte value of the dump; no row holds a choice in clear.
The controls plant the private key (hex, base64) and a clear choice in a table and show each check
catches it.
"""

from __future__ import annotations

import base64
import binascii
import re

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from g1000_proofs import jcs, sealing, shamir
from g1000_proofs.errors import SealingError

from g1000 import trustee
from tests.support.ballot_secrecy import cast_all, choice_of, connect_to, databases_of, deliver_to_ledger, open_ballot, tables

pytestmark = pytest.mark.integration

N = 8
HEX = re.compile(r"[0-9a-fA-F]{64,}")
B64 = re.compile(r"[A-Za-z0-9+/_-]{43,}={0,2}")


def raw_values(env: dict) -> list[bytes]:
    """Every column value of every row of every table of every database of the test, as bytes."""
    out = []
    for name in databases_of(env):
        with connect_to(env, name) as conn:
            for schema, table in tables(conn):
                query = psycopg.sql.SQL("SELECT * FROM {}").format(psycopg.sql.Identifier(schema, table))
                for row in conn.execute(query).fetchall():
                    for v in row:
                        if v is not None:
                            out.append(bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode())
    return out


def decodings(value: bytes) -> set[bytes]:
    """The value and what every hex run and base64 token inside it decodes to."""
    out = {value}
    text = value.decode("utf-8", "replace")
    for run in HEX.findall(text):
        out |= {bytes.fromhex(run[i:i + 2 * (len(run[i:]) // 2)]) for i in (0, 1)}
    for token in B64.findall(text):
        for alphabet in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                out.add(alphabet(token + "=" * (-len(token) % 4)))
            except (ValueError, binascii.Error):
                pass
    return out


def windows(blobs: set[bytes]) -> set[bytes]:
    return {b[i:i + 32] for b in blobs for i in range(len(b) - 31)}


def finds_private_key(values: list[bytes], public_hex: str) -> list[bytes]:
    blobs = set().union(*(decodings(v) for v in values))
    public = bytes.fromhex(public_hex)
    return [w for w in windows(blobs)
            if x25519.X25519PrivateKey.from_private_bytes(w).public_key().public_bytes_raw() == public]


def whole_32(values: list[bytes]) -> set[bytes]:
    return {b for v in values for b in decodings(v) if len(b) == 32}


def opens(sealed: list[bytes], candidates: set[bytes], summit_id: str, ballot_id: str) -> list:
    opened = []
    for key in candidates:
        for s in sealed:
            try:
                opened.append(sealing.open_vote(s, key.hex(), summit_id, ballot_id))
            except SealingError:
                pass
    return opened


def clear_choices(values: list[bytes]) -> list[bytes]:
    marks = [b'"approve"', b"approve"]
    return [v for v in values for d in decodings(v) if any(m in d for m in marks)]


def private_key(keys) -> bytes:
    return shamir.combine([trustee.read_share(p) for p in keys.share_files[:2]])


def test_the_whole_database_before_closing_holds_no_key_and_no_choice(stack, tmp_path):
    b = open_ballot(stack, tmp_path, N)
    cast_all(b)
    deliver_to_ledger(stack)
    assert b.client.get(b.base).get_json()["state"] == "open"
    public_hex = b.keys.public["public_key"]
    values = raw_values(stack.env)
    sealed = [base64.b64decode(v.sealed) for v in b.voters]
    everything = b"\n".join(values)
    assert all(v.sealed.encode() in everything for v in b.voters)  # the dump holds the sealed votes

    assert finds_private_key(values, public_hex) == []
    candidates = whole_32(values)
    assert len(candidates) > N  # nullifiers, credential tokens and prefixes, hashes, ...
    assert opens(sealed, candidates, b.summit_id, b.ballot_id) == []
    assert clear_choices(values) == []
    # the service itself shows no count of casts while open (docs/ballot.md, GET ballot)
    shown = b.client.get(b.base).get_json()
    assert shown.get("cast") is None and shown.get("result") is None


def test_the_checks_find_a_planted_key_and_a_clear_choice(stack, tmp_path):
    """Controls: the same checks on a dump where the key (hex, then base64) and a choice were planted."""
    b = open_ballot(stack, tmp_path, N)
    cast_all(b)
    key = private_key(b.keys)
    assert sealing.public_key_hex(key.hex()) == b.keys.public["public_key"]
    sealed = [base64.b64decode(v.sealed) for v in b.voters]
    name = next(n for n in databases_of(stack.env) if n.endswith("_ballot"))
    with connect_to(stack.env, name) as conn:
        conn.execute("CREATE SCHEMA leak")
        conn.execute("CREATE TABLE leak.notes (note text, blob bytea)")
        conn.execute("INSERT INTO leak.notes VALUES (%s, NULL)", (f"debug key={key.hex()}",))
    values = raw_values(stack.env)
    assert finds_private_key(values, b.keys.public["public_key"]) == [key]
    assert len(opens(sealed, whole_32(values), b.summit_id, b.ballot_id)) == N
    with connect_to(stack.env, name) as conn:
        conn.execute("UPDATE leak.notes SET note = %s",
                     (f"k: {base64.b64encode(b'xx' + key).decode()}",))  # inside a longer base64 blob
        conn.execute("INSERT INTO leak.notes VALUES (NULL, %s)", (jcs.dumps(choice_of(0)),))
    values = raw_values(stack.env)
    assert finds_private_key(values, b.keys.public["public_key"]) == [key]
    assert len(clear_choices(values)) >= 1
