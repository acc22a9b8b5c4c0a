"""The ballot's state in its PostgreSQL database: read models written beside its events.

Every function takes the connection of the caller's transaction, so a request's reads, appends
and read-model writes commit together or not at all. Every mutating request first takes
`lock_summit`, so the ballot's writes for one summit are serialised (an arrival cannot slip in
between a roll being read and committed, two casts cannot both take a nullifier).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import psycopg

from services.core.envelope import Event, parse_event
from services.core.store import load_types

from .domain import Ballot, Cast

_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('g1000-ballot:' || %s, 0))"
_COLUMNS = ("ballot_id, summit_id, state, version, created, opened_at, roll_count, roll_root, credential_key,"
            " credential_private, issued, closed_at, early, private_key, counted, result")


def lock_summit(conn: psycopg.Connection, summit_id: str) -> None:
    conn.execute(_LOCK_SQL, (summit_id,))


# --- arrivals -----------------------------------------------------------------------------------


def has_arrived(conn, summit_id: str, pseudonym: str) -> int | None:
    r = conn.execute("SELECT seq FROM ballot_arrivals WHERE summit_id = %s AND pseudonym = %s",
                     (summit_id, pseudonym)).fetchone()
    return r[0] if r else None


def add_arrival(conn, summit_id: str, pseudonym: str, seq: int) -> None:
    conn.execute("INSERT INTO ballot_arrivals (summit_id, pseudonym, seq) VALUES (%s, %s, %s)",
                 (summit_id, pseudonym, seq))


def arrivals(conn, summit_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT pseudonym FROM ballot_arrivals WHERE summit_id = %s ORDER BY seq",
                                       (summit_id,))]


# --- ballots ------------------------------------------------------------------------------------


def _ballot(r) -> Ballot:
    return Ballot(str(r[0]), str(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8],
                  bytes(r[9]) if r[9] is not None else None, r[10], r[11], r[12], r[13], r[14], r[15])


def load_ballot(conn, summit_id: str, ballot_id: str, *, lock: bool = False) -> Ballot | None:
    r = conn.execute(f"SELECT {_COLUMNS} FROM ballots WHERE summit_id = %s AND ballot_id = %s"
                     + (" FOR UPDATE" if lock else ""), (summit_id, ballot_id)).fetchone()
    return _ballot(r) if r else None


def ballots(conn, summit_id: str) -> list[Ballot]:
    return [_ballot(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM ballots WHERE summit_id = %s"
                                             " ORDER BY created_seq", (summit_id,))]


def open_ballots(conn) -> list[tuple[str, str]]:
    """(summit, ballot) of every open ballot, for the job."""
    return [(str(r[0]), str(r[1])) for r in conn.execute(
        "SELECT summit_id, ballot_id FROM ballots WHERE state = 'open' ORDER BY created_seq")]


def save_created(conn, event: Event, texts: list[tuple[str, str, str]]) -> None:
    p = event.payload
    conn.execute("INSERT INTO ballots (ballot_id, summit_id, state, version, created, created_seq)"
                 " VALUES (%s, %s, 'created', 1, %s, %s)",
                 (p["ballot_id"], event.summit_id, json.dumps(p), event.seq))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO ballot_texts (ballot_id, option_id, language, body) VALUES (%s, %s, %s, %s)",
                        [(p["ballot_id"], *row) for row in texts])


def texts(conn, ballot_id: str) -> dict[str, dict[str, str]]:
    """option_id ('' for the title) -> language -> text."""
    out: dict[str, dict[str, str]] = {}
    for option_id, language, body in conn.execute(
            "SELECT option_id, language, body FROM ballot_texts WHERE ballot_id = %s ORDER BY option_id, language",
            (ballot_id,)):
        out.setdefault(option_id, {})[language] = body
    return out


def save_opened(conn, b: Ballot, event: Event, roll: list[str], private_der: bytes) -> None:
    p = event.payload
    conn.execute("UPDATE ballots SET state = 'open', version = version + 1, opened_seq = %s, opened_at = %s,"
                 " roll_count = %s, roll_root = %s, credential_key = %s, credential_private = %s"
                 " WHERE ballot_id = %s",
                 (event.seq, event.occurred_at, p["roll"]["count"], p["roll"]["root"], p["credential_key"],
                  private_der, b.ballot_id))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO ballot_roll (ballot_id, pseudonym) VALUES (%s, %s)",
                        [(b.ballot_id, p) for p in roll])


def on_roll(conn, ballot_id: str, pseudonym: str) -> bool:
    return conn.execute("SELECT 1 FROM ballot_roll WHERE ballot_id = %s AND pseudonym = %s",
                        (ballot_id, pseudonym)).fetchone() is not None


def issued_to(conn, ballot_id: str, pseudonym: str) -> bool:
    return conn.execute("SELECT 1 FROM ballot_issuances WHERE ballot_id = %s AND pseudonym = %s",
                        (ballot_id, pseudonym)).fetchone() is not None


def save_issued(conn, b: Ballot, event: Event) -> None:
    conn.execute("INSERT INTO ballot_issuances (ballot_id, pseudonym, seq) VALUES (%s, %s, %s)",
                 (b.ballot_id, event.payload["pseudonym"], event.seq))
    conn.execute("UPDATE ballots SET version = version + 1, issued = issued + 1 WHERE ballot_id = %s", (b.ballot_id,))


# --- casts --------------------------------------------------------------------------------------


def take_nullifier(conn, ballot_id: str, cast: Cast) -> bool:
    """False when the nullifier was used before, appended or pending (nothing is written here).

    The caller holds the ballot's row lock, so casts of one ballot take turns and the check
    stands until the cast is stored (:func:`add_pending`). A nullifier enters `ballot_nullifiers`
    only with its batch (:func:`save_batch`): a row written per cast would keep, in its place in
    the table and its transaction id, the order of arrival (docs/ballot.md, "Secrecy")."""
    return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM ballot_nullifiers WHERE ballot_id = %s AND nullifier = %s)"
                        " AND NOT EXISTS (SELECT 1 FROM ballot_pending_casts WHERE ballot_id = %s AND nullifier = %s)",
                        (ballot_id, cast.nullifier, ballot_id, cast.nullifier)).fetchone()[0]


def add_pending(conn, ballot_id: str, cast_id: str, cast: Cast) -> int:
    """Store a pending cast; the number now pending.

    Rows keep the order they were written in (their place in the table, and the id of the
    transaction that wrote them: `ctid`, `xmin`), and a dump shows it; casts made right after
    their credentials would come out in the (public) order of the issuances. So every cast
    rewrites all of its ballot's pending casts in a fresh random order, in its own transaction: a
    dump shows them in no order that arrival explains, all with one transaction id. At most a
    batch of rows each time (docs/ballot.md, "Secrecy")."""
    pending = conn.execute("DELETE FROM ballot_pending_casts WHERE ballot_id = %s"
                           " RETURNING cast_id, nullifier, credential, sealed", (ballot_id,)).fetchall()
    pending = [(str(r[0]), r[1], json.dumps(r[2]), r[3]) for r in pending]
    pending.append((cast_id, cast.nullifier, json.dumps(cast.credential), cast.sealed))
    _shuffle(pending)
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO ballot_pending_casts (cast_id, ballot_id, nullifier, credential, sealed)"
                        " VALUES (%s, %s, %s, %s, %s)", [(c, ballot_id, n, cr, s) for c, n, cr, s in pending])
    return len(pending)


def _shuffle(items: list) -> None:
    secrets.SystemRandom().shuffle(items)


def take_pending(conn, ballot_id: str) -> list[Cast]:
    """Every pending cast of the ballot, removed from the table (the caller appends them)."""
    rows = conn.execute("DELETE FROM ballot_pending_casts WHERE ballot_id = %s"
                        " RETURNING nullifier, credential, sealed", (ballot_id,)).fetchall()
    return [Cast(r[0], r[1], r[2], "") for r in rows]


def save_batch(conn, b: Ballot, events: list[Event]) -> None:
    """The batch's nullifiers, written now in the batch's shuffled order (see take_nullifier)."""
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO ballot_nullifiers (ballot_id, nullifier, sealed_sha256, seq, event_id)"
                        " VALUES (%s, %s, %s, %s, %s)",
                        [(b.ballot_id, e.payload["nullifier"], _sha256_of(e.payload["sealed"]), e.seq, e.event_id)
                         for e in events])
    conn.execute("UPDATE ballots SET version = version + %s WHERE ballot_id = %s", (len(events), b.ballot_id))


def _sha256_of(sealed_base64: str) -> str:
    return hashlib.sha256(base64.b64decode(sealed_base64)).hexdigest()


def receipt(conn, ballot_id: str, nullifier: str) -> tuple[str, int | None, str | None] | None:
    r = conn.execute("SELECT sealed_sha256, seq, event_id FROM ballot_nullifiers WHERE ballot_id = %s"
                     " AND nullifier = %s", (ballot_id, nullifier)).fetchone()
    if r:
        return r[0], r[1], str(r[2]) if r[2] else None
    pending = conn.execute("SELECT sealed FROM ballot_pending_casts WHERE ballot_id = %s AND nullifier = %s",
                           (ballot_id, nullifier)).fetchone()
    return (_sha256_of(pending[0]), None, None) if pending else None


def cast_count(conn, ballot_id: str) -> int:
    return conn.execute("SELECT (SELECT count(*) FROM ballot_nullifiers WHERE ballot_id = %s)"
                        " + (SELECT count(*) FROM ballot_pending_casts WHERE ballot_id = %s)",
                        (ballot_id, ballot_id)).fetchone()[0]


def event_by_id(conn, event_id: str) -> Event:
    (body,) = conn.execute("SELECT body FROM events WHERE event_id = %s", (event_id,)).fetchone()
    return parse_event(bytes(body))


def cast_events(conn, summit_id: str, ballot_id: str) -> list[Event]:
    """The ballot's `ballot.vote.cast` events in log order."""
    return [e for e in load_types(conn, "ballot", summit_id, "ballot.vote.cast")
            if e.payload["ballot_id"] == ballot_id]


# --- close, shares, tally -----------------------------------------------------------------------


def save_closed(conn, b: Ballot, event: Event) -> None:
    """Closed: the credential key's private half is erased, no credential can be issued again."""
    conn.execute("UPDATE ballots SET state = 'closed', version = version + 1, closed_at = %s, early = %s,"
                 " credential_private = NULL WHERE ballot_id = %s",
                 (event.payload["closed_at"], event.payload["early"], b.ballot_id))


def shares(conn, ballot_id: str) -> dict[int, str]:
    return {r[0]: r[1] for r in conn.execute("SELECT x, share FROM ballot_shares WHERE ballot_id = %s ORDER BY x",
                                             (ballot_id,))}


def add_share(conn, ballot_id: str, x: int, text: str) -> None:
    conn.execute("INSERT INTO ballot_shares (ballot_id, x, share) VALUES (%s, %s, %s)", (ballot_id, x, text))


def save_tallied(conn, b: Ballot, private_key: str, counted: int, result: dict) -> None:
    conn.execute("UPDATE ballots SET state = 'tallied', version = version + 2, private_key = %s, counted = %s,"
                 " result = %s WHERE ballot_id = %s", (private_key, counted, json.dumps(result), b.ballot_id))
