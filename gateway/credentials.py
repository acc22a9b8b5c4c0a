"""The credentials the gateway issues, and their record: tokens (revocable) and check-in codes.

Tokens are signed claims (services/core/tokens.py) that any service can check offline; what
makes them revocable is this record: the gateway accepts a token only while its id is here and
not revoked. Organiser tokens are issued by the `g1000 admin` command (the operator's act, with
the key file and the gateway's database at hand); organisers issue facilitator and auditor tokens
for their summits; participants exchange a one-time check-in code, printed on their invitation,
for a participant token of that summit.

Check-in codes: 16 characters of Crockford's base32 (80 random bits), printed in groups of four
(`7K2M-Q9XD-4HTV-C1RB`); typing is forgiving (case, spaces, hyphens, O for 0, I and L for 1).
Only SHA-256 of a code is stored; the one exchange that succeeds marks it used in the same
transaction that records the participant token, so a code gives exactly one token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from services.core.db import Database
from services.core.signing import Signer
from services.core.signing import load_or_create_signer, write_public_key
from services.core.tokens import ROLES, Claims, issue, new_claims
from .errors import (ChainEndedError, CredentialError, LiveCodeError, NotSeatedError, UnknownCodeError,
                     UnknownTokenError, UsedCodeError)

from .settings import GatewaySettings

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 16
DEFAULT_TTL_SECONDS = {"organiser": 8 * 3600, "facilitator": 14 * 3600, "participant": 14 * 3600,
                       "auditor": 24 * 3600}
DEFAULT_CODE_TTL_SECONDS = 60 * 24 * 3600  # letters go out weeks before the day
# a refresh chain ends this long after its first token was issued, however often it is refreshed
DEFAULT_CHAIN_SECONDS = {"organiser": 7 * 86_400, "facilitator": 3 * 86_400, "participant": 3 * 86_400,
                         "auditor": 7 * 86_400}


def new_code() -> str:
    raw = "".join(secrets.choice(CROCKFORD) for _ in range(CODE_CHARS))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_CHARS, 4))


def normalise_code(text: str) -> str | None:
    """The canonical 16 characters of a typed code, or None when it cannot be one."""
    cleaned = "".join(text.split()).replace("-", "").upper()
    cleaned = cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(cleaned) != CODE_CHARS or any(c not in CROCKFORD for c in cleaned):
        return None
    return cleaned


def code_digest(code: str) -> bytes:
    canonical = normalise_code(code)
    if canonical is None:
        raise UnknownCodeError("this is not a check-in code")
    return hashlib.sha256(canonical.encode("ascii")).digest()


def _lock_person(conn, summit_id: str, subject: str) -> None:
    """Serialise, per person and summit, everything that makes or ends a participant token
    (check-in, refresh): a transaction-scoped advisory lock. Without it a refresh that has
    revoked T1 and inserted T2, not yet committed, races a check-in that revokes "every live
    token" of the person: the check-in cannot see T2, and two tokens stay live."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 11))", (f"participant:{summit_id}:{subject}",))


def _is_token_id(issued_by: str) -> bool:
    """Whether `issued_by` names a token (a UUID), not the operator ('admin')."""
    try:
        uuid.UUID(issued_by)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    claims: Claims


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    role: str
    tenant: str
    summit_id: str | None
    subject: str
    label: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def as_json(self) -> dict:
        return {"token_id": self.token_id, "role": self.role, "tenant": self.tenant,
                "summit_id": self.summit_id, "subject": self.subject, "label": self.label,
                "issued_by": self.issued_by, "issued_at": self.issued_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


_RECORD = ("token_id, role, tenant, summit_id, subject, label, issued_by, issued_at, expires_at,"
           " revoked_at")


def _record(row) -> TokenRecord:
    return TokenRecord(str(row[0]), row[1], row[2], str(row[3]) if row[3] else None, row[4], row[5], row[6],
                       row[7], row[8], row[9])


_CASCADE = """
WITH RECURSIVE tree(token_id, tenant) AS (
    SELECT t.token_id, t.tenant FROM issued_tokens t
     WHERE t.chain_id = (SELECT chain_id FROM issued_tokens WHERE token_id = %s)
  UNION
    SELECT t.token_id, t.tenant FROM issued_tokens t JOIN tree ON t.issued_by = tree.token_id::text
     AND t.tenant = tree.tenant
)
UPDATE issued_tokens SET revoked_at = now(), revoked_by = %s || ':cascade'
 WHERE token_id IN (SELECT token_id FROM tree) AND revoked_at IS NULL
"""


class Credentials:
    def __init__(self, db: Database, signer: Signer, *, ttl_seconds: dict[str, int] | None = None,
                 chain_seconds: dict[str, int] | None = None, clock: Callable[[], float] = time.time):
        self.db = db
        self.signer = signer
        self.ttl = dict(DEFAULT_TTL_SECONDS, **(ttl_seconds or {}))
        self.chain = dict(DEFAULT_CHAIN_SECONDS, **(chain_seconds or {}))
        self.clock = clock

    def _insert(self, conn, claims: Claims, issued_by: str, label: str,
                chain: tuple[str, datetime] | None = None) -> None:
        """Record a token; `chain` (id, start) continues a refresh chain, else it starts its own."""
        chain_id, started = chain or (claims.token_id, _ts(claims.issued_at))
        conn.execute(
            "INSERT INTO issued_tokens (token_id, role, tenant, summit_id, subject, label, issued_by,"
            " issued_at, expires_at, chain_id, chain_started_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (claims.token_id, claims.role, claims.tenant, claims.summit_id, claims.subject, label, issued_by,
             _ts(claims.issued_at), _ts(claims.expires_at), chain_id, started))

    def _claims(self, role: str, tenant: str, subject: str, summit_id: str | None, ttl: int | None) -> Claims:
        if role not in ROLES:
            raise CredentialError(f"unknown role {role!r}")
        lifetime = self.ttl[role] if ttl is None else ttl
        return new_claims(role=role, tenant=tenant, subject=subject, now=int(self.clock()),
                          ttl_seconds=lifetime, summit_id=summit_id)

    def issue(self, *, role: str, tenant: str, subject: str, issued_by: str, summit_id: str | None = None,
              label: str = "", ttl_seconds: int | None = None) -> IssuedToken:
        """A new token. When `issued_by` is a token's id (an organiser making staff tokens), that
        token must still be live in this very transaction, its row locked: otherwise a revocation
        with cascade committed between the gateway's check and this insert would miss the new
        token (the cascade's second statement sees it only if it committed first)."""
        claims = self._claims(role, tenant, subject, summit_id, ttl_seconds)
        with self.db.transaction() as conn:
            if _is_token_id(issued_by) and conn.execute(
                    "SELECT 1 FROM issued_tokens WHERE token_id = %s AND revoked_at IS NULL FOR UPDATE",
                    (issued_by,)).fetchone() is None:
                raise UnknownTokenError("the issuing token is revoked or unknown")
            self._insert(conn, claims, issued_by, label)
        return IssuedToken(issue(self.signer, claims), claims)

    def refresh(self, old: Claims) -> IssuedToken:
        """A fresh token with the same role, tenant, summit and subject; the old one is revoked.

        The new token continues the old one's chain: it expires no later than the chain's end
        (its first token's issue time + the role's chain lifetime), and after that end refresh is
        refused (ChainEndedError) — only a new issue (the operator, an organiser) starts a chain."""
        now = int(self.clock())
        with self.db.transaction() as conn:
            if old.role == "participant":
                _lock_person(conn, str(old.summit_id), old.subject)
            row = conn.execute("UPDATE issued_tokens SET revoked_at = now(), revoked_by = 'refresh'"
                               " WHERE token_id = %s AND revoked_at IS NULL RETURNING label, chain_id, chain_started_at",
                               (old.token_id,)).fetchone()
            if row is None:
                raise UnknownTokenError("this token is revoked or unknown")
            label, chain_id, started = row
            ends = int(started.timestamp()) + self.chain[old.role]
            if ends - now < 60:  # raising rolls the revocation back: the old token stays usable
                raise ChainEndedError(f"this {old.role} token's refresh chain ended (at most"
                                      f" {self.chain[old.role]} s after its first token); get a new token")
            claims = self._claims(old.role, old.tenant, old.subject, old.summit_id,
                                  min(self.ttl[old.role], ends - now))
            self._insert(conn, claims, old.token_id, label, (str(chain_id), started))
        return IssuedToken(issue(self.signer, claims), claims)

    def is_live(self, token_id: str, conn=None) -> str | None:
        """The token's chain id (its rate-limit bucket) while it is recorded and not revoked, else
        None (signature and expiry are the verifier's part); in ``conn``'s transaction when given
        (the gateway asks together with counting the request)."""
        if conn is None:
            with self.db.transaction() as conn:
                return self.is_live(token_id, conn)
        row = conn.execute("SELECT chain_id FROM issued_tokens WHERE token_id = %s AND revoked_at IS NULL",
                           (token_id,)).fetchone()
        return str(row[0]) if row else None

    def record(self, token_id: str) -> TokenRecord | None:
        with self.db.transaction() as conn:
            row = conn.execute(f"SELECT {_RECORD} FROM issued_tokens WHERE token_id = %s", (token_id,)).fetchone()
        return _record(row) if row else None

    def for_summit(self, summit_id: str) -> list[TokenRecord]:
        with self.db.transaction() as conn:
            rows = conn.execute(f"SELECT {_RECORD} FROM issued_tokens WHERE summit_id = %s"
                                " ORDER BY issued_at, token_id", (summit_id,)).fetchall()
        return [_record(r) for r in rows]

    def revoke(self, token_id: str, by: str, *, cascade: bool = False) -> TokenRecord:
        """Revoke (idempotent: revoking a revoked token changes nothing).

        With `cascade`, also every token of the same municipality issued by any token of this
        one's refresh chain, and by those, transitively (an organiser's facilitators and auditors,
        and their refreshed successors). Participant tokens come from check-in codes, not from a
        token, and are not included."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE issued_tokens SET revoked_at = now(), revoked_by = %s"
                         " WHERE token_id = %s AND revoked_at IS NULL", (by, token_id))
            if cascade:
                conn.execute(_CASCADE, (token_id, by))
            row = conn.execute(f"SELECT {_RECORD} FROM issued_tokens WHERE token_id = %s", (token_id,)).fetchone()
        if row is None:
            raise UnknownTokenError(f"no token {token_id}")
        return _record(row)

    def create_codes(self, *, summit_id: str, tenant: str, created_by: str, participants: list[str],
                     ttl_seconds: int = DEFAULT_CODE_TTL_SECONDS) -> list[tuple[str, str]]:
        """One code per participant subject; returns (code, participant) pairs, shown only once.

        A participant has at most one live code per summit: LiveCodeError (and no code made)
        when any of them still has an unused, unexpired one. Makers of one summit take turns (a
        transaction-scoped advisory lock), so two concurrent requests cannot both make one."""
        made = [(new_code(), p) for p in participants]
        expires = _ts(self.clock() + ttl_seconds)
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 10))", (f"codes:{summit_id}",))
            live = conn.execute(
                "SELECT DISTINCT participant FROM check_in_codes WHERE summit_id = %s AND participant = ANY(%s)"
                " AND used_at IS NULL AND expires_at > %s ORDER BY participant",
                (summit_id, list(participants), _ts(self.clock()))).fetchall()
            if live:
                raise LiveCodeError([r[0] for r in live])
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO check_in_codes (code_sha256, summit_id, tenant, participant, created_by,"
                    " expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
                    [(code_digest(code), summit_id, tenant, p, created_by, expires) for code, p in made])
        return made

    def redeem(self, code: str, seated: Callable[[str], set[str]] | None = None,
               arrive: Callable[[str, str], None] | None = None) -> IssuedToken:
        """Exchange a check-in code for a participant token, once.

        One live participant token per person per summit: checking in again (with a new code,
        e.g. after a lost phone) revokes the participant's earlier tokens of that summit (under
        the person's lock, so a refresh cannot slip a token past it). With `seated(summit_id)`
        (who the log shows seated now) a code whose participant is no longer seated -- dropped
        out after the code was made -- is refused (NotSeatedError) and stays unused.

        With `arrive(summit_id, participant)` the arrival is recorded (the ballot's
        `ballot.participant.arrived`, idempotent) before the code is used, so an accepted check-in
        is never without its arrival; when it raises (the ballot is unreachable) the code stays
        unused and the caller answers 503."""
        digest = code_digest(code)
        if seated is not None or arrive is not None:
            # asked outside the transaction: no lock is held while the lottery or the ballot answers
            with self.db.transaction() as conn:
                found = conn.execute("SELECT summit_id, participant, expires_at > %s FROM check_in_codes"
                                     " WHERE code_sha256 = %s AND used_at IS NULL",
                                     (_ts(self.clock()), digest)).fetchone()
            if found is not None and seated is not None and found[1] not in seated(str(found[0])):
                raise NotSeatedError("this check-in code's participant is not seated at the summit (any more)")
            if found is not None and found[2] and arrive is not None:
                arrive(str(found[0]), found[1])
        now = _ts(self.clock())  # after the lottery answered: a code ended meanwhile has expired
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT summit_id, tenant, participant, used_at, expires_at FROM check_in_codes"
                " WHERE code_sha256 = %s FOR UPDATE", (digest,)).fetchone()
            if row is None or row[4] <= now:
                raise UnknownCodeError("no such check-in code (or it has expired)")
            if row[3] is not None:
                raise UsedCodeError("this check-in code has already been used; ask a facilitator for a new one")
            _lock_person(conn, str(row[0]), row[2])
            claims = self._claims("participant", row[1], row[2], str(row[0]), None)
            conn.execute("UPDATE issued_tokens SET revoked_at = now(), revoked_by = 'check-in'"
                         " WHERE summit_id = %s AND subject = %s AND role = 'participant' AND revoked_at IS NULL",
                         (row[0], row[2]))
            self._insert(conn, claims, "check-in", "")
            conn.execute("UPDATE check_in_codes SET used_at = %s, token_id = %s WHERE code_sha256 = %s",
                         (now, claims.token_id, digest))
        return IssuedToken(issue(self.signer, claims), claims)

    def unseat(self, summit_id: str, subject: str, by: str = "dropped-out") -> int:
        """Revoke every live participant token of a person who is no longer seated at the summit
        (replaced after dropping out), and end their unused codes; returns how many tokens.

        The codes first, then the person's lock, then the tokens: the order `redeem` takes them
        (code row, person), so the two cannot deadlock, and a check-in that had already asked
        the lottery (seated then) either finds its code ended or its new token is revoked here."""
        with self.db.transaction() as conn:
            conn.execute("UPDATE check_in_codes SET expires_at = %s WHERE summit_id = %s AND participant = %s"
                         " AND used_at IS NULL AND expires_at > %s",
                         (_ts(self.clock()), summit_id, subject, _ts(self.clock())))
            _lock_person(conn, summit_id, subject)
            return conn.execute("UPDATE issued_tokens SET revoked_at = now(), revoked_by = %s WHERE summit_id = %s"
                                " AND subject = %s AND role = 'participant' AND revoked_at IS NULL",
                                (by, summit_id, subject)).rowcount

    def forget_expired(self, older_than_seconds: int = 30 * 86_400) -> int:
        """Delete token records that expired long ago (they can no longer verify anyway)."""
        with self.db.transaction() as conn:
            return conn.execute("DELETE FROM issued_tokens WHERE expires_at < %s",
                                (_ts(self.clock() - older_than_seconds),)).rowcount


def token_signer(settings: GatewaySettings) -> Signer:
    """The token-signing key (created with mode 0600 on first start) and its public half beside
    it, which the services read (G1000_TOKEN_PUBLIC_KEY_FILE). Here, beside the record of the
    tokens it signs: the gateway, `g1000 admin` and `g1000 up` all take it from this one place."""
    signer = load_or_create_signer(settings.token_key_file)  # made once, even by racing workers
    public = settings.token_key_file.with_suffix(".pub")
    if not public.exists():
        write_public_key(public, signer.public_key)
    return signer
