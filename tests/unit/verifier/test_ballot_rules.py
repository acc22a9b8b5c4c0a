"""The ballot's shared rules (g1000_proofs.ballot): the roll commitment, the credential key,
credentials and their nullifiers, the voting window — end to end with a blind issuance."""

from __future__ import annotations

import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs import ballot, blind_rsa, merkle
from g1000_proofs.errors import BallotRuleError


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _issue(signer: rsa.RSAPrivateKey, key: rsa.RSAPublicKey) -> ballot.Credential:
    token, prefix = secrets.token_bytes(32), secrets.token_bytes(32)
    prepared = blind_rsa.prepare(token, blind_rsa.PSS_RANDOMIZED, msg_prefix=prefix)
    blinded = blind_rsa.blind(key, prepared, blind_rsa.PSS_RANDOMIZED)
    sig = blind_rsa.finalize(key, prepared, blind_rsa.blind_sign(signer, blinded.blinded_msg), blinded.inv,
                             blind_rsa.PSS_RANDOMIZED)
    return ballot.Credential(token, prefix, sig)


def test_a_blindly_issued_credential_checks_and_its_nullifier_is_stable(signer):
    key = ballot.credential_key(ballot.encode_credential_key(signer.public_key()))
    credential = _issue(signer, key)
    first = ballot.check_credential(key, credential)
    assert first == ballot.check_credential(key, credential) == ballot.nullifier(credential)
    assert first != ballot.nullifier(_issue(signer, key))


def test_forged_and_foreign_credentials_are_refused(signer):
    key = signer.public_key()
    good = _issue(signer, key)
    forged = good._replace(token=secrets.token_bytes(32))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = _issue(other, other.public_key())
    for bad in (forged, foreign, good._replace(prefix=bytes(31)), good._replace(signature=b"\0" * 256)):
        with pytest.raises(BallotRuleError):
            ballot.check_credential(key, bad)


def test_weak_or_unreadable_credential_keys_are_refused():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    for encoded in (ballot.encode_credential_key(small), "not base64!", "AAAA"):
        with pytest.raises(BallotRuleError):
            ballot.credential_key(encoded)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), min_size=1, max_size=40))
def test_the_roll_is_the_distinct_sorted_pseudonyms_and_proves_membership(pseudonyms):
    count, root, roll = ballot.roll_commitment(pseudonyms + list(reversed(pseudonyms)))
    assert roll == sorted(set(pseudonyms)) and count == len(roll)
    assert ballot.roll_commitment(reversed(pseudonyms))[1] == root
    for pseudonym in roll:
        index, proof = ballot.roll_proof(roll, pseudonym)
        assert roll[index] == pseudonym
        merkle.verify_inclusion(ballot.roll_leaf(pseudonym), index, count, proof, bytes.fromhex(root))
    with pytest.raises(BallotRuleError):
        ballot.roll_proof(roll, "not on it")


def test_an_empty_roll_is_refused():
    with pytest.raises(BallotRuleError):
        ballot.roll_commitment([])


def test_the_window_is_half_open_and_an_early_closing_ends_it():
    opens, closes = "2026-12-05T10:00:00Z", "2026-12-05T16:00:00Z"
    assert ballot.in_window("2026-12-05T10:00:00Z", opens, closes)
    assert not ballot.in_window("2026-12-05T16:00:00Z", opens, closes)
    assert not ballot.in_window("2026-12-05T09:59:59Z", opens, closes)
    assert not ballot.in_window("2026-12-05T15:00:00Z", opens, closes, "2026-12-05T14:00:00Z")
    with pytest.raises(BallotRuleError):
        ballot.in_window("2026-12-05T10:00:00+01:00", opens, closes)
