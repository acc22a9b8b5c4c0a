"""One exception hierarchy for every check in ``g1000_proofs``.

Why this module exists: a verifier must never answer "no" by returning
``False`` that a caller can forget to test.  Every failed check in this
package raises a subclass of :class:`ProofError`, named after the fact that
was found to be wrong, and carrying the evidence (sizes, hashes as hex, key
names) as attributes so that an auditor's report can quote it.

Hierarchy::

    ProofError
    +-- ProofShapeError            (RFC 9162 section 2.1: inputs cannot form a proof)
    |   +-- HashLengthError        a hash is not 32 bytes
    |   +-- ProofLengthError       wrong number of hashes in a proof
    |   +-- TreeRangeError         index/sizes outside what the proof type allows
    +-- RootMismatchError          the recomputed root differs from the claimed one
    +-- NoteError                  (C2SP signed-note / tlog-checkpoint)
        +-- NoteFormatError        the note text or signature block is malformed
        |   +-- TooManySignaturesError
        |   +-- CheckpointFormatError
        +-- NoteSignatureError     a signature from a known key does not verify
        +-- UnverifiedNoteError    no signature from any known key
        +-- CheckpointOriginError  checkpoint origin is not the expected log
        +-- KeyFormatError         a signer/verifier key string is malformed
            +-- KeyIdMismatchError
            +-- UnsupportedKeyAlgorithmError
            +-- DuplicateVerifierError
    +-- BlindSignatureError        (RFC 9474 blind signatures)
    +-- TallyError                 a ballot spec or result outside the counting rules
    +-- SealingError               a sealed vote or sealing key that does not open (RFC 9180)
    +-- ShareError                 trustees' key shares that do not rebuild a key (Shamir)
    +-- BallotRuleError            a roll, credential or vote time outside the ballot's rules
"""

from __future__ import annotations


class ProofError(Exception):
    """Root of every verification failure raised by ``g1000_proofs``."""


# --- Merkle proofs (RFC 9162 section 2.1) -----------------------------------


class ProofShapeError(ProofError):
    """The inputs cannot describe a valid proof, before any hashing."""


class HashLengthError(ProofShapeError):
    """A hash value does not have the SHA-256 length (32 bytes)."""

    def __init__(self, what: str, length: int, expected: int = 32) -> None:
        super().__init__(f"{what} is {length} bytes, expected {expected}")
        self.what = what
        self.length = length
        self.expected = expected


class ProofLengthError(ProofShapeError):
    """A proof holds a different number of hashes than the tree shape needs."""

    def __init__(self, expected: int, actual: int, context: str = "") -> None:
        detail = f" ({context})" if context else ""
        super().__init__(
            f"proof has {actual} hashes, tree shape needs {expected}{detail}"
        )
        self.expected = expected
        self.actual = actual


class TreeRangeError(ProofShapeError):
    """A leaf index or tree size is outside the range the proof type allows."""


class RootMismatchError(ProofError):
    """The root recomputed from a proof differs from the claimed root.

    ``expected`` is the root the caller supplied, ``computed`` the root the
    proof leads to; both are lowercase hex so that they can be logged as-is.
    """

    def __init__(self, which: str, expected: bytes, computed: bytes) -> None:
        self.which = which
        self.expected = bytes(expected).hex()
        self.computed = bytes(computed).hex()
        super().__init__(
            f"{which} mismatch: expected {self.expected}, computed {self.computed}"
        )


# --- Signed notes and checkpoints (C2SP) ------------------------------------


class NoteError(ProofError):
    """Root of the C2SP signed-note and tlog-checkpoint failures."""


class NoteFormatError(NoteError):
    """The note is not well formed (encoding, layout, signature lines)."""


class TooManySignaturesError(NoteFormatError):
    """The note carries more signature lines than the verifier accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"note has more than {limit} signature lines")
        self.limit = limit


class CheckpointFormatError(NoteFormatError):
    """The note text is not a well-formed C2SP tlog-checkpoint body."""


class NoteSignatureError(NoteError):
    """A signature line from a known key does not verify over the note text."""

    def __init__(self, key_name: str, key_id: int) -> None:
        self.key_name = key_name
        self.key_id = f"{key_id:08x}"
        super().__init__(f"invalid signature for key {key_name}+{self.key_id}")


class UnverifiedNoteError(NoteError):
    """No signature line in the note comes from any of the known keys."""

    def __init__(self, signer_names: list[str]) -> None:
        self.signer_names = list(signer_names)
        super().__init__(
            "note has no signature from a known key "
            f"(signed by: {', '.join(self.signer_names) or 'nobody'})"
        )


class CheckpointOriginError(NoteError):
    """A correctly signed checkpoint names a different log origin."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"checkpoint origin {actual!r}, expected {expected!r}")
        self.expected = expected
        self.actual = actual


class KeyFormatError(NoteError):
    """A signer or verifier key string is malformed."""


class KeyIdMismatchError(KeyFormatError):
    """The key ID written in a key string is not the one its key hashes to."""

    def __init__(self, name: str, expected: int, computed: int) -> None:
        self.name = name
        self.expected = f"{expected:08x}"
        self.computed = f"{computed:08x}"
        super().__init__(
            f"key {name}: key ID {self.expected} written, {self.computed} computed"
        )


class UnsupportedKeyAlgorithmError(KeyFormatError):
    """The key's signature type byte is not one this package implements."""

    def __init__(self, algorithm: int) -> None:
        super().__init__(f"unsupported signature type 0x{algorithm:02x}")
        self.algorithm = algorithm


class DuplicateVerifierError(KeyFormatError):
    """Two different known keys share the same (name, key ID) pair."""


# --- RSA blind signatures (RFC 9474) ----------------------------------------


class BlindSignatureError(ProofError):
    """A blind-signature step refused its input or its own result (RFC 9474 §4, §7)."""


# --- Ballot counting rules ---------------------------------------------------


class TallyError(ProofError):
    """A ballot's spec, or a published result, is not what the counting rules allow."""


class SealingError(ProofError):
    """A sealed vote or a sealing key is not what RFC 9180 sealing to the ballot's key produces."""


class ShareError(ProofError):
    """Trustees' key shares that cannot be read or do not rebuild a key."""


class BallotRuleError(ProofError):
    """A roll, credential key, credential or time that the ballot's rules do not accept."""
