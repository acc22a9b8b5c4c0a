"""A builder of honest ballot logs for ``g1000-verify tally``, and the helpers that tamper with them.

The :class:`BallotLog` builder writes the ``ballot.*`` events of a summit the way the ballot
service must (docs/ballot.md), signed like every event of the verifier's test logs
(tests/support/log_builder.py), with real keys: a fresh 2048-bit RSA credential key per ballot,
credentials signed with it (an RSASSA-PSS signature over prefix || token, SHA-384, MGF1-SHA-384,
48-byte salt: what an unblinded RFC 9474 signature is), and votes sealed with HPKE (RFC 9180,
X25519 / HKDF-SHA256 / ChaCha20-Poly1305) to the ballot's X25519 key.  The roll root, the
nullifiers, the credentials and the sealing are computed here with ``hashlib``, ``rfc8785`` and
``cryptography`` directly, never with ``g1000_proofs``, so a log it builds verifying means the
verifier agrees with docs/ballot.md, not merely with itself.  The published result is
``g1000_proofs.tally.tally`` of the *plaintext* choices the builder sealed, as the service reads
them back (JSON objects in canonical member order: a spoiled choice's reason can depend on which
member is looked at first), with a vote that does not open spoiled as ``Unopened`` (the counting
rules have their own tests in test_tally.py); the verifier recounts it from the sealed bytes.

``find``, ``tamper`` and ``fails`` change one fact of a built log and assert where the verifier
fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519

from g1000_proofs.tally import Unopened, parse_spec, tally
from g1000_verify.tally_checks import verify_tally

from tests.support.log_builder import LEDGER, SUMMIT_ID, ServiceKey, genesis, make_event
from tests.support.lottery_logs import at, ref_mth

BALLOT = ServiceKey(bytes([0x44] * 32))
STEP = 1000            # ms between two ballot events
START = 10_000         # ms after 09:00 of the first ballot event (genesis is at 0-2 ms)
GENESIS = 3            # entries before the first ballot event
WINDOW = 20 * 60_000   # ms from opens_at to closes_at unless a test says otherwise
PAD_TO = 256
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)

# What a vote that does not open is spoiled as (the reason g1000_proofs.sealing gives).
NOT_OPENING = "the sealed vote does not open with this ballot's key"

METHODS = {
    "approval": {"kind": "approval", "min": 1, "max": 2},
    "cumulative": {"kind": "cumulative", "dots": 5, "max_per_option": 3},
    "score": {"kind": "score", "max": 4},
    "schulze": {"kind": "schulze"},
}


@lru_cache(maxsize=None)
def rsa_key(slot: int) -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key per slot, made once per test run (key generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pseudonym(i: int) -> str:
    """An opaque per-summit pseudonym: 32 lowercase hex characters."""
    return hashlib.sha256(f"participant {i}".encode()).hexdigest()[:32]


def ballot_uuid(i: int) -> str:
    return f"b0a11070-0000-4000-8000-{i:012x}"


def ref_roll(pseudonyms) -> tuple[int, str]:
    roll = sorted(set(pseudonyms))
    if not roll:
        return 0, hashlib.sha256(b"").hexdigest()   # RFC 9162: the empty tree's hash
    leaves = [hashlib.sha256(b"\x00" + f"g1000-roll-v1\n{p}".encode()).digest() for p in roll]
    return len(roll), ref_mth(leaves).hex()


def ref_nullifier(prefix: bytes, token: bytes) -> str:
    return hashlib.sha256(b"g1000-nullifier-v1\n" + prefix + token).hexdigest()


def ref_seal(choice: Any, public_key: x25519.X25519PublicKey, summit_id: str, ballot_id: str) -> bytes:
    text = rfc8785.dumps(choice)
    padded = text + bytes(-len(text) % PAD_TO)
    return SUITE.encrypt(padded, public_key, info=f"g1000 vote v1\n{summit_id}\n{ballot_id}".encode())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def text_ref(text: str, language: str = "nl") -> dict:
    data = text.encode("utf-8")
    return {"language": language, "sha256": hashlib.sha256(data).hexdigest(), "length": len(data)}


@dataclass
class Ballot:
    """What the service knows of one ballot while the builder writes it."""

    ballot_id: str
    method: dict
    options: list[str]
    opens_at: int
    closes_at: int
    signer: rsa.RSAPrivateKey
    sealing: x25519.X25519PrivateKey
    roll: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    choices: list[Any] = field(default_factory=list)   # what each cast holds (Unopened: garbage)
    credentials: list[dict] = field(default_factory=list)

    @property
    def public_hex(self) -> str:
        return self.sealing.public_key().public_bytes_raw().hex()

    @property
    def private_hex(self) -> str:
        return self.sealing.private_bytes_raw().hex()

    def spec(self):
        params = {k: v for k, v in self.method.items() if k != "kind"}
        if self.method["kind"] == "score":
            params = {"max_score": params["max"]}
        return parse_spec({"method": self.method["kind"], "options": self.options, **params})

    def result(self) -> dict:
        return tally(self.spec(), self.choices)


class BallotLog:
    """Appends ballot events (type, payload, time) and keeps what the service would know."""

    def __init__(self, summit_id: str = SUMMIT_ID) -> None:
        self.summit_id = summit_id
        self.items: list[tuple[str, dict, int]] = []
        self.t = START
        self.arrived: list[str] = []
        self.ballots: dict[str, Ballot] = {}
        self.counter = 0

    # Events --------------------------------------------------------------------------------

    def add(self, type_: str, payload: dict, t: int | None = None) -> int:
        """Append an event (time: ``t`` or one step later); return its position in ``items``."""
        self.t = self.t + STEP if t is None else t
        self.items.append((type_, {"v": 1, **payload}, self.t))
        return len(self.items) - 1

    def events(self) -> list[dict]:
        """Genesis (ledger and ballot keys), then the ballot events, signed, seq from 1."""
        events = genesis(keys={"ledger": LEDGER, "ballot": BALLOT})
        for seq, (type_, payload, t) in enumerate(self.items, start=1):
            events.append(make_event(BALLOT, type=type_, seq=seq, payload=payload, n=t,
                                     summit_id=self.summit_id))
        return events

    def index(self, position: int) -> int:
        """The log index of ``items[position]``."""
        return GENESIS + (position if position >= 0 else len(self.items) + position)

    def pairs(self) -> list[tuple[int, dict]]:
        return list(enumerate(self.events()))

    def verify(self, ballot_id: str | None = None):
        return verify_tally(self.summit_id, self.pairs(), ballot_id)

    # The ballot's life -----------------------------------------------------------------------

    def arrive(self, who: str) -> int:
        self.arrived.append(who)
        return self.add("ballot.participant.arrived", {"pseudonym": who})

    def create(self, method: str | dict = "approval", options: tuple[str, ...] = ("bos", "park", "plein"),
               *, opens_in: int = 5 * STEP, window: int = WINDOW, key_slot: int = 0,
               k: int = 2, n: int = 3) -> Ballot:
        self.counter += 1
        ballot_id = ballot_uuid(self.counter)
        seed = hashlib.sha256(f"sealing {ballot_id}".encode()).digest()
        spec = METHODS[method] if isinstance(method, str) else method
        b = Ballot(ballot_id, dict(spec), sorted(options), self.t + STEP + opens_in,
                   self.t + STEP + opens_in + window, rsa_key(key_slot),
                   x25519.X25519PrivateKey.from_private_bytes(seed))
        self.ballots[ballot_id] = b
        shares = [hashlib.sha256(f"g1000-share-v1:{k}:{x}:{ballot_id}".encode()).hexdigest()
                  for x in range(1, n + 1)]
        self.add("ballot.ballot.created", {
            "ballot_id": ballot_id,
            "title": [text_ref("The square?", "en"), text_ref("Wat doen we met het plein?")],
            "method": b.method,
            "options": [{"option_id": o, "texts": [text_ref(f"Optie {o}")]} for o in b.options],
            "opens_at": at(b.opens_at), "closes_at": at(b.closes_at),
            "sealing": {"public_key": b.public_hex, "k": k, "n": n, "share_hashes": shares}})
        return b

    def open(self, b: Ballot, **overrides) -> int:
        b.roll = sorted(set(self.arrived))
        count, root = ref_roll(b.roll)
        der = b.signer.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        payload = {"ballot_id": b.ballot_id, "roll": {"count": count, "root": root},
                   "credential_key": b64(der)} | overrides
        return self.add("ballot.ballot.opened", payload, max(self.t + STEP, b.opens_at))

    def issue(self, b: Ballot, who: str) -> int:
        b.issued.append(who)
        return self.add("ballot.credential.issued", {"ballot_id": b.ballot_id, "pseudonym": who})

    def credential(self, b: Ballot, signer: rsa.RSAPrivateKey | None = None) -> dict:
        """A fresh credential: random token and prefix, signed with the ballot's key."""
        token, prefix = secrets.token_bytes(32), secrets.token_bytes(32)
        signature = (signer or b.signer).sign(prefix + token, PSS, hashes.SHA384())
        return {"token": token.hex(), "prefix": prefix.hex(), "signature": b64(signature)}

    def cast(self, b: Ballot, choice: Any, *, credential: dict | None = None,
             sealed: bytes | None = None, t: int | None = None, spoiled_as: str | None = None,
             **overrides) -> int:
        """A cast of ``choice`` sealed to the ballot's key (or of the raw ``sealed`` bytes, that
        the count spoils as ``spoiled_as``)."""
        c = credential or self.credential(b)
        b.credentials.append(c)
        if sealed is None:
            sealed = ref_seal(choice, b.sealing.public_key(), self.summit_id, b.ballot_id)
            b.choices.append(json.loads(rfc8785.dumps(choice)))  # as the service opens it
        else:
            b.choices.append(Unopened(spoiled_as or NOT_OPENING))
        payload = {"ballot_id": b.ballot_id, "batch": ballot_uuid(1000 + len(b.choices) // 4),
                   "nullifier": ref_nullifier(bytes.fromhex(c["prefix"]), bytes.fromhex(c["token"])),
                   "credential": c, "sealed": b64(sealed)} | overrides
        return self.add("ballot.vote.cast", payload, t)

    def close(self, b: Ballot, *, early: bool = False, closed_at: int | None = None) -> int:
        if not early:
            self.t = max(self.t, b.closes_at)
        when = self.t + STEP if closed_at is None else closed_at
        return self.add("ballot.ballot.closed", {"ballot_id": b.ballot_id, "closed_at": at(when),
                                                 "early": early}, max(when, self.t + STEP))

    def reveal(self, b: Ballot, private_hex: str | None = None) -> int:
        return self.add("ballot.key.revealed", {"ballot_id": b.ballot_id,
                                                "private_key": private_hex or b.private_hex})

    def publish(self, b: Ballot, **overrides) -> int:
        payload = {"ballot_id": b.ballot_id, "counted": len(b.choices), "result": b.result()}
        return self.add("ballot.tally.published", payload | overrides)


# --- Honest ballots -------------------------------------------------------------------------------


def valid_choices(method: str, options: list[str]) -> list[Any]:
    """A few valid choices of each method over ``options`` (sorted)."""
    a, b, c = options[0], options[1], options[-1]
    return {
        "approval": [{"approve": [a]}, {"approve": [b, c]}, {"approve": [c]}, {"approve": [a, c]}],
        "cumulative": [{"dots": {a: 3, b: 2}}, {"dots": {c: 1}}, {"dots": {b: 3}}, {"dots": {a: 1}}],
        "score": [{"scores": {a: 4, b: 1}}, {"scores": {c: 2}}, {"scores": {}}, {"scores": {b: 4}}],
        "schulze": [{"ranking": [a, b, c]}, {"ranking": [c, a]}, {"ranking": [b]},
                    {"ranking": [c, b, a]}],
    }[method]


def honest_ballot(method: str = "approval", *, voters: int = 6, spoiled: bool = True,
                  log: BallotLog | None = None, key_slot: int = 0) -> tuple[BallotLog, Ballot]:
    """arrivals -> created -> opened -> issued -> cast (valid, an invalid shape, one that does
    not open) -> closed -> key revealed -> tally published."""
    log = log or BallotLog()
    people = [pseudonym(i) for i in range(voters + 2)]
    for who in people:
        if who not in log.arrived:
            log.arrive(who)
    b = log.create(method, key_slot=key_slot)
    log.open(b)
    for who in people[:voters]:
        log.issue(b, who)
    choices = valid_choices(method, b.options)
    for i in range(voters - (2 if spoiled else 0)):
        log.cast(b, choices[i % len(choices)])
    if spoiled:
        log.cast(b, {"approve": ["not-an-option"], "extra": 1})
        log.cast(b, None, sealed=b"\x01" * 100)
    log.close(b)
    log.reveal(b)
    log.publish(b)
    return log, b


def fails(log: BallotLog, position: int, check: str, *fragments: str) -> str:
    """Assert the tally check fails at ``log.items[position]`` with ``check``; return the reason."""
    failure = log.verify().failure
    assert failure is not None, "the log verified"
    assert (failure.check, failure.index) == (check, log.index(position)), failure
    for fragment in fragments:
        assert fragment in failure.reason, failure.reason
    return failure.reason


def find(log: BallotLog, type_: str, nth: int = 0) -> int:
    """Position in ``log.items`` of the ``nth`` event of ``type_``."""
    return [i for i, (t, _, _) in enumerate(log.items) if t == type_][nth]


def tamper(log: BallotLog, position: int, **changes) -> int:
    type_, payload, t = log.items[position]
    log.items[position] = (type_, {**payload, **changes}, t)
    return position
