"""The ballot service's GMP exponentiation (services/ballot/modexp.py) gives RFC 9474's blind
signatures exactly: the Appendix A vectors of every variant, and Python's ``pow`` on random odd
moduli."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs import blind_rsa
from services.ballot.modexp import powmod_sec

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "rfc9474" / "vectors.json").read_text())


@pytest.mark.parametrize("v", VECTORS, ids=[v["variant"] for v in VECTORS])
def test_the_rfc9474_blind_signatures_come_out_of_gmp_too(v):
    p, q, e, d = (int(v[k], 16) for k in ("p", "q", "e", "d"))
    public = rsa.RSAPublicNumbers(e, int(v["n"], 16))
    key = rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q),
                                rsa.rsa_crt_iqmp(p, q), public).private_key()
    blinded = bytes.fromhex(v["blinded_msg"])
    assert blind_rsa.blind_sign(key, blinded, powmod=powmod_sec) == bytes.fromhex(v["blind_sig"])


@settings(max_examples=200, deadline=None)
@given(base=st.integers(0, 2**2048), exponent=st.integers(1, 2**2048), half=st.integers(1, 2**2047))
def test_it_equals_pythons_pow_for_odd_moduli(base, exponent, half):
    modulus = 2 * half + 1
    assert powmod_sec(base, exponent, modulus) == pow(base, exponent, modulus)


def test_a_wrong_exponentiation_is_caught_before_a_signature_leaves():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    blinded = (12345).to_bytes(256, "big")
    with pytest.raises(blind_rsa.BlindSignatureError, match="signing failure"):
        blind_rsa.blind_sign(key, blinded, powmod=lambda b, x, m: (powmod_sec(b, x, m) + 1) % m)
