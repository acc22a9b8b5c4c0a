"""k-of-n secret sharing of a ballot's sealing key (Shamir, "How to share a secret", CACM 22(11), 1979).

Why this module exists: no server may ever hold the key that opens the votes before closing. The
trustees' tool makes the ballot's X25519 key pair, splits the private half into n shares of which
any k rebuild it (default 2 of 3: e.g. the notary, a citizen delegate, the municipal clerk), hands
one share to each trustee, and gives only the public half to the service. At closing, k trustees
submit their shares, the key is rebuilt, checked against the public half in the log
(:func:`g1000_proofs.sealing.check_revealed_key`) and published. Fewer than k shares say nothing
about the key: every value of the secret is equally consistent with them.

Arithmetic over the prime field GF(2^521 - 1) (a Mersenne prime, larger than any 32-byte secret),
a random polynomial of degree k - 1 with the secret as its constant term, share i = (i, f(i)) for
i = 1..n, and Lagrange interpolation at 0 to rebuild. A share is written
``g1000-share-v1:<k>:<i>:<f(i) as hex>`` so a trustee can see which share they hold and how many
are needed. Pure: no I/O; randomness from :mod:`secrets`. Failures raise :class:`ShareError`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .errors import ShareError

__all__ = ["PRIME", "Share", "combine", "split"]

PRIME = 2**521 - 1
SECRET_LEN = 32
_PREFIX = "g1000-share-v1"


@dataclass(frozen=True)
class Share:
    """One trustee's share: threshold k, index x (1..n) and the polynomial's value y at x."""

    k: int
    x: int
    y: int

    def encode(self) -> str:
        return f"{_PREFIX}:{self.k}:{self.x}:{self.y:x}"

    @classmethod
    def decode(cls, text: str) -> Share:
        parts = text.strip().split(":")
        try:
            if len(parts) != 4 or parts[0] != _PREFIX:
                raise ValueError
            k, x, y = int(parts[1]), int(parts[2]), int(parts[3], 16)
        except ValueError:
            raise ShareError(f"a share reads {_PREFIX}:<k>:<index>:<hex>") from None
        if k < 1 or not 1 <= x <= 255 or not 0 <= y < PRIME:
            raise ShareError("a share's threshold, index or value is out of range")
        return cls(k, x, y)


def split(secret: bytes, k: int, n: int) -> list[Share]:
    """n shares of a 32-byte secret, any k of which rebuild it."""
    if len(secret) != SECRET_LEN:
        raise ShareError(f"the secret must be {SECRET_LEN} bytes")
    if not 1 <= k <= n <= 255:
        raise ShareError("need 1 <= k <= n <= 255")
    coefficients = [int.from_bytes(secret, "big")] + [secrets.randbelow(PRIME) for _ in range(k - 1)]

    def f(x: int) -> int:
        y = 0
        for c in reversed(coefficients):
            y = (y * x + c) % PRIME
        return y

    return [Share(k, x, f(x)) for x in range(1, n + 1)]


def combine(shares: list[Share]) -> bytes:
    """The secret from at least k distinct shares of one split (extra shares are not used)."""
    if not shares:
        raise ShareError("no shares given")
    k = shares[0].k
    if any(s.k != k for s in shares):
        raise ShareError("the shares come from splits with different thresholds")
    if len({s.x for s in shares}) != len(shares):
        raise ShareError("a share is given twice")
    if len(shares) < k:
        raise ShareError(f"{k} shares are needed, {len(shares)} given")
    used = shares[:k]
    secret = 0
    for i, share in enumerate(used):
        num, den = 1, 1
        for j, other in enumerate(used):
            if i != j:
                num = num * -other.x % PRIME
                den = den * (share.x - other.x) % PRIME
        secret = (secret + share.y * num * pow(den, -1, PRIME)) % PRIME
    if secret >= 2 ** (8 * SECRET_LEN):
        raise ShareError("the shares do not belong together: they rebuild no 32-byte secret")
    return secret.to_bytes(SECRET_LEN, "big")
