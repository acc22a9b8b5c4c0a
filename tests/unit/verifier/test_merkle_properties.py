"""Property tests for g1000_proofs.merkle: construction agrees with RFC 9162.

Proofs are built only through ``get_node`` from a store that
MerkleAccumulator filled, then checked against ``root_from_leaves`` (the
literal MTH definition) and against a literal transcription of the RFC 9162
PATH / PROOF definitions.  Every mutation must make verification raise.
"""

from __future__ import annotations

import functools
import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from g1000_proofs import merkle
from g1000_proofs.errors import (
    HashLengthError,
    ProofError,
    ProofLengthError,
    RootMismatchError,
    TreeRangeError,
)

MAX_LEAVES = 3000
FAST = settings(max_examples=150, deadline=None, database=None)


class Tree:
    """Leaves plus the perfect-node store an accumulator emitted for them."""

    def __init__(self, size: int, salt: bytes) -> None:
        self.leaves = [merkle.leaf_hash(salt + i.to_bytes(4, "big"))
                       for i in range(size)]
        self.store: dict[tuple[int, int], bytes] = {}
        self._roots: dict[int, bytes] = {}
        acc = merkle.MerkleAccumulator()
        for leaf in self.leaves:
            for node in acc.append(leaf):
                self.store[(node.level, node.index)] = node.hash

    def root(self, size: int) -> bytes:
        if size not in self._roots:
            self._roots[size] = merkle.root_from_leaves(self.leaves[:size])
        return self._roots[size]

    def reader(self, size: int) -> "CountingReader":
        return CountingReader(self.store, size)


class CountingReader:
    """get_node that counts calls and refuses nodes outside the tree size."""

    def __init__(self, store: dict[tuple[int, int], bytes], size: int) -> None:
        self.store, self.size, self.calls = store, size, 0

    def __call__(self, level: int, index: int) -> bytes:
        assert (index + 1) << level <= self.size, "node beyond the tree size"
        self.calls += 1
        return self.store[(level, index)]


@functools.lru_cache(maxsize=16)
def tree(size: int, salt: bytes = b"") -> Tree:
    return Tree(size, salt)


def log_bound(n: int) -> int:
    return 2 * n.bit_length() + 2


salts = st.binary(max_size=4)
sizes = st.integers(1, MAX_LEAVES)


@st.composite
def size_and_index(draw):
    size = draw(sizes)
    return size, draw(st.integers(0, size - 1))


@st.composite
def size_pair(draw):
    size2 = draw(sizes)
    return draw(st.integers(1, size2)), size2


# --- Literal RFC 9162 definitions, for cross-checking -----------------------


def _k(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return rfc_path(m, leaves[:k]) + [merkle.root_from_leaves(leaves[k:])]
    return rfc_path(m - k, leaves[k:]) + [merkle.root_from_leaves(leaves[:k])]


def rfc_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [merkle.root_from_leaves(leaves)]
    k = _k(n)
    if m <= k:
        return rfc_subproof(m, leaves[:k], complete) + [merkle.root_from_leaves(leaves[k:])]
    return rfc_subproof(m - k, leaves[k:], False) + [merkle.root_from_leaves(leaves[:k])]


# --- Accumulator -------------------------------------------------------------


def test_accumulator_equals_mth_and_emits_every_perfect_node():
    t = tree(300)
    acc, emitted = merkle.MerkleAccumulator(), {}
    assert acc.root() == merkle.EMPTY_ROOT
    for n, leaf in enumerate(t.leaves, start=1):
        for node in acc.append(leaf):
            assert (node.level, node.index) not in emitted
            emitted[(node.level, node.index)] = node.hash
        assert acc.size == n and acc.root() == t.root(n)
    perfect = {(lv, i) for lv in range(10) for i in range(300) if (i + 1) << lv <= 300}
    assert set(emitted) == perfect
    for (lv, i), value in emitted.items():
        assert value == merkle.root_from_leaves(t.leaves[i << lv:(i + 1) << lv])


@FAST
@given(sizes, st.integers(0, 64), salts)
def test_accumulator_resumes_from_stored_nodes(size, extra, salt):
    t = tree(size + extra, salt)
    reader = t.reader(size)
    acc = merkle.MerkleAccumulator.resume(size, reader)
    assert reader.calls <= size.bit_length() and acc.root() == t.root(size)
    for n in range(size, size + extra):
        for node in acc.append(t.leaves[n]):
            assert t.store[(node.level, node.index)] == node.hash
    assert acc.root() == t.root(size + extra)


# --- Construction agrees with MTH and with the RFC definitions ----------------


@FAST
@given(size_and_index(), salts)
def test_inclusion_proof_from_store_verifies(case, salt):
    size, index = case
    t = tree(size, salt)
    reader = t.reader(size)
    proof = merkle.inclusion_proof(index, size, reader)
    assert reader.calls <= log_bound(size)
    merkle.verify_inclusion(t.leaves[index], index, size, proof, t.root(size))
    root_reader = t.reader(size)
    assert merkle.root_hash(size, root_reader) == t.root(size)
    assert root_reader.calls <= size.bit_length()


@FAST
@given(size_pair(), salts)
def test_consistency_proof_from_store_verifies(case, salt):
    size1, size2 = case
    t = tree(size2, salt)
    reader = t.reader(size2)
    proof = merkle.consistency_proof(size1, size2, reader)
    assert reader.calls <= log_bound(size2)
    merkle.verify_consistency(size1, size2, proof, t.root(size1), t.root(size2))


def test_every_small_tree_matches_the_rfc_definitions():
    t = tree(64)
    for n in range(1, 65):
        for m in range(1, n + 1):
            reader = t.reader(n)
            proof = merkle.consistency_proof(m, n, reader)
            assert proof == rfc_subproof(m, t.leaves[:n], True)
            assert reader.calls <= log_bound(n)
            merkle.verify_consistency(m, n, proof, t.root(m), t.root(n))
            index = m - 1
            path = merkle.inclusion_proof(index, n, t.reader(n))
            assert path == rfc_path(index, t.leaves[:n])
            merkle.verify_inclusion(t.leaves[index], index, n, path, t.root(n))


# --- Every mutation is rejected ----------------------------------------------


def _flip(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    mutated = list(proof)
    value = bytearray(mutated[element])
    value[bit // 8] ^= 1 << (bit % 8)
    mutated[element] = bytes(value)
    return mutated


@FAST
@given(size_and_index(), st.data())
def test_mutated_inclusion_proofs_are_rejected(case, data):
    size, index = case
    t = tree(MAX_LEAVES)
    leaf, root = t.leaves[index], t.root(size)
    proof = merkle.inclusion_proof(index, size, t.reader(size))
    junk = hashlib.sha256(b"junk").digest()
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        with pytest.raises(RootMismatchError):
            merkle.verify_inclusion(leaf, index, size, _flip(proof, element, bit), root)
        with pytest.raises(ProofLengthError):
            merkle.verify_inclusion(leaf, index, size, proof[:-1], root)
    with pytest.raises(ProofLengthError):
        merkle.verify_inclusion(leaf, index, size, proof + [junk], root)
    with pytest.raises(RootMismatchError):
        merkle.verify_inclusion(leaf, index, size, proof, _flip([root], 0, 7)[0])
    other = data.draw(st.integers(0, MAX_LEAVES))
    assume(other != index)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(leaf, other, size, proof, root)
    assume(other != size)
    with pytest.raises(ProofError):  # against the root of the claimed size
        merkle.verify_inclusion(leaf, index, other, proof, t.root(other))


@FAST
@given(size_pair(), st.data())
def test_mutated_consistency_proofs_are_rejected(case, data):
    size1, size2 = case
    assume(size1 < size2)
    t = tree(MAX_LEAVES)
    root1, root2 = t.root(size1), t.root(size2)
    proof = merkle.consistency_proof(size1, size2, t.reader(size2))
    element = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(RootMismatchError):
        merkle.verify_consistency(size1, size2, _flip(proof, element, bit), root1, root2)
    with pytest.raises(ProofLengthError):
        merkle.verify_consistency(size1, size2, proof[:-1], root1, root2)
    with pytest.raises(ProofLengthError):
        merkle.verify_consistency(size1, size2, proof + [root1], root1, root2)
    with pytest.raises(RootMismatchError):
        merkle.verify_consistency(size1, size2, proof, _flip([root1], 0, bit)[0], root2)
    with pytest.raises(RootMismatchError):
        merkle.verify_consistency(size1, size2, proof, root1, _flip([root2], 0, bit)[0])
    other = data.draw(st.integers(1, MAX_LEAVES))
    if other != size1:
        with pytest.raises(ProofError):
            merkle.verify_consistency(other, size2, proof, t.root(other), root2)
    if other != size2:
        with pytest.raises(ProofError):
            merkle.verify_consistency(size1, other, proof, root1, t.root(other))


def test_all_small_consistency_mutations_are_rejected():
    t = tree(64)
    for n in range(2, 65):
        for m in range(1, n):
            proof = merkle.consistency_proof(m, n, t.reader(n))
            for element in range(len(proof)):
                with pytest.raises(RootMismatchError):
                    merkle.verify_consistency(m, n, _flip(proof, element, 0),
                                              t.root(m), t.root(n))
            for other in range(1, 65):
                if other != m:
                    with pytest.raises(ProofError):
                        merkle.verify_consistency(other, n, proof, t.root(other), t.root(n))


def test_all_small_inclusion_mutations_are_rejected():
    t = tree(32)
    for n in range(1, 33):
        for index in range(n):
            leaf, proof = t.leaves[index], merkle.inclusion_proof(index, n, t.reader(n))
            for element in range(len(proof)):
                with pytest.raises(RootMismatchError):
                    merkle.verify_inclusion(leaf, index, n, _flip(proof, element, 255),
                                            t.root(n))
            for other in range(33):
                if other != index:
                    with pytest.raises(ProofError):
                        merkle.verify_inclusion(leaf, other, n, proof, t.root(n))
                if other != n:
                    with pytest.raises(ProofError):
                        merkle.verify_inclusion(leaf, index, other, proof, t.root(other))


# --- Shape rules ---------------------------------------------------------------


def test_size_is_authenticated_by_the_root_not_by_the_path():
    """RFC 9162 verification: sizes 3 and 4 share the path shape for leaf 0.

    The proof for (leaf 0, size 3) therefore also "verifies" when size 4 is
    claimed with size 3's root.  This is why a root must always come from a
    signed checkpoint that binds it to its size.
    """
    t = tree(4)
    proof = merkle.inclusion_proof(0, 3, t.reader(3))
    merkle.verify_inclusion(t.leaves[0], 0, 4, proof, t.root(3))
    with pytest.raises(RootMismatchError):
        merkle.verify_inclusion(t.leaves[0], 0, 4, proof, t.root(4))


@pytest.mark.parametrize("length", [0, 31, 33])
def test_hashes_of_the_wrong_length_are_rejected(length):
    t = tree(5)
    bad = b"\x01" * length
    proof = merkle.inclusion_proof(1, 5, t.reader(5))
    with pytest.raises(HashLengthError):
        merkle.verify_inclusion(bad, 1, 5, proof, t.root(5))
    with pytest.raises(HashLengthError):
        merkle.verify_inclusion(t.leaves[1], 1, 5, proof, bad)
    with pytest.raises(HashLengthError):
        merkle.verify_inclusion(t.leaves[1], 1, 5, [bad] + proof[1:], t.root(5))
    with pytest.raises(HashLengthError):
        merkle.verify_consistency(2, 5, merkle.consistency_proof(2, 5, t.reader(5)), bad, t.root(5))
    with pytest.raises(HashLengthError):
        merkle.MerkleAccumulator().append(bad)
    # equal sizes hash nothing: RFC 9162 §2.1.4.2 step 1 only compares the roots
    assert merkle.verify_consistency(2, 2, [], bad, bad) is None


def test_range_policy():
    root = tree(4).root(4)
    for size1, size2 in [(0, 0), (0, 4), (5, 4)]:
        with pytest.raises(TreeRangeError):
            merkle.verify_consistency(size1, size2, [], root, root)
        with pytest.raises(TreeRangeError):
            merkle.consistency_proof_nodes(size1, size2)
    with pytest.raises(TreeRangeError):
        merkle.inclusion_proof_nodes(4, 4)
    with pytest.raises(TreeRangeError):
        merkle.inclusion_proof_nodes(-1, 4)
    assert merkle.verify_consistency(4, 4, [], root, root) is None
    with pytest.raises(ProofLengthError):
        merkle.verify_consistency(4, 4, [root], root, root)


def test_node_specs_for_a_non_power_of_two_tree():
    specs = merkle.inclusion_proof_nodes(0, 7)
    assert specs == [
        merkle.PerfectNode(0, 1),
        merkle.PerfectNode(1, 1),
        merkle.EphemeralNode((merkle.PerfectNode(1, 2), merkle.PerfectNode(0, 6))),
    ]
    assert merkle.consistency_proof_nodes(6, 7)[0] == merkle.PerfectNode(1, 2)
    assert merkle.root_nodes(7) == [merkle.PerfectNode(2, 0), merkle.PerfectNode(1, 2),
                                    merkle.PerfectNode(0, 6)]
