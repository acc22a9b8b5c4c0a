"""A small generator of real signed G1000 logs, for the verifier's tests (and its self-checks).

The verifier's tests need logs that are right in every detail, so that a single tamper is the
only thing wrong.  This module builds them the way docs/ledger.md and docs/events.md describe,
independently of the verifier: events are signed with FIXED Ed25519 seeds over ``rfc8785.dumps``
of the event without ``sig`` (the library the services use, not ``g1000_proofs.jcs``), entries
carry ``leaf_hash = SHA-256(0x00 || JCS(event))`` and the hash chain, checkpoints are C2SP signed
notes made with ``g1000_proofs.checkpoint.sign_checkpoint``, and ``write`` produces an export
bundle (header, entries, checkpoints, key lines).

tests/unit/verifier/test_verify_logbuilder.py pins the generator to the services' own code: every
generated event passes ``services.core.envelope.verify_event`` with the real payload catalogue,
and the genesis has the shape ``services.ledger.domain.charter_summit`` gives it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from g1000_proofs.checkpoint import Checkpoint, sign_checkpoint
from g1000_proofs.merkle import MerkleAccumulator
from g1000_proofs.note import make_signer_key, make_verifier_key, parse_signer_key

SUMMIT_ID = "5d3c2b1a-0f9e-4d8c-b7a6-958473625140"
OTHER_SUMMIT_ID = "6e4d3c2b-1a0f-4e9d-8c7b-a69584736251"
HOST = "g1000.localhost"
ORIGIN = f"{HOST}/g1000/{SUMMIT_ID}"
VALID_FROM = "2027-03-14T08:00:00.000Z"

LEDGER_SEED = bytes([0x42] * 32)
AGENDA_SEED = bytes(range(32))
STRANGER_SEED = bytes([0x77] * 32)
LOG_NOTE_SEED = bytes([0x11] * 32)
OTHER_NOTE_SEED = bytes([0x22] * 32)


@dataclass(frozen=True)
class ServiceKey:
    """An Ed25519 service key: signs events; key id = hex SHA-256 of the raw public key."""

    seed: bytes

    @property
    def private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public).hexdigest()

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


LEDGER = ServiceKey(LEDGER_SEED)
AGENDA = ServiceKey(AGENDA_SEED)
STRANGER = ServiceKey(STRANGER_SEED)


def note_signer(seed: bytes = LOG_NOTE_SEED, name: str = ORIGIN):
    return parse_signer_key(make_signer_key(name, seed))


def log_vkey(seed: bytes = LOG_NOTE_SEED, name: str = ORIGIN) -> str:
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    return make_verifier_key(name, public)


LOG_VKEY = log_vkey()


def make_event(key: ServiceKey, *, type: str, seq: int, payload: dict, n: int,
               stream: str | None = None, summit_id: str = SUMMIT_ID, key_id: str | None = None,
               canonical: Callable[[object], bytes] = rfc8785.dumps) -> dict:
    """A signed envelope (docs/architecture.md §3) with deterministic event id and time from ``n``."""
    unsigned = {
        "v": 1,
        "event_id": f"0b9a6d4e-8f21-4c3a-9d5e-{n:012x}",
        "type": type,
        "summit_id": summit_id,
        "stream": stream or type.split(".")[0],
        "seq": seq,
        "occurred_at": f"2027-03-14T09:{(n // 60000) % 60:02d}:{(n // 1000) % 60:02d}.{n % 1000:03d}Z",
        "payload": payload,
        "key_id": key_id or key.key_id,
    }
    sig = base64.b64encode(key.sign(canonical(unsigned))).decode("ascii")
    return {**unsigned, "sig": sig}


def registration(key: ServiceKey, stream: str, n: int, seq: int, **kw) -> dict:
    payload = {"v": 1, "stream": stream, "public_key": key.public.hex(), "key_id": key.key_id,
               "valid_from": VALID_FROM}
    return make_event(LEDGER, type="ledger.key.registered", seq=seq, payload=payload, n=n, **kw)


def genesis(keys: dict[str, ServiceKey] | None = None, *, features: dict | None = None, **kw) -> list[dict]:
    """summit.created, then one key.registered per stream in sorted order (as charter_summit).
    The charter is v1 (as logs written before the register vocabulary begin) unless `features`
    (a register vocabulary) is given: then it is v2 and declares it."""
    keys = keys or {"ledger": LEDGER, "agenda": AGENDA}
    charter = {"v": 1, "theme": "Hoe houden we onze stad leefbaar?", "municipality": "Amersfoort",
               "date": "2027-03-14", "seats": {"citizens": 800, "experts": 150, "organisers": 50}}
    if features is not None:
        charter = charter | {"v": 2, "register": {"features": features}}
    events = [make_event(LEDGER, type="ledger.summit.created", seq=1, payload=charter, n=0, **kw)]
    for seq, stream in enumerate(sorted(keys), start=2):
        events.append(registration(keys[stream], stream, n=seq - 1, seq=seq, **kw))
    return events


def topic(seq: int, n: int, key: ServiceKey = AGENDA, title: str | None = None, **kw) -> dict:
    payload = {"v": 1, "topic_id": f"3f2504e0-4f89-41d3-9a0c-{seq:012x}",
               "title": title or f"Onderwerp nummer {seq}: meer groen in de wijk",
               "description": "Ruimte voor fietsers én voetgangers — regel 1\nregel 2"}
    return make_event(key, type="agenda.topic.nominated", seq=seq, payload=payload, n=n, **kw)


def standard_events(topics: int = 10, **kw) -> list[dict]:
    """Genesis (ledger + agenda keys) and ``topics`` agenda.topic.nominated events."""
    events = genesis(**kw)
    events += [topic(seq, n=len(events) + seq, **kw) for seq in range(1, topics + 1)]
    return events


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class Log:
    """A log as the ledger would export it."""

    entries: list[dict]
    checkpoints: list[dict]
    key_lines: list[dict]
    header: dict
    leaves: list[bytes] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)

    def lines(self, compact: bool = False) -> list[str]:
        """The bundle's JSON lines (spaced separators by default: line layout must not matter)."""
        options = {"separators": (",", ":")} if compact else {}
        dump = lambda obj: json.dumps(obj, ensure_ascii=False, **options)  # noqa: E731
        rows = [self.header]
        rows += [{"kind": "entry", **entry} for entry in self.entries]
        rows += [{"kind": "checkpoint", **cp} for cp in self.checkpoints]
        rows += [{"kind": "key", **line} for line in self.key_lines]
        return [dump(row) for row in rows]

    def write(self, path: Path, lines: list[str] | None = None) -> Path:
        path.write_text("".join(line + "\n" for line in (lines or self.lines())), encoding="utf-8")
        return path


def entries_for(events: list[dict], canonical: Callable[[object], bytes] = rfc8785.dumps
                ) -> tuple[list[dict], list[bytes]]:
    entries, leaves, chain = [], [], bytes(32)
    for index, event in enumerate(events):
        leaf = hashlib.sha256(b"\x00" + canonical(event)).digest()
        chain = hashlib.sha256(chain + leaf).digest()
        entries.append({"index": index, "event": event, "leaf_hash": b64(leaf), "chain": b64(chain)})
        leaves.append(leaf)
    return entries, leaves


def roots_at(leaves: list[bytes], sizes) -> dict[int, bytes]:
    wanted, roots, accumulator = set(sizes), {}, MerkleAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
        if accumulator.size in wanted:
            roots[accumulator.size] = accumulator.root()
    return roots


def sign_cp(size: int, root: bytes, signer=None, origin: str = ORIGIN) -> str:
    return sign_checkpoint(Checkpoint(origin, size, root), signer or note_signer())


def build_log(events: list[dict], checkpoint_sizes: list[int] | None = None, *,
              signer=None, canonical: Callable[[object], bytes] = rfc8785.dumps,
              tree_size: int | None = None, log_id: str = SUMMIT_ID, origin: str = ORIGIN,
              log_key: str = LOG_VKEY) -> Log:
    """Entries, checkpoints (default: every 4 entries and the end) and key lines for ``events``."""
    entries, leaves = entries_for(events, canonical)
    n = len(events)
    sizes = sorted(set(checkpoint_sizes if checkpoint_sizes is not None
                       else [*range(4, n, 4), n]))
    roots = roots_at(leaves, sizes)
    checkpoints = [{"tree_size": s, "note": sign_cp(s, roots[s], signer, origin)} for s in sizes]
    key_lines = [{"stream": e["payload"]["stream"], "key_id": e["payload"]["key_id"],
                  "public_key": e["payload"]["public_key"], "index": i}
                 for i, e in enumerate(events) if e["type"] == "ledger.key.registered"]
    header = {"kind": "header", "format": "g1000-log-bundle", "version": 1, "log_id": log_id,
              "origin": origin, "log_key": log_key,
              "tree_size": n if tree_size is None else tree_size}
    return Log(entries, checkpoints, key_lines, header, leaves, roots)


def standard_log(topics: int = 10, checkpoint_sizes: list[int] | None = None) -> Log:
    return build_log(standard_events(topics), checkpoint_sizes)
