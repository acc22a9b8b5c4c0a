"""The gateway's vouch for a request it forwards (pure; no I/O).

Revocation, rate limits and idempotency live in the gateway, so a request that reached a service
without passing the gateway could act with a revoked token and skip the rest. The gateway
therefore signs every request it forwards, and a service accepts a token (and any public request
that changes state) only together with a vouch that matches the request it received:

    header  = "G1000-Vouch: v1." + b64url(claims) + "." + b64url(signature)          (no padding)
    claims  = JCS({"m": method, "p": path[?query], "b": hex SHA-256 of the body,
                   "jti": token id | null, "t": seconds since the epoch, "n": 128-bit random hex})
    signed  = b"g1000-gateway-vouch/v1\\n" + claims

It is signed with the gateway's token key under its own domain-separation prefix, so a vouch can
never pass as a token or a token as a vouch. A vouch is fresh for ±FRESH_SECONDS; each nonce is
accepted once (the service records it), so a captured vouch cannot be replayed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import canonical_bytes
from .signing import Signer
from .errors import VouchError

HEADER = "G1000-Vouch"
PREFIX = "v1."
DOMAIN = b"g1000-gateway-vouch/v1\n"
FRESH_SECONDS = 30
MAX_CHARS = 8192
_MEMBERS = {"m", "p", "b", "jti", "t", "n"}
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Vouch:
    method: str
    target: str  # path, plus "?" and the query string when there is one
    body_sha256: str
    token_id: str | None
    time: int
    nonce: str


def target_of(path: str, query_string: bytes | str) -> str:
    query = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    return path + ("?" + query if query else "")


def sign_vouch(signer: Signer, *, method: str, target: str, body: bytes, token_id: str | None,
               now: float) -> str:
    claims = {"m": method.upper(), "p": target, "b": hashlib.sha256(body or b"").hexdigest(),
              "jti": token_id, "t": int(now), "n": secrets.token_hex(16)}
    data = canonical_bytes(claims)
    return PREFIX + _b64(data) + "." + _b64(signer.sign(DOMAIN + data))


ANY_TOKEN = object()


def verify_vouch(public_key: bytes, header: str | None, *, method: str, target: str, body: bytes,
                 token_id, now: float) -> Vouch:
    """The vouch of this request, or VouchError. The caller still has to record its nonce.
    `token_id` is the id of the token the request carries (None: no token); ANY_TOKEN for a public
    view, which acts on no token."""
    if not header:
        raise VouchError("the request did not come through the gateway (no vouch)")
    if len(header) > MAX_CHARS or not header.startswith(PREFIX):
        raise VouchError("the gateway's vouch is malformed")
    parts = header[len(PREFIX):].split(".")
    if len(parts) != 2:
        raise VouchError("the gateway's vouch is malformed")
    data, sig = _unb64(parts[0]), _unb64(parts[1])
    if len(sig) != 64:
        raise VouchError("the gateway's vouch is malformed")
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, DOMAIN + data)
    except InvalidSignature:
        raise VouchError("the gateway's vouch does not verify") from None
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VouchError("the gateway's vouch is malformed") from None
    if (not isinstance(obj, dict) or set(obj) != _MEMBERS or type(obj["t"]) is not int
            or not isinstance(obj["n"], str) or not _NONCE.match(obj["n"])
            or not isinstance(obj["b"], str) or not _HEX64.match(obj["b"])):
        raise VouchError("the gateway's vouch is malformed")
    vouch = Vouch(obj["m"], obj["p"], obj["b"], obj["jti"], obj["t"], obj["n"])
    if abs(now - vouch.time) > FRESH_SECONDS:
        raise VouchError("the gateway's vouch is not fresh")
    if (vouch.method != method.upper() or vouch.target != target
            or vouch.body_sha256 != hashlib.sha256(body or b"").hexdigest()):
        raise VouchError("the gateway's vouch is for another request")
    if token_id is not ANY_TOKEN and vouch.token_id != token_id:
        raise VouchError("the gateway's vouch is for another token")
    return vouch


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise VouchError("the gateway's vouch is malformed")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise VouchError("the gateway's vouch is malformed") from None
