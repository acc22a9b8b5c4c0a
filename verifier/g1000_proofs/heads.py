"""Signed stream heads: what a producer says it has recorded, and how far a log is behind it.

Why this module exists: a transparency log can only prove what it holds.  An event that a
producer recorded but that never reached the log (a broker down, a tail lost in transit) is
invisible in the log itself, so a verifier that checks only the log says "complete" about an
incomplete one (issue 10, M5).  Every producing service therefore publishes, directly and not
through the broker, a *signed stream head* per summit: the last ``seq`` it has recorded in its
own event store.  The head is signed with the same Ed25519 key the log registers for that
stream (``ledger.key.registered``, docs/events.md), so nobody but the producer can make one, and
a verifier compares it with the log: ``lag(heads, log)``.

The services (which sign heads and report lag in their readiness and metrics) and
``g1000-verify --complete`` (which checks heads against the log) call these functions; the
rule lives only here.

Encoding (docs/events.md, "Stream heads"), version 1::

    {"v": 1, "summit_id": "<uuid>", "stream": "<stream>", "last_seq": <int >= 0>,
     "time": "YYYY-MM-DDTHH:MM:SS.mmmZ", "key_id": "<hex sha-256 of the public key>",
     "sig": "<base64 Ed25519 signature>"}

The signature is RFC 8032 Ed25519 over ``b"g1000-stream-head/v1\\n"`` followed by the RFC 8785
canonical JSON of the object without ``sig``.  The prefix separates the domains: no signed head
can ever be taken for a signed event (whose signed bytes are bare canonical JSON starting with
``{``) or the other way round, although both are signed by the same key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime, timezone
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import ProofError
from .jcs import CanonicalJSONError, dumps
from .errors import HeadError

__all__ = [
    "HEAD_PREFIX", "HEAD_VERSION", "HeadError", "Lag", "StreamHead", "check_fresh", "head_age",
    "head_signing_bytes", "lag", "parse_head", "sign_head", "verify_head",
]

HEAD_PREFIX = b"g1000-stream-head/v1\n"
HEAD_VERSION = 1
HEAD_FIELDS = frozenset(("v", "summit_id", "stream", "last_seq", "time", "key_id", "sig"))
MAX_SEQ = 2**53 - 1   # what RFC 8785 numbers carry exactly (docs/events.md: integers only)

_UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STREAM_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StreamHead:
    """One verified (or at least well-formed) stream head."""

    summit_id: str
    stream: str
    last_seq: int
    time: str
    key_id: str
    sig: str

    def unsigned(self) -> dict[str, Any]:
        return {"v": HEAD_VERSION, "summit_id": self.summit_id, "stream": self.stream,
                "last_seq": self.last_seq, "time": self.time, "key_id": self.key_id}

    def as_dict(self) -> dict[str, Any]:
        return {**self.unsigned(), "sig": self.sig}


@dataclass(frozen=True)
class Lag:
    """How far the log is behind one producer's head: ``behind = max(0, head_seq - logged_seq)``.

    ``head_seq`` is None when the producer published no (valid) head for the stream; such a
    stream counts as incomplete, since nothing shows how much of it the log holds.
    """

    stream: str
    head_seq: int | None
    logged_seq: int
    behind: int

    @property
    def complete(self) -> bool:
        return self.head_seq is not None and self.behind == 0

    def as_dict(self) -> dict[str, Any]:
        return {"stream": self.stream, "head_seq": self.head_seq, "logged_seq": self.logged_seq,
                "behind": self.behind}


def _check_fields(summit_id: Any, stream: Any, last_seq: Any, time: Any, key_id: Any) -> None:
    if not isinstance(summit_id, str) or not _UUID_RE.fullmatch(summit_id):
        raise HeadError(f"summit_id {summit_id!r} is not a lowercase UUID")
    if not isinstance(stream, str) or not _STREAM_RE.fullmatch(stream):
        raise HeadError(f"stream {stream!r} is not a stream name")
    if type(last_seq) is not int or not 0 <= last_seq <= MAX_SEQ:
        raise HeadError(f"last_seq {last_seq!r} is not an integer in 0..2**53-1")
    if not isinstance(time, str) or not _TIME_RE.fullmatch(time):
        raise HeadError(f"time {time!r} is not YYYY-MM-DDTHH:MM:SS.mmmZ")
    if not isinstance(key_id, str) or not _HEX64_RE.fullmatch(key_id):
        raise HeadError(f"key_id {key_id!r} is not 64 lowercase hex digits")


def head_signing_bytes(*, summit_id: str, stream: str, last_seq: int, time: str, key_id: str) -> bytes:
    """The exact bytes a head's signature covers: the domain prefix, then JCS of the head."""
    _check_fields(summit_id, stream, last_seq, time, key_id)
    unsigned = {"v": HEAD_VERSION, "summit_id": summit_id, "stream": stream, "last_seq": last_seq,
                "time": time, "key_id": key_id}
    try:
        return HEAD_PREFIX + dumps(unsigned)
    except CanonicalJSONError as exc:  # unreachable after the field checks, kept as a guard
        raise HeadError(f"head is not canonical JSON: {exc}") from None


def sign_head(sign: Callable[[bytes], bytes], key_id: str, *, summit_id: str, stream: str,
              last_seq: int, time: str) -> dict[str, Any]:
    """A signed head as its JSON object; ``sign`` is the producer's Ed25519 signing function."""
    data = head_signing_bytes(summit_id=summit_id, stream=stream, last_seq=last_seq, time=time,
                              key_id=key_id)
    sig = base64.b64encode(sign(data)).decode("ascii")
    return StreamHead(summit_id, stream, last_seq, time, key_id, sig).as_dict()


def parse_head(obj: Any) -> StreamHead:
    """Check a head's shape (exactly the version-1 members, each well-formed); no signature."""
    if not isinstance(obj, dict):
        raise HeadError("a stream head is a JSON object")
    if set(obj) != HEAD_FIELDS:
        missing, extra = sorted(HEAD_FIELDS - set(obj)), sorted(set(obj) - HEAD_FIELDS)
        raise HeadError(f"a stream head has exactly {sorted(HEAD_FIELDS)}"
                        f" (missing {missing}, unexpected {extra})")
    if obj["v"] != HEAD_VERSION or type(obj["v"]) is not int:
        raise HeadError(f"unsupported stream head version {obj['v']!r}")
    _check_fields(obj["summit_id"], obj["stream"], obj["last_seq"], obj["time"], obj["key_id"])
    if not isinstance(obj["sig"], str):
        raise HeadError("sig is not a string")
    return StreamHead(obj["summit_id"], obj["stream"], obj["last_seq"], obj["time"], obj["key_id"],
                      obj["sig"])


def verify_head(obj: Any, keys: Mapping[str, tuple[str, bytes]], summit_id: str) -> StreamHead:
    """Parse and verify one head against the keys the summit's log registers.

    ``keys`` maps key id -> (stream, raw 32-byte Ed25519 public key), as registered by
    ``ledger.key.registered``.  A head must be for ``summit_id`` and signed by a key registered
    for the head's own stream (a key never speaks for another stream, docs/events.md).
    """
    head = parse_head(obj)
    if head.summit_id != summit_id:
        raise HeadError(f"the head is for summit {head.summit_id}, not {summit_id}")
    registered = keys.get(head.key_id)
    if registered is None:
        raise HeadError(f"the {head.stream} head is signed by key {head.key_id[:16]}…,"
                        " which the log does not register")
    stream, public_key = registered
    if stream != head.stream:
        raise HeadError(f"the {head.stream} head is signed by key {head.key_id[:16]}…,"
                        f" which the log registers for stream {stream!r}")
    if hashlib.sha256(public_key).hexdigest() != head.key_id:
        raise HeadError(f"key {head.key_id[:16]}… does not match its public key")
    try:
        signature = base64.b64decode(head.sig, validate=True)
    except (binascii.Error, ValueError):
        raise HeadError(f"the {head.stream} head's sig is not base64") from None
    if len(signature) != 64:
        raise HeadError(f"the {head.stream} head's signature is not 64 bytes")
    data = HEAD_PREFIX + dumps(head.unsigned())
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        raise HeadError(f"the {head.stream} head's signature does not verify") from None
    return head


def head_age(head: StreamHead, now: datetime) -> float:
    """Seconds from the head's signing time to ``now`` (negative: signed "in the future")."""
    try:
        signed = datetime.strptime(head.time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise HeadError(f"the {head.stream} head's time {head.time!r} is not a valid date") from None
    return (now - signed).total_seconds()


def check_fresh(head: StreamHead, now: datetime, max_age: float, max_skew: float = 60.0) -> None:
    """Refuse a head signed more than ``max_age`` seconds before ``now`` (or more than
    ``max_skew`` after it).  Why: a signed head stays valid forever, so whoever relays heads
    (the gateway) could replay an old one with a smaller ``last_seq`` and make an incomplete
    log look complete; a live check therefore accepts only recent heads."""
    age = head_age(head, now)
    if age > max_age:
        raise HeadError(f"the {head.stream} head was signed {age:.0f} s ago ({head.time}), more than"
                        f" {max_age:.0f} s: it may be a replay of an old head")
    if age < -max_skew:
        raise HeadError(f"the {head.stream} head is dated {-age:.0f} s in the future ({head.time})")


def lag(heads: Mapping[str, int | None] | Iterable[StreamHead], logged: Mapping[str, int],
        streams: Iterable[str] = ()) -> dict[str, Lag]:
    """Per stream, how far the log is behind the producer's head.

    ``heads``: verified heads, or a mapping stream -> head seq (None: no valid head).
    ``logged``: stream -> the last seq the log holds (gap-free from 1, so also how many).
    ``streams``: streams that must have a head (e.g. every stream the log registers a key for);
    each one without a head is reported with ``head_seq=None``.  A log ahead of a head (it read
    later than the head was signed) is not behind: ``behind`` is never negative.
    """
    if isinstance(heads, Mapping):
        head_seqs = dict(heads)
    else:
        head_seqs = {}
        for head in heads:
            head_seqs[head.stream] = max(head.last_seq, head_seqs.get(head.stream) or 0)
    for stream in streams:
        head_seqs.setdefault(stream, None)
    out = {}
    for stream in sorted(head_seqs):
        head_seq = head_seqs[stream]
        logged_seq = logged.get(stream, 0)
        behind = 0 if head_seq is None else max(0, head_seq - logged_seq)
        out[stream] = Lag(stream, head_seq, logged_seq, behind)
    return out
