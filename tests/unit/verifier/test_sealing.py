"""Sealed votes (g1000_proofs.sealing, RFC 9180 HPKE) and the trustees' k-of-n key split
(g1000_proofs.shamir): seal/open and split/combine round-trip; k-1 shares open nothing."""

from __future__ import annotations

import itertools
import secrets

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs import sealing, shamir
from g1000_proofs.errors import SealingError, ShareError

SUMMIT, BALLOT = "0" * 32, "b" * 32


def _keypair() -> tuple[str, str]:
    private = x25519.X25519PrivateKey.generate()
    return private.private_bytes_raw().hex(), private.public_key().public_bytes_raw().hex()


JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)


@settings(max_examples=60, deadline=None)
@given(choice=JSON)
def test_a_sealed_choice_opens_to_itself_and_hides_its_length(choice):
    private, public = _keypair()
    sealed = sealing.seal_vote(choice, public, SUMMIT, BALLOT)
    assert (len(sealed) - 48) % sealing.PAD_TO == 0
    assert sealing.open_vote(sealed, private, SUMMIT, BALLOT) == choice


def test_short_and_long_approvals_seal_to_the_same_length():
    _, public = _keypair()
    short = sealing.seal_vote({"approve": ["a"]}, public, SUMMIT, BALLOT)
    long = sealing.seal_vote({"approve": ["a", "b", "c", "d", "e"]}, public, SUMMIT, BALLOT)
    assert len(short) == len(long)


def test_a_vote_opens_only_with_its_key_for_its_own_ballot():
    private, public = _keypair()
    other, _ = _keypair()
    sealed = sealing.seal_vote({"approve": ["a"]}, public, SUMMIT, BALLOT)
    for key, summit, ballot in ((other, SUMMIT, BALLOT), (private, SUMMIT, "c" * 32), (private, "1" * 32, BALLOT)):
        with pytest.raises(SealingError):
            sealing.open_vote(sealed, key, summit, ballot)
    tampered = bytearray(sealed)
    tampered[40] ^= 1
    with pytest.raises(SealingError):
        sealing.open_vote(bytes(tampered), private, SUMMIT, BALLOT)
    with pytest.raises(SealingError):
        sealing.open_vote(sealed[:40], private, SUMMIT, BALLOT)


def test_the_revealed_key_must_match_the_sealing_key():
    private, public = _keypair()
    sealing.check_revealed_key(private, public)
    with pytest.raises(SealingError):
        sealing.check_revealed_key(_keypair()[0], public)
    for bad in ("zz" * 32, "00" * 31, 5):
        with pytest.raises(SealingError):
            sealing.check_revealed_key(bad, public)


def test_a_choice_that_is_not_canonical_json_is_refused_before_sealing():
    _, public = _keypair()
    with pytest.raises(SealingError):
        sealing.seal_vote({"x": 1.5}, public, SUMMIT, BALLOT)


@settings(max_examples=40, deadline=None)
@given(k_n=st.integers(1, 7).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))), data=st.data())
def test_any_k_shares_rebuild_the_key(k_n, data):
    k, n = k_n
    secret = secrets.token_bytes(32)
    shares = shamir.split(secret, k, n)
    chosen = data.draw(st.permutations(shares)).copy()[:k]
    decoded = [shamir.Share.decode(s.encode()) for s in chosen]
    assert shamir.combine(decoded) == secret


def test_k_minus_one_shares_rebuild_nothing_and_fit_every_secret():
    """With k-1 shares, for every candidate secret there is a polynomial through them: they are no
    evidence for any secret. Shown constructively for 2-of-3: one share plus any candidate secret
    defines a valid line, and combining k-1 shares is refused."""
    secret = secrets.token_bytes(32)
    one = shamir.split(secret, 2, 3)[0]
    with pytest.raises(ShareError):
        shamir.combine([one])
    for candidate in (bytes(32), secrets.token_bytes(32)):
        c = int.from_bytes(candidate, "big")
        slope = (one.y - c) * pow(one.x, -1, shamir.PRIME) % shamir.PRIME
        other = shamir.Share(2, 2, (c + 2 * slope) % shamir.PRIME)
        assert shamir.combine([one, other]) == candidate


def test_a_vote_sealed_to_a_split_key_opens_with_any_two_of_three_shares():
    private, public = _keypair()
    shares = shamir.split(bytes.fromhex(private), 2, 3)
    sealed = sealing.seal_vote({"ranking": ["b", "a"]}, public, SUMMIT, BALLOT)
    for pair in itertools.combinations(shares, 2):
        rebuilt = shamir.combine(list(pair)).hex()
        sealing.check_revealed_key(rebuilt, public)
        assert sealing.open_vote(sealed, rebuilt, SUMMIT, BALLOT) == {"ranking": ["b", "a"]}


@pytest.mark.parametrize("text", ["", "g1000-share-v1:2:1", "other:2:1:ff", "g1000-share-v1:0:1:ff",
                                  "g1000-share-v1:2:0:ff", "g1000-share-v1:2:1:zz"])
def test_unreadable_shares_are_refused(text):
    with pytest.raises(ShareError):
        shamir.Share.decode(text)


def test_mixed_or_repeated_shares_are_refused():
    a = shamir.split(secrets.token_bytes(32), 2, 3)
    b = shamir.split(secrets.token_bytes(32), 3, 3)
    with pytest.raises(ShareError):
        shamir.combine([a[0], b[1]])
    with pytest.raises(ShareError):
        shamir.combine([a[0], a[0]])
    with pytest.raises(ShareError):
        shamir.split(bytes(31), 2, 3)
    with pytest.raises(ShareError):
        shamir.split(bytes(32), 4, 3)
