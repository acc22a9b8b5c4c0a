"""The credential key's private exponentiations in GMP, constant-time (gmpy2's ``powmod_sec``).

Why: a credential request is one RFC 9474 blind signature, two 1536-bit exponentiations at
3072 bits. In Python integers they take tens of milliseconds and hold the interpreter lock, and
the benchmark of 1,000 voters (BENCHMARKS.md, Ballot) was bound by them. GMP's ``mpz_powm_sec``
is about 30 times faster and does not branch on the exponent's bits, which suits a private
exponent (RFC 9474 §7 asks for side-channel care; the base is blinded as well, in
g1000_proofs.blind_rsa). The signature is still checked against the public key there.
"""

from __future__ import annotations

import gmpy2


def powmod_sec(base: int, exponent: int, modulus: int) -> int:
    """``base ** exponent % modulus`` for an odd modulus and a positive exponent."""
    return int(gmpy2.powmod_sec(base, exponent, modulus))
