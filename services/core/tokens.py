"""Bearer tokens of the platform: signed, short-lived, scoped claims (pure; no I/O).

Why our own format and not JWT: a token here carries six fixed claims, is checked by code we
control end to end, and must never be accepted with another algorithm ("alg": "none" and key
confusion are whole classes of JWT bugs). The format reuses what the platform already trusts
for events: RFC 8785 canonical JSON (services/core/canonical.py) and Ed25519 (RFC 8032).

    token   = "g1000." + b64url(claims) + "." + b64url(signature)        (no padding)
    claims  = JCS({"v":1, "jti":…, "role":…, "tenant":…, "summit":…|null, "sub":…, "iat":…, "exp":…})
    signed  = b"g1000-token/v1\\n" + claims                                (domain separation)

- `jti`: a random UUID; the gateway records every token it issues under it, so a token can be
  revoked (signature and expiry are checked here; revocation needs the gateway's record).
- `role`: organiser | facilitator | participant | auditor.
- `tenant`: the municipality the token acts for (a summit's charter names its municipality).
- `summit`: the one summit a facilitator, participant or summit auditor acts on; null for an
  organiser or auditor of the whole tenant.
- `sub`: who: an opaque, pseudonymous id (never a name or an e-mail address).
- `iat` / `exp`: seconds since the epoch; a token is valid for `iat - LEEWAY <= now < exp`.

The verifier accepts only the exact canonical bytes it would have produced, so one token has one
encoding and a changed byte anywhere fails.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonical import canonical_bytes
from .signing import Signer
from .errors import BadTokenSignatureError, ExpiredTokenError, MalformedTokenError, TokenError

PREFIX = "g1000."
DOMAIN = b"g1000-token/v1\n"
ROLES = ("organiser", "facilitator", "participant", "auditor")
SUMMIT_ROLES = frozenset({"facilitator", "participant"})  # always bound to one summit
LEEWAY_SECONDS = 60  # clock skew tolerated between the issuer and a verifier
MAX_TOKEN_CHARS = 2048
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SUBJECT = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")
_MEMBERS = {"v", "jti", "role", "tenant", "summit", "sub", "iat", "exp"}


@dataclass(frozen=True)
class Claims:
    token_id: str
    role: str
    tenant: str
    summit_id: str | None
    subject: str
    issued_at: int
    expires_at: int

    def __post_init__(self) -> None:
        problems = claim_problems(self)
        if problems:
            raise MalformedTokenError("; ".join(problems))

    def as_json(self) -> dict:
        return {"v": 1, "jti": self.token_id, "role": self.role, "tenant": self.tenant,
                "summit": self.summit_id, "sub": self.subject, "iat": self.issued_at, "exp": self.expires_at}

    def acts_on(self, summit_id: str, summit_tenant: str | None) -> bool:
        """Whether this token may act on `summit_id` (whose charter names `summit_tenant`)."""
        if self.summit_id is not None:
            return self.summit_id == summit_id.lower() and (summit_tenant is None or summit_tenant == self.tenant)
        return summit_tenant is not None and summit_tenant == self.tenant


def claim_problems(c: Claims) -> list[str]:
    out = []
    if not isinstance(c.token_id, str) or not _UUID.match(c.token_id):
        out.append("jti must be a lowercase UUID")
    if c.role not in ROLES:
        out.append(f"role must be one of {', '.join(ROLES)}")
    if not isinstance(c.tenant, str) or not 1 <= len(c.tenant) <= 200 or c.tenant != c.tenant.strip():
        out.append("tenant must be a non-empty name without surrounding spaces")
    if c.summit_id is not None and (not isinstance(c.summit_id, str) or not _UUID.match(c.summit_id)):
        out.append("summit must be a lowercase UUID or null")
    if c.role in SUMMIT_ROLES and c.summit_id is None:
        out.append(f"a {c.role} token is bound to one summit")
    if not isinstance(c.subject, str) or not _SUBJECT.match(c.subject):
        out.append("sub must be 1-128 characters of A-Z a-z 0-9 . _ : @ -")
    for name, value in (("iat", c.issued_at), ("exp", c.expires_at)):
        if type(value) is not int or not 0 <= value < 2**40:
            out.append(f"{name} must be a non-negative integer (seconds)")
    if not out and c.expires_at <= c.issued_at:
        out.append("exp must be after iat")
    return out


def new_claims(*, role: str, tenant: str, subject: str, now: int, ttl_seconds: int,
               summit_id: str | None = None) -> Claims:
    return Claims(str(uuid.uuid4()), role, tenant, summit_id.lower() if summit_id else None, subject,
                  int(now), int(now) + int(ttl_seconds))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise MalformedTokenError(f"the token's {what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedTokenError(f"the token's {what} is not base64url") from None
    if _b64(data) != text:
        raise MalformedTokenError(f"the token's {what} is not canonical base64url")
    return data


def issue(signer: Signer, claims: Claims) -> str:
    body = canonical_bytes(claims.as_json())
    return PREFIX + _b64(body) + "." + _b64(signer.sign(DOMAIN + body))


class TokenVerifier:
    """Checks a token's form, signature and time window against one trusted public key."""

    def __init__(self, public_key: bytes):
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    def verify(self, token: str, now: float) -> Claims:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or not token.startswith(PREFIX):
            raise MalformedTokenError("not a g1000 token")
        parts = token[len(PREFIX):].split(".")
        if len(parts) != 2:
            raise MalformedTokenError("a token has two parts after its prefix")
        body = _unb64(parts[0], "claims")
        sig = _unb64(parts[1], "signature")
        if len(sig) != 64:
            raise MalformedTokenError("the token's signature is not 64 bytes")
        try:
            self._key.verify(sig, DOMAIN + body)
        except InvalidSignature:
            raise BadTokenSignatureError("the token's signature does not verify") from None
        claims = _parse_claims(body)
        if now < claims.issued_at - LEEWAY_SECONDS:
            raise ExpiredTokenError("the token is not valid yet")
        if now >= claims.expires_at:
            raise ExpiredTokenError("the token has expired")
        return claims


def _parse_claims(body: bytes) -> Claims:
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedTokenError("the token's claims are not JSON") from None
    if not isinstance(obj, dict) or set(obj) != _MEMBERS or obj.get("v") != 1:
        raise MalformedTokenError("the token's claims are not version-1 claims")
    if canonical_bytes(obj) != body:
        raise MalformedTokenError("the token's claims are not canonical JSON")
    return Claims(obj["jti"], obj["role"], obj["tenant"], obj["summit"], obj["sub"], obj["iat"], obj["exp"])


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None when there is none."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
