"""``g1000-verify tally``: honest ballots, logged as docs/ballot.md says, verify and recount.

The :class:`BallotLog` builder (tests/support/ballot_logs.py) writes the ``ballot.*`` events the way
the ballot service must, signed like every event of the verifier's test logs, with real RSA
credential keys and votes sealed with HPKE by code independent of ``g1000_proofs``.  Tampered logs
are in ``test_verify_tally_failures``, the properties of random ballots in ``test_ballot_log``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from g1000_proofs import ballot_log, blind_rsa
from g1000_verify.tally_checks import TALLY_CHECK_NAMES, verify_tally

from tests.support.ballot_logs import (
    BALLOT,
    METHODS,
    NOT_OPENING,
    BallotLog,
    b64,
    honest_ballot,
    pseudonym,
)
from tests.support.fake_ledger import FakeLedger, serve  # noqa: F401  (serve is a fixture)
from tests.support.log_builder import LOG_VKEY, SUMMIT_ID, build_log, make_event
from tests.support.lottery_logs import at, run


KEYS = {"approval": "approve", "cumulative": "dots", "score": "scores", "schulze": "ranking"}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_an_honest_ballot_of_every_method_verifies_and_recounts(method):
    log, b = honest_ballot(method)
    result = log.verify()
    assert result.failure is None, result.failure
    assert result.warnings == [] and result.notes == []
    c = result.counts
    assert (c["ballots"], c["opened"], c["closed"], c["revealed"], c["tallied"]) == (1, 1, 1, 1, 1)
    assert (c["arrivals"], c["issued"], c["casts"]) == (8, 6, 6)
    assert c["ballot_events"] == len(log.items)
    summary, = result.ballots
    published = b.result()
    assert summary["method"] == method and summary["state"] == "tallied"
    assert (summary["roll"], summary["issued"], summary["cast"]) == (8, 6, 6)
    assert (summary["counted"], summary["spoiled"]) == (published["counted"], 2) == (4, 2)
    assert summary["ranking"] == published["ranking"]
    assert published["spoiled_by_reason"] == {f"expected an object with {KEYS[method]!r} only": 1,
                                              NOT_OPENING: 1}


def test_a_credential_issued_blindly_as_the_client_and_service_do_verifies():
    """The path of docs/ballot.md: the client blinds, the service signs blindly, the client
    finalizes and casts; the log holds only the unblinded credential."""
    log = BallotLog()
    for i in range(3):
        log.arrive(pseudonym(i))
    b = log.create("approval")
    log.open(b)
    log.issue(b, pseudonym(0))
    public = b.signer.public_key()
    token, prefix = bytes(range(32)), bytes(range(32, 64))
    prepared = blind_rsa.prepare(token, blind_rsa.PSS_RANDOMIZED, msg_prefix=prefix)
    blinded = blind_rsa.blind(public, prepared, blind_rsa.PSS_RANDOMIZED)
    signature = blind_rsa.finalize(public, prepared, blind_rsa.blind_sign(b.signer, blinded.blinded_msg),
                                   blinded.inv, blind_rsa.PSS_RANDOMIZED)
    log.cast(b, {"approve": ["park"]}, credential={
        "token": token.hex(), "prefix": prefix.hex(), "signature": b64(signature)})
    log.close(b)
    log.reveal(b)
    log.publish(b)
    result = log.verify()
    assert result.failure is None, result.failure
    assert result.ballots[0]["ranking"][0] == {"option": "park", "rank": 1}


def test_two_ballots_share_the_arrivals_and_one_can_be_checked_alone():
    log, first = honest_ballot("score", key_slot=0)
    log.arrive(pseudonym(40))            # arrives between the two openings: on the second roll only
    log, second = honest_ballot("schulze", log=log, key_slot=1)
    result = log.verify()
    assert result.failure is None, result.failure
    assert [s["roll"] for s in result.ballots] == [8, 9]
    only = log.verify(second.ballot_id)
    assert only.failure is None and [s["ballot_id"] for s in only.ballots] == [second.ballot_id]
    assert only.counts["arrivals"] == 9


def test_a_ballot_in_progress_verifies_with_a_note():
    log = BallotLog()
    log.arrive(pseudonym(1))
    b = log.create("approval")
    log.open(b)
    log.issue(b, pseudonym(1))
    log.cast(b, {"approve": ["bos"]})
    result = log.verify()
    assert result.failure is None and result.warnings == []
    assert result.notes == [f"ballot {b.ballot_id} is open, not tallied yet: its result cannot be "
                            "recounted"]
    assert result.ballots[0]["counted"] is None


def test_a_log_without_ballots_has_nothing_to_recount():
    result = verify_tally(SUMMIT_ID, list(enumerate(BallotLog().events())))
    assert result.failure is None
    assert result.warnings == ["the log records no ballot: there is nothing to recount"]


def test_a_ballot_asked_for_that_the_log_does_not_hold_fails():
    log, _ = honest_ballot()
    missing = "b0a11070-0000-4000-8000-0000000000ff"
    failure = log.verify(missing).failure
    assert (failure.index, failure.check) == (None, "ballot_order")
    assert failure.reason == f"the log records no ballot {missing}"


def test_unknown_ballot_event_types_are_noted_and_other_streams_skipped():
    log, _ = honest_ballot()
    pairs = log.pairs()
    extra = make_event(BALLOT, type="ballot.ballot.renamed", seq=999, n=3_000_000,
                       payload={"v": 1, "title": "x"})
    other = make_event(BALLOT, type="agenda.topic.nominated", seq=1, n=3_000_001,
                       payload={"v": 1, "title": "x"})
    result = verify_tally(SUMMIT_ID, [*pairs, (len(pairs), extra), (len(pairs) + 1, other)])
    assert result.failure is None
    assert result.notes == ["1 ballot.ballot.renamed events are not part of docs/ballot.md and were "
                            "not checked"]


def test_check_names_are_declared_once():
    assert len(set(TALLY_CHECK_NAMES)) == len(TALLY_CHECK_NAMES)
    assert set(ballot_log.RULES) < set(TALLY_CHECK_NAMES)


# --- The command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def honest():
    return honest_ballot("cumulative")


@pytest.fixture(scope="module")
def honest_bundle(honest, tmp_path_factory) -> Path:
    return build_log(honest[0].events()).write(tmp_path_factory.mktemp("tally") / "summit.ndjson")


def test_cli_tally_on_an_honest_bundle(capsys, honest, honest_bundle):
    log, b = honest
    code, out, _ = run(capsys, "tally", str(honest_bundle), "--json", "--log-key", LOG_VKEY)
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["ok", "log_id", "tree_size", "checked", "failure", "log_key_source",
                         "notes", "completeness", "tally"]
    assert doc["ok"] is True and doc["failure"] is None
    assert doc["checked"]["entries"] == 3 + len(log.items)
    tally = doc["tally"]
    assert list(tally) == ["checked", "ballots", "warnings", "notes"]
    assert tally["checked"]["tallied"] == 1 and tally["checked"]["casts"] == 6
    assert tally["ballots"][0]["ranking"] == b.result()["ranking"]


def test_cli_tally_text_report(capsys, honest, honest_bundle):
    log, b = honest
    code, out, _ = run(capsys, "tally", str(honest_bundle), "--log-key", LOG_VKEY)
    assert code == 0, out
    assert "  ballots      1 ballots (1 opened, 1 tallied); 8 arrivals, rolls recomputed" in out
    assert (f"    ballot {b.ballot_id} (entry 11, cumulative, 3 options): tallied; roll 8, "
            "issued 6, cast 6; recounted: 4 counted, 2 spoiled; 1. park, 2. bos, 3. plein") in out
    assert out.rstrip().endswith("every ballot's rules hold and every published result recounts")


def test_cli_tally_failure_names_the_index_and_reason(capsys, tmp_path):
    log, b = honest_ballot("approval")
    position = len(log.items) - 1
    type_, payload, t = log.items[position]
    result = dict(payload["result"], counted=payload["result"]["counted"] + 1)
    log.items[position] = (type_, {**payload, "result": result}, t)
    path = build_log(log.events()).write(tmp_path / "b")
    code, out, _ = run(capsys, "tally", str(path), "--log-key", LOG_VKEY)
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(f"FAIL [tally] entry {log.index(position)}: the published result of "
                           f"ballot {b.ballot_id} is not its recount: its 'counted' differs")
    code, out, _ = run(capsys, "tally", str(path), "--json", "--log-key", LOG_VKEY)
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False
    assert doc["failure"]["index"] == log.index(position) and doc["failure"]["check"] == "tally"
    assert doc["tally"]["checked"]["casts"] == 6


def test_cli_tally_names_the_cast_an_early_closing_puts_outside_the_window(capsys, tmp_path):
    """The failure is found at the closing but is the cast's: its index is the one reported."""
    log, b = honest_ballot("score", spoiled=False)
    cast = next(i for i, (t, _, _) in enumerate(log.items) if t == "ballot.vote.cast")
    closed = next(i for i, (t, _, _) in enumerate(log.items) if t == "ballot.ballot.closed")
    type_, payload, t = log.items[closed]
    log.items[closed] = (type_, {**payload, "early": True, "closed_at": at(log.items[cast][2])}, t)
    path = build_log(log.events()).write(tmp_path / "b")
    code, out, _ = run(capsys, "tally", str(path), "--json", "--log-key", LOG_VKEY)
    failure = json.loads(out)["failure"]
    assert code == 1 and (failure["check"], failure["index"]) == ("window", log.index(cast))
    assert "at or after its early closing" in failure["reason"]


def test_cli_tally_runs_the_log_checks_first(capsys, tmp_path, honest):
    built = build_log(honest[0].events())
    built.entries[12]["event"]["sig"] = built.entries[13]["event"]["sig"]
    path = built.write(tmp_path / "b")
    code, out, _ = run(capsys, "tally", str(path), "--json", "--log-key", LOG_VKEY)
    doc = json.loads(out)
    assert code == 1 and doc["failure"]["check"] == "leaf_hash"
    assert doc["failure"]["index"] == 12 and doc["tally"] is None
    code, out, _ = run(capsys, "tally", str(path), "--log-key", LOG_VKEY)
    assert "  tally        not checked: the log checks failed first" in out


def test_cli_tally_of_one_ballot(capsys, honest, honest_bundle):
    _, b = honest
    code, out, _ = run(capsys, "tally", str(honest_bundle), "--ballot", b.ballot_id.upper(),
                       "--json", "--log-key", LOG_VKEY)
    assert code == 0 and [s["ballot_id"] for s in json.loads(out)["tally"]["ballots"]] == [b.ballot_id]
    code, out, _ = run(capsys, "tally", str(honest_bundle), "--ballot",
                       "b0a11070-0000-4000-8000-0000000000ff", "--log-key", LOG_VKEY)
    assert code == 1 and "FAIL [ballot_order] log: the log records no ballot" in out


@pytest.mark.parametrize("argv, message", [
    (["tally"], "tally needs either a bundle FILE or --gateway URL --summit ID"),
    (["tally", "x.ndjson", "--gateway", "http://localhost:1"], "tally needs either"),
    (["tally", "--gateway", "http://localhost:1"], "--gateway needs --summit ID"),
    (["tally", "x.ndjson", "--summit", SUMMIT_ID], "--summit goes with --gateway"),
    (["tally", "/nonexistent/summit.ndjson"], "cannot read bundle"),
    (["tally", "x.ndjson", "--ballot", "not-a-uuid"], "ballot id 'not-a-uuid' is not a UUID"),
])
def test_cli_tally_usage_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err


def test_cli_tally_through_a_gateway(capsys, serve, honest):
    """The same source arguments as ``log`` and ``draw``: ``--gateway URL --summit ID``."""
    url = serve(FakeLedger(build_log(honest[0].events())))
    code, out, _ = run(capsys, "tally", "--gateway", url, "--summit", SUMMIT_ID, "--json",
                       "--log-key", LOG_VKEY)
    doc = json.loads(out)
    assert code == 0, doc["failure"]
    assert doc["checked"]["consistency_proofs"] > 0
    assert doc["tally"]["checked"]["tallied"] == 1
