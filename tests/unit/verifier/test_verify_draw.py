"""``g1000-verify draw``: an honest two-stage lottery, logged as docs/lottery.md says, verifies.

The :class:`Lottery` builder (tests/support/lottery_logs.py) writes the ``lottery.*`` events of a
summit the way the lottery service must (docs/lottery.md), signed like every event of the
verifier's test logs (tests/support/log_builder.py), and computes every commitment, seed, draw and
root with the *independent* reference transcriptions in tests/support/draw_reference.py, so a log
it builds verifying means the verifier agrees with the contract, not merely with itself.  Failure
cases are in ``test_verify_draw_failures``, hypothesis properties in ``test_verify_draw_properties``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from g1000_verify.draw_checks import DRAW_CHECK_NAMES, verify_draw

from tests.support.draw_reference import ref_panel_draw
from tests.support.fake_ledger import FakeLedger, serve  # noqa: F401  (serve is a fixture)
from tests.support.lottery_logs import LOTTERY, Lottery, honest_lottery, register_rows, run
from tests.support.log_builder import LOG_VKEY, SUMMIT_ID, build_log, genesis, make_event


@pytest.fixture(scope="module")
def honest():
    return honest_lottery()


NO_VOCABULARY = ("the charter declares no register vocabulary (charter v1, or no charter given): rows "
                 "and pool members were not checked against an allow-list")


def test_an_honest_two_stage_lottery_verifies(honest):
    result = honest.verify()
    assert result.failure is None, result.failure
    assert result.warnings == [] and result.notes == [NO_VOCABULARY]   # its charter is v1
    c = result.counts
    assert c["register_rows"] == 48 and c["register_chunks"] == 3
    assert c["seed_rounds"] == 2 and c["seeds"] == 2
    assert c["commitments"] == 6 and c["reveals"] == 6 and c["public_values"] == 2
    assert c["invitation_draws"] == 1 and c["invitees"] == 24
    assert c["respondents"] == 16 and c["pool_members"] == 22
    assert c["distributions"] == 2 and c["distribution_panels"] == 11
    assert c["panel_draws"] == 2 and c["replacements"] == 1
    assert c["lottery_events"] == len(honest.items)


def test_the_reported_seeds_and_draws_are_the_reference_ones(honest):
    result = honest.verify()
    r1, r2 = honest.rounds["round-invite"], honest.rounds["round-panel"]
    assert [s["seed"] for s in result.seeds] == [r1.seed.hex(), r2.seed.hex()]
    assert result.seeds[0]["contributions"] == ["gemeente", "universiteit", "krant", "notaris"]
    assert result.seeds[1]["contributions"] == ["gemeente", "universiteit", "buurtraad", "drand"]
    kinds = [d["kind"] for d in result.draws]
    assert kinds == ["invitations", "panel", "panel", "replacement"]
    citizens = honest.distributions["dist-citizens"]
    drawn = result.draws[1]
    assert drawn["panel_index"] == ref_panel_draw(r2.seed, "dist-citizens", citizens.weights)
    assert drawn["members"] == citizens.panels[drawn["panel_index"]]
    replacement = result.draws[3]
    assert replacement["replacement"] is not None      # the scenario exercises a real reserve
    assert replacement["replacement"] in citizens.panel


def test_seed_order_puts_public_values_where_they_were_logged():
    """A dice value logged between reveals is refused; logged before them it sits after the
    commitments (the commit phase is over), which is the order the seed document uses."""
    lot = Lottery()
    lot.register(register_rows(10))
    r = lot.open_round("r", "invitation", ["a", "b"])
    lot.commit(lot.rounds["r"], "a", "va")
    lot.commit(r, "b", "vb")
    lot.after_commit_phase(r)
    lot.public(r, "dice", "dice", "6")
    lot.reveal(r, "b")
    lot.reveal(r, "a")
    lot.finalize(r)
    result = lot.verify()
    assert result.failure is None
    # commitment order, not reveal order
    assert result.seeds[0]["contributions"] == ["a", "b", "dice"]


def test_reveals_may_start_before_the_deadline_once_every_party_committed():
    lot = Lottery()
    lot.register(register_rows(10))
    r = lot.open_round("r", "invitation", ["a", "b"])
    lot.commit(r, "a", "va")
    lot.commit(r, "b", "vb")
    lot.reveal(r, "a")                       # still before commit_deadline
    lot.reveal(r, "b")
    lot.finalize(r)
    assert lot.verify().failure is None


def test_a_non_reveal_is_a_warning_not_a_failure():
    lot = honest_lottery(silent={"buurtraad"})
    result = lot.verify()
    assert result.failure is None, result.failure
    assert result.seeds[1]["not_revealed"] == ["buurtraad"]
    assert result.seeds[1]["contributions"] == ["gemeente", "universiteit", "drand"]
    (warning,) = result.warnings
    assert "'buurtraad' committed at entry" in warning and "did not reveal" in warning


def test_a_lottery_in_progress_verifies_with_notes():
    lot = Lottery()
    lot.register(register_rows(10))
    r = lot.open_round("r", "panel", ["a"])
    lot.commit(r, "a", "va")
    lot.add("lottery.distribution.panels", {"distribution_id": "d", "chunk": 0,
                                            "first_index": 0, "panels": [["p000"]]})
    result = lot.verify()
    assert result.failure is None
    assert any("round r (panel) is not finalised yet" in n for n in result.notes)
    assert any("distribution d has 1 chunks and is not committed yet" in n for n in result.notes)


def test_a_log_without_lottery_events_has_nothing_to_verify():
    result = verify_draw(SUMMIT_ID, list(enumerate(genesis())))
    assert result.failure is None
    assert result.warnings == ["the log records no lottery events: there is no draw to verify"]


def test_events_of_other_streams_and_unknown_lottery_types_are_skipped(honest):
    pairs = honest.pairs()
    extra = make_event(LOTTERY, type="lottery.invitation.sent", seq=999, n=3_000_000,
                       payload={"v": 1, "count": 3})
    result = verify_draw(SUMMIT_ID, [*pairs, (len(pairs), extra)])
    assert result.failure is None
    assert result.notes == [NO_VOCABULARY, "1 lottery.invitation.sent events are not part of "
                            "docs/lottery.md (contract version 1) and were not checked"]


def test_check_names_are_declared(honest):
    assert len(set(DRAW_CHECK_NAMES)) == len(DRAW_CHECK_NAMES)


# --- The command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def honest_bundle(honest, tmp_path_factory) -> Path:
    return build_log(honest.events()).write(tmp_path_factory.mktemp("draw") / "summit.ndjson")


def test_cli_draw_on_an_honest_bundle(capsys, honest, honest_bundle):
    code, out, _ = run(capsys, "draw", str(honest_bundle), "--json", "--log-key", LOG_VKEY)
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["ok", "log_id", "tree_size", "checked", "failure", "log_key_source",
                         "notes", "completeness", "draw"]
    assert doc["ok"] is True and doc["failure"] is None
    assert doc["checked"]["entries"] == 3 + len(honest.items)
    draw = doc["draw"]
    assert list(draw) == ["checked", "seeds", "draws", "warnings", "notes"]
    assert draw["checked"]["panel_draws"] == 2
    assert [s["seed"] for s in draw["seeds"]] == [honest.rounds["round-invite"].seed.hex(),
                                                  honest.rounds["round-panel"].seed.hex()]


def test_cli_draw_text_report(capsys, honest, honest_bundle):
    code, out, _ = run(capsys, "draw", str(honest_bundle), "--log-key", LOG_VKEY)
    assert code == 0
    assert "  register     48 rows in 3 chunks, count and root recomputed" in out
    assert honest.rounds["round-panel"].seed.hex() in out
    assert out.rstrip().splitlines()[-1].startswith("OK: every check holds for tree size")
    assert out.rstrip().endswith("every draw recomputes")


def test_cli_draw_warns_on_a_non_reveal_and_exits_0(capsys, tmp_path):
    path = build_log(honest_lottery(silent={"krant"}).events()).write(tmp_path / "b")
    code, out, _ = run(capsys, "draw", str(path), "--log-key", LOG_VKEY)
    assert code == 0
    assert "WARNING: seed round round-invite (invitation): party 'krant' committed" in out
    code, out, _ = run(capsys, "draw", str(path), "--json", "--log-key", LOG_VKEY)
    assert code == 0 and len(json.loads(out)["draw"]["warnings"]) == 1


def test_cli_draw_failure_names_the_index_and_reason(capsys, tmp_path):
    lot = Lottery()
    lot.register(register_rows(10))
    r = lot.open_round("r", "invitation", ["a", "b"])
    lot.commit(r, "a", "va")
    lot.commit(r, "b", "vb")
    bad = lot.reveal(r, "a", value="not va")
    lot.reveal(r, "b")
    path = build_log(lot.events()).write(tmp_path / "b")
    code, out, _ = run(capsys, "draw", str(path), "--log-key", LOG_VKEY)
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert last.startswith(f"FAIL [reveal] entry {lot.index(bad)}: the value party 'a' reveals "
                           "does not match its commitment")
    code, out, _ = run(capsys, "draw", str(path), "--json", "--log-key", LOG_VKEY)
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False
    assert doc["failure"]["index"] == lot.index(bad) and doc["failure"]["check"] == "reveal"
    assert doc["draw"]["checked"]["commitments"] == 2


def test_cli_draw_runs_the_log_checks_first(capsys, tmp_path, honest):
    log = build_log(honest.events())
    log.entries[20]["event"]["sig"] = log.entries[21]["event"]["sig"]
    path = log.write(tmp_path / "b")
    code, out, _ = run(capsys, "draw", str(path), "--json", "--log-key", LOG_VKEY)
    doc = json.loads(out)
    assert code == 1 and doc["failure"]["check"] == "leaf_hash"
    assert doc["failure"]["index"] == 20 and doc["draw"] is None
    code, out, _ = run(capsys, "draw", str(path), "--log-key", LOG_VKEY)
    assert "  draw         not checked: the log checks failed first" in out


@pytest.mark.parametrize("argv, message", [
    (["draw"], "draw needs either a bundle FILE or --gateway URL --summit ID"),
    (["draw", "x.ndjson", "--gateway", "http://localhost:1"], "draw needs either"),
    (["draw", "--gateway", "http://localhost:1"], "--gateway needs --summit ID"),
    (["draw", "x.ndjson", "--summit", SUMMIT_ID], "--summit goes with --gateway"),
    (["draw", "/nonexistent/summit.ndjson"], "cannot read bundle"),
])
def test_cli_draw_usage_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err


def test_cli_draw_through_a_gateway(capsys, serve, honest):
    """The same source arguments as ``log``: ``--gateway URL --summit ID``."""
    url = serve(FakeLedger(build_log(honest.events())))
    code, out, _ = run(capsys, "draw", "--gateway", url, "--summit", SUMMIT_ID, "--json",
                       "--log-key", LOG_VKEY)
    doc = json.loads(out)
    assert code == 0, doc["failure"]
    assert doc["checked"]["consistency_proofs"] > 0
    assert doc["draw"]["checked"]["replacements"] == 1
