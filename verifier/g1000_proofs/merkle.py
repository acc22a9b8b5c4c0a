"""RFC 9162 section 2.1 Merkle tree math for the G1000 transparency log.

Why this module exists: the log stores every entry as a leaf of an RFC 9162
(formerly RFC 6962) Merkle tree, and publishes signed tree heads.  Citizens
and auditors must be able to check, independently of our servers, that an
entry is in the tree (inclusion proof, section 2.1.3) and that a newer tree
extends an older one (consistency proof, section 2.1.4).  This module holds
that math and nothing else: no storage, no I/O, standard library only.

Hashes: ``leaf_hash(d) = SHA-256(0x00 || d)``,
``node_hash(l, r) = SHA-256(0x01 || l || r)`` and the empty tree's root is
``SHA-256("")`` (section 2.1.1).  Which *perfect nodes* (complete subtrees,
stored as leaves arrive -- :class:`MerkleAccumulator` emits them) and
*ephemeral nodes* (incomplete right edges, recomputed) a proof needs is
worked out in :mod:`g1000_proofs.tree_shape`; its public names are
re-exported here.

Proof construction asks a caller-supplied ``get_node(level, index) -> bytes``
for O(log n) perfect nodes.  Verification follows the RFC 9162 algorithms
literally and *raises* a :mod:`g1000_proofs.errors` exception on every
failure; success returns ``None``.

Consistency policy (matches the transparency-dev/merkle test vectors):
``size1 == 0`` is an error (a proof from the empty tree proves nothing),
``size1 > size2`` is an error, and ``size1 == size2`` requires an empty
proof and identical roots.  Every hash, including both roots, must be
exactly 32 bytes.

Note on tree sizes: an inclusion proof alone does not authenticate the tree
size (RFC 9162 section 2.1.3.2 checks the path shape, and some different
sizes share a shape).  The size is authenticated by the signed checkpoint
that binds it to the root; always verify against a root taken from a
checkpoint with that size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

from .errors import (
    HashLengthError,
    ProofLengthError,
    ProofShapeError,
    RootMismatchError,
)
from .tree_shape import (
    EphemeralNode,
    NodeSpec,
    PerfectNode,
    as_size,
    check_consistency_sizes,
    consistency_proof_nodes,
    inclusion_proof_nodes,
    root_nodes,
)

__all__ = [
    "EMPTY_ROOT", "HASH_SIZE", "EphemeralNode", "MerkleAccumulator",
    "NodeSpec", "PerfectNode", "StoredNode", "consistency_proof",
    "consistency_proof_nodes", "inclusion_proof", "inclusion_proof_nodes",
    "leaf_hash", "node_hash", "resolve_node", "root_from_leaves", "root_hash",
    "root_nodes", "verify_consistency", "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

GetNode = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf: SHA-256(0x00 || data) (RFC 9162 section 2.1.1)."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()


def _check_hash(what: str, value: bytes) -> bytes:
    value = bytes(value)
    if len(value) != HASH_SIZE:
        raise HashLengthError(what, len(value))
    return value


def _check_proof(proof: Sequence[bytes] | None) -> list[bytes]:
    items = list(proof or ())
    return [_check_hash(f"proof[{i}]", h) for i, h in enumerate(items)]


# --- Reference MTH ----------------------------------------------------------


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of section 2.1.1, from all leaf hashes (tests, small trees)."""
    hashes = [_check_hash(f"leaf[{i}]", h) for i, h in enumerate(leaf_hashes)]
    if not hashes:
        return EMPTY_ROOT
    return _mth(hashes, 0, len(hashes))


def _mth(hashes: list[bytes], lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return hashes[lo]
    split = lo + (1 << ((hi - lo - 1).bit_length() - 1))
    return node_hash(_mth(hashes, lo, split), _mth(hashes, split, hi))


# --- Proof construction from stored perfect nodes ---------------------------


def _fetch(get_node: GetNode, node: PerfectNode) -> bytes:
    return _check_hash(f"stored node ({node.level}, {node.index})",
                       get_node(node.level, node.index))


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def resolve_node(spec: NodeSpec, get_node: GetNode) -> bytes:
    """Hash of a node spec, reading perfect nodes through ``get_node``."""
    if isinstance(spec, PerfectNode):
        return _fetch(get_node, spec)
    return _fold_right([_fetch(get_node, part) for part in spec.parts])


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """Audit path for leaf ``index`` in the tree of ``size`` leaves."""
    return [resolve_node(s, get_node) for s in inclusion_proof_nodes(index, size)]


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """Consistency proof from the tree of ``size1`` to that of ``size2`` leaves."""
    return [resolve_node(s, get_node) for s in consistency_proof_nodes(size1, size2)]


def root_hash(size: int, get_node: GetNode) -> bytes:
    """MTH of the first ``size`` leaves from at most log2(size)+1 stored nodes."""
    nodes = root_nodes(size)
    if not nodes:
        return EMPTY_ROOT
    return _fold_right([_fetch(get_node, node) for node in nodes])


# --- Incremental building ---------------------------------------------------


class StoredNode(NamedTuple):
    """A completed perfect node, ready to be stored under (level, index)."""

    level: int
    index: int
    hash: bytes


class MerkleAccumulator:
    """Ingests leaf hashes in order and emits each completed perfect node.

    Only the right frontier (at most log2(n)+1 nodes) is kept in memory; the
    root at every size equals RFC 9162 MTH of the leaves appended so far.
    """

    def __init__(self) -> None:
        self._frontier: list[StoredNode] = []
        self._size = 0

    @classmethod
    def resume(cls, size: int, get_node: GetNode) -> "MerkleAccumulator":
        """Rebuild the accumulator of a stored tree from O(log n) nodes."""
        acc = cls()
        for node in root_nodes(size):
            acc._frontier.append(StoredNode(node.level, node.index,
                                            _fetch(get_node, node)))
        acc._size = size
        return acc

    @property
    def size(self) -> int:
        return self._size

    def frontier(self) -> list[StoredNode]:
        """The perfect nodes whose fold is the current root, left to right."""
        return list(self._frontier)

    def append(self, leaf: bytes) -> list[StoredNode]:
        """Add one leaf hash; return the leaf node and every node it completes."""
        node = StoredNode(0, self._size, _check_hash("leaf hash", leaf))
        completed = [node]
        while self._frontier and self._frontier[-1].level == node.level:
            left = self._frontier.pop()
            node = StoredNode(node.level + 1, left.index >> 1,
                              node_hash(left.hash, node.hash))
            completed.append(node)
        self._frontier.append(node)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """MTH of all leaves appended so far."""
        if not self._frontier:
            return EMPTY_ROOT
        return _fold_right([node.hash for node in self._frontier])


# --- Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) -------------------


def verify_inclusion(leaf: bytes, index: int, size: int,
                     proof: Sequence[bytes] | None, root: bytes) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Returns ``None`` on success; raises a ``ProofError`` subclass otherwise.
    """
    expected = len(inclusion_proof_nodes(index, size))
    leaf, root = _check_hash("leaf hash", leaf), _check_hash("root", root)
    path = _check_proof(proof)
    if len(path) != expected:
        raise ProofLengthError(expected, len(path), "inclusion")
    computed = _root_from_inclusion_path(leaf, index, size, path)
    if computed != root:
        raise RootMismatchError("root", root, computed)


def _root_from_inclusion_path(leaf: bytes, index: int, size: int,
                              path: list[bytes]) -> bytes:
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofShapeError("inclusion path is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofShapeError("inclusion path is shorter than the tree is high")
    return r


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes] | None,
                       root1: bytes, root2: bytes) -> None:
    """Check that the tree (size2, root2) extends the tree (size1, root1).

    Policy (see module docstring): size1 must be in 1..size2; equal sizes
    need an empty proof and equal roots.  Returns ``None`` on success.
    """
    size1, size2 = as_size("size1", size1), as_size("size2", size2)
    check_consistency_sizes(size1, size2)
    path = _check_proof(proof)
    if size1 == size2:
        # RFC 9162 §2.1.4.2 step 1: equal sizes with an empty proof verify iff the roots are
        # equal; no hashing happens, so (like the RFC and the interop vectors) no length check.
        if path:
            raise ProofLengthError(0, len(path), "sizes are equal")
        if bytes(root1) != bytes(root2):
            raise RootMismatchError("root2 (equal sizes)", root1, root2)
        return
    root1, root2 = _check_hash("root1", root1), _check_hash("root2", root2)
    expected = len(consistency_proof_nodes(size1, size2))
    if len(path) != expected:
        raise ProofLengthError(expected, len(path), "consistency")
    old, new = _roots_from_consistency_path(size1, size2, path, root1)
    if old != root1:
        raise RootMismatchError("root1", root1, old)
    if new != root2:
        raise RootMismatchError("root2", root2, new)


def _roots_from_consistency_path(size1: int, size2: int, path: list[bytes],
                                 root1: bytes) -> tuple[bytes, bytes]:
    if not path:
        raise ProofShapeError("consistency proof is empty")
    if size1 & (size1 - 1) == 0:
        path = [root1] + path
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofShapeError("consistency path is longer than the tree is high")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofShapeError("consistency path is shorter than the tree is high")
    return fr, sr
