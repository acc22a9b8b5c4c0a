"""The signed event envelope (docs/architecture.md §3): build, sign, serialise, parse and verify.

An event is a JSON object with the fixed members `v, event_id, type, summit_id, stream, seq,
occurred_at, payload, key_id, sig`. The signature is Ed25519 over the RFC 8785 canonical JSON of
the object without `sig`; on the wire (Kafka value, ledger entry) an event is the canonical JSON of
the whole object, `sig` included. Verification is strict: the bytes must already be canonical, the
key must be registered for the event's stream, and the payload must match the schema registered
for its type and payload version.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from .canonical import canonical_bytes, parse_json_object
from .errors import CanonicalizationError, SchemaError, SignatureError, VerificationError
from .signing import Keyring, Signer

ENVELOPE_VERSION = 1
FIELDS = ("v", "event_id", "type", "summit_id", "stream", "seq", "occurred_at", "payload", "key_id", "sig")
TYPE_RE = re.compile(r"^([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
TIME_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
HEX64_RE = re.compile(r"[0-9a-f]{64}")


class PayloadValidator(Protocol):
    def validate(self, event_type: str, payload: dict) -> None: ...


@dataclass(frozen=True)
class Event:
    """One signed event. `body` is the exact canonical bytes that were signed and transported."""

    event_id: str
    type: str
    summit_id: str
    stream: str
    seq: int
    occurred_at: str
    payload: dict
    key_id: str
    sig: str
    body: bytes

    def as_dict(self) -> dict[str, Any]:
        return {
            "v": ENVELOPE_VERSION, "event_id": self.event_id, "type": self.type,
            "summit_id": self.summit_id, "stream": self.stream, "seq": self.seq,
            "occurred_at": self.occurred_at, "payload": self.payload,
            "key_id": self.key_id, "sig": self.sig,
        }


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with exactly millisecond precision, as the envelope contract shows."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sign_event(
    signer: Signer, *, type: str, summit_id: str, stream: str, seq: int, payload: dict,
    event_id: str | None = None, occurred_at: str | None = None,
) -> Event:
    """Build and sign an event. The caller (the event store) owns `seq` assignment."""
    unsigned = {
        "v": ENVELOPE_VERSION,
        "event_id": event_id or str(uuid.uuid4()),
        "type": type,
        "summit_id": summit_id,
        "stream": stream,
        "seq": seq,
        "occurred_at": occurred_at or format_time(datetime.now(timezone.utc)),
        "payload": payload,
        "key_id": signer.key_id,
    }
    _check_shape(unsigned)
    sig = base64.b64encode(signer.sign(canonical_bytes(unsigned))).decode("ascii")
    body = canonical_bytes({**unsigned, "sig": sig})
    return _event_from(unsigned, sig, body)


def parse_event(body: bytes) -> Event:
    """Parse wire bytes into an Event, checking shape and canonical form but not the signature."""
    try:
        # Duplicate keys need no hook here: json.loads keeps one of them, so the re-serialised
        # canonical bytes differ from `body` and the event is refused as non-canonical below.
        obj = parse_json_object(body, reject_duplicates=False)
        canonical = canonical_bytes(obj)
    except CanonicalizationError as e:
        raise SchemaError(f"event is not valid JSON for an envelope: {e}") from None
    event_id = obj.get("event_id") if isinstance(obj.get("event_id"), str) else None
    if canonical != body:
        try:
            parse_json_object(body)  # only on this failure path: name a duplicate key if that is why
        except CanonicalizationError as e:
            raise SchemaError(f"event is not valid JSON for an envelope: {e}", event_id=event_id) from None
        raise SchemaError("event bytes are not in RFC 8785 canonical form", event_id=event_id)
    if set(obj) != set(FIELDS):
        missing = sorted(set(FIELDS) - set(obj))
        extra = sorted(set(obj) - set(FIELDS))
        raise SchemaError(f"envelope members wrong (missing {missing}, unexpected {extra})", event_id=event_id)
    unsigned = {k: v for k, v in obj.items() if k != "sig"}
    _check_shape(unsigned)
    if not isinstance(obj["sig"], str):
        raise SchemaError("sig must be a base64 string", event_id=event_id)
    return _event_from(unsigned, obj["sig"], body)


def verify_event(body: bytes, keyring: Keyring, payloads: PayloadValidator) -> Event:
    """Parse and fully verify wire bytes; raises a VerificationError subclass naming the reason."""
    event = parse_event(body)
    try:
        sig = base64.b64decode(event.sig, validate=True)
    except binascii.Error:
        raise SchemaError("sig is not valid base64", event_id=event.event_id) from None
    if base64.b64encode(sig).decode("ascii") != event.sig:
        # one signature, one spelling: unused base64 bits would give the same signature two bodies
        raise SchemaError("sig is not canonical base64", event_id=event.event_id)
    if len(sig) != 64:
        raise SignatureError("sig is not a 64-byte Ed25519 signature", event_id=event.event_id)
    try:
        keyring.verify(event.key_id, event.stream, sig, _unsigned_bytes(event))
        payloads.validate(event.type, event.payload)
    except VerificationError as e:
        e.event_id = event.event_id
        raise
    return event


def _unsigned_bytes(event: Event) -> bytes:
    """The signed bytes: the canonical event without its `sig` member.

    `event.body` is already canonical (parse_event checked it), and a canonical object is its
    members in sorted order, so removing the top-level `,"sig":"…"` member from the bytes gives
    exactly the canonical form of the object without it: no second canonicalisation. The member
    sits between "seq" and "stream" (sorted order); anything inside "payload" comes earlier, so
    the last occurrence of the member followed by `,"stream":` is the top-level one.
    """
    member = b',"sig":"' + event.sig.encode("ascii") + b'"'
    at = event.body.rfind(member + b',"stream":')
    if at < 0:
        raise SchemaError("sig member not where the canonical form puts it", event_id=event.event_id)
    return event.body[:at] + event.body[at + len(member):]


def _event_from(unsigned: dict, sig: str, body: bytes) -> Event:
    return Event(
        event_id=unsigned["event_id"], type=unsigned["type"], summit_id=unsigned["summit_id"],
        stream=unsigned["stream"], seq=unsigned["seq"], occurred_at=unsigned["occurred_at"],
        payload=unsigned["payload"], key_id=unsigned["key_id"], sig=sig, body=body,
    )


def _check_shape(obj: dict) -> None:
    """Check the envelope members (not the payload's content)."""
    event_id = obj.get("event_id") if isinstance(obj.get("event_id"), str) else None

    def bad(reason: str) -> SchemaError:
        return SchemaError(reason, event_id=event_id)

    if obj.get("v") != ENVELOPE_VERSION or isinstance(obj.get("v"), bool):
        raise bad(f"unsupported envelope version {obj.get('v')!r}")
    for name in ("event_id", "summit_id"):
        value = obj.get(name)
        if not isinstance(value, str) or not _is_uuid(value):
            raise bad(f"{name} must be a lowercase UUID string")
    match = TYPE_RE.match(obj.get("type") or "") if isinstance(obj.get("type"), str) else None
    if match is None:
        raise bad("type must be <stream>.<aggregate>.<past-tense verb>")
    if obj.get("stream") != match.group(1):
        raise bad(f"type {obj['type']!r} does not belong to stream {obj.get('stream')!r}")
    seq = obj.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise bad("seq must be an integer >= 1")
    if not _is_time(obj.get("occurred_at")):
        raise bad("occurred_at must be RFC 3339 UTC with milliseconds, e.g. 2027-03-14T09:30:00.123Z")
    if not isinstance(obj.get("payload"), dict):
        raise bad("payload must be a JSON object")
    if not isinstance(obj.get("key_id"), str) or not HEX64_RE.fullmatch(obj["key_id"]):
        raise bad("key_id must be 64 lowercase hex digits")


def _is_time(value) -> bool:
    if not isinstance(value, str) or not TIME_RE.fullmatch(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
