"""The lottery's state in its PostgreSQL database: read models and the folds of its own events.

Every function takes the connection of the caller's transaction, so a request's reads, appends
and read-model writes commit together (or not at all). Seed rounds and panels are not copied
into tables: they are folded from their events, which are few, read with the core store's
`load_aggregate`/`load_types` (the lottery has no SQL of its own on the events table).
Every mutating request first takes `lock_summit`, so the lottery's writes for one summit are
serialised: a check such as "the pool did not change" stays true until the request commits.
"""

from __future__ import annotations

import json

import psycopg
from g1000_proofs.draw import Row

from services.core.envelope import Event
from services.core.store import load_aggregate, load_types

from . import rounds
from .domain import Distribution

_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('g1000-lottery:' || %s, 0))"


def lock_summit(conn: psycopg.Connection, summit_id: str) -> None:
    conn.execute(_LOCK_SQL, (summit_id,))


def events_of(conn: psycopg.Connection, aggregate_id: str) -> list[Event]:
    return load_aggregate(conn, aggregate_id)


def _row(pseudonym: str, household: str, features) -> Row:
    return Row(pseudonym, household, dict(features))


# --- register -----------------------------------------------------------------------------------


def register(conn, summit_id: str) -> dict | None:
    r = conn.execute("SELECT register_id, row_count, root, chunks, features, committed_seq, committed_at,"
                     " feature_counts, contract FROM lottery_registers WHERE summit_id = %s",
                     (summit_id,)).fetchone()
    if r is None:
        return None
    return {"register_id": str(r[0]), "count": r[1], "root": r[2], "chunks": r[3], "features": r[4],
            "committed_seq": r[5], "committed_at": r[6], "feature_counts": r[7], "contract": r[8]}


def save_register(conn, summit_id: str, committed: Event, rows, feature_counts: dict, salts: dict) -> None:
    """The register and, per row, the salts of its commitments (contract 2): they never leave
    this database except in the reveals of a draw."""
    p = committed.payload
    conn.execute(
        "INSERT INTO lottery_registers (summit_id, register_id, row_count, root, chunks, features,"
        " committed_seq, committed_at, feature_counts, contract)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (summit_id, p["register_id"], p["count"], p["root"], p["chunks"], json.dumps(p["features"]),
         committed.seq, committed.occurred_at, json.dumps(feature_counts), p.get("contract", 1)))
    with conn.cursor().copy("COPY lottery_register_rows (summit_id, pseudonym, household, features,"
                            " household_salt, feature_salts) FROM STDIN") as copy:
        for row in rows:
            household_salt, feature_salts = salts[row.pseudonym]
            copy.write_row((summit_id, row.pseudonym, row.household, json.dumps(dict(row.features)),
                            household_salt, json.dumps({k: v.hex() for k, v in feature_salts.items()})))


def register_salts(conn, summit_id: str) -> dict[str, tuple[bytes, dict[str, bytes]]]:
    """pseudonym -> (household salt, {feature: salt}) of a contract-2 register."""
    return {r[0]: (bytes(r[1]), {k: bytes.fromhex(v) for k, v in r[2].items()}) for r in conn.execute(
        "SELECT pseudonym, household_salt, feature_salts FROM lottery_register_rows WHERE summit_id = %s"
        " AND household_salt IS NOT NULL", (summit_id,))}


def register_rows(conn, summit_id: str) -> list[Row]:
    return [_row(*r) for r in conn.execute(
        "SELECT pseudonym, household, features FROM lottery_register_rows WHERE summit_id = %s"
        " ORDER BY pseudonym", (summit_id,))]


def register_row(conn, summit_id: str, pseudonym: str) -> Row | None:
    r = conn.execute("SELECT pseudonym, household, features FROM lottery_register_rows"
                     " WHERE summit_id = %s AND pseudonym = %s", (summit_id, pseudonym)).fetchone()
    return _row(*r) if r else None


# --- seed rounds (folded from their events) -----------------------------------------------------


def round_aggregate(summit_id: str, round_id: str) -> str:
    return f"summit:{summit_id}/round:{round_id}"


def fold_round(events: list[Event]) -> rounds.Round | None:
    """The round its events make (`g1000_proofs.rounds.fold`, the fold g1000-verify replays)."""
    return rounds.fold((e.type, e.payload, e.seq, e.occurred_at) for e in events)


def load_round(conn, summit_id: str, round_id: str) -> rounds.Round | None:
    return fold_round(events_of(conn, round_aggregate(summit_id, round_id)))


def load_rounds(conn, summit_id: str) -> list[rounds.Round]:
    grouped: dict[str, list[Event]] = {}
    for event in load_types(conn, "lottery", summit_id, "lottery.seed."):
        grouped.setdefault(event.payload["round_id"], []).append(event)
    folded = [fold_round(events) for events in grouped.values()]
    return sorted((r for r in folded if r is not None), key=lambda r: r.opened_seq)


# --- invitations --------------------------------------------------------------------------------


def invitation_draw(conn, summit_id: str) -> dict | None:
    r = conn.execute("SELECT draw_id, round_id, register_id, n, stratify_by, invitees, seq, drawn_at"
                     " FROM lottery_invitation_draws WHERE summit_id = %s", (summit_id,)).fetchone()
    if r is None:
        return None
    return {"draw_id": str(r[0]), "round_id": str(r[1]), "register_id": str(r[2]), "n": r[3],
            "stratify_by": r[4], "invitees": r[5], "seq": r[6], "drawn_at": r[7]}


def save_invitation_draw(conn, summit_id: str, event: Event, code_hashes: list[tuple[bytes, str]]) -> None:
    p = event.payload
    conn.execute(
        "INSERT INTO lottery_invitation_draws (summit_id, draw_id, round_id, register_id, n, stratify_by,"
        " invitees, seq, drawn_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (summit_id, p["draw_id"], p["round_id"], p["register_id"], p["n"], p["stratify_by"],
         json.dumps(p["invitees"]), event.seq, event.occurred_at))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO lottery_invitation_codes (code_hash, summit_id, pseudonym)"
                        " VALUES (%s, %s, %s)", [(h, summit_id, p) for h, p in code_hashes])


def code_owner(conn, summit_id: str, digest: bytes) -> tuple[str, bool] | None:
    """(pseudonym, used) of the code with this hash in this summit, locked for the request."""
    r = conn.execute("SELECT pseudonym, used_at IS NOT NULL FROM lottery_invitation_codes"
                     " WHERE code_hash = %s AND summit_id = %s FOR UPDATE", (digest, summit_id)).fetchone()
    return (r[0], r[1]) if r else None


def use_code(conn, digest: bytes) -> None:
    conn.execute("UPDATE lottery_invitation_codes SET used_at = now() WHERE code_hash = %s", (digest,))


# --- pools --------------------------------------------------------------------------------------


def add_member(conn, summit_id: str, pool: str, row: Row, seq: int) -> None:
    conn.execute("INSERT INTO lottery_pool_members (summit_id, pool, pseudonym, household, features, seq)"
                 " VALUES (%s, %s, %s, %s, %s, %s)",
                 (summit_id, pool, row.pseudonym, row.household, json.dumps(dict(row.features)), seq))


def has_member(conn, summit_id: str, pool: str, pseudonym: str) -> bool:
    return conn.execute("SELECT 1 FROM lottery_pool_members WHERE summit_id = %s AND pool = %s AND"
                        " pseudonym = %s", (summit_id, pool, pseudonym)).fetchone() is not None


def pool_members(conn, summit_id: str, pool: str, through_seq: int | None = None) -> list[Row]:
    """The pool's members (added at or before `through_seq`), sorted by pseudonym."""
    return [_row(*r) for r in conn.execute(
        "SELECT pseudonym, household, features FROM lottery_pool_members WHERE summit_id = %s"
        " AND pool = %s AND seq <= %s ORDER BY pseudonym",
        (summit_id, pool, through_seq if through_seq is not None else 2**62))]


def pool_head(conn, summit_id: str, pool: str) -> tuple[int, int]:
    """(member count, seq of the last member added; 0 when empty)."""
    count, last = conn.execute("SELECT count(*), coalesce(max(seq), 0) FROM lottery_pool_members"
                               " WHERE summit_id = %s AND pool = %s", (summit_id, pool)).fetchone()
    return count, last


def pools(conn, summit_id: str) -> list[tuple[str, int]]:
    return [(r[0], r[1]) for r in conn.execute(
        "SELECT pool, count(*) FROM lottery_pool_members WHERE summit_id = %s GROUP BY pool ORDER BY pool",
        (summit_id,))]


# --- distributions ------------------------------------------------------------------------------

_DIST_COLUMNS = ("distribution_id, summit_id, pool, job_id, panel_size, quotas, members, members_root,"
                 " members_through_seq, panel_count, total_weight, weights, panels, panels_root, chunks,"
                 " committed_seq, committed_at, report")


def save_distribution(conn, summit_id: str, job_id: str, committed: Event, panels, through_seq: int,
                      report: dict) -> None:
    p = committed.payload
    conn.execute(
        f"INSERT INTO lottery_distributions ({_DIST_COLUMNS}) VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (p["distribution_id"], summit_id, p["pool"], job_id, p["panel_size"], json.dumps(p["quotas"]),
         p["members"], p["members_root"], through_seq, p["panel_count"], p["total_weight"],
         json.dumps(p["weights"]), json.dumps([list(x) for x in panels]), p["panels_root"], p["chunks"],
         committed.seq, committed.occurred_at, json.dumps(report)))


def distribution(conn, summit_id: str, distribution_id: str) -> dict | None:
    r = conn.execute(f"SELECT {_DIST_COLUMNS} FROM lottery_distributions WHERE summit_id = %s"
                     " AND distribution_id = %s", (summit_id, distribution_id)).fetchone()
    if r is None:
        return None
    names = [n.strip() for n in _DIST_COLUMNS.split(",")]
    out = dict(zip(names, r))
    for key in ("distribution_id", "summit_id", "job_id"):
        out[key] = str(out[key]) if out[key] is not None else None
    return out


def distributions(conn, summit_id: str, pool: str) -> list[dict]:
    ids = [str(r[0]) for r in conn.execute(
        "SELECT distribution_id FROM lottery_distributions WHERE summit_id = %s AND pool = %s"
        " ORDER BY committed_seq", (summit_id, pool))]
    return [distribution(conn, summit_id, d) for d in ids]


def as_distribution(row: dict) -> Distribution:
    return Distribution(row["distribution_id"], row["pool"], row["quotas"], row["panels"],
                        row["weights"], row["committed_seq"])


def distribution_commits(conn, summit_id: str, pool: str) -> list[tuple[str, int]]:
    """(distribution_id, committed_seq) of the pool's distributions, for
    `g1000_proofs.rounds.designated_distribution`."""
    return [(str(r[0]), r[1]) for r in conn.execute(
        "SELECT distribution_id, committed_seq FROM lottery_distributions WHERE summit_id = %s"
        " AND pool = %s ORDER BY committed_seq", (summit_id, pool))]


# --- panels (folded from their events) ----------------------------------------------------------


def panel_aggregate(summit_id: str, pool: str) -> str:
    return f"summit:{summit_id}/pool:{pool}/panel"


def load_panel(conn, summit_id: str, pool: str) -> dict | None:
    events = events_of(conn, panel_aggregate(summit_id, pool))
    if not events:
        return None
    drawn = events[0]
    return {"pool": pool, "distribution_id": drawn.payload["distribution_id"],
            "round_id": drawn.payload["round_id"], "index": drawn.payload["index"],
            "drawn": drawn.payload["members"], "drawn_seq": drawn.seq, "drawn_at": drawn.occurred_at,
            "replacements": [{"dropped": e.payload["dropped"], "replacement": e.payload["replacement"],
                              "seq": e.seq, "occurred_at": e.occurred_at} for e in events[1:]],
            "version": len(events)}
