"""The ballot's decisions, pure: which events a command appends and which requests are refused.

Views (services/ballot/*_api.py) load the ballot, call these, append what they return and update
the read models (repo.py). Every rule both the service and `g1000-verify tally` apply is one
function of g1000_proofs (ballot: roll, credential key, nullifier, window; blind_rsa; sealing;
shamir; tally; ballot_count; texts), called here; this module only sequences them. The contract
is docs/ballot.md. No I/O; randomness (the batch's shuffle) comes from `secrets`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from g1000_proofs import ballot as rules
from g1000_proofs import sealing, shamir, texts
from g1000_proofs.ballot_count import recount, spec_of
from g1000_proofs.errors import BallotRuleError, SealingError, ShareError, TallyError, TextError

from services.core.envelope import format_time
from services.core.events import NewEvent

from .errors import AlreadyDoneError, BallotConflictError, BallotForbiddenError, BallotInvalidError

STATES = ("created", "open", "closed", "revealed", "tallied")
TITLE = ""  # the option_id under which the title's texts are stored


def ballot_aggregate(summit_id: str, ballot_id: str) -> str:
    return f"summit:{summit_id}/ballot:{ballot_id}"


def arrival_event(summit_id: str, pseudonym: str) -> NewEvent:
    """`ballot.participant.arrived`: once per pseudonym and summit (its aggregate's only version)."""
    return NewEvent("ballot.participant.arrived", {"v": 1, "pseudonym": pseudonym},
                    f"summit:{summit_id}/arrival:{pseudonym}", 1)


def stamp(moment: datetime) -> str:
    return format_time(moment)


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def just_before(at: str) -> str:
    """The last millisecond before `at` (the time a batch appended at closing carries)."""
    return stamp(parse_stamp(at) - timedelta(milliseconds=1))


@dataclass
class Ballot:
    """A ballot as its read model holds it (repo.load_ballot)."""

    ballot_id: str
    summit_id: str
    state: str
    version: int
    created: dict
    opened_at: str | None = None
    roll_count: int | None = None
    roll_root: str | None = None
    credential_key: str | None = None
    credential_private: bytes | None = None
    issued: int = 0
    closed_at: str | None = None
    early: bool | None = None
    private_key: str | None = None
    counted: int | None = None
    result: dict | None = None

    @property
    def aggregate(self) -> str:
        return ballot_aggregate(self.summit_id, self.ballot_id)

    @property
    def opens_at(self) -> str:
        return self.created["opens_at"]

    @property
    def closes_at(self) -> str:
        return self.created["closes_at"]

    @property
    def option_ids(self) -> list[str]:
        return [o["option_id"] for o in self.created["options"]]

    def next(self, event_type: str, payload: dict, offset: int = 1) -> NewEvent:
        return NewEvent(event_type, {"v": 1, "ballot_id": self.ballot_id, **payload}, self.aggregate,
                        self.version + offset)


# --- create -------------------------------------------------------------------------------------


def created_event(summit_id: str, ballot_id: str, body: dict) -> tuple[NewEvent, list[tuple[str, str, str]]]:
    """`ballot.ballot.created` from a create request, and the texts to store as
    (option_id, language, NFC text); the log gets only their descriptions."""
    try:
        title = texts.describe_all(body["title"])
        options = sorted(body["options"], key=lambda o: o["option_id"])
        described = [{"option_id": o["option_id"], "texts": texts.describe_all(o["texts"])} for o in options]
        ids = [o["option_id"] for o in options]
        if len(set(ids)) != len(ids):
            raise BallotInvalidError("option ids must be distinct", errors={"options": ["an option id repeats"]})
        spec_of(body["method"], ids)
    except (TextError, TallyError) as e:
        raise BallotInvalidError(str(e)) from None
    opens_at, closes_at = stamp(body["opens_at"]), stamp(body["closes_at"])
    if closes_at <= opens_at:
        raise BallotInvalidError("closes_at must come after opens_at", errors={"closes_at": ["not after opens_at"]})
    seal = body["sealing"]
    if seal["k"] > seal["n"] or len(seal["share_hashes"]) != seal["n"] or \
            len(set(seal["share_hashes"])) != seal["n"]:
        raise BallotInvalidError("the sealing needs k <= n and n distinct share hashes",
                                 errors={"sealing": ["k, n and share_hashes do not fit"]})
    payload = {"v": 1, "ballot_id": ballot_id, "title": title, "method": dict(body["method"]), "options": described,
               "opens_at": opens_at, "closes_at": closes_at,
               "sealing": {"public_key": seal["public_key"], "k": seal["k"], "n": seal["n"],
                           "share_hashes": list(seal["share_hashes"])}}
    rows = [(TITLE, t["language"], texts.normalise(t["text"])) for t in body["title"]]
    rows += [(o["option_id"], t["language"], texts.normalise(t["text"])) for o in options for t in o["texts"]]
    return NewEvent("ballot.ballot.created", payload, ballot_aggregate(summit_id, ballot_id), 1), rows


# --- open ---------------------------------------------------------------------------------------


def opened_event(b: Ballot, now: str, arrivals: list[str], credential_key: str) -> tuple[NewEvent, list[str]]:
    """`ballot.ballot.opened`: the roll over every arrival so far and the fresh credential key."""
    if b.state != "created":
        raise BallotConflictError(f"the ballot is {b.state}, it can be opened only once")
    if now < b.opens_at:
        raise BallotConflictError(f"the ballot opens at {b.opens_at}")
    if now >= b.closes_at:
        raise BallotConflictError(f"the ballot's window ended at {b.closes_at}")
    try:
        count, root, roll = rules.roll_commitment(arrivals)
    except BallotRuleError:
        raise BallotConflictError("nobody has checked in yet, so the roll would be empty") from None
    rules.credential_key(credential_key)  # the key we made must be one the rules accept
    return b.next("ballot.ballot.opened", {"roll": {"count": count, "root": root},
                                           "credential_key": credential_key}), roll


# --- credentials --------------------------------------------------------------------------------


def check_open(b: Ballot, now: str) -> None:
    if b.state != "open":
        raise BallotConflictError(f"the ballot is {b.state}, not open")
    if not rules.in_window(now, b.opened_at, b.closes_at):
        raise BallotConflictError(f"the ballot's window ended at {b.closes_at}")


def issued_event(b: Ballot, now: str, pseudonym: str, on_roll: bool, issued_before: bool) -> NewEvent:
    check_open(b, now)
    if not on_roll:
        raise BallotForbiddenError("you are not on this ballot's roll (checked in before it opened)")
    if issued_before:
        raise AlreadyDoneError("you have obtained your credential for this ballot already")
    return b.next("ballot.credential.issued", {"pseudonym": pseudonym})


def decode_base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BallotInvalidError(f"{what} is not standard base64", errors={what: ["not base64"]}) from None


# --- casts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    nullifier: str
    credential: dict  # {token, prefix, signature} as the event writes it
    sealed: str       # base64
    sealed_sha256: str


def accept_cast(b: Ballot, now: str, body: dict) -> Cast:
    """A cast the ballot accepts (still to be checked for a reused nullifier), or a refusal."""
    check_open(b, now)
    c = body["credential"]
    credential = rules.Credential(bytes.fromhex(c["token"]), bytes.fromhex(c["prefix"]),
                                  decode_base64(c["signature"], "signature"))
    try:
        nullifier = rules.check_credential(rules.credential_key(b.credential_key), credential)
    except BallotRuleError as e:
        raise BallotInvalidError(str(e), errors={"credential": ["does not verify"]}) from None
    sealed = decode_base64(body["sealed"], "sealed")
    if not 48 < len(sealed) <= sealing.MAX_SEALED or (len(sealed) - 48) % sealing.PAD_TO:
        raise BallotInvalidError("the sealed vote does not have the size of a sealed, padded choice",
                                 errors={"sealed": ["wrong size"]})
    return Cast(nullifier, {"token": c["token"], "prefix": c["prefix"], "signature": c["signature"]},
                body["sealed"], hashlib.sha256(sealed).hexdigest())


def batch_events(b: Ballot, pending: list[Cast]) -> list[NewEvent]:
    """The pending casts as one batch of `ballot.vote.cast`, shuffled with `secrets`."""
    order = list(pending)
    secrets.SystemRandom().shuffle(order)
    batch = str(uuid.uuid4())
    return [b.next("ballot.vote.cast", {"batch": batch, "nullifier": c.nullifier, "credential": c.credential,
                                        "sealed": c.sealed}, offset=i + 1) for i, c in enumerate(order)]


def batch_time(b: Ballot, now: str, end: str | None = None) -> str:
    """The time a batch carries: now, but inside the window [opened, end) when it closes the
    ballot (end: the closing time), so that every accepted cast stays countable."""
    end = min(end or b.closes_at, b.closes_at)
    at = now if now < end else just_before(end)
    return max(at, b.opened_at)


# --- close --------------------------------------------------------------------------------------


def closed_event(b: Ballot, now: str, early: bool, offset: int = 1) -> NewEvent:
    """`ballot.ballot.closed`: early by the organiser (now), or at the planned closes_at."""
    if b.state != "open":
        raise BallotConflictError(f"the ballot is {b.state}, not open")
    if early and now >= b.closes_at:
        early = False
    closed_at = now if early else b.closes_at
    return b.next("ballot.ballot.closed", {"closed_at": closed_at, "early": early}, offset=offset)


def due_to_close(b: Ballot, now: str) -> bool:
    return b.state == "open" and now >= b.closes_at


# --- shares, reveal, tally ----------------------------------------------------------------------


def accept_share(b: Ballot, text: str, taken: dict[int, str]) -> shamir.Share:
    """A trustee's share: after closing, one of the ballot's share hashes, an index not yet given."""
    if b.state in ("created", "open"):
        raise BallotConflictError("shares are taken only after the ballot has closed")
    if b.state != "closed":
        raise BallotConflictError("the key has been revealed already")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if digest not in b.created["sealing"]["share_hashes"]:
        raise BallotInvalidError("this share is not one of the ballot's shares (its sha256 is not in share_hashes)")
    try:
        share = shamir.Share.decode(text)
    except ShareError as e:
        raise BallotInvalidError(str(e)) from None
    if share.k != b.created["sealing"]["k"]:
        raise BallotInvalidError("this share belongs to a split with another threshold")
    if share.x in taken:
        raise AlreadyDoneError(f"share {share.x} has been handed in already")
    return share


def reveal_and_tally(b: Ballot, shares: list[shamir.Share], sealed_votes: list[bytes]) -> tuple[list[NewEvent], str, int, dict]:
    """With k shares: the revealed key (checked against the sealing key) and the tally of every
    cast vote in log order; (events, private key, counted, result)."""
    try:
        private = shamir.combine(shares).hex()
        sealing.check_revealed_key(private, b.created["sealing"]["public_key"])
    except (ShareError, SealingError) as e:
        raise BallotInvalidError(f"the shares do not rebuild the ballot's sealing key: {e}") from None
    counted, result = recount(spec_of(b.created["method"], b.option_ids), sealed_votes, private, b.summit_id,
                              b.ballot_id)
    events = [b.next("ballot.key.revealed", {"private_key": private}),
              b.next("ballot.tally.published", {"counted": counted, "result": result}, offset=2)]
    return events, private, counted, result
