"""``g1000-verify --complete`` (issue 10 Build 7): the log against its producers' signed heads.

The fake gateway of tests/support/fake_ledger.py serves a generated log; here it also serves
``GET /v1/summits/{id}/heads`` with heads signed by the generator's fixed service keys, so a
producer ahead of the log, a missing head, a head signed by a stranger and an unreadable heads
endpoint can each be shown.
"""

from __future__ import annotations

import json

import pytest

from g1000_proofs.heads import sign_head
from g1000_verify.cli import main

from tests.support.fake_ledger import FakeLedger, run, serve  # noqa: F401 - serve is a fixture
from tests.support.log_builder import AGENDA, LEDGER, LOG_VKEY, STRANGER, SUMMIT_ID, standard_log

TOPICS = 6
LEDGER_EVENTS = 3   # summit.created and two key registrations (ledger, agenda)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def head(key, stream: str, last_seq: int, summit: str = SUMMIT_ID, time: str | None = None) -> dict:
    return sign_head(key.sign, key.key_id, summit_id=summit, stream=stream, last_seq=last_seq,
                     time=time or _now())


class HeadsLedger(FakeLedger):
    def __init__(self, heads: list[dict] | None, **kw) -> None:
        super().__init__(standard_log(TOPICS), **kw)
        self.heads = heads

    def answer(self, path, query):
        if path == f"/v1/summits/{SUMMIT_ID}/heads" and path not in self.status:
            if self.heads is None:
                return 404, "application/problem+json", b'{"title":"Not Found"}'
            return 200, "application/json", json.dumps(
                {"summit_id": SUMMIT_ID, "heads": self.heads, "unavailable": []}).encode()
        return super().answer(path, query)


def honest() -> list[dict]:
    return [head(AGENDA, "agenda", TOPICS), head(LEDGER, "ledger", LEDGER_EVENTS)]


def test_a_caught_up_log_is_complete(capsys, serve):
    ledger = HeadsLedger(honest())
    code, doc, _ = run(capsys, serve(ledger), "--complete")
    assert code == 0, doc
    assert doc["completeness"] == {"complete": True, "invalid": [], "streams": [
        {"stream": "agenda", "head_seq": TOPICS, "logged_seq": TOPICS, "behind": 0},
        {"stream": "ledger", "head_seq": LEDGER_EVENTS, "logged_seq": LEDGER_EVENTS, "behind": 0}]}
    # the heads are read before the log, so writes during the check cannot make it look behind
    assert ledger.requests[0] == f"/v1/summits/{SUMMIT_ID}/heads"


def test_a_producer_ahead_of_the_log_fails_only_with_complete(capsys, serve):
    url = serve(HeadsLedger([head(AGENDA, "agenda", TOPICS + 2), head(LEDGER, "ledger", LEDGER_EVENTS)]))
    code, doc, err = run(capsys, url)
    assert code == 0 and doc["ok"] is True
    assert doc["completeness"]["complete"] is False
    assert doc["completeness"]["streams"][0] == {"stream": "agenda", "head_seq": TOPICS + 2,
                                                 "logged_seq": TOPICS, "behind": 2}
    assert "agenda behind by 2" in err and "--complete" in err
    code, doc, _ = run(capsys, url, "--complete")
    assert code == 1 and doc["failure"]["check"] == "completeness" and doc["failure"]["index"] is None
    assert "agenda behind by 2 (head 8, log 6)" in doc["failure"]["reason"]


def test_entries_past_the_latest_checkpoint_do_not_make_the_log_complete(capsys, serve):
    """The handbook's rehearsal under load: the gateway served every entry the heads name, but
    the newest two were not yet under a signed checkpoint, and `--complete` said "OK, tree size
    N" for a tree that lacked them. Only what a checkpoint signs counts."""
    total = LEDGER_EVENTS + TOPICS
    ledger = HeadsLedger(honest())
    ledger.log = standard_log(TOPICS, checkpoint_sizes=[total - 2])
    url = serve(ledger)
    code, doc, _ = run(capsys, url, "--complete")
    assert code == 1 and doc["failure"]["check"] == "completeness", doc
    assert "agenda behind by 2 (head 6, log 4)" in doc["failure"]["reason"]
    ledger.log = standard_log(TOPICS, checkpoint_sizes=[total - 2, total])
    code, doc, _ = run(capsys, url, "--complete")
    assert code == 0 and doc["tree_size"] == total, doc


@pytest.mark.parametrize("heads, reason", [
    ([head(LEDGER, "ledger", LEDGER_EVENTS)], "agenda has no valid head"),
    ([head(STRANGER, "agenda", TOPICS), head(LEDGER, "ledger", LEDGER_EVENTS)], "does not register"),
    ([head(LEDGER, "agenda", TOPICS), head(LEDGER, "ledger", LEDGER_EVENTS)], "registers for stream 'ledger'"),
    ([dict(head(AGENDA, "agenda", TOPICS), last_seq=TOPICS - 1), head(LEDGER, "ledger", LEDGER_EVENTS)],
     "does not verify"),
    ([head(AGENDA, "agenda", TOPICS, summit="00000000-0000-4000-8000-000000000000"),
      head(LEDGER, "ledger", LEDGER_EVENTS)], "is for summit"),
])
def test_a_missing_or_invalid_head_fails_with_complete(capsys, serve, heads, reason):
    code, doc, _ = run(capsys, serve(HeadsLedger(heads)), "--complete")
    assert code == 1 and doc["failure"]["check"] == "completeness"
    assert reason in doc["failure"]["reason"]


def test_an_old_head_replayed_by_the_gateway_does_not_pass(capsys, serve):
    """A head signed long ago (when the producer had recorded less) is a valid signature, but it
    must not make a lagging log look complete: live heads must be fresh."""
    old = "2020-01-01T00:00:00.000Z"
    url = serve(HeadsLedger([head(AGENDA, "agenda", TOPICS, time=old), head(LEDGER, "ledger", LEDGER_EVENTS)]))
    code, doc, _ = run(capsys, url, "--complete")
    assert code == 1 and "may be a replay" in doc["failure"]["reason"]
    code, doc, _ = run(capsys, url, "--complete", "--max-head-age", str(10 * 365 * 86400))
    assert code == 0, doc


def test_heads_the_gateway_cannot_serve(capsys, serve):
    url = serve(HeadsLedger(None))
    code, doc, err = run(capsys, url)
    assert code == 0 and "HTTP 404" in err  # reported, not fatal, without --complete
    code, doc, _ = run(capsys, url, "--complete")
    assert code == 1 and "the heads could not be read" in doc["failure"]["reason"]


def test_a_bundle_with_saved_heads(capsys, tmp_path):
    bundle = standard_log(TOPICS).write(tmp_path / "log.jsonl")
    capsys.readouterr()
    assert main(["bundle", str(bundle), "--log-key", LOG_VKEY, "--complete"]) == 2
    assert "--complete with a bundle needs --heads" in capsys.readouterr().err
    saved = tmp_path / "heads.json"
    saved.write_text(json.dumps({"summit_id": SUMMIT_ID, "heads": honest(), "unavailable": []}))
    assert main(["bundle", str(bundle), "--log-key", LOG_VKEY, "--heads", str(saved), "--complete"]) == 0
    out = capsys.readouterr().out
    assert "complete     the latest checkpoint holds every seq" in out
    saved.write_text(json.dumps({"heads": [head(AGENDA, "agenda", TOPICS + 1)]}))
    assert main(["bundle", str(bundle), "--log-key", LOG_VKEY, "--heads", str(saved), "--complete"]) == 1
    out = capsys.readouterr().out
    assert "FAIL [completeness]" in out and "ledger has no valid head" in out
    saved.write_text("not json")
    assert main(["bundle", str(bundle), "--log-key", LOG_VKEY, "--heads", str(saved)]) == 2
