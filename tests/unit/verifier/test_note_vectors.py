"""Interop tests: C2SP signed notes and tlog checkpoints.

Vectors come from golang.org/x/mod/sumdb/note, C2SP and transparency-dev
(tests/vectors/, whose README.md gives each set's origin and licence).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from g1000_proofs import checkpoint as cpmod
from g1000_proofs import merkle, note
from g1000_proofs.errors import (
    CheckpointFormatError,
    CheckpointOriginError,
    KeyFormatError,
    KeyIdMismatchError,
    NoteFormatError,
    NoteSignatureError,
    TooManySignaturesError,
    UnsupportedKeyAlgorithmError,
    UnverifiedNoteError,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = REPO_ROOT / "tests" / "vectors"

GO = json.loads((VECTORS / "signed-note" / "golang-sumdb-note.json").read_text())
C2SP = json.loads((VECTORS / "signed-note" / "c2sp-examples.json").read_text())
KEYS = GO["keys"]
EM_DASH = "\u2014"


def _verifiers(names: list[str]) -> list[note.Verifier]:
    return [note.parse_verifier_key(KEYS[name]["vkey"]) for name in names]


# --- Keys ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(KEYS))
def test_verifier_key_ids_recompute(name):
    vkey = KEYS[name]["vkey"]
    verifier = note.parse_verifier_key(vkey)
    written = int(vkey.split("+")[1], 16)
    assert verifier.name == name and verifier.key_id == written
    assert note.key_id(name, b"\x01" + verifier.public_key) == written
    assert note.make_verifier_key(name, verifier.public_key) == vkey
    assert verifier.key_string == vkey


def test_signer_key_matches_its_verifier_key():
    signer = note.parse_signer_key(KEYS["PeterNeumann"]["skey"])
    assert signer.verifier == note.parse_verifier_key(KEYS["PeterNeumann"]["vkey"])
    assert f"{signer.key_id:08x}" == "c74f20a3"
    assert "private" not in repr(signer).lower()


@pytest.mark.parametrize("case", GO["bad_vkeys"], ids=lambda c: c["why"])
def test_bad_verifier_keys_are_rejected(case):
    with pytest.raises(KeyFormatError):
        note.parse_verifier_key(case["vkey"])


def test_bad_verifier_key_reasons():
    wrong_length, unknown_alg = (c["vkey"] for c in GO["bad_vkeys"])
    with pytest.raises(UnsupportedKeyAlgorithmError):
        note.parse_verifier_key(unknown_alg)
    good = KEYS["PeterNeumann"]["vkey"]
    with pytest.raises(KeyIdMismatchError):
        note.parse_verifier_key(good.replace("c74f20a3", "c74f20a4"))
    for broken in ["", "PeterNeumann", "PeterNeumann+c74f20a3", "Peter Neumann+0+AA==",
                   good.replace("c74f20a3", "0xc74f20"), good + "!", wrong_length]:
        with pytest.raises(KeyFormatError):
            note.parse_verifier_key(broken)


def test_signer_key_errors():
    skey = KEYS["PeterNeumann"]["skey"]
    for broken in [skey[len("PRIVATE+KEY+"):], skey.replace("c74f20a3", "00000000"),
                   "PRIVATE+KEY+x+00000000+AA=="]:
        with pytest.raises(KeyFormatError):
            note.parse_signer_key(broken)
    for name, key_id, public in [("bad name", 1, bytes(32)), ("ok", 2**32, bytes(32)),
                                 ("ok", 1, bytes(31))]:
        with pytest.raises(KeyFormatError):
            note.Verifier(name, key_id, public)


def test_cosignature_vkeys_from_transparency_dev_recompute():
    native, ed25519, invalid = C2SP["cosig_v1_vkeys_transparency_dev_formats"]
    for case, type_byte in ((native, 0x04), (ed25519, 0x01)):
        name, id_hex, key_b64 = case["vkey"].split("+", 2)
        typed = base64.b64decode(key_b64)
        assert typed[0] == type_byte
        assert note.key_id(name, typed) == int(id_hex, 16)
    note.parse_verifier_key(ed25519["vkey"])
    with pytest.raises(UnsupportedKeyAlgorithmError):  # cosignatures: not notes
        note.parse_verifier_key(native["vkey"])
    with pytest.raises(KeyFormatError):
        note.parse_verifier_key(invalid["vkey"])


# --- Signing and opening ---------------------------------------------------------


def test_resigning_reproduces_the_go_note_byte_for_byte():
    signer = note.parse_signer_key(KEYS[GO["sign"]["signer"]]["skey"])
    signed = note.sign_note(GO["sign"]["text"], signer)
    assert signed == GO["sign"]["want_signed_note"]
    assert note.sign_note(GO["sign"]["text"], KEYS["PeterNeumann"]["skey"]) == signed


@pytest.mark.parametrize("number", range(len(GO["open_cases"])))
def test_go_open_cases(number):
    case = GO["open_cases"][number]
    known = _verifiers(case["verifiers"])
    if case["want"] == "ok":
        text, verified = note.open_note(case["msg"], known)
        assert text == GO["sign"]["text"]
        assert [sig.name for sig in verified] == case["want_verified"]
        parsed = note.parse_note(case["msg"])
        others = [s.name for s in parsed.signatures if s.name not in case["want_verified"]]
        assert others == case["want_unverified"]
    elif case["want"].startswith("unverified"):
        with pytest.raises(UnverifiedNoteError):
            note.open_note(case["msg"], known)
    elif case["want"].startswith("malformed"):
        with pytest.raises(TooManySignaturesError):
            note.open_note(case["msg"], known)
    else:
        assert case["want"].startswith("invalid signature")
        with pytest.raises(NoteSignatureError) as info:
            note.open_note(case["msg"], known)
        assert info.value.key_name == "PeterNeumann" and info.value.key_id == "c74f20a3"


@pytest.mark.parametrize("number", range(len(GO["malformed_msgs_b64"])))
def test_go_malformed_notes_are_rejected(number):
    raw = base64.b64decode(GO["malformed_msgs_b64"][number])
    with pytest.raises(NoteFormatError):
        note.open_note(raw, _verifiers(["PeterNeumann"]))
    with pytest.raises(NoteFormatError):
        note.parse_note(raw)


def test_more_malformed_signature_lines():
    good = GO["sign"]["want_signed_note"]
    text, line = good.split("\n\n")
    sig_b64 = line.strip().split(" ")[2]
    for block in [f"{EM_DASH} Bad Name {sig_b64}",
                  f"- PeterNeumann {sig_b64}",
                  f"{EM_DASH} PeterNeumann",
                  f"{EM_DASH} PeterNeumann AAAA",
                  f"{EM_DASH} PeterNeumann {sig_b64[:-1]}",
                  f"{EM_DASH} Peter+Neumann {sig_b64}"]:
        with pytest.raises(NoteFormatError):
            note.parse_note(f"{text}\n\n{block}\n")
    with pytest.raises(NoteFormatError):
        note.parse_note(good.replace("cryptography", "crypto\rgraphy"))


def test_c2sp_example_note_verifies():
    example = C2SP["signed_note_example"]
    text, verified = note.open_note(example["note"], [example["vkey"]])
    assert text == "This is an example message.\n"
    assert [f"{s.name}+{s.key_id:08x}" for s in verified] == ["example.com/foo+530d903a"]


def test_at_least_sixteen_signatures_are_accepted():
    keys = [note.generate_signer_key(f"witness{i}.example") for i in range(20)]
    signed = note.sign_note("many signers\n", *(skey for skey, _ in keys))
    text, verified = note.open_note(signed, [keys[19][1], keys[3][1]])
    assert text == "many signers\n"
    assert [s.name for s in verified] == ["witness3.example", "witness19.example"]


def test_known_name_with_unknown_key_id_is_ignored():
    skey, vkey = note.generate_signer_key("PeterNeumann")
    impostor = note.sign_note(GO["sign"]["text"], skey)
    with pytest.raises(UnverifiedNoteError):
        note.open_note(impostor, _verifiers(["PeterNeumann"]))
    both = GO["sign"]["want_signed_note"] + impostor.split("\n\n")[1]
    _, verified = note.open_note(both, _verifiers(["PeterNeumann"]) + [vkey])
    assert len(verified) == 2


def test_sign_note_refuses_bad_text():
    signer = KEYS["PeterNeumann"]["skey"]
    for text in ["no final newline", "tab\there\n", ""]:
        with pytest.raises(NoteFormatError):
            note.sign_note(text, signer)


# --- Checkpoints -------------------------------------------------------------------


def test_c2sp_checkpoint_example_parses():
    parsed = note.parse_note(C2SP["checkpoint_example_unverifiable_no_key"])
    cp = cpmod.parse_checkpoint(parsed.text)
    assert cp.origin == "example.com/behind-the-sofa" and cp.size == 20852163
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == () and cpmod.format_checkpoint(cp) == parsed.text
    witness = parsed.signatures[1]
    assert witness.name == "witness.example.com/w1" and f"{witness.key_id:08x}" == "8d66cf3f"
    assert int.from_bytes(witness.signature[:8], "big") == 1679315147
    assert len(witness.signature) == 8 + 64


def test_cosignature_timestamp_is_readable_from_a_signature_line():
    case = C2SP["cosig_v1_timestamp_case"]
    sig = note.parse_note(f"x\n\n{EM_DASH} w {case['sig_b64']}\n").signatures[0]
    assert int.from_bytes(sig.signature[:8], "big") == case["want_timestamp"]


def test_sumdb_tree_note_body_is_a_checkpoint():
    body = GO["sumdb_tree_note_body"]
    cp = cpmod.parse_checkpoint(body["text"])
    assert cp.origin == "go.sum database tree" and cp.size == body["size"]
    assert cp.root_hash == merkle.leaf_hash(b"hello world")


@pytest.fixture
def log_key():
    origin = cpmod.make_origin("log.example.org", "summit-2026")
    return origin, *note.generate_signer_key(origin)


def test_checkpoint_round_trip(log_key):
    origin, skey, vkey = log_key
    cp = cpmod.Checkpoint(origin, 5, merkle.leaf_hash(b"root"), ("ext one",))
    signed = cpmod.sign_checkpoint(cp, skey)
    assert signed.startswith("log.example.org/g1000/summit-2026\n5\n")
    assert cpmod.open_checkpoint(signed, vkey) == cp
    assert cpmod.open_checkpoint(signed.encode(), note.parse_verifier_key(vkey)) == cp


@pytest.mark.parametrize("line, replacement", [
    (0, "log.example.org/g1000/summit-2027"),
    (1, "6"),
    (2, base64.b64encode(merkle.leaf_hash(b"other")).decode()),
])
def test_tampered_checkpoint_is_rejected(log_key, line, replacement):
    origin, skey, vkey = log_key
    signed = cpmod.sign_checkpoint(cpmod.Checkpoint(origin, 5, merkle.leaf_hash(b"r")), skey)
    lines = signed.split("\n")
    lines[line] = replacement
    with pytest.raises(NoteSignatureError):
        cpmod.open_checkpoint("\n".join(lines), vkey)


def test_checkpoint_origin_and_key_checks(log_key):
    origin, skey, vkey = log_key
    signed = cpmod.sign_checkpoint(cpmod.Checkpoint(origin, 0, merkle.EMPTY_ROOT), skey)
    with pytest.raises(CheckpointOriginError):
        cpmod.open_checkpoint(signed, vkey, expected_origin="other.example/g1000/x")
    with pytest.raises(UnverifiedNoteError):
        cpmod.open_checkpoint(signed, note.generate_signer_key(origin)[1])
    other_skey, other_vkey = note.generate_signer_key("not-the-origin")
    foreign = cpmod.sign_checkpoint(cpmod.Checkpoint(origin, 0, merkle.EMPTY_ROOT), other_skey)
    with pytest.raises(CheckpointOriginError):
        cpmod.open_checkpoint(foreign, other_vkey)
    assert cpmod.open_checkpoint(foreign, other_vkey, expected_origin=origin).size == 0


ROOT64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize("text", [
    f"o\n01\n{ROOT64}\n", f"o\n+1\n{ROOT64}\n", f"o\n 1\n{ROOT64}\n",
    f"o\n\u0661\n{ROOT64}\n", f"o\n1.0\n{ROOT64}\n", f"o\n{2**64}\n{ROOT64}\n",
    f"o\n1\n{base64.b64encode(bytes(31)).decode()}\n", f"o\n1\n{ROOT64[:-1]}\n",
    f"o\n1\n{ROOT64[:-2]}B=\n", f"o\n1\n{ROOT64}", "o\n1\n", f"\n1\n{ROOT64}\n",
    f"o\n1\n{ROOT64}\n\n", f"o\n1\n{ROOT64}\next\n\n", "",
])
def test_strict_checkpoint_parsing(text):
    with pytest.raises(CheckpointFormatError):
        cpmod.parse_checkpoint(text)


def test_checkpoint_parsing_accepts_edges():
    assert cpmod.parse_checkpoint(f"o\n0\n{ROOT64}\n").size == 0
    top = cpmod.parse_checkpoint(f"o\n{2**64 - 1}\n{ROOT64}\na\nb\n")
    assert top.size == 2**64 - 1 and top.extensions == ("a", "b")


def test_checkpoint_and_origin_validation():
    for bad in [("", 1, bytes(32)), ("o\n", 1, bytes(32)), ("o", -1, bytes(32)),
                ("o", True, bytes(32)), ("o", 1, bytes(31))]:
        with pytest.raises(CheckpointFormatError):
            cpmod.Checkpoint(*bad)
    with pytest.raises(CheckpointFormatError):
        cpmod.Checkpoint("o", 1, bytes(32), ("",))
    for host, summit in [("", "s"), ("h/x", "s"), ("h", "a b"), ("h", "a+b"), ("h", "")]:
        with pytest.raises(CheckpointFormatError):
            cpmod.make_origin(host, summit)
