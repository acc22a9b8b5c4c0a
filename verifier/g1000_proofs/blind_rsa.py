"""RSA blind signatures, RFC 9474 (RSABSSA-SHA384, all four variants), on ``cryptography``'s keys.

Why this module exists: the ballot hands each eligible participant one anonymous credential per
ballot. The participant blinds a random token, the ballot service signs the blinded value once,
and the participant unblinds it; the service never sees the token it signed, so the ballot cast
later with that token cannot be linked to the person (docs/architecture.md, the ballot). Anyone
can check the credential with an ordinary RSASSA-PSS verification against the ballot's public key.

No maintained Python implementation exists and ``cryptography`` has no raw RSA primitive, so the
protocol is written here as big-integer arithmetic over the key's numbers, following RFC 9474:

- §4.1 Prepare: the Randomized variants prefix the message with 32 random bytes
  (``msg_prefix``); the Deterministic ones use it as it is.
- §4.2 Blind: EMSA-PSS-ENCODE (RFC 8017 §9.1.1, SHA-384, MGF1-SHA-384, salt of 48 bytes or none),
  then ``m · r^e mod n`` for a uniformly random ``r`` coprime to ``n``; returns ``inv = r^-1 mod n``.
- §4.3 BlindSign: ``s = m^d mod n``, and the signer checks ``s^e mod n == m`` before answering
  (§7: a faulty signature could leak the key). The exponentiation itself is blinded with a fresh
  random value (§7, side channels), and uses the CRT.
- §4.4 Finalize: ``sig = s · inv mod n``, checked with RSASSA-PSS-VERIFY before it is returned.
- Verification is plain RSASSA-PSS (SHA-384, MGF1-SHA-384, the variant's salt length), done by
  ``cryptography``.

Pure: no I/O; randomness comes from :mod:`secrets` unless a test passes its own values (the RFC's
vectors fix ``salt``, ``msg_prefix`` and ``r``). Failures raise :class:`BlindSignatureError`.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import math
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .errors import BlindSignatureError

__all__ = ["VARIANTS", "BlindedMessage", "Variant", "blind", "blind_sign", "finalize", "prepare",
           "verify", "PSS_RANDOMIZED"]

_HASH_LEN = 48  # SHA-384
PREFIX_LEN = 32  # RFC 9474 §4.1


@dataclass(frozen=True)
class Variant:
    """One of RFC 9474 §5's named variants."""

    name: str
    salt_len: int
    randomized: bool


VARIANTS = {v.name: v for v in (
    Variant("RSABSSA-SHA384-PSS-Randomized", _HASH_LEN, True),
    Variant("RSABSSA-SHA384-PSSZERO-Randomized", 0, True),
    Variant("RSABSSA-SHA384-PSS-Deterministic", _HASH_LEN, False),
    Variant("RSABSSA-SHA384-PSSZERO-Deterministic", 0, False),
)}
PSS_RANDOMIZED = VARIANTS["RSABSSA-SHA384-PSS-Randomized"]  # the one RFC 9474 §5 recommends


@dataclass(frozen=True)
class BlindedMessage:
    """What Blind returns: the value sent to the signer and the secret kept to unblind."""

    blinded_msg: bytes
    inv: bytes


def _modulus_len(public: rsa.RSAPublicNumbers) -> int:
    return (public.n.bit_length() + 7) // 8


def _to_bytes(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def _mgf1(seed: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha384(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:length])


def emsa_pss_encode(message: bytes, em_bits: int, salt: bytes) -> bytes:
    """RFC 8017 §9.1.1 with SHA-384 and MGF1-SHA-384."""
    em_len = (em_bits + 7) // 8
    m_hash = hashlib.sha384(message).digest()
    if em_len < _HASH_LEN + len(salt) + 2:
        raise BlindSignatureError("encoding error: the modulus is too short for this salt")
    h = hashlib.sha384(bytes(8) + m_hash + salt).digest()
    db = bytes(em_len - len(salt) - _HASH_LEN - 2) + b"\x01" + salt
    masked = bytearray(a ^ b for a, b in zip(db, _mgf1(h, em_len - _HASH_LEN - 1)))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    return bytes(masked) + h + b"\xbc"


def prepare(msg: bytes, variant: Variant, msg_prefix: bytes | None = None) -> bytes:
    """RFC 9474 §4.1: the message that is blinded, signed and verified."""
    if not variant.randomized:
        if msg_prefix:
            raise BlindSignatureError("a Deterministic variant takes no message prefix")
        return msg
    prefix = secrets.token_bytes(PREFIX_LEN) if msg_prefix is None else msg_prefix
    if len(prefix) != PREFIX_LEN:
        raise BlindSignatureError(f"the message prefix must be {PREFIX_LEN} bytes")
    return prefix + msg


def _random_unit(n: int) -> int:
    while True:
        r = secrets.randbelow(n - 1) + 1
        if math.gcd(r, n) == 1:
            return r


def blind(public_key: rsa.RSAPublicKey, prepared_msg: bytes, variant: Variant, *,
          salt: bytes | None = None, r: int | None = None) -> BlindedMessage:
    """RFC 9474 §4.2. ``salt`` and ``r`` are for the RFC's test vectors only."""
    pub = public_key.public_numbers()
    k_len = _modulus_len(pub)
    if salt is None:
        salt = secrets.token_bytes(variant.salt_len)
    if len(salt) != variant.salt_len:
        raise BlindSignatureError(f"{variant.name} takes a salt of {variant.salt_len} bytes")
    encoded = emsa_pss_encode(prepared_msg, pub.n.bit_length() - 1, salt)
    m = int.from_bytes(encoded, "big")
    if math.gcd(m, pub.n) != 1:
        raise BlindSignatureError("invalid input: the encoded message is not coprime to the modulus")
    if r is None:
        r = _random_unit(pub.n)
    try:
        inv = pow(r, -1, pub.n)
    except ValueError:
        raise BlindSignatureError("invalid blind: not invertible modulo n") from None
    z = m * pow(r, pub.e, pub.n) % pub.n
    return BlindedMessage(_to_bytes(z, k_len), _to_bytes(inv, k_len))


PowMod = Callable[[int, int, int], int]


def _rsasp1_blinded(private: rsa.RSAPrivateNumbers, m: int, powmod: PowMod) -> int:
    """``m^d mod n`` by the CRT, with the base blinded by a fresh ``u^e`` (RFC 9474 §7)."""
    pub = private.public_numbers
    u = _random_unit(pub.n)
    c = m * pow(u, pub.e, pub.n) % pub.n
    s1 = powmod(c % private.p, private.dmp1, private.p)
    s2 = powmod(c % private.q, private.dmq1, private.q)
    h = private.iqmp * (s1 - s2) % private.p
    s = (s2 + h * private.q) % pub.n
    return s * pow(u, -1, pub.n) % pub.n


def blind_sign(private_key: rsa.RSAPrivateKey, blinded_msg: bytes, *, powmod: PowMod = pow) -> bytes:
    """RFC 9474 §4.3: sign a blinded message, checking the result before it leaves (§7).

    ``powmod(base, exponent, modulus)`` does the two private exponentiations. Python's ``pow``
    is the default, so this package needs nothing beyond the standard library and
    ``cryptography``; the ballot service passes GMP's constant-time exponentiation
    (services/ballot/modexp.py), about 30 times faster at 3072 bits. Whatever does it, the
    result is checked against the public key before it is returned."""
    private = private_key.private_numbers()
    pub = private.public_numbers
    k_len = _modulus_len(pub)
    if len(blinded_msg) != k_len:
        raise BlindSignatureError(f"the blinded message must be {k_len} bytes")
    m = int.from_bytes(blinded_msg, "big")
    if m >= pub.n:
        raise BlindSignatureError("the blinded message is not below the modulus")
    s = _rsasp1_blinded(private, m, powmod)
    if pow(s, pub.e, pub.n) != m:
        raise BlindSignatureError("signing failure: the signature does not open to the blinded message")
    return _to_bytes(s, k_len)


def verify(public_key: rsa.RSAPublicKey, prepared_msg: bytes, sig: bytes, variant: Variant) -> None:
    """RSASSA-PSS-VERIFY (RFC 8017 §8.1.2) as RFC 9474 §4.5 uses it; raises when it fails."""
    try:
        public_key.verify(sig, prepared_msg,
                          padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_len),
                          hashes.SHA384())
    except InvalidSignature:
        raise BlindSignatureError("the signature does not verify under the ballot's key") from None


def finalize(public_key: rsa.RSAPublicKey, prepared_msg: bytes, blind_sig: bytes, inv: bytes,
             variant: Variant) -> bytes:
    """RFC 9474 §4.4: unblind, and return the signature only once it verifies."""
    pub = public_key.public_numbers()
    k_len = _modulus_len(pub)
    if len(blind_sig) != k_len or len(inv) != k_len:
        raise BlindSignatureError(f"the blind signature and the inverse must be {k_len} bytes")
    sig = _to_bytes(int.from_bytes(blind_sig, "big") * int.from_bytes(inv, "big") % pub.n, k_len)
    verify(public_key, prepared_msg, sig, variant)
    return sig

