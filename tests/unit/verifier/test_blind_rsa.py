"""RFC 9474 blind signatures (g1000_proofs.blind_rsa): the RFC's Appendix A vectors for all four
variants, each intermediate value derived rather than copied (``encoded_msg`` from the salt,
``blinded_msg`` from ``inv``), and properties of the protocol on fresh keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs import blind_rsa
from g1000_proofs.errors import BlindSignatureError, ProofError

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "rfc9474" / "vectors.json").read_text())


def _key(v: dict) -> rsa.RSAPrivateKey:
    p, q, e, d = (int(v[k], 16) for k in ("p", "q", "e", "d"))
    public = rsa.RSAPublicNumbers(e, int(v["n"], 16))
    assert public.n == p * q
    numbers = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                    rsa.rsa_crt_iqmp(p, q), public)
    return numbers.private_key()


def _bytes(v: dict, name: str) -> bytes:
    return bytes.fromhex(v[name])


@pytest.mark.parametrize("v", VECTORS, ids=[v["variant"] for v in VECTORS])
def test_rfc9474_vectors_reproduce_step_by_step(v):
    variant = blind_rsa.VARIANTS[v["variant"]]
    key = _key(v)
    public = key.public_key()
    msg, prefix = _bytes(v, "msg"), _bytes(v, "msg_prefix")

    prepared = blind_rsa.prepare(msg, variant, msg_prefix=prefix or None)
    assert prepared == _bytes(v, "prepared_msg")

    em_bits = public.key_size - 1
    assert blind_rsa.emsa_pss_encode(prepared, em_bits, _bytes(v, "salt")) == _bytes(v, "encoded_msg")

    n = public.public_numbers().n
    r = pow(int(v["inv"], 16), -1, n)
    blinded = blind_rsa.blind(public, prepared, variant, salt=_bytes(v, "salt"), r=r)
    assert blinded.blinded_msg == _bytes(v, "blinded_msg")
    assert blinded.inv == _bytes(v, "inv")

    blind_sig = blind_rsa.blind_sign(key, blinded.blinded_msg)
    assert blind_sig == _bytes(v, "blind_sig")

    sig = blind_rsa.finalize(public, prepared, blind_sig, blinded.inv, variant)
    assert sig == _bytes(v, "sig")
    blind_rsa.verify(public, prepared, sig, variant)


def test_all_four_variants_of_the_rfc_are_covered():
    assert {v["variant"] for v in VECTORS} == set(blind_rsa.VARIANTS)


@pytest.mark.parametrize("v", VECTORS[:1], ids=["PSS-Randomized"])
def test_a_tampered_vector_fails_at_the_step_that_checks_it(v):
    variant = blind_rsa.VARIANTS[v["variant"]]
    key = _key(v)
    public = key.public_key()
    prepared = _bytes(v, "prepared_msg")
    inv = _bytes(v, "inv")
    wrong_sig = bytearray(_bytes(v, "blind_sig"))
    wrong_sig[-1] ^= 1
    with pytest.raises(BlindSignatureError):
        blind_rsa.finalize(public, prepared, bytes(wrong_sig), inv, variant)
    with pytest.raises(BlindSignatureError):
        blind_rsa.verify(public, prepared + b"x", _bytes(v, "sig"), variant)
    with pytest.raises(BlindSignatureError):  # n itself is not a message below the modulus
        blind_rsa.blind_sign(key, public.public_numbers().n.to_bytes(512, "big"))
    with pytest.raises(BlindSignatureError):
        blind_rsa.blind_sign(key, _bytes(v, "blinded_msg")[1:])


@pytest.fixture(scope="module")
def fresh_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@settings(max_examples=15, deadline=None)
@given(msg=st.binary(max_size=200), name=st.sampled_from(sorted(blind_rsa.VARIANTS)))
def test_blind_sign_finalize_verifies_for_any_message(fresh_key, msg, name):
    variant = blind_rsa.VARIANTS[name]
    public = fresh_key.public_key()
    prepared = blind_rsa.prepare(msg, variant)
    assert len(prepared) == len(msg) + (blind_rsa.PREFIX_LEN if variant.randomized else 0)
    blinded = blind_rsa.blind(public, prepared, variant)
    sig = blind_rsa.finalize(public, prepared, blind_rsa.blind_sign(fresh_key, blinded.blinded_msg),
                             blinded.inv, variant)
    blind_rsa.verify(public, prepared, sig, variant)


def test_the_signer_sees_a_different_value_each_time_for_the_same_token(fresh_key):
    """Unlinkability needs fresh blinds: the same token blinded twice looks unrelated to the signer."""
    public = fresh_key.public_key()
    prepared = blind_rsa.prepare(b"token", blind_rsa.PSS_RANDOMIZED, msg_prefix=bytes(32))
    first = blind_rsa.blind(public, prepared, blind_rsa.PSS_RANDOMIZED)
    second = blind_rsa.blind(public, prepared, blind_rsa.PSS_RANDOMIZED)
    assert first.blinded_msg != second.blinded_msg and first.inv != second.inv


def test_a_signature_from_another_key_is_refused(fresh_key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    variant = blind_rsa.PSS_RANDOMIZED
    prepared = blind_rsa.prepare(b"ballot token", variant)
    blinded = blind_rsa.blind(fresh_key.public_key(), prepared, variant)
    with pytest.raises(BlindSignatureError):
        blind_rsa.finalize(fresh_key.public_key(), prepared, blind_rsa.blind_sign(other, blinded.blinded_msg),
                           blinded.inv, variant)


def test_bad_parameters_are_refused_before_any_arithmetic(fresh_key):
    public = fresh_key.public_key()
    with pytest.raises(BlindSignatureError):
        blind_rsa.prepare(b"m", blind_rsa.PSS_RANDOMIZED, msg_prefix=b"short")
    with pytest.raises(BlindSignatureError):
        blind_rsa.prepare(b"m", blind_rsa.VARIANTS["RSABSSA-SHA384-PSS-Deterministic"], msg_prefix=bytes(32))
    with pytest.raises(BlindSignatureError):
        blind_rsa.blind(public, b"m", blind_rsa.PSS_RANDOMIZED, salt=bytes(3))
    with pytest.raises(BlindSignatureError):
        blind_rsa.blind(public, b"m", blind_rsa.PSS_RANDOMIZED, r=public.public_numbers().n)
    assert issubclass(BlindSignatureError, ProofError)
