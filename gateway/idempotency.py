"""Idempotency keys on POST (draft-ietf-httpapi-idempotency-key-header).

A client that may retry a POST sends `Idempotency-Key`. The first request with a key is
forwarded; its response (status, content type, headers, body) is stored and replayed for every
retry, so the service sees the request once and records one event. A key is scoped by the caller
(digest of the Authorization header, or the client address when anonymous) and by method and
path; the request is fingerprinted (query string, content type, body), and reusing a key for a
different request is 422. A retry while the first request is still in flight is 409 with
Retry-After. Keys expire after 24 hours; expired rows are deleted opportunistically.

Responses the gateway could not get (upstream unreachable or timed out) and 5xx answers are not
stored: the key is released so that a retry is forwarded again.

Stored answers can hold credentials (a token, check-in codes, invitation codes), so the table
never holds them readably: the key itself is stored only as its SHA-256, and the answer's headers
and body are sealed with AES-256-GCM under a key derived (HKDF-SHA256, RFC 5869) from the
Idempotency-Key and its scope. Only a client that presents the key again can open them; someone
who reads the database cannot. (So clients should use unguessable keys, e.g. UUIDv4.)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.core.db import Database
from .errors import InvalidKeyError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
IN_FLIGHT_LOCK_SECONDS = 120  # longer than any forwarded request may take (gateway timeout)
_NOT_REPLAYED = {"content-length", "date", "server", "x-request-id", "ratelimit", "ratelimit-policy",
                 "connection", "keep-alive", "transfer-encoding"}


def parse_key(raw: str) -> str:
    """The key from the field value: an sf-string (`"…"`, as the draft writes it) or a bare value."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        raise InvalidKeyError(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters long")
    if any(not 0x20 <= ord(c) <= 0x7E for c in value):
        raise InvalidKeyError(f"{HEADER} must be printable ASCII")
    return value


def fingerprint(query: bytes, content_type: str, body: bytes) -> bytes:
    h = hashlib.sha256()
    for part in (query, content_type.encode("latin-1", "replace"), body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.digest()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _cipher(scope: str, method: str, path: str, key: str) -> AESGCM:
    salt = hashlib.sha256("\n".join((scope, method, path)).encode("utf-8", "surrogateescape")).digest()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"g1000/idempotency/v1").derive(
        key.encode("ascii"))
    return AESGCM(derived)


def seal(scope: str, method: str, path: str, key: str, headers: dict[str, str], body: bytes) -> bytes:
    nonce = os.urandom(12)
    plain = json.dumps({"headers": headers, "body": body.hex()}).encode("ascii")
    return nonce + _cipher(scope, method, path, key).encrypt(nonce, plain, None)


def unseal(scope: str, method: str, path: str, key: str, sealed: bytes) -> tuple[dict[str, str], bytes]:
    opened = json.loads(_cipher(scope, method, path, key).decrypt(sealed[:12], sealed[12:], None))
    return opened["headers"], bytes.fromhex(opened["body"])


@dataclass(frozen=True)
class Stored:
    status: int
    content_type: str | None
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Claim:
    """Outcome of claiming a key: `owner` (forward it), `replay`, `mismatch` or `in_flight`."""
    outcome: str
    stored: Stored | None = None


_CLAIM = """
INSERT INTO idempotency_keys AS k (scope, method, path, key, fingerprint, locked_until, expires_at)
VALUES (%(scope)s, %(method)s, %(path)s, %(key)s, %(fp)s,
        now() + make_interval(secs => %(lock)s), now() + make_interval(secs => %(ttl)s))
ON CONFLICT (scope, method, path, key) DO UPDATE SET
    fingerprint = EXCLUDED.fingerprint, locked_until = EXCLUDED.locked_until,
    expires_at = EXCLUDED.expires_at, created_at = now(), response_status = NULL,
    response_type = NULL, response_headers = NULL, response_body = NULL
WHERE k.expires_at <= now() OR (k.response_status IS NULL AND k.locked_until <= now())
RETURNING 1
"""

_EXISTING = """
SELECT fingerprint, response_status, response_type, response_headers, response_body
FROM idempotency_keys WHERE scope = %s AND method = %s AND path = %s AND key = %s
"""


class IdempotencyStore:
    def __init__(self, db: Database, ttl_seconds: int):
        self.db = db
        self.ttl = ttl_seconds

    def claim(self, scope: str, method: str, path: str, key: str, fp: bytes) -> Claim:
        """Take the key for this request, or say what its earlier use means for this one.

        A new key, an expired one, or one abandoned in flight (its lock ran out) is taken.
        """
        params = {"scope": scope, "method": method, "path": path, "key": _digest(key), "fp": fp,
                  "lock": IN_FLIGHT_LOCK_SECONDS, "ttl": self.ttl}
        with self.db.transaction() as conn:
            if conn.execute(_CLAIM, params).fetchone():
                return Claim("owner")
            row = conn.execute(_EXISTING, (scope, method, path, _digest(key))).fetchone()
        if row is None:  # deleted between the two statements (expiry clean-up): try once more
            return self.claim(scope, method, path, key, fp)
        old_fp, status, ctype, _, sealed = row
        if bytes(old_fp) != fp:
            return Claim("mismatch")
        if status is None:
            return Claim("in_flight")
        try:
            headers, body = unseal(scope, method, path, key, bytes(sealed))
        except (InvalidTag, ValueError):  # not sealed under this key: cannot be this client's answer
            return Claim("mismatch")
        return Claim("replay", Stored(status, ctype, headers, body))

    def complete(self, scope: str, method: str, path: str, key: str, status: int,
                 content_type: str | None, headers: dict[str, str], body: bytes) -> None:
        kept = {k: v for k, v in headers.items() if k.lower() not in _NOT_REPLAYED}
        sealed = seal(scope, method, path, key, kept, body)
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE idempotency_keys SET response_status = %s, response_type = %s,"
                " response_headers = NULL, response_body = %s"
                " WHERE scope = %s AND method = %s AND path = %s AND key = %s",
                (status, content_type, sealed, scope, method, path, _digest(key)))

    def release(self, scope: str, method: str, path: str, key: str) -> None:
        """Forget a key whose request got no storable answer, so that a retry is forwarded."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM idempotency_keys WHERE scope = %s AND method = %s AND path = %s"
                         " AND key = %s AND response_status IS NULL", (scope, method, path, _digest(key)))

    def delete_expired(self, batch: int = 1000) -> int:
        with self.db.transaction() as conn:
            return conn.execute(
                "DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys"
                " WHERE expires_at <= now() LIMIT %s)", (batch,)).rowcount
