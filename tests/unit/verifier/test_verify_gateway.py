"""``g1000-verify log``: the same checks over the REST API of docs/ledger.md, against a fake ledger.

The fake ledger (tests/support/fake_ledger.py), a tiny in-process HTTP server, serves a
generated log exactly as the REST contract says
(``/entries`` paged and clipped, ``/checkpoints``, ``/key``, RFC 9162 ``/proofs/consistency`` and
``/proofs/inclusion`` computed with ``g1000_proofs.merkle``).  The tests check paging, that
consistency proofs between successive checkpoints are fetched and verified, that receipts use the
gateway's inclusion proofs, that tampered proofs are caught, and that an unreachable gateway or a
non-200 answer ends with exit status 2 and one line.
"""

from __future__ import annotations

import socket

import pytest

from tests.support.fake_ledger import FakeLedger, run, serve  # noqa: F401  (serve is a fixture)
from tests.support.log_builder import SUMMIT_ID, standard_log


def test_gateway_log_verifies_with_consistency_proofs_and_receipts(capsys, serve):
    log = standard_log(20)
    ledger = FakeLedger(log)
    url = serve(ledger)
    code, doc, _ = run(capsys, url, "--receipt", f"7:{log.entries[7]['leaf_hash']}")
    assert code == 0, doc
    assert doc["checked"] == {"entries": 23, "signatures": 23, "checkpoints": len(log.checkpoints),
                              "consistency_proofs": len(log.checkpoints) - 1, "receipts": 1}
    assert any(path.startswith(f"/v1/logs/{SUMMIT_ID}/proofs/inclusion?index=7&tree_size=23")
               for path in ledger.requests)
    assert doc["log_key_source"] == "argument"


def test_entries_are_paged_until_an_empty_page(capsys, serve):
    log = standard_log(20)
    ledger = FakeLedger(log, page_cap=7)
    code, doc, _ = run(capsys, serve(ledger))
    assert code == 0, doc
    pages = [p for p in ledger.requests if "/entries?" in p]
    assert pages[0].endswith("/entries?start=0&end=1000")
    assert len(pages) == 5 and pages[-1].endswith("start=23&end=1023")


def test_large_log_uses_pages_of_at_most_1000(capsys, serve):
    log = standard_log(2100, checkpoint_sizes=[1000, 2103])
    ledger = FakeLedger(log)
    code, doc, _ = run(capsys, serve(ledger), "--workers", "1")
    assert code == 0, doc
    pages = [p for p in ledger.requests if "/entries?" in p]
    assert len(pages) == 4 and doc["checked"]["consistency_proofs"] == 1


def test_without_log_key_the_gateways_key_is_used_with_a_warning(capsys, serve):
    code, doc, err = run(capsys, serve(FakeLedger(standard_log(3))), log_key=None)
    assert code == 0 and doc["log_key_source"] == "source"
    assert "WARNING" in err


def test_entries_beyond_the_latest_checkpoint_are_noted(capsys, serve):
    log = standard_log(12, checkpoint_sizes=[4, 12])
    code, doc, _ = run(capsys, serve(FakeLedger(log)))
    assert code == 0, doc
    assert any("3 entries after the latest checkpoint" in note for note in doc["notes"])


def test_tampered_consistency_proof(capsys, serve):
    ledger = FakeLedger(standard_log(12))
    ledger.tamper_consistency = True
    code, doc, _ = run(capsys, serve(ledger))
    assert code == 1
    assert (doc["failure"]["index"], doc["failure"]["check"]) == (None, "consistency")


def test_tampered_inclusion_proof(capsys, serve):
    log = standard_log(12)
    ledger = FakeLedger(log)
    ledger.tamper_inclusion = True
    code, doc, _ = run(capsys, serve(ledger), "--receipt", f"3:{log.entries[3]['leaf_hash']}")
    assert code == 1
    assert (doc["failure"]["index"], doc["failure"]["check"]) == (3, "receipt")


def test_tampered_entry_served_by_the_gateway(capsys, serve):
    log = standard_log(12)
    log.entries[6]["event"]["payload"]["title"] = "Iets anders"
    code, doc, _ = run(capsys, serve(FakeLedger(log)))
    assert code == 1
    assert (doc["failure"]["index"], doc["failure"]["check"]) == (6, "leaf_hash")


@pytest.mark.parametrize("path, status", [
    (f"/v1/logs/{SUMMIT_ID}/entries", 500), (f"/v1/logs/{SUMMIT_ID}/checkpoints", 404),
    (f"/v1/logs/{SUMMIT_ID}/key", 503), (f"/v1/logs/{SUMMIT_ID}/proofs/consistency", 400),
])
def test_non_200_answers_exit_2_with_one_line(capsys, serve, path, status):
    ledger = FakeLedger(standard_log(12))
    ledger.status[path] = status
    code, doc, err = run(capsys, serve(ledger), log_key=None)
    assert code == 2 and doc is None
    assert len(err.strip().splitlines()) == 1 and f"HTTP {status}" in err


def test_unreachable_gateway_exits_2_with_one_line(capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, doc, err = run(capsys, f"http://127.0.0.1:{port}", "--timeout", "5")
    assert code == 2 and doc is None
    assert len(err.strip().splitlines()) == 1 and "cannot reach gateway" in err


def test_gateway_url_that_is_not_http_exits_2(capsys):
    code, doc, err = run(capsys, "ftp://example.org")
    assert code == 2 and doc is None and "not an http(s) URL" in err


def test_key_endpoint_is_not_needed_when_the_key_is_given(capsys, serve):
    ledger = FakeLedger(standard_log(5))
    ledger.status[f"/v1/logs/{SUMMIT_ID}/key"] = 404
    code, doc, _ = run(capsys, serve(ledger))
    assert code == 0, doc
    assert not any(path.endswith("/key") for path in ledger.requests)


@pytest.fixture
def pauses(monkeypatch):
    """Record the verifier's waits instead of sleeping through them."""
    waited: list[float] = []
    monkeypatch.setattr("g1000_verify.sources._pause", waited.append)
    return waited


def test_a_429_is_waited_out_as_retry_after_says(capsys, serve, pauses):
    """issue 10 L8: an auditor who ran another check a minute earlier got exit 2 at once."""
    ledger = FakeLedger(standard_log(12))
    ledger.retry_after = ["7", "3"]
    code, doc, err = run(capsys, serve(ledger))
    assert code == 0 and doc["ok"] is True, err
    assert pauses == [7.0, 3.0]


def test_a_429_beyond_the_longest_wait_is_a_clear_error(capsys, serve, pauses):
    ledger = FakeLedger(standard_log(12))
    ledger.retry_after = ["50", "50", "50"]
    code, doc, err = run(capsys, serve(ledger), "--max-wait", "120")
    assert code == 2 and doc is None and pauses == [50.0, 50.0]
    assert len(err.strip().splitlines()) == 1
    assert "rate limiting this address (HTTP 429)" in err and "after 100 s" in err and "--max-wait" in err
    ledger.retry_after = ["1"]
    pauses.clear()
    code, doc, err = run(capsys, serve(ledger), "--max-wait", "0")
    assert code == 2 and pauses == [] and "HTTP 429" in err


def test_retry_after_is_seconds_or_an_http_date():
    from g1000_verify.sources import retry_after_seconds

    now = 1_800_000_000.0
    assert retry_after_seconds("45", now) == 45.0
    assert retry_after_seconds("Fri, 15 Jan 2027 08:00:30 GMT", 1_800_000_000.0) == 30.0
    assert retry_after_seconds("Fri, 15 Jan 2027 07:00:00 GMT", now) == 0.0  # in the past: now
    for unusable in (None, "", "soon", "-5", "1.5", "Fri, 15 Jan 2027 08:00:30"):
        assert retry_after_seconds(unusable, now) is None, unusable
