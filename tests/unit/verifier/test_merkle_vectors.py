"""Interop tests: g1000_proofs.merkle against public RFC 6962/9162 vectors.

The vectors are in tests/vectors/ (its README.md gives each set's origin
and licence).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from g1000_proofs import merkle
from g1000_proofs.errors import (
    ProofError,
    RootMismatchError,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
VECTORS = REPO_ROOT / "tests" / "vectors"

TD = VECTORS / "transparency-dev-merkle"
TESTDATA = TD / "testdata"
ARGON = VECTORS / "golang-mod-sumdb" / "tlog-argon2020"
ARGON_OLD_SIZE = 3_654_490
ARGON_OLD_ROOT = "AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ="  # README / ct_test.go

# Vectors whose verdict we deliberately do not share, with the reason. None: every vector's
# verdict is ours. (Equal sizes with an empty proof and equal 12-byte "roots" verify, as
# RFC 9162 §2.1.4.2 step 1 says: nothing is hashed, so no hash length is checked.)
DEVIATIONS: dict = {}


def _files(kind: str) -> list[str]:
    root = TESTDATA / kind
    return sorted(str(p.relative_to(TESTDATA)) for p in root.rglob("*.json"))


INCLUSION_FILES = _files("inclusion")
CONSISTENCY_FILES = _files("consistency")


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _load(rel: str) -> dict:
    return json.loads((TESTDATA / rel).read_text())


def _proof(case: dict) -> list[bytes]:
    return [_b64(p) for p in case["proof"] or []]


def _constants() -> dict:
    return json.loads((TD / "rfc6962_constants.json").read_text())


def _reference_tree() -> tuple[list[bytes], dict[tuple[int, int], bytes]]:
    """The 8-leaf RFC 6962 reference tree, stored as perfect nodes."""
    leaves = [merkle.leaf_hash(bytes.fromhex(x))
              for x in _constants()["leaf_inputs_hex"]]
    store: dict[tuple[int, int], bytes] = {}
    acc = merkle.MerkleAccumulator()
    for leaf in leaves:
        for node in acc.append(leaf):
            store[(node.level, node.index)] = node.hash
    return leaves, store


def test_vector_folders_are_populated():
    assert len(INCLUSION_FILES) > 50
    assert len(CONSISTENCY_FILES) > 50
    assert all(rel in CONSISTENCY_FILES for rel in DEVIATIONS)
    assert "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json" in CONSISTENCY_FILES


@pytest.mark.parametrize("rel", INCLUSION_FILES)
def test_inclusion_vector(rel):
    case = _load(rel)
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"],
            _proof(case), _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        assert merkle.verify_inclusion(*args) is None


@pytest.mark.parametrize("rel", CONSISTENCY_FILES)
def test_consistency_vector(rel):
    case = _load(rel)
    args = (case["size1"], case["size2"], _proof(case),
            _b64(case["root1"]), _b64(case["root2"]))
    if rel in DEVIATIONS:
        assert not case["wantErr"]  # documented deviation, see DEVIATIONS
        with pytest.raises(DEVIATIONS[rel]):
            merkle.verify_consistency(*args)
    elif case["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        assert merkle.verify_consistency(*args) is None


def _on_reference_tree(files: list[str], size_key: str, root_key: str) -> list[str]:
    """Happy-path vectors drawn from the 8-leaf RFC 6962 reference tree."""
    leaves, _ = _reference_tree()
    chosen = []
    for rel in files:
        case = _load(rel)
        size = case[size_key]
        if (not case["wantErr"] and size <= len(leaves)
                and merkle.root_from_leaves(leaves[:size]) == _b64(case[root_key])):
            chosen.append(rel)
    return chosen


REFERENCE_INCLUSION = _on_reference_tree(INCLUSION_FILES, "treeSize", "root")
REFERENCE_CONSISTENCY = _on_reference_tree(CONSISTENCY_FILES, "size2", "root2")


def test_reference_tree_vectors_were_found():
    assert len(REFERENCE_INCLUSION) >= 5 and len(REFERENCE_CONSISTENCY) >= 5


@pytest.mark.parametrize("rel", REFERENCE_INCLUSION)
def test_constructed_inclusion_proof_matches_vector(rel):
    case = _load(rel)
    _, store = _reference_tree()
    built = merkle.inclusion_proof(case["leafIdx"], case["treeSize"],
                                   lambda lv, i: store[(lv, i)])
    assert built == _proof(case)


@pytest.mark.parametrize("rel", REFERENCE_CONSISTENCY)
def test_constructed_consistency_proof_matches_vector(rel):
    case = _load(rel)
    _, store = _reference_tree()
    built = merkle.consistency_proof(case["size1"], case["size2"],
                                     lambda lv, i: store[(lv, i)])
    assert built == _proof(case)


# --- RFC 6962 reference constants -------------------------------------------


def test_rfc6962_leaf_hashes():
    consts = _constants()
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in consts["leaf_inputs_hex"]]
    assert [h.hex() for h in leaves] == consts["node_hashes_by_level"][0]


def test_rfc6962_every_node_hash():
    consts = _constants()
    leaves, store = _reference_tree()
    expected = {(level, index): value
                for level, row in enumerate(consts["node_hashes_by_level"])
                for index, value in enumerate(row)}
    assert {k: v.hex() for k, v in store.items()} == expected
    for (level, index), value in expected.items():
        start, end = index << level, (index + 1) << level
        assert merkle.root_from_leaves(leaves[start:end]).hex() == value


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_root_for_size(size):
    expected = _constants()["root_hashes_by_size"][size]
    leaves, store = _reference_tree()
    assert merkle.root_from_leaves(leaves[:size]).hex() == expected
    assert merkle.root_hash(size, lambda lv, i: store[(lv, i)]).hex() == expected
    acc = merkle.MerkleAccumulator()
    for leaf in leaves[:size]:
        acc.append(leaf)
    assert acc.root().hex() == expected


def test_empty_root_constant():
    assert merkle.EMPTY_ROOT.hex() == _constants()["root_hashes_by_size"][0]


# --- Argon2020: a real Certificate Transparency log --------------------------


def _argon(name: str) -> dict:
    return json.loads((ARGON / name).read_text())


def test_argon2020_inclusion_of_leaf_10000():
    sth, proof = _argon("sth.json"), _argon("proof.json")
    entry = _argon("entries.json")["entries"][0]
    leaf = merkle.leaf_hash(_b64(entry["leaf_input"]))
    path = [_b64(p) for p in proof["audit_path"]]
    assert proof["leaf_index"] == 10000 and sth["tree_size"] == 961_984_013
    root = _b64(sth["sha256_root_hash"])
    assert merkle.verify_inclusion(leaf, 10000, sth["tree_size"], path, root) is None
    with pytest.raises(RootMismatchError):
        merkle.verify_inclusion(leaf, 10001, sth["tree_size"], path, root)


def test_argon2020_consistency_from_3654490():
    sth = _argon("sth.json")
    path = [_b64(p) for p in _argon("consistency.json")["consistency"]]
    old, new = _b64(ARGON_OLD_ROOT), _b64(sth["sha256_root_hash"])
    assert merkle.verify_consistency(ARGON_OLD_SIZE, sth["tree_size"], path,
                                     old, new) is None
    with pytest.raises(RootMismatchError):
        merkle.verify_consistency(ARGON_OLD_SIZE, sth["tree_size"], path, new, new)
    assert len(path) == len(merkle.consistency_proof_nodes(ARGON_OLD_SIZE,
                                                           sth["tree_size"]))
