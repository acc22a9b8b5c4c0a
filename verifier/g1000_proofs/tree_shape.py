"""Shape of an RFC 9162 Merkle tree: which nodes a proof needs.

Why this module exists: proof construction must not need the whole tree.
Given only sizes and indexes, the functions here say which stored *perfect
nodes* (complete subtrees) make up an inclusion proof (RFC 9162 section
2.1.3.1), a consistency proof (section 2.1.4.1) or a tree root (section
2.1.1).  It is pure integer arithmetic, no hashing, so a database layer can
plan its reads and the verifiers can know a proof's exact expected length.

A *perfect node* ``(level, index)`` covers leaves
``[index * 2**level, (index + 1) * 2**level)``.  An *ephemeral node* is the
incomplete right edge of a tree whose size is not a power of two; its hash
is the right-to-left fold (``h = node_hash(part, h)``) of its perfect parts.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union

from .errors import TreeRangeError


def as_size(what: str, value: int) -> int:
    """Coerce an index or size to a non-negative ``int`` (TreeRangeError)."""
    number = operator.index(value)
    if number < 0:
        raise TreeRangeError(f"{what} must not be negative, got {number}")
    return number


# --- Node specifications ----------------------------------------------------


@dataclass(frozen=True)
class PerfectNode:
    """The complete subtree of 2**level leaves starting at index * 2**level."""

    level: int
    index: int

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


@dataclass(frozen=True)
class EphemeralNode:
    """An incomplete right-edge subtree: perfect parts, left to right.

    Its hash is the right-to-left fold of the parts' hashes.
    """

    parts: tuple[PerfectNode, ...]


NodeSpec = Union[PerfectNode, EphemeralNode]


def decompose(start: int, end: int) -> Iterator[PerfectNode]:
    """Split [start, end) into maximal aligned perfect subtrees, left to right.

    For a right-edge range of an RFC 9162 tree this is exactly the sequence
    of left children MTH recurses through, so folding it gives MTH.
    """
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        yield PerfectNode(level, start >> level)
        start += 1 << level


def _range_spec(start: int, end: int) -> NodeSpec:
    parts = tuple(decompose(start, end))
    return parts[0] if len(parts) == 1 else EphemeralNode(parts)


def _path_nodes(level: int, index: int, size: int) -> list[NodeSpec]:
    """Siblings on the way from perfect node (level, index) up to the root.

    Below the level where the node's ancestors meet the tree's last leaf,
    siblings are perfect (the highest one may be the ephemeral right edge);
    above it, only left siblings exist and they are all perfect.
    """
    last = (size - 1) >> level
    inner = (index ^ last).bit_length()
    nodes: list[NodeSpec] = []
    for j in range(inner):
        sibling = (index >> j) ^ 1
        height = level + j
        end = min((sibling + 1) << height, size)
        nodes.append(_range_spec(sibling << height, end))
    j = inner
    while index >> j:
        if (index >> j) & 1:
            nodes.append(PerfectNode(level + j, (index >> j) ^ 1))
        j += 1
    return nodes


def inclusion_proof_nodes(index: int, size: int) -> list[NodeSpec]:
    """Nodes forming PATH(index, D[size]) (section 2.1.3.1), leaf upwards."""
    index, size = as_size("index", index), as_size("size", size)
    if index >= size:
        raise TreeRangeError(f"leaf index {index} is not below tree size {size}")
    return _path_nodes(0, index, size)


def consistency_proof_nodes(size1: int, size2: int) -> list[NodeSpec]:
    """Nodes forming PROOF(size1, D[size2]) (section 2.1.4.1).

    The proof starts at the perfect node ending at leaf ``size1`` (omitted
    when ``size1`` is a power of two, since it is then the old root) and
    continues with that node's path to the new root.
    """
    size1, size2 = as_size("size1", size1), as_size("size2", size2)
    check_consistency_sizes(size1, size2)
    if size1 == size2:
        return []
    level = (size1 & -size1).bit_length() - 1
    index = (size1 >> level) - 1
    seed: list[NodeSpec] = [PerfectNode(level, index)] if index else []
    return seed + _path_nodes(level, index, size2)


def check_consistency_sizes(size1: int, size2: int) -> None:
    """Enforce the policy 1 <= size1 <= size2 (transparency-dev vectors)."""
    if size1 > size2:
        raise TreeRangeError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise TreeRangeError("consistency from the empty tree (size1 = 0) is refused")


def root_nodes(size: int) -> list[PerfectNode]:
    """The perfect nodes whose right-to-left fold is the root of ``size`` leaves."""
    return list(decompose(0, as_size("size", size)))
