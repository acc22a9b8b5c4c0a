"""The seed contract of g1000_proofs.seed (docs/architecture.md §6): commitments and the combined seed."""

from __future__ import annotations

import hashlib

import pytest

from g1000_proofs import seed
from g1000_proofs.draw import DrawError, DrawInputError
from tests.support.draw_reference import ref_seed

SUMMIT = "2b0e1f4c-0000-4000-8000-000000000001"
A = {"party": "gemeente", "value": "a1" * 32, "kind": "commit-reveal"}
B = {"party": "bewonersraad", "value": "b2" * 32, "kind": "commit-reveal"}
DICE = {"party": "notaris", "value": "6 2 3 3 1", "kind": "dice"}


def test_commitment_is_hex_sha256_of_the_utf8_value():
    value = "zoë-42"
    assert seed.value_bytes(value) == "zoë-42".encode("utf-8")
    assert seed.commitment(seed.value_bytes(value)) == hashlib.sha256(
        b"zo\xc3\xab-42").hexdigest()
    assert seed.commitment(b"") == hashlib.sha256(b"").hexdigest()
    with pytest.raises(seed.SeedInputError):
        seed.commitment(value)  # a str is not bytes: the encoding must be explicit


def test_verify_reveal():
    committed = seed.contribution_commitment(A)
    seed.verify_reveal(A, committed)
    with pytest.raises(seed.CommitmentMismatchError) as raised:
        seed.verify_reveal(B, committed)
    assert raised.value.party == "bewonersraad" and raised.value.committed == committed
    assert isinstance(raised.value, DrawError)
    with pytest.raises(seed.SeedInputError):
        seed.verify_reveal(A, committed.upper())
    with pytest.raises(seed.SeedInputError):
        seed.verify_reveal(A, committed[:-1])


def test_seed_is_sha256_of_the_jcs_document():
    contributions = [A, B, DICE]
    document = seed.seed_document(SUMMIT, contributions)
    assert document == {"domain": "g1000/seed/v1", "summit_id": SUMMIT,
                        "contributions": contributions}
    assert seed.compute_seed(SUMMIT, contributions) == ref_seed(SUMMIT, contributions)
    assert len(seed.compute_seed(SUMMIT, contributions)) == 32


def test_member_order_is_irrelevant_list_order_matters():
    reordered = {"value": A["value"], "kind": A["kind"], "party": A["party"]}
    assert seed.compute_seed(SUMMIT, [A, B]) == seed.compute_seed(SUMMIT, [reordered, B])
    assert seed.compute_seed(SUMMIT, [A, B]) != seed.compute_seed(SUMMIT, [B, A])


def test_every_field_changes_the_seed():
    base = seed.compute_seed(SUMMIT, [A, DICE])
    variants = [
        seed.compute_seed(SUMMIT.replace("1", "2"), [A, DICE]),
        seed.compute_seed(SUMMIT.upper(), [A, DICE]),  # no normalisation of the summit id
        seed.compute_seed(SUMMIT, [{**A, "value": "a1" * 31 + "a2"}, DICE]),
        seed.compute_seed(SUMMIT, [{**A, "party": "Gemeente"}, DICE]),
        seed.compute_seed(SUMMIT, [{"party": A["party"], "value": A["value"]}, DICE]),
        seed.compute_seed(SUMMIT, [A, {**DICE, "value": "6 2 3 3 1 "}]),  # no trimming
        seed.compute_seed(SUMMIT, [A]),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_non_ascii_values_are_hashed_as_utf8_not_escaped():
    contribution = {"party": "wijkraad Zuid", "value": "één — ☀"}
    got = seed.compute_seed(SUMMIT, [contribution])
    literal = ('{"contributions":[{"party":"wijkraad Zuid","value":"één — ☀"}],'
               '"domain":"g1000/seed/v1","summit_id":"' + SUMMIT + '"}').encode("utf-8")
    assert got == hashlib.sha256(literal).digest()


@pytest.mark.parametrize("summit_id, contributions", [
    (SUMMIT, []),
    ("", [A]),
    (42, [A]),
    (SUMMIT, [A, {**B, "party": A["party"]}]),
    (SUMMIT, [{"party": "x"}]),
    (SUMMIT, [{"value": "x"}]),
    (SUMMIT, [{**A, "commitment": "00" * 32}]),
    (SUMMIT, [{**A, "kind": "coin"}]),
    (SUMMIT, [{**A, "value": ""}]),
    (SUMMIT, [{**A, "value": 7}]),
    (SUMMIT, [{**A, "party": "\ud800"}]),
    (SUMMIT, ["gemeente"]),
    (SUMMIT, A),
])
def test_malformed_seed_input_raises(summit_id, contributions):
    with pytest.raises(seed.SeedInputError) as raised:
        seed.compute_seed(summit_id, contributions)
    assert isinstance(raised.value, DrawInputError) and isinstance(raised.value, ValueError)
