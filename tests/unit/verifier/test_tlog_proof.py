"""C2SP tlog-proof receipts (g1000_proofs.tlog_proof): format, strict parse, verification."""

from __future__ import annotations

import pytest

from g1000_proofs import checkpoint, merkle, note_keys, tlog_proof
from g1000_proofs.errors import NoteError, TlogProofError

ORIGIN = "example.org/g1000/3f2b8c1e-5d4a-4e7b-9c10-2a6f8d9e0b47"
ENTRIES = [f"entry {i}".encode() for i in range(7)]


@pytest.fixture(scope="module")
def log():
    signer, verifier = note_keys.generate_signer_key(ORIGIN)
    leaves = [merkle.leaf_hash(e) for e in ENTRIES]

    def node(level, i):
        return merkle.root_from_leaves(leaves[i << level:(i + 1) << level])

    note = checkpoint.sign_checkpoint(checkpoint.Checkpoint(ORIGIN, len(leaves), merkle.root_from_leaves(leaves)),
                                      signer)
    proofs = {i: tlog_proof.format_proof(i, merkle.inclusion_proof(i, len(leaves), node), note)
              for i in range(len(leaves))}
    return verifier, proofs, note


def test_every_entry_verifies_against_the_signed_checkpoint(log):
    verifier, proofs, _ = log
    for i, text in proofs.items():
        proof, cp = tlog_proof.verify_proof(text, ENTRIES[i], verifier)
        assert (proof.index, cp.size) == (i, len(ENTRIES))


def test_the_text_is_header_index_hashes_blank_line_checkpoint(log):
    _, proofs, note = log
    lines = proofs[3].split("\n")
    assert lines[:2] == ["c2sp.org/tlog-proof@v1", "index 3"]
    assert proofs[3].endswith("\n\n" + note)
    assert len(tlog_proof.parse_proof(proofs[3]).hashes) == 3


def test_extra_data_round_trips(log):
    _, _, note = log
    text = tlog_proof.format_proof(0, [bytes(32)], note, extra=b"age")
    assert text.split("\n")[1] == "extra YWdl"
    assert tlog_proof.parse_proof(text).extra == b"age"


def test_another_entry_or_index_does_not_verify(log):
    verifier, proofs, _ = log
    with pytest.raises(TlogProofError):
        tlog_proof.verify_proof(proofs[2], ENTRIES[3], verifier)
    moved = proofs[2].replace("index 2", "index 3", 1)
    with pytest.raises(TlogProofError):
        tlog_proof.verify_proof(moved, ENTRIES[2], verifier)
    beyond = proofs[2].replace("index 2", "index 7", 1)
    with pytest.raises(TlogProofError, match="not in a tree"):
        tlog_proof.verify_proof(beyond, ENTRIES[2], verifier)


def test_a_checkpoint_signed_by_another_key_does_not_verify(log):
    _, proofs, _ = log
    _, stranger = note_keys.generate_signer_key(ORIGIN)
    with pytest.raises(NoteError):
        tlog_proof.verify_proof(proofs[0], ENTRIES[0], stranger)


@pytest.mark.parametrize("text", [
    "", "c2sp.org/tlog-proof@v2\nindex 0\n\ncp\n", "c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n",
    "c2sp.org/tlog-proof@v1\nindex 0\nnot base64!\n\ncp\n", "c2sp.org/tlog-proof@v1\nindex 0\nAAAA\n\ncp\n",
    "c2sp.org/tlog-proof@v1\nindex 0\n", "c2sp.org/tlog-proof@v1\nextra %%\nindex 0\n\ncp\n",
    "c2sp.org/tlog-proof@v1\n\ncp\n",
])
def test_malformed_text_is_refused(text):
    with pytest.raises(TlogProofError):
        tlog_proof.parse_proof(text)
