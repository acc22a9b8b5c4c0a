"""Nothing links a participant to a vote (issue 13, "Secrecy tests"; docs/ballot.md, "Secrecy").

After a ballot with eight voters cast through the gateway with the client module, every row of
every table of every database of the stack (ledger, agenda, lottery, ballot, gateway: all schemas)
and every line the processes wrote (stdout, stderr, logging records with their extras) is scanned:
no row and no line holds both something of a participant (pseudonym, check-in code, participant
token, token id) and something of a vote (nullifier, credential token, prefix or signature, sealed
bytes), in any encoding; no table that holds a vote has a time, date or generated-order column;
no client address is stored anywhere and none is logged. The leaking variants show the scan
catches a server that logs or stores a pseudonym beside a nullifier.
"""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from services.ballot import casting_api, repo
from tests.support.ballot_secrecy import (cast_all, close_and_tally, column_lists, every_row, holds, links, log_lines,
                                          open_ballot)

pytestmark = pytest.mark.integration

N = 8
TIME_TYPES = ("timestamp", "date", "time", "interval")


def run(stack, tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    capfd.readouterr()
    b = open_ballot(stack, tmp_path, N)
    cast_all(b)
    close_and_tally(b)
    out, err = capfd.readouterr()
    return b, log_lines(out, err, caplog.records)


def vote_tables(env, rows, voters) -> set[str]:
    votes = [s for v in voters for s in v.vote()]
    return {f"{r.database}:{r.table}" for r in rows if holds(r.text, votes)}


def test_no_row_and_no_line_links_a_participant_to_a_vote(stack, tmp_path, capfd, caplog):
    b, lines = run(stack, tmp_path, capfd, caplog)
    rows = every_row(stack.env)
    assert {r.database.rsplit("_", 1)[1] for r in rows} >= {"ballot", "gateway", "ledger", "lottery"}

    assert {t.split(":")[1] for t in vote_tables(stack.env, rows, b.voters)} >= {"public.log_entries"}
    # the scan sees both sides: every pseudonym and every nullifier is somewhere
    everything = "\n".join(r.text for r in rows)
    assert all(v.pseudonym in everything and v.nullifier in everything for v in b.voters)

    assert links([f"{r.database}:{r.table}: {r.text}" for r in rows], b.voters) == []
    assert links(lines, b.voters) == []

    addresses = [v.address for v in b.voters]
    assert [line for line in lines if any(a in line for a in addresses)] == []
    ballot_rows = "\n".join(r.text for r in rows if r.database.endswith("_ballot"))
    assert [a for a in addresses if a in ballot_rows] == []
    # the gateway counts an anonymous read by address (the ballot read before a credential request,
    # which carries the token anyway); no row holds an address beside a vote
    assert links([r.text for r in rows], b.voters) == []
    for r in rows:
        if any(a in r.text for a in addresses):
            assert r.table == "public.rate_counters" and r.text.startswith("addr:"), r

    # a table that holds a vote has no time and no generated order; the log's own tables (events,
    # outbox) hold each cast with its batch's time, the same for every cast of a batch
    columns = column_lists(stack.env)
    held = vote_tables(stack.env, rows, b.voters)
    assert any(t.endswith("_ballot:public.ballot_nullifiers") for t in held)
    for table in held:
        if table.endswith((".events", ".log_entries")):  # the log: times checked per batch below
            continue
        for name, data_type, default, identity in columns[table]:
            assert not data_type.startswith(TIME_TYPES), (table, name, data_type)
            assert identity == "NO" and "nextval" not in (default or ""), (table, name)
            assert not name.endswith(("_at", "_time", "created", "ordinal")), (table, name)

    with stack.ballot.db.transaction() as conn:
        casts = [(json.loads(bytes(body)), recorded) for body, recorded in conn.execute(
            "SELECT body, recorded_at FROM events WHERE type = 'ballot.vote.cast'").fetchall()]
    assert len(casts) == N
    batches: dict[str, set] = {}
    for event, recorded in casts:
        batches.setdefault(event["payload"]["batch"], set()).add((event["occurred_at"], recorded))
    assert all(len(times) == 1 for times in batches.values()), batches


def test_the_scan_catches_a_service_that_logs_a_pseudonym_beside_a_nullifier(stack, tmp_path, capfd, caplog,
                                                                           monkeypatch):
    """The leaking variant: the ballot service remembers the last issuance and logs it with the
    next cast (the classic timing join, written out)."""
    last = {}
    issued, taken = repo.save_issued, repo.take_nullifier

    def remember(conn, b, recorded):
        last["pseudonym"] = recorded.payload["pseudonym"]
        return issued(conn, b, recorded)

    def leak(conn, ballot_id, cast):
        logging.getLogger("g1000.ballot").warning("cast %s after issuance to %s", cast.nullifier, last["pseudonym"])
        return taken(conn, ballot_id, cast)

    monkeypatch.setattr(repo, "save_issued", remember)
    monkeypatch.setattr(repo, "take_nullifier", leak)
    assert casting_api.repo is repo
    b, lines = run(stack, tmp_path, capfd, caplog)
    found = links(lines, b.voters)
    assert len(found) >= N
    assert {v.pseudonym for v in b.voters} <= {p for _, person, _ in found for p in person}


def test_the_scan_catches_a_service_that_stores_a_pseudonym_beside_a_nullifier(stack, tmp_path, capfd, caplog,
                                                                            monkeypatch):
    """The leaking variant for the database: the service remembers the last issuance with each
    pending cast and writes it beside the nullifier when the batch is appended."""
    last, by_sealed = {}, {}
    issued, pending, digest = repo.save_issued, repo.add_pending, repo._sha256_of

    def remember(conn, b, recorded):
        last["pseudonym"] = recorded.payload["pseudonym"]
        return issued(conn, b, recorded)

    def keep(conn, ballot_id, cast_id, cast):
        by_sealed[cast.sealed] = last["pseudonym"]
        return pending(conn, ballot_id, cast_id, cast)

    monkeypatch.setattr(repo, "save_issued", remember)
    monkeypatch.setattr(repo, "add_pending", keep)
    monkeypatch.setattr(repo, "_sha256_of", lambda sealed: f"{digest(sealed)}:{by_sealed.get(sealed, '')}")
    b, lines = run(stack, tmp_path, capfd, caplog)
    assert links(lines, b.voters) == []
    found = links([r.text for r in every_row(stack.env)], b.voters)
    assert len(found) == N
