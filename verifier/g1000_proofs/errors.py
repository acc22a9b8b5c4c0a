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
    +-- CanonicalJSONError (also ValueError)  (RFC 8785: the value has no canonical form)
    +-- HeadError                  a stream head is malformed or not signed by its stream's key
    +-- DrawError                  (docs/architecture.md §6: the lottery draws)
        +-- DrawInputError (also ValueError)   an argument is malformed
        |   +-- DuplicatePseudonymError
        |   +-- QuotaSpecError
        |   +-- SeedInputError     (the seed contract)
        +-- DrawImpossibleError    well-formed input the contract cannot draw from
        |   +-- NotEnoughHouseholdsError
        |   +-- StratumExhaustedError
        +-- RegisterMismatchError  rows do not give the committed count and root
        +-- OpeningMismatchError / UnrevealedRowError / RegisterRootMismatchError  (register v2)
        +-- CommitmentMismatchError   a reveal does not hash to its commitment
    +-- BlindSignatureError        (RFC 9474 blind signatures)
    +-- TallyError                 a ballot spec or result outside the counting rules
    +-- SealingError               a sealed vote or sealing key that does not open (RFC 9180)
    +-- ShareError                 trustees' key shares that do not rebuild a key (Shamir)
    +-- BallotRuleError            a roll, credential or vote time outside the ballot's rules
    +-- TlogProofError             a receipt that is not C2SP tlog-proof text, or does not prove its entry
    +-- TextError                  a text or its description (NFC, SHA-256, UTF-8 length) that does not fit
    +-- BallotLogError             a ballot's events break one of docs/ballot.md's rules (ballot_log)

Every error of the package is declared here, and only here (tests/unit/test_error_roots.py);
the modules that raise them import them from here and so still export them under their names.
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


# --- The lottery draws (docs/architecture.md §6) and the register commitments ---


class DrawError(ProofError):
    """Root of every failure raised by the lottery draws (docs/architecture.md §6)."""


class DrawInputError(DrawError, ValueError):
    """An argument is malformed, empty or of the wrong type."""


class DuplicatePseudonymError(DrawInputError):
    """The same pseudonym occurs in two rows of one list."""

    def __init__(self, what: str, pseudonym: str) -> None:
        super().__init__(f"{what}: pseudonym {pseudonym!r} occurs more than once")
        self.what = what
        self.pseudonym = pseudonym


class QuotaSpecError(DrawInputError):
    """The quota table is not ``{feature: {value: (min, max)}}`` with ``0 <= min <= max``."""


class DrawImpossibleError(DrawError):
    """The input is well formed, but the contract cannot produce a draw from it."""


class NotEnoughHouseholdsError(DrawImpossibleError):
    """More invitees were asked for than the register has households."""

    def __init__(self, requested: int, households: int) -> None:
        super().__init__(f"{requested} invitees requested, register has {households} households")
        self.requested = requested
        self.households = households


class StratumExhaustedError(DrawImpossibleError):
    """A stratum ran out of rows whose household has no invitee before its share was drawn."""

    def __init__(self, feature: str, value: str, needed: int, drawn: int) -> None:
        super().__init__(
            f"stratum {feature}={value!r} needs {needed} invitees, only {drawn} rows "
            "were eligible (household rule); no reallocation is made"
        )
        self.feature = feature
        self.value = value
        self.needed = needed
        self.drawn = drawn


class RegisterMismatchError(DrawError):
    """Register rows do not reproduce the committed count and Merkle root."""

    def __init__(self, expected: tuple[int, bytes], computed: tuple[int, bytes]) -> None:
        self.expected_count, self.computed_count = expected[0], computed[0]
        self.expected_root, self.computed_root = expected[1].hex(), computed[1].hex()
        super().__init__(
            f"register commitment mismatch: committed {self.expected_count} rows, root "
            f"{self.expected_root}; rows give {self.computed_count}, root {self.computed_root}"
        )


class OpeningMismatchError(DrawError):
    """A revealed value and salt do not open the commitment of their row."""


class UnrevealedRowError(DrawError):
    """The draw's walk reached a row whose household was not revealed."""

    def __init__(self, pseudonym: str) -> None:
        super().__init__(f"the invitation draw reaches row {pseudonym!r}, whose household is not "
                         "revealed: the draw cannot be re-derived")
        self.pseudonym = pseudonym


class RegisterRootMismatchError(DrawError):
    """Committed rows do not give the committed count and root."""


class SeedInputError(DrawInputError):
    """A summit id or contribution is not of the shape the seed contract fixes."""


class CommitmentMismatchError(DrawError):
    """A revealed value does not hash to the commitment its party logged."""

    def __init__(self, party: str, committed: str, computed: str) -> None:
        super().__init__(f"party {party!r} committed {committed}, revealed value hashes to "
                         f"{computed}")
        self.party = party
        self.committed = committed
        self.computed = computed


# --- Canonical JSON (RFC 8785) and stream heads ------------------------------


class CanonicalJSONError(ProofError, ValueError):
    """A value cannot be canonicalised: float, unsafe integer, lone surrogate, non-JSON type.

    It is a :class:`g1000_proofs.errors.ProofError` (a fact about the data was found wrong) and a
    ``ValueError`` (the argument has the wrong value), so callers may catch either.
    """


class HeadError(ProofError):
    """A stream head that is malformed, signed by a key the log does not register for its
    stream, or whose signature does not verify."""


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


class TlogProofError(ProofError):
    """A receipt that is not C2SP tlog-proof text, or whose entry, proof or checkpoint does not
    show what it claims (https://c2sp.org/tlog-proof)."""


class TextError(ProofError):
    """A text, language or text description that the texts rule (NFC, SHA-256, length) refuses."""


class BallotLogError(ProofError):
    """A ballot's sequence of events breaks a rule of docs/ballot.md.

    ``rule`` names the rule (one of ``g1000_proofs.ballot_log.RULES``), ``reason`` says in plain
    words what is wrong, and ``position`` is where the broken fact is when it is not the event
    being applied (an earlier cast that an early closing puts outside the window), else None.
    """

    def __init__(self, rule: str, reason: str, position: int | None = None) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason
        self.position = position
