"""`g1000-verify agenda`'s own parts: the export's shape and the command line's usage errors
(the check against a real log runs in tests/integration/test_agenda_texts.py)."""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from g1000_proofs.agenda import describe_topic

from g1000_verify.agenda_checks import read_texts_file, verify_texts
from g1000_verify.cli import main
from g1000_verify.model import SourceError, VerificationFailure

SUMMIT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TOPIC = "11111111-1111-4111-8111-111111111111"
EVENTS = [(7, {"type": "agenda.topic.nominated", "stream": "agenda",
               "payload": {"v": 2, "topic_id": TOPIC, "texts": describe_topic("nl", "Groen")}})]


def _export(**changes) -> dict:
    text = {**describe_topic("nl", "Groen")[0], "topic_id": TOPIC, "text": "Groen", "withheld": None}
    return {"format": "g1000-agenda-texts", "version": 1, "summit_id": SUMMIT, "texts": [text]} | changes


def test_a_matching_export_counts_its_texts():
    assert verify_texts(SUMMIT, EVENTS, _export()) == 1


@pytest.mark.parametrize("export, found", [
    (_export(format="other"), "not a g1000-agenda-texts version 1"),
    (_export(version=2), "not a g1000-agenda-texts version 1"),
    (_export(summit_id="other"), "of summit 'other'"),
    (_export(texts={}), "no list of texts"),
    (_export(texts=[]), "described in the log but not served"),
    ([], "not a g1000-agenda-texts"),
])
def test_a_wrong_export_fails_the_agenda_check(export, found):
    with pytest.raises(VerificationFailure) as failure:
        verify_texts(SUMMIT, EVENTS, export)
    assert failure.value.check == "agenda" and found in failure.value.reason


def test_the_texts_file_must_be_json(tmp_path):
    bad = tmp_path / "texts.json"
    bad.write_bytes(b"\xff not json")
    with pytest.raises(SourceError, match="not JSON"):
        read_texts_file(str(bad))
    with pytest.raises(SourceError, match="cannot read"):
        read_texts_file(str(tmp_path / "missing.json"))
    bad.write_text(json.dumps(_export()))
    assert read_texts_file(str(bad))["summit_id"] == SUMMIT


@pytest.mark.parametrize("argv, found", [
    (["agenda", "bundle.jsonl"], "needs --texts FILE"),
    (["agenda"], "agenda needs either a bundle FILE or --gateway URL --summit ID"),
    (["agenda", "--gateway", "http://127.0.0.1:9", "--summit", SUMMIT, "--texts", "t.json"],
     "--texts FILE goes with a bundle FILE"),
])
def test_usage_errors_exit_2(argv, found):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(argv) == 2
    assert found in err.getvalue()
