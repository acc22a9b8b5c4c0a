"""``g1000-verify bundle``: an untouched export bundle verifies; every tamper is caught.

Logs are built with the generator in tests/support/log_builder.py (fixed seeds, real Ed25519
signatures over ``rfc8785`` bytes, RFC 9162 leaf hashes and chain, C2SP signed checkpoints), then
written as a bundle per docs/ledger.md.  Each tamper test asserts a non-zero exit, the FIRST bad
entry index (or ``null`` for log-level failures) and the check that must catch it.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from g1000_verify.checks import Options, run_checks
from g1000_verify.cli import main
from g1000_verify.sources import open_bundle

from tests.support.log_builder import (
    AGENDA,
    LEDGER,
    LOG_VKEY,
    OTHER_NOTE_SEED,
    OTHER_SUMMIT_ID,
    STRANGER,
    build_log,
    genesis,
    log_vkey,
    note_signer,
    registration,
    sign_cp,
    standard_events,
    standard_log,
    topic,
)

REPO = Path(__file__).resolve().parents[3]
TOPICS = 12            # genesis is entries 0-2, topics are entries 3-14
N = 3 + TOPICS


def verify(capsys, path: Path, *extra: str, log_key: str | None = LOG_VKEY) -> tuple[int, dict]:
    """Run ``main`` with --json; return (exit status, parsed JSON)."""
    argv = ["bundle", str(path), "--json", *extra]
    if log_key is not None:
        argv += ["--log-key", log_key]
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


def assert_fails(capsys, path: Path, index, check: str, *extra: str) -> dict:
    code, doc = verify(capsys, path, *extra)
    assert code == 1, doc
    assert doc["ok"] is False
    assert doc["failure"]["check"] == check, doc["failure"]
    assert doc["failure"]["index"] == index, doc["failure"]
    return doc


@pytest.fixture
def log():
    return standard_log(TOPICS)


@pytest.fixture
def bundle(tmp_path, log):
    return log.write(tmp_path / "summit.ndjson")


# --- The untouched bundle -------------------------------------------------------------------------


def test_untouched_bundle_verifies(capsys, bundle, log):
    code, doc = verify(capsys, bundle)
    assert code == 0
    assert doc["ok"] is True and doc["failure"] is None
    assert doc["tree_size"] == N
    assert doc["checked"] == {"entries": N, "signatures": N, "checkpoints": len(log.checkpoints),
                              "consistency_proofs": 0, "receipts": 0}
    assert doc["log_key_source"] == "argument"
    assert "consistency between checkpoints: implied by recomputed roots" in doc["notes"]


def test_json_output_shape(capsys, bundle):
    code, doc = verify(capsys, bundle)
    assert list(doc) == ["ok", "log_id", "tree_size", "checked", "failure", "log_key_source", "notes",
                         "completeness"]
    assert set(doc["checked"]) == {"entries", "signatures", "checkpoints", "consistency_proofs",
                                   "receipts"}
    assert all(type(n) is int for n in doc["checked"].values())
    assert doc["log_id"] == "5d3c2b1a-0f9e-4d8c-b7a6-958473625140"
    assert all(isinstance(note, str) for note in doc["notes"])


def test_failure_json_shape(capsys, tmp_path, log):
    lines = log.lines()
    del lines[1 + 7]
    doc = assert_fails(capsys, log.write(tmp_path / "b", lines), 7, "index")
    assert set(doc["failure"]) == {"index", "check", "reason"}
    assert "entry 7" in doc["failure"]["reason"]


def test_without_log_key_uses_the_bundles_key_and_warns(capsys, bundle):
    code, doc = verify(capsys, bundle, log_key=None)
    assert code == 0 and doc["log_key_source"] == "source"
    assert any("not checked against an out-of-band copy" in note for note in doc["notes"])
    capsys.readouterr()
    assert main(["bundle", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "WARNING" in out and out.rstrip().splitlines()[-1].startswith("OK")


def test_log_key_file_is_read(capsys, tmp_path, bundle):
    key_file = tmp_path / "log.vkey"
    key_file.write_text(LOG_VKEY + "\n")
    capsys.readouterr()
    assert main(["bundle", str(bundle), "--json", "--log-key-file", str(key_file)]) == 0
    assert json.loads(capsys.readouterr().out)["log_key_source"] == "argument"


def test_module_runs_as_a_script_in_a_subprocess(bundle):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-m", "g1000_verify.cli", "bundle", str(bundle),
                           "--log-key", LOG_VKEY], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().splitlines()[-1].startswith("OK")
    assert done.stderr == ""


def test_plain_text_failure_names_index_and_reason(capsys, tmp_path):
    events = standard_events(4)
    events[5] = topic(3, n=99, key=STRANGER)
    path = build_log(events).write(tmp_path / "b")
    capsys.readouterr()
    assert main(["bundle", str(path), "--log-key", LOG_VKEY]) == 1
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last.startswith("FAIL [key] entry 5: key ")
    assert "is not registered" in last


# --- Tampered entries ----------------------------------------------------------------------------


def test_one_byte_changed_in_an_event(capsys, tmp_path, log):
    lines = log.lines()
    row = lines[1 + 9]
    position = row.index("meer groen")
    lines[1 + 9] = row[:position] + "M" + row[position + 1:]
    assert lines[1 + 9] != row
    assert_fails(capsys, log.write(tmp_path / "b", lines), 9, "leaf_hash")


def test_deleted_entry(capsys, tmp_path, log):
    lines = log.lines()
    del lines[1 + 6]
    assert_fails(capsys, log.write(tmp_path / "b", lines), 6, "index")


def test_deleted_last_entry(capsys, tmp_path, log):
    lines = log.lines()
    del lines[N]
    assert_fails(capsys, log.write(tmp_path / "b", lines), N - 1, "index")


def test_two_swapped_entry_lines(capsys, tmp_path, log):
    lines = log.lines()
    lines[1 + 8], lines[1 + 9] = lines[1 + 9], lines[1 + 8]
    assert_fails(capsys, log.write(tmp_path / "b", lines), 8, "index")


def test_two_swapped_events_under_the_same_index_and_hashes(capsys, tmp_path, log):
    log.entries[8]["event"], log.entries[9]["event"] = log.entries[9]["event"], log.entries[8]["event"]
    assert_fails(capsys, log.write(tmp_path / "b"), 8, "leaf_hash")


def test_swapped_events_rehashed_and_rechained_are_caught_by_seq(capsys, tmp_path):
    events = standard_events(TOPICS)
    events[8], events[9] = events[9], events[8]
    good = standard_log(TOPICS)
    forged = build_log(events)
    forged.checkpoints = good.checkpoints     # the operator cannot re-sign checkpoints ...
    assert_fails(capsys, forged.write(tmp_path / "b"), 8, "seq")


def test_rehashed_forgery_with_valid_signatures_is_caught_by_the_checkpoint_root(capsys, tmp_path):
    events = standard_events(TOPICS)
    events[10] = topic(8, n=500, title="Een ander onderwerp")   # validly signed, same seq
    good = standard_log(TOPICS)
    forged = build_log(events)
    forged.checkpoints = good.checkpoints
    doc = assert_fails(capsys, forged.write(tmp_path / "b"), None, "checkpoint_root")
    assert "tree size 12" in doc["failure"]["reason"]


def test_seq_gap(capsys, tmp_path):
    events = genesis() + [topic(1, n=10), topic(2, n=11), topic(4, n=12), topic(5, n=13)]
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 5, "seq")
    assert "seq 3 is missing" in doc["failure"]["reason"]


def test_seq_repeated(capsys, tmp_path):
    events = genesis() + [topic(1, n=10), topic(2, n=11), topic(2, n=12)]
    assert_fails(capsys, build_log(events).write(tmp_path / "b"), 5, "seq")


def test_event_signed_with_a_key_registered_for_another_stream(capsys, tmp_path):
    events = standard_events(5)
    events[6] = topic(4, n=77, key=LEDGER)
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 6, "key")
    assert "registered for stream ledger, not for stream agenda" in doc["failure"]["reason"]


def test_event_signed_with_an_unregistered_key(capsys, tmp_path):
    events = standard_events(5)
    events[4] = topic(2, n=77, key=STRANGER)
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 4, "key")
    assert "is not registered" in doc["failure"]["reason"]


def test_bad_signature(capsys, tmp_path):
    events = standard_events(5)
    forged = dict(events[7])
    forged["sig"] = topic(99, n=1)["sig"]
    events[7] = forged
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 7, "signature")
    assert doc["failure"]["reason"] == (f"signature does not verify with key {AGENDA.key_id[:16]}… "
                                        "registered for stream agenda")


def test_event_of_another_summit(capsys, tmp_path):
    events = standard_events(5)
    events[5] = topic(3, n=5, summit_id=OTHER_SUMMIT_ID)
    assert_fails(capsys, build_log(events).write(tmp_path / "b"), 5, "summit_id")


def test_event_with_a_float_is_refused(capsys, tmp_path, log):
    log.entries[4]["event"]["payload"]["weight"] = 0.5
    assert_fails(capsys, log.write(tmp_path / "b"), 4, "canonical_json")


def test_envelope_shape(capsys, tmp_path):
    events = standard_events(4)
    bad = dict(events[4])
    bad["type"] = "ballot.topic.nominated"
    events[4] = bad
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 4, "envelope")
    assert "does not belong to stream" in doc["failure"]["reason"]


def test_broken_chain(capsys, tmp_path, log):
    log.entries[6]["chain"] = log.entries[5]["chain"]
    assert_fails(capsys, log.write(tmp_path / "b"), 6, "chain")


def test_unreadable_entry_line(capsys, tmp_path, log):
    lines = log.lines()
    lines[1 + 3] = lines[1 + 3][:40]
    assert_fails(capsys, log.write(tmp_path / "b", lines), 3, "format")


def test_genesis_must_start_with_summit_created(capsys, tmp_path):
    events = genesis()
    events[0], events[2] = events[2], events[0]
    assert_fails(capsys, build_log(events + [topic(1, n=9)]).write(tmp_path / "b"), 0, "genesis")


def test_ledger_key_must_be_registered_in_the_genesis(capsys, tmp_path):
    events = genesis({"agenda": AGENDA})
    events += [topic(1, n=10), registration(LEDGER, "ledger", n=11, seq=3)]
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 0, "genesis")
    assert "stream 'ledger'" in doc["failure"]["reason"]


def test_key_registered_after_genesis_signs_only_later_entries(capsys, tmp_path):
    from tests.support.log_builder import make_event
    events = genesis({"ledger": LEDGER})
    ballot = lambda seq, n: make_event(STRANGER, type="ballot.vote.cast", seq=seq,  # noqa: E731
                                       payload={"v": 1}, n=n)
    good = events + [registration(STRANGER, "ballot", n=5, seq=3), ballot(1, 6), ballot(2, 7)]
    code, doc = verify(capsys, build_log(good).write(tmp_path / "good"))
    assert code == 0, doc
    early = events + [ballot(1, 6), registration(STRANGER, "ballot", n=5, seq=3)]
    doc = assert_fails(capsys, build_log(early).write(tmp_path / "early"), 2, "key")
    assert "is not registered" in doc["failure"]["reason"]


def test_key_registered_for_two_streams(capsys, tmp_path):
    events = standard_events(2) + [registration(AGENDA, "ballot", n=30, seq=4)]
    doc = assert_fails(capsys, build_log(events).write(tmp_path / "b"), 5, "key")
    assert "one stream only" in doc["failure"]["reason"]


def test_first_failure_wins_over_a_later_one(capsys, tmp_path):
    events = standard_events(8)
    forged = dict(events[5])
    forged["sig"] = events[6]["sig"]
    events[5] = forged
    log = build_log(events)
    log.entries[9]["chain"] = log.entries[8]["chain"]
    assert_fails(capsys, log.write(tmp_path / "b"), 5, "signature")


# --- Checkpoints ----------------------------------------------------------------------------


def test_checkpoint_resigned_with_another_key(capsys, tmp_path, log):
    cp = log.checkpoints[1]
    cp["note"] = sign_cp(cp["tree_size"], log.roots[cp["tree_size"]], note_signer(OTHER_NOTE_SEED))
    doc = assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_signature")
    assert "checkpoint 2 of" in doc["failure"]["reason"]


def test_checkpoint_with_a_changed_root_resigned_by_the_log_key(capsys, tmp_path, log):
    cp = log.checkpoints[1]
    cp["note"] = sign_cp(cp["tree_size"], bytes(32))
    assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_root")


def test_checkpoint_with_a_changed_root_not_resigned(capsys, tmp_path, log):
    cp = log.checkpoints[0]
    origin, size, root, rest = cp["note"].split("\n", 3)
    cp["note"] = "\n".join([origin, size, base64.b64encode(bytes(32)).decode(), rest])
    assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_signature")


def test_checkpoint_larger_than_the_log(capsys, tmp_path):
    longer = standard_log(TOPICS + 5, checkpoint_sizes=[4, 8, N + 5])
    log = standard_log(TOPICS, checkpoint_sizes=[4, 8, N])
    log.checkpoints.append(longer.checkpoints[-1])     # validly signed, for a longer tree
    doc = assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_size")
    assert f"signs a tree of {N + 5} entries, but the log has only {N}" in doc["failure"]["reason"]


def test_checkpoint_listed_with_a_wrong_size(capsys, tmp_path, log):
    log.checkpoints[0]["tree_size"] += 1
    assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_size")


def test_bundle_not_cut_at_its_latest_checkpoint(capsys, tmp_path):
    log = standard_log(TOPICS, checkpoint_sizes=[4, 8])
    assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_size")


def test_checkpoint_for_another_log_is_refused(capsys, tmp_path, log):
    other = f"g1000.localhost/g1000/{OTHER_SUMMIT_ID}"
    cp = log.checkpoints[0]
    cp["note"] = sign_cp(cp["tree_size"], log.roots[cp["tree_size"]], origin=other)
    assert_fails(capsys, log.write(tmp_path / "b"), None, "checkpoint_signature")


def test_wrong_out_of_band_key(capsys, bundle):
    code, doc = verify(capsys, bundle, log_key=log_vkey(OTHER_NOTE_SEED))
    assert code == 1 and doc["failure"]["check"] == "checkpoint_signature"


def test_key_named_for_another_log(capsys, bundle):
    code, doc = verify(capsys, bundle, log_key=log_vkey(name="elsewhere/g1000/x"))
    assert code == 1
    assert (doc["failure"]["index"], doc["failure"]["check"]) == (None, "log_key")
    assert "elsewhere/g1000/x" in doc["failure"]["reason"]


# --- Key lines ----------------------------------------------------------------------------------


def test_key_lines_must_agree_with_the_entries(capsys, tmp_path, log):
    log.key_lines[0]["public_key"] = STRANGER.public.hex()
    doc = assert_fails(capsys, log.write(tmp_path / "b"), 1, "key_lines")
    assert "do not list" in doc["failure"]["reason"] or "no such key" in doc["failure"]["reason"]


def test_missing_key_lines_are_only_a_note(capsys, tmp_path, log):
    log.key_lines = []
    code, doc = verify(capsys, log.write(tmp_path / "b"))
    assert code == 0
    assert any("no key lines" in note for note in doc["notes"])


# --- Receipts -------------------------------------------------------------------------------


def test_good_receipt(capsys, bundle, log):
    code, doc = verify(capsys, bundle, "--receipt", f"9:{log.entries[9]['leaf_hash']}",
                       "--receipt", f"0:{log.entries[0]['leaf_hash']}")
    assert code == 0, doc
    assert doc["checked"]["receipts"] == 2


def test_wrong_receipt_leaf_hash(capsys, bundle, log):
    doc = assert_fails(capsys, bundle, 9, "receipt", "--receipt", f"9:{log.entries[8]['leaf_hash']}")
    assert "is not the leaf hash of entry 9" in doc["failure"]["reason"]


def test_receipt_beyond_the_log(capsys, bundle, log):
    assert_fails(capsys, bundle, 500, "receipt", "--receipt", f"500:{log.entries[1]['leaf_hash']}")


def test_receipts_in_a_larger_log_use_stored_nodes(tmp_path):
    from g1000_proofs.merkle import root_from_leaves

    events = standard_events(2100)
    log = build_log(events, checkpoint_sizes=[1024, 2048, len(events)])
    assert root_from_leaves(log.leaves) == log.roots[len(events)]
    path = log.write(tmp_path / "big")
    receipts = [(i, log.leaves[i]) for i in (0, 1023, 1024, 2047, 2050, len(events) - 1)]
    result = run_checks(open_bundle(str(path)), Options(receipts=receipts, workers=1))
    assert result.ok, result.failure
    assert result.counts["receipts"] == len(receipts)


# --- Usage and unreadable input: exit status 2 ---------------------------------------------------


@pytest.mark.parametrize("argv", [
    [], ["bundle"], ["frobnicate"], ["bundle", "x", "--receipt", "nope"],
    ["bundle", "x", "--receipt", "1:AAAA"], ["bundle", "x", "--log-key", "k", "--log-key-file", "f"],
    ["log", "--gateway", "http://127.0.0.1:9"], ["log", "--gateway", "http://x", "--summit", "zz"],
    ["bundle", "x", "--workers", "0"],
])
def test_usage_errors_exit_2(capsys, argv):
    assert main(argv) == 2


def test_unreadable_inputs_exit_2_with_one_line(capsys, tmp_path, bundle):
    cases = [
        ["bundle", str(tmp_path / "missing.ndjson")],
        ["bundle", str(tmp_path)],
        ["bundle", str(bundle), "--log-key", "not a key"],
        ["bundle", str(bundle), "--log-key-file", str(tmp_path / "nokey")],
    ]
    empty = tmp_path / "empty"
    empty.write_text("")
    not_bundle = tmp_path / "other.json"
    not_bundle.write_text('{"kind": "header", "format": "something-else"}\n')
    newer = tmp_path / "newer.ndjson"
    newer.write_text('{"kind":"header","format":"g1000-log-bundle","version":2}\n')
    cases += [["bundle", str(p)] for p in (empty, not_bundle, newer)]
    for argv in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.strip().splitlines()) == 1, captured.err
        assert "Traceback" not in captured.err


# --- Process pool -------------------------------------------------------------------------------


def test_process_pool_verifies_and_reports_the_first_bad_signature(tmp_path):
    events = standard_events(40)
    good = build_log(events).write(tmp_path / "good")
    pooled = Options(log_key=None, workers=2, pool_threshold=0, chunk_size=7)
    result = run_checks(open_bundle(str(good)), pooled)
    assert result.ok, result.failure
    assert result.counts["signatures"] == len(events)

    forged = dict(events[20])
    forged["sig"] = events[21]["sig"]
    events[20] = forged
    log = build_log(events)
    log.entries[33]["chain"] = log.entries[32]["chain"]      # a later, non-signature failure
    result = run_checks(open_bundle(str(log.write(tmp_path / "bad"))), pooled)
    assert (result.failure.index, result.failure.check) == (20, "signature")


# --- Property: a random single-entry mutation fails at that index or earlier -----------------------


@lru_cache(maxsize=None)
def _base_lines(topics: int, sizes: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(standard_log(topics, checkpoint_sizes=list(sizes)).lines(compact=True))


@st.composite
def mutated_bundles(draw):
    topics = draw(st.integers(0, 6))
    n = 3 + topics
    sizes = tuple(sorted(set(draw(st.lists(st.integers(1, n), max_size=3))) | {n}))
    lines = list(_base_lines(topics, sizes))
    k = draw(st.integers(0, n - 1))
    kind = draw(st.sampled_from(["byte", "delete", "swap", "leaf", "chain", "index"]))
    row = 1 + k
    if kind == "byte":
        raw = bytearray(lines[row].encode("utf-8"))
        start = raw.index(b'"event":') + len(b'"event":')
        end = raw.index(b',"leaf_hash"')
        position = draw(st.integers(start, end - 1))
        assume(raw[position] < 0x80)     # stay valid UTF-8: one ASCII byte for another
        raw[position] = draw(st.integers(0x20, 0x7e).filter(lambda b: b != raw[position]))
        changed = raw.decode("utf-8")
        try:
            assume(json.loads(changed) != json.loads(lines[row]))
        except ValueError:
            pass                          # no longer JSON: must be caught as a format failure
        lines[row] = changed
    elif kind == "delete":
        del lines[row]
    elif kind == "swap":
        assume(k + 1 < n)
        lines[row], lines[row + 1] = lines[row + 1], lines[row]
    else:
        obj = json.loads(lines[row])
        if kind == "index":
            obj["index"] = draw(st.integers(-2, n + 2).filter(lambda i: i != k))
        else:
            field = "leaf_hash" if kind == "leaf" else "chain"
            obj[field] = base64.b64encode(draw(st.binary(min_size=32, max_size=32))).decode()
            assume(obj[field] != json.loads(lines[row])[field])
        lines[row] = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return lines, k


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(mutated_bundles())
def test_any_single_entry_mutation_fails_at_that_index_or_earlier(case):
    lines, k = case
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bundle.ndjson"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        result = run_checks(open_bundle(str(path)), Options(workers=1))
    assert result.failure is not None
    assert result.failure.index is not None and result.failure.index <= k, result.failure
