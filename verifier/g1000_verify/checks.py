"""The verifier's checks: an ordered list of steps over a :class:`~g1000_verify.model.LogModel`.

Why this module exists: docs/architecture.md §5 lists what an auditor must be able to check without
trusting the operator; docs/ledger.md and docs/events.md fix the exact formats.  Every check here
is pure (the model's entry stream and proof service are the only I/O) and raises one error type,
:class:`~g1000_verify.model.VerificationFailure`, on the FIRST fact found wrong.

Steps, in order (``STEPS``; later issues append draw and tally steps that read events collected
during the entry pass, see :class:`Step.streams`):

1. ``header``     the log id is a lowercase UUID; the checkpoint verifier key (out-of-band from
                  ``--log-key`` or, with a warning, the source's own) parses and is named by the
                  origin ``<host>/g1000/<log id>`` (C2SP signed-note key name = checkpoint origin).
2. ``entries``    one streaming pass in index order.  Per entry, in this order:
                  ``index`` (contiguous from 0), ``format``, ``canonical_json`` (RFC 8785 bytes
                  exist: no floats, integers within ±(2**53-1), no lone surrogates),
                  ``leaf_hash`` (RFC 9162 §2.1.1: SHA-256(0x00 || JCS(event))), ``chain``
                  (SHA-256(previous chain || leaf hash), 32 zero bytes before entry 0),
                  ``envelope`` (docs/architecture.md §3 shape), ``summit_id`` (= log id), ``genesis``
                  (entry 0 is ``ledger.summit.created``; the ``ledger`` stream's key is registered
                  in the genesis), ``key`` (registered, for this event's stream, before use),
                  ``signature`` (RFC 8032 Ed25519 over JCS(event without ``sig``)) and ``seq``
                  (gap-free from 1 per stream).  The leaf hashes feed an RFC 9162 Merkle
                  accumulator whose root is recorded at every checkpoint size.
3. ``checkpoints`` every checkpoint is a C2SP signed note verified with the log key, a C2SP
                  tlog-checkpoint for the expected origin, no larger than the log, and its root
                  equals the recomputed RFC 9162 root of that many leaves.
4. ``consistency`` gateway: RFC 9162 §2.1.4 consistency proofs between successive checkpoints;
                  bundle: implied by the recomputed roots.
5. ``receipts``   each ``--receipt INDEX:LEAF_HASH`` names that entry's leaf hash, and an RFC 9162
                  §2.1.3 inclusion proof against the latest checkpoint verifies.
6. ``key_lines``  a bundle's informational key lines agree with the keys the entries register.
7. ``completeness`` when stream heads were read (always from a gateway; ``--heads FILE`` with a
                  bundle): each producer's signed head verifies with the key the log registers
                  for its stream, and the log up to its latest signed checkpoint holds every seq
                  it names (``g1000_proofs.heads``; entries past the checkpoint do not count);
                  a lag is a warning, or with ``--complete`` a failure.

Keys and the genesis (docs/ledger.md "Genesis"): entry 0 is ``ledger.summit.created`` and it and
the following ``ledger.key.registered`` entries are signed by the ledger key that one of them
registers.  So the genesis (the entries before the first event of another stream) is read ahead
and its registrations collected first; a key registered in the genesis signs from entry 0, a key
registered later signs only entries after its registration.

Speed: the hashing pass is single-threaded and streaming; Ed25519 verification, the expensive
part, goes to a ``ProcessPoolExecutor`` in chunks when the log is large (more than
``Options.pool_threshold`` entries).  Each process keeps one ``Ed25519PublicKey`` per key.  A
signature failure found by a worker is still reported in index order: the pass reports the
smallest failing index over all checks.
"""

from __future__ import annotations

import binascii
import hashlib
import itertools
import multiprocessing
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from g1000_proofs.checkpoint import Checkpoint, open_checkpoint
from g1000_proofs.errors import ProofError
from g1000_proofs.heads import HeadError, StreamHead, check_fresh, lag, verify_head
from g1000_proofs.jcs import CanonicalJSONError, dumps, dumps_with_and_without
from g1000_proofs.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    inclusion_proof,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)
from g1000_proofs.note import Verifier, parse_verifier_key
from g1000_proofs.note_keys import strict_b64decode

from .model import EntryProblem, LogModel, VerificationFailure

__all__ = [
    "CHECK_NAMES", "Options", "STEPS", "Step", "Verification", "run_checks",
]

ENVELOPE_FIELDS = frozenset(
    ("v", "event_id", "type", "summit_id", "stream", "seq", "occurred_at", "payload", "key_id", "sig"))
REGISTRATION_FIELDS = frozenset(("v", "stream", "public_key", "key_id", "valid_from"))
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TYPE_RE = re.compile(r"([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
HEX64_RE = re.compile(r"[0-9a-f]{64}")
STREAM_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")

SUMMIT_CREATED = "ledger.summit.created"
KEY_REGISTERED = "ledger.key.registered"
LEDGER_STREAM = "ledger"
ZERO_HASH = bytes(32)
SIGNATURE_SIZE = 64

POOL_THRESHOLD = 20_000      # more entries than this: verify signatures in worker processes
CHUNK_SIZE = 2_000           # signatures per worker task
GENESIS_LIMIT = 100_000      # read-ahead bound for the genesis (ledger-stream prefix)
STORED_LEVEL = 10            # Merkle nodes at this level and above are kept for bundle receipts

# Every check name a failure can carry, in the order the checks run.
CHECK_NAMES = (
    "header", "log_key",
    "index", "format", "canonical_json", "leaf_hash", "chain", "envelope", "summit_id",
    "genesis", "key", "signature", "seq",
    "checkpoint_signature", "checkpoint_size", "checkpoint_root",
    "consistency", "receipt", "key_lines", "completeness",
)


def short(key_id: Any) -> str:
    """A key id as people read it in a reason: the first 16 hex digits and an ellipsis."""
    return f"{key_id[:16]}…" if isinstance(key_id, str) else repr(key_id)


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


# --- Options, state, steps -------------------------------------------------------------------


@dataclass
class Options:
    """What the auditor asked for (see ``cli``)."""

    log_key: Verifier | None = None            # out-of-band checkpoint key, or None: the source's
    receipts: list[tuple[int, bytes]] = field(default_factory=list)
    workers: int | None = None                 # None: os.cpu_count()
    # the producers' signed stream heads (the decoded heads document), if any were read; with
    # ``complete`` a stream the log is behind on, or a missing or invalid head, is a failure
    heads: Any = None
    heads_error: str | None = None             # why no heads document could be read
    complete: bool = False
    max_head_age: float | None = None          # seconds; None: no freshness check (saved heads)
    now: datetime | None = None                # the time heads are judged at (None: the clock)
    pool_threshold: int = POOL_THRESHOLD
    chunk_size: int = CHUNK_SIZE


@dataclass
class KeyInfo:
    """A service key the log registers: trusted for one stream only (docs/events.md)."""

    key_id: str
    stream: str
    public_key: bytes
    slot: int                 # position in Verification.key_slots (what workers are sent)
    registered_at: Any        # index of the registering entry
    valid_after: int          # -1 for genesis keys; else the registering entry's index


@dataclass(frozen=True)
class Step:
    """One named check over the model; ``streams`` are event streams it needs collected.

    The entry pass appends ``(index, event)`` of every event of those streams to
    ``Verification.collected[stream]``, so a later step (a draw or tally recount) reads them
    without a second pass over the log.
    """

    name: str
    run: Callable[["Verification"], None]
    streams: tuple[str, ...] = ()


class Verification:
    """The state shared by the steps: what has been learned and counted so far."""

    def __init__(self, model: LogModel, options: Options, steps: list[Step]) -> None:
        self.model = model
        self.options = options
        self.steps = steps
        self.counts = {"entries": 0, "signatures": 0, "checkpoints": 0,
                       "consistency_proofs": 0, "receipts": 0}
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.failure: VerificationFailure | None = None
        self.log_key_source = "argument" if options.log_key is not None else "source"
        self.log_verifier: Verifier | None = None
        self.origin: str | None = None
        self.entry_count = 0
        self.genesis_size = 0
        self.leaves = bytearray()                       # 32 bytes per entry, in index order
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}  # tree size -> recomputed root
        self.stored_nodes: dict[tuple[int, int], bytes] = {}
        self.keys: dict[str, KeyInfo] = {}
        self.key_slots: list[KeyInfo] = []
        self.registrations: list[tuple[int, str, str, str]] = []  # (index, stream, key_id, hex)
        self.last_seq: dict[str, int] = {}
        # last_seq as it stood at the latest checkpoint's size: what a signed tree holds
        self.signed_last_seq: dict[str, int] = {}
        self.checkpoints: list[Checkpoint] = []          # verified, in listing order
        self.completeness: dict | None = None           # set by check_completeness
        self.collected: dict[str, list[tuple[int, dict]]] = {
            stream: [] for step in steps for stream in step.streams}

    @property
    def ok(self) -> bool:
        return self.failure is None

    def add_key(self, key_id: str, stream: str, public_key: bytes, registered_at: Any,
                valid_after: int) -> KeyInfo:
        info = KeyInfo(key_id, stream, public_key, len(self.key_slots), registered_at, valid_after)
        self.keys[key_id] = info
        self.key_slots.append(info)
        return info

    def leaf(self, index: int) -> bytes:
        return bytes(self.leaves[index * 32:(index + 1) * 32])


def run_checks(model: LogModel, options: Options | None = None,
               steps: list[Step] | None = None) -> Verification:
    """Run every step in order; stop at the first failure (kept in ``.failure``).

    Source problems (:class:`~g1000_verify.model.SourceError`) propagate: they mean the log
    could not be read, not that it is wrong.
    """
    steps = list(STEPS if steps is None else steps)
    state = Verification(model, options or Options(), steps)
    try:
        for step in steps:
            step.run(state)
    except VerificationFailure as failure:
        state.failure = failure
    return state


# --- Step 1: header and trust anchor -----------------------------------------------------------


def check_header(v: Verification) -> None:
    model = v.model
    if not isinstance(model.log_id, str) or not UUID_RE.fullmatch(model.log_id):
        raise VerificationFailure(None, "header", f"log id {model.log_id!r} is not a lowercase UUID")
    if v.options.log_key is not None:
        verifier = v.options.log_key
        if model.log_key and model.log_key != verifier.key_string:
            v.notes.append(f"the source publishes another log key ({model.log_key}); "
                           "checkpoints were checked with the key given")
    else:
        v.warnings.append("WARNING: the log key was taken from the source itself and not checked "
                          "against an out-of-band copy (pass --log-key or --log-key-file with "
                          "the key the municipality published)")
        if not model.log_key:
            raise VerificationFailure(None, "log_key", "the source publishes no log key; "
                                      "pass --log-key")
        try:
            verifier = parse_verifier_key(model.log_key)
        except ProofError as exc:
            raise VerificationFailure(None, "log_key",
                                      f"the source's log key is malformed: {exc}") from None
    origin = model.origin if model.origin is not None else verifier.name
    host, sep, rest = origin.partition("/g1000/")
    if not sep or not host or rest != model.log_id:
        raise VerificationFailure(None, "header", f"origin {origin!r} does not name log "
                                  f"{model.log_id} (expected <host>/g1000/{model.log_id})")
    if verifier.name != origin:
        raise VerificationFailure(None, "log_key", f"the log key is named {verifier.name!r}, "
                                  f"but the log's origin is {origin!r}")
    v.log_verifier = verifier
    v.origin = origin


# --- Step 2: the entry pass --------------------------------------------------------------------


def _registration(payload: Any) -> tuple[str, str, bytes] | str:
    """(key_id, stream, raw public key) of a ledger.key.registered payload, or a reason."""
    if type(payload) is not dict or payload.keys() != REGISTRATION_FIELDS:
        return ("a ledger.key.registered payload has exactly the members "
                "v, stream, public_key, key_id, valid_from")
    if payload["v"] != 1 or type(payload["v"]) is not int:
        return f"unsupported ledger.key.registered payload version {payload['v']!r}"
    stream, public_hex, key_id = payload["stream"], payload["public_key"], payload["key_id"]
    if type(stream) is not str or not STREAM_RE.fullmatch(stream):
        return f"registered stream {stream!r} is not a stream name"
    if type(public_hex) is not str or not HEX64_RE.fullmatch(public_hex):
        return "registered public_key is not 64 lowercase hex digits"
    if type(key_id) is not str or not HEX64_RE.fullmatch(key_id):
        return "registered key_id is not 64 lowercase hex digits"
    if type(payload["valid_from"]) is not str:
        return "registered valid_from is not a string"
    raw = bytes.fromhex(public_hex)
    if hashlib.sha256(raw).hexdigest() != key_id:
        return f"registered key_id {short(key_id)} is not the SHA-256 of the public key"
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        return "registered public_key is not an Ed25519 public key"
    return key_id, stream, raw


def _read_genesis(records: Iterator[Any]) -> tuple[list[Any], int]:
    """Read ahead the genesis: the leading entries whose event is of the ledger stream.

    Returns the records read (the genesis plus at most one more) and the genesis length.
    """
    buffered: list[Any] = []
    for record in records:
        buffered.append(record)
        event = record.get("event") if type(record) is dict else None
        if type(event) is not dict or event.get("stream") != LEDGER_STREAM:
            return buffered, len(buffered) - 1
        if len(buffered) >= GENESIS_LIMIT:
            break
    return buffered, len(buffered)


def _index_failure(expected: int, index: Any) -> VerificationFailure:
    if type(index) is not int:
        return VerificationFailure(expected, "index", f"the entry record at this position has "
                                   f"index {index!r}, expected {expected}")
    if index > expected:
        return VerificationFailure(expected, "index", f"entry {expected} is missing: the next "
                                   f"entry in the source has index {index}")
    return VerificationFailure(expected, "index", f"entries are not in order: expected entry "
                               f"{expected} here, found entry {index}")


def _format_failure(expected: int, record: Any) -> VerificationFailure:
    if isinstance(record, EntryProblem):
        return VerificationFailure(expected, "format", f"{record.where} {record.message}")
    if type(record) is not dict:
        return VerificationFailure(expected, "format", "the entry record is not a JSON object")
    missing = [name for name in ("index", "event", "leaf_hash", "chain") if name not in record]
    return VerificationFailure(expected, "format", f"the entry record lacks {', '.join(missing)}")


def _envelope_reason(event: Any) -> str | None:
    """Why ``event`` is not an docs/architecture.md §3 envelope (None if it is one)."""
    if type(event) is not dict:
        return "the event is not a JSON object"
    if event.keys() != ENVELOPE_FIELDS:
        missing = sorted(ENVELOPE_FIELDS - event.keys())
        extra = sorted(event.keys() - ENVELOPE_FIELDS)
        return f"envelope members wrong (missing {missing}, unexpected {extra})"
    if event["v"] != 1 or type(event["v"]) is not int:
        return f"unsupported envelope version {event['v']!r}"
    for name in ("event_id", "summit_id"):
        if type(event[name]) is not str or not UUID_RE.fullmatch(event[name]):
            return f"{name} {event[name]!r} is not a lowercase UUID"
    event_type, stream = event["type"], event["stream"]
    match = TYPE_RE.fullmatch(event_type) if type(event_type) is str else None
    if match is None:
        return f"type {event_type!r} is not <stream>.<aggregate>.<past-tense verb>"
    if stream != match.group(1):
        return f"type {event_type!r} does not belong to stream {stream!r}"
    seq = event["seq"]
    if type(seq) is not int or seq < 1:
        return f"seq {seq!r} is not an integer >= 1"
    if type(event["occurred_at"]) is not str or not TIME_RE.fullmatch(event["occurred_at"]):
        return f"occurred_at {event['occurred_at']!r} is not UTC with milliseconds"
    payload = event["payload"]
    if type(payload) is not dict:
        return "payload is not a JSON object"
    if type(payload.get("v")) is not int or payload["v"] < 1:
        return f"payload has no schema version v >= 1 (found {payload.get('v')!r})"
    if type(event["key_id"]) is not str or not HEX64_RE.fullmatch(event["key_id"]):
        return "key_id is not 64 lowercase hex digits"
    if type(event["sig"]) is not str:
        return "sig is not a base64 string"
    return None


def check_entries(v: Verification) -> None:
    model = v.model
    records = iter(model.entries())
    buffered, v.genesis_size = _read_genesis(records)
    for record in buffered[:v.genesis_size]:
        event = record["event"]
        if event.get("type") == KEY_REGISTERED:
            parsed = _registration(event.get("payload"))
            if isinstance(parsed, tuple) and parsed[0] not in v.keys:
                v.add_key(parsed[0], parsed[1], parsed[2], record.get("index"), -1)
    signatures = _Signatures(v, _use_pool(v))
    try:
        try:
            _entry_pass(v, itertools.chain(buffered, records), signatures)
            signatures.finish()
        except VerificationFailure as failure:
            earlier = signatures.first_failure()
            if earlier is not None and earlier.index <= failure.index:
                failure = earlier
            v.entry_count = min(v.entry_count, failure.index)
            raise failure from None
    finally:
        v.counts["entries"] = v.entry_count
        v.counts["signatures"] = min(signatures.verified, v.entry_count)
        signatures.close()


def _use_pool(v: Verification) -> bool:
    workers = v.options.workers or os.cpu_count() or 1
    size = v.model.tree_size or 0
    return workers > 1 and size > v.options.pool_threshold


def _entry_pass(v: Verification, records: Iterator[Any], signatures: "_Signatures") -> None:
    """The single streaming pass; raises the first failure (signatures may lag, see caller)."""
    log_id = v.model.log_id
    limit = v.model.tree_size if v.model.kind == "bundle" else None
    genesis_size = v.genesis_size
    keys = v.keys
    leaves = v.leaves
    stored = v.stored_nodes
    roots = v.roots
    last_seq = v.last_seq
    collect = v.collected or None
    ledger_in_genesis = any(k.stream == LEDGER_STREAM for k in keys.values())
    sizes = sorted({cp.tree_size for cp in v.model.checkpoints
                    if type(cp.tree_size) is int and cp.tree_size > 0})
    size_iter = iter(sizes)
    next_size = next(size_iter, -1)
    signed_size = sizes[-1] if sizes else -1
    accumulator = MerkleAccumulator()
    append_leaf = accumulator.append
    sha256 = hashlib.sha256
    b2a = binascii.b2a_base64
    a2b = binascii.a2b_base64
    add_signature = signatures.add
    uuid_match = UUID_RE.fullmatch
    time_match = TIME_RE.fullmatch
    type_streams: dict[str, str] = {}
    previous = ZERO_HASH
    expected = 0

    for record in records:
        if expected == limit:
            raise VerificationFailure(expected, "index", "the bundle holds more entries than "
                                      f"its header's tree size {limit}")
        try:
            index = record["index"]
            event = record["event"]
            leaf_text = record["leaf_hash"]
            chain_text = record["chain"]
        except (TypeError, KeyError, IndexError):
            raise _format_failure(expected, record) from None
        if index != expected or type(index) is not int:
            raise _index_failure(expected, index)

        # Bytes, leaf hash and chain (docs/ledger.md "Entries").
        try:
            if type(event) is dict:
                whole, signed = dumps_with_and_without(event, "sig")
            else:
                whole, signed = dumps(event), b""
        except CanonicalJSONError as exc:
            raise VerificationFailure(index, "canonical_json", f"the event has no RFC 8785 "
                                      f"canonical form: {exc}") from None
        leaf = sha256(b"\x00" + whole).digest()
        if b2a(leaf, newline=False).decode("ascii") != leaf_text:
            raise VerificationFailure(index, "leaf_hash", f"the event's bytes hash to leaf "
                                      f"{_b64(leaf)}, but the log records {leaf_text!r}")
        chain = sha256(previous + leaf).digest()
        if b2a(chain, newline=False).decode("ascii") != chain_text:
            raise VerificationFailure(index, "chain", f"the hash chain breaks: SHA-256(previous "
                                      f"chain || leaf) is {_b64(chain)}, the log records "
                                      f"{chain_text!r}")
        previous = chain
        leaves += leaf
        completed = append_leaf(leaf)
        if len(completed) > STORED_LEVEL:
            for node in completed[STORED_LEVEL:]:
                stored[(node.level, node.index)] = node.hash
        if index + 1 == next_size:
            roots[next_size] = accumulator.root()
            next_size = next(size_iter, -1)

        # Envelope shape (docs/architecture.md §3, docs/events.md), fast path then the full reason.
        if type(event) is not dict or event.keys() != ENVELOPE_FIELDS:
            raise VerificationFailure(index, "envelope", _envelope_reason(event) or "?")
        event_type = event["type"]
        stream = event["stream"]
        seq = event["seq"]
        key_id = event["key_id"]
        signature_text = event["sig"]
        payload = event["payload"]
        info = keys.get(key_id) if type(key_id) is str else None
        summit_ok = event["summit_id"] == log_id
        if (type(event_type) is not str or type_streams.get(event_type) != stream
                or event["v"] != 1 or type(event["v"]) is not int
                or type(seq) is not int or seq < 1
                or type(event["event_id"]) is not str or not uuid_match(event["event_id"])
                or type(event["occurred_at"]) is not str or not time_match(event["occurred_at"])
                or type(payload) is not dict or type(payload.get("v")) is not int
                or payload["v"] < 1 or type(signature_text) is not str
                or (info is None and (type(key_id) is not str or not HEX64_RE.fullmatch(key_id)))
                or (not summit_ok and (type(event["summit_id"]) is not str
                                       or not uuid_match(event["summit_id"])))):
            reason = _envelope_reason(event)
            if reason is not None:
                raise VerificationFailure(index, "envelope", reason)
            type_streams[event_type] = stream   # a valid type seen for the first time
        if not summit_ok:
            raise VerificationFailure(index, "summit_id", f"the event belongs to summit "
                                      f"{event['summit_id']}, not to this log ({log_id})")

        # Genesis and keys (docs/ledger.md "Genesis", docs/events.md).
        if index == 0:
            if event_type != SUMMIT_CREATED:
                raise VerificationFailure(0, "genesis", f"entry 0 must be {SUMMIT_CREATED}, "
                                          f"found {event_type}")
            if not ledger_in_genesis:
                raise VerificationFailure(0, "genesis", "no key for stream 'ledger' is registered "
                                          f"in the genesis (entries 0-{max(genesis_size - 1, 0)})")
        if event_type == KEY_REGISTERED:
            _register(v, index, payload, index < genesis_size)
        if info is None:
            raise VerificationFailure(index, "key", f"key {short(key_id)} is not registered in "
                                      "this log")
        if info.stream != stream:
            raise VerificationFailure(index, "key", f"key {short(key_id)} is registered for stream "
                                      f"{info.stream}, not for stream {stream}")
        if info.valid_after >= index:
            raise VerificationFailure(index, "key", f"key {short(key_id)} is registered only at "
                                      f"entry {info.registered_at}, after this event")
        try:
            signature = a2b(signature_text, strict_mode=True)
        except (binascii.Error, ValueError):
            signature = b""
        if len(signature) != SIGNATURE_SIZE:
            raise VerificationFailure(index, "signature", "sig is not standard base64 of a 64-byte "
                                      "Ed25519 signature")
        add_signature(index, info, signature, signed)

        # seq gap-free from 1 per stream, in index order.
        wanted = last_seq.get(stream, 0) + 1
        if seq != wanted:
            if seq > wanted:
                missing = f"seq {wanted}" if seq == wanted + 1 else f"seq {wanted}-{seq - 1}"
                reason = f"stream {stream} jumps to seq {seq}: {missing} is missing"
            else:
                reason = f"stream {stream} repeats or goes back to seq {seq} (expected {wanted})"
            raise VerificationFailure(index, "seq", reason)
        last_seq[stream] = seq
        if collect is not None and stream in collect:
            collect[stream].append((index, event))
        expected += 1
        v.entry_count = expected
        if expected == signed_size:
            v.signed_last_seq = dict(last_seq)

    if limit is not None and expected < limit:
        raise VerificationFailure(expected, "index", f"entry {expected} is missing: the bundle "
                                  f"header says the log has {limit} entries, the bundle holds "
                                  f"{expected}")


def _register(v: Verification, index: int, payload: Any, in_genesis: bool) -> None:
    parsed = _registration(payload)
    if isinstance(parsed, str):
        raise VerificationFailure(index, "key", parsed)
    key_id, stream, raw = parsed
    known = v.keys.get(key_id)
    if known is not None and known.stream != stream:
        raise VerificationFailure(index, "key", f"key {short(key_id)} is already registered for "
                                  f"stream {known.stream} (entry {known.registered_at}); a key is "
                                  f"trusted for one stream only, not also for {stream}")
    if known is None:   # genesis keys were collected by the read-ahead; this covers the rest
        v.add_key(key_id, stream, raw, index, -1 if in_genesis else index)
    v.registrations.append((index, stream, key_id, payload["public_key"]))


# --- Ed25519 verification, inline or in worker processes ------------------------------------


_WORKER_KEYS: dict[bytes, Ed25519PublicKey] = {}


def _verify_chunk(public_keys: tuple[bytes, ...], items: list[tuple[int, int, bytes, bytes]]
                  ) -> tuple[int, int | None, int | None]:
    """Worker: verify (index, key slot, signature, message) items in order.

    Returns (number verified, failing index or None, its key slot or None); stops at the first
    failure.  Public key objects are cached per process.
    """
    objects = []
    for raw in public_keys:
        key = _WORKER_KEYS.get(raw)
        if key is None:
            key = _WORKER_KEYS[raw] = Ed25519PublicKey.from_public_bytes(raw)
        objects.append(key)
    for done, (index, slot, signature, message) in enumerate(items):
        try:
            objects[slot].verify(signature, message)
        except InvalidSignature:
            return done, index, slot
    return len(items), None, None


def _pool_context() -> Any:
    """``fork`` where it is the platform's natural choice (Linux); the default elsewhere."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


class _Signatures:
    """Ed25519 verification of the entry pass: at once (small logs) or in chunks (large)."""

    def __init__(self, v: Verification, use_pool: bool) -> None:
        self.v = v
        self.use_pool = use_pool
        self.workers = v.options.workers or os.cpu_count() or 1
        self.chunk_size = max(1, v.options.chunk_size)
        self.max_in_flight = 2 * self.workers + 1
        self.verified = 0
        self.items: list[tuple[int, int, bytes, bytes]] = []
        self.in_flight: deque[Future] = deque()
        self.pool: ProcessPoolExecutor | None = None
        self.objects: dict[int, Ed25519PublicKey] = {}
        self.failed: VerificationFailure | None = None

    def _failure(self, index: int, slot: int) -> VerificationFailure:
        info = self.v.key_slots[slot]
        return VerificationFailure(index, "signature", f"signature does not verify with key "
                                   f"{short(info.key_id)} registered for stream {info.stream}")

    def add(self, index: int, info: KeyInfo, signature: bytes, message: bytes) -> None:
        if not self.use_pool:
            key = self.objects.get(info.slot)
            if key is None:
                key = self.objects[info.slot] = Ed25519PublicKey.from_public_bytes(info.public_key)
            try:
                key.verify(signature, message)
            except InvalidSignature:
                raise self._failure(index, info.slot) from None
            self.verified += 1
            return
        self.items.append((index, info.slot, signature, message))
        if len(self.items) >= self.chunk_size:
            self._submit()

    def _submit(self) -> None:
        if not self.items:
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context())
        keys = tuple(info.public_key for info in self.v.key_slots)
        self.in_flight.append(self.pool.submit(_verify_chunk, keys, self.items))
        self.items = []
        while len(self.in_flight) > self.max_in_flight:
            self._collect_oldest()

    def _collect_oldest(self) -> None:
        done, index, slot = self.in_flight.popleft().result()
        self.verified += done
        if index is not None:
            raise self._failure(index, slot)

    def finish(self) -> None:
        """Wait for every queued signature; raise the first failure (lowest index)."""
        self._submit()
        while self.in_flight:
            self._collect_oldest()

    def first_failure(self) -> VerificationFailure | None:
        """After another check failed: the first signature failure among those queued, if any."""
        try:
            self.finish()
        except VerificationFailure as failure:
            return failure
        return None

    def close(self) -> None:
        for future in self.in_flight:
            future.cancel()
        self.in_flight.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


# --- Step 3: checkpoints -----------------------------------------------------------------------


def check_checkpoints(v: Verification) -> None:
    model = v.model
    if model.problems:
        raise VerificationFailure(None, "format", model.problems[0])
    total = len(model.checkpoints)
    previous = 0
    for record in model.checkpoints:
        label = f"checkpoint {record.position + 1} of {total} (tree size {record.tree_size!r})"
        if not isinstance(record.note, str):
            raise VerificationFailure(None, "checkpoint_signature", f"{label} has no note text")
        try:
            checkpoint = open_checkpoint(record.note, v.log_verifier, expected_origin=v.origin)
        except ProofError as exc:
            raise VerificationFailure(None, "checkpoint_signature", f"{label} does not verify "
                                      f"with the log key: {exc}") from None
        size = checkpoint.size
        if record.tree_size != size or type(record.tree_size) is not int:
            raise VerificationFailure(None, "checkpoint_size", f"{label} is listed with tree size "
                                      f"{record.tree_size!r} but its signed note says {size}")
        if size < previous:
            raise VerificationFailure(None, "checkpoint_size", f"{label} is smaller than the "
                                      f"checkpoint before it ({previous}); the list must ascend")
        if size > v.entry_count:
            raise VerificationFailure(None, "checkpoint_size", f"{label} signs a tree of {size} "
                                      f"entries, but the log has only {v.entry_count}")
        root = v.roots[size]
        if checkpoint.root_hash != root:
            raise VerificationFailure(None, "checkpoint_root", f"{label} signs root "
                                      f"{_b64(checkpoint.root_hash)}, but the first {size} "
                                      f"entries give root {_b64(root)} (RFC 9162)")
        v.checkpoints.append(checkpoint)
        v.counts["checkpoints"] += 1
        previous = size
    if model.kind == "bundle":
        if not v.checkpoints:
            raise VerificationFailure(None, "checkpoint_size", "the bundle holds no checkpoint, so "
                                      "nothing signs its entries")
        if previous != model.tree_size:
            raise VerificationFailure(None, "checkpoint_size", f"the bundle's latest checkpoint "
                                      f"covers {previous} entries, but the bundle holds "
                                      f"{model.tree_size} (a bundle is cut at its latest checkpoint)")
    else:
        if not v.checkpoints:
            raise VerificationFailure(None, "checkpoint_size", "the log has no signed checkpoint yet")
        if previous < v.entry_count:
            v.notes.append(f"{v.entry_count - previous} entries after the latest checkpoint "
                           f"(tree size {previous}) were verified but are not yet signed by one")


# --- Step 4: consistency between checkpoints -----------------------------------------------------


def _proof_hashes(answer: Any, echo: dict[str, int]) -> list[bytes] | str:
    """The decoded ``hashes`` of a gateway proof answer, or a reason it is malformed."""
    if not isinstance(answer, dict):
        return "the gateway's answer is not a JSON object"
    for name, value in echo.items():
        if answer.get(name) != value or type(answer.get(name)) is not int:
            return f"the gateway's answer has {name} {answer.get(name)!r}, asked for {value}"
    hashes = answer.get("hashes")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        return "the gateway's answer has no list of base64 hashes"
    try:
        return [strict_b64decode(h) for h in hashes]
    except ValueError:
        return "a hash in the gateway's proof is not standard base64"


def check_consistency(v: Verification) -> None:
    if v.model.proofs is None:
        v.notes.append("consistency between checkpoints: implied by recomputed roots")
        return
    for older, newer in zip(v.checkpoints, v.checkpoints[1:]):
        first, second = older.size, newer.size
        if first == 0 or first == second:
            continue
        label = f"consistency proof from tree size {first} to {second}"
        proof = _proof_hashes(v.model.proofs.consistency(first, second),
                              {"first": first, "second": second})
        if isinstance(proof, str):
            raise VerificationFailure(None, "consistency", f"{label}: {proof}")
        try:
            verify_consistency(first, second, proof, older.root_hash, newer.root_hash)
        except ProofError as exc:
            raise VerificationFailure(None, "consistency", f"{label} does not verify: {exc}") from None
        v.counts["consistency_proofs"] += 1


# --- Step 5: receipts ----------------------------------------------------------------------------


def _stored_node(v: Verification, level: int, index: int) -> bytes:
    """A perfect Merkle node: kept from the pass if high, else recomputed from the leaves."""
    if level >= STORED_LEVEL:
        return v.stored_nodes[(level, index)]
    start = index << level
    return root_from_leaves([v.leaf(i) for i in range(start, start + (1 << level))])


def check_receipts(v: Verification) -> None:
    if not v.options.receipts:
        return
    latest = max(v.checkpoints, key=lambda cp: cp.size, default=None)
    for index, claimed in v.options.receipts:
        if index >= v.entry_count:
            raise VerificationFailure(index, "receipt", f"the receipt names entry {index}, but the "
                                      f"log has only {v.entry_count} entries")
        recorded = v.leaf(index)
        if recorded != claimed:
            raise VerificationFailure(index, "receipt", f"the receipt's leaf hash {_b64(claimed)} "
                                      f"is not the leaf hash of entry {index} ({_b64(recorded)})")
        if latest is None or index >= latest.size:
            covered = 0 if latest is None else latest.size
            raise VerificationFailure(index, "receipt", f"no signed checkpoint covers entry "
                                      f"{index} yet (the latest covers {covered} entries)")
        if v.model.proofs is not None:
            proof = _proof_hashes(v.model.proofs.inclusion(index, latest.size),
                                  {"index": index, "tree_size": latest.size})
            if isinstance(proof, str):
                raise VerificationFailure(index, "receipt", f"inclusion proof: {proof}")
            origin = "fetched from the gateway"
        else:
            proof = inclusion_proof(index, latest.size, lambda lv, ix: _stored_node(v, lv, ix))
            origin = "rebuilt from the bundle's leaves"
        try:
            verify_inclusion(claimed, index, latest.size, proof, latest.root_hash)
        except ProofError as exc:
            raise VerificationFailure(index, "receipt", f"the inclusion proof of entry {index} in "
                                      f"the checkpoint of tree size {latest.size} does not verify: "
                                      f"{exc}") from None
        v.counts["receipts"] += 1
        v.notes.append(f"receipt for entry {index}: included in the checkpoint of tree size "
                       f"{latest.size} (proof {origin})")


# --- Step 6: key lines of a bundle -----------------------------------------------------------


def check_key_lines(v: Verification) -> None:
    summary = ", ".join(f"{info.stream} {short(info.key_id)}" for info in v.key_slots)
    if summary:
        v.notes.append(f"keys registered in the log: {summary}")
    lines = v.model.key_lines
    if lines is None:
        return
    if not lines:
        v.notes.append("the bundle has no key lines; keys were derived from the entries alone")
        return
    derived = {(index, stream, key_id, public): None
               for index, stream, key_id, public in v.registrations}
    written: dict[tuple, None] = {}
    for line in lines:
        fields = (line.index, line.stream, line.key_id, line.public_key)
        written[tuple(f if type(f) in (str, int, type(None)) else repr(f) for f in fields)] = None
    problems: list[tuple[int, VerificationFailure]] = []
    for item in derived:
        if item not in written:
            index, stream, key_id, _ = item
            problems.append((index, VerificationFailure(index, "key_lines", f"the bundle's key "
                             f"lines do not list the key {short(key_id)} that entry {index} "
                             f"registers for stream {stream}")))
    for item in written:
        if item not in derived:
            index, stream, key_id, _ = item
            where = index if type(index) is int else None
            problems.append((where if where is not None else -1, VerificationFailure(
                where, "key_lines", f"the bundle lists key {short(key_id)} for stream {stream!r} "
                f"at entry {index!r}, but the entries register no such key there")))
    if problems:
        raise min(problems, key=lambda pair: pair[0])[1]


# --- Step 7: completeness against the producers' signed heads ------------------------------


def check_completeness(v: Verification) -> None:
    """How far the log is behind every producer's signed stream head (docs/events.md, "Stream
    heads"; the rule is :func:`g1000_proofs.heads.lag`, shared with the services).

    Every stream the log registers a key for must have a head, signed by a key the log registers
    for that stream.  Without ``--complete`` a lag, a missing or an invalid head is a warning;
    with it, a failure.
    """
    options = v.options
    if options.heads is None and options.heads_error is None:
        if options.complete:
            raise VerificationFailure(None, "completeness", "no stream heads to compare the log with")
        return
    keys = {info.key_id: (info.stream, info.public_key) for info in v.key_slots}
    streams = sorted({info.stream for info in v.key_slots})
    invalid: list[str] = []
    heads: list[StreamHead] = []
    if options.heads_error is not None:
        invalid.append(f"the heads could not be read: {options.heads_error}")
    else:
        doc = options.heads
        items = doc.get("heads") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            invalid.append("the heads document has no 'heads' list")
            items = []
        now = options.now or datetime.now(timezone.utc)
        for item in items:
            try:
                head = verify_head(item, keys, v.model.log_id)
                if options.max_head_age is not None:
                    check_fresh(head, now, options.max_head_age)
                heads.append(head)
            except HeadError as exc:
                invalid.append(str(exc))
        unavailable = doc.get("unavailable") if isinstance(doc, dict) else None
        if isinstance(unavailable, list) and unavailable:
            v.notes.append("the gateway could not read the heads of: "
                           + ", ".join(str(name) for name in unavailable))
    # Only what a signed checkpoint covers counts: entries served past the latest checkpoint are
    # verified, but the log has not committed to them, so they cannot make it complete.
    rows = lag(heads, dict(v.signed_last_seq), streams=streams)
    behind = [row for row in rows.values() if not row.complete]
    v.completeness = {"complete": not behind and not invalid,
                      "streams": [row.as_dict() for row in rows.values()], "invalid": invalid}
    for row in rows.values():
        if row.head_seq is None:
            v.notes.append(f"stream {row.stream}: no valid head; the log holds seq {row.logged_seq}")
        else:
            v.notes.append(f"stream {row.stream}: producer's head seq {row.head_seq}, the signed log "
                           f"holds {row.logged_seq}, behind {row.behind}")
    if not behind and not invalid:
        return
    parts = [f"{row.stream} behind by {row.behind} (head {row.head_seq}, log {row.logged_seq})"
             if row.head_seq is not None else f"{row.stream} has no valid head" for row in behind]
    reason = "the log is not complete: " + "; ".join(parts + invalid)
    if options.complete:
        raise VerificationFailure(None, "completeness", reason)
    v.warnings.append(f"WARNING: {reason} (pass --complete to fail on it)")


STEPS: list[Step] = [
    Step("header", check_header),
    Step("entries", check_entries),
    Step("checkpoints", check_checkpoints),
    Step("consistency", check_consistency),
    Step("receipts", check_receipts),
    Step("key_lines", check_key_lines),
    Step("completeness", check_completeness),
]
