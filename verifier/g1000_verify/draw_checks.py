"""``g1000-verify draw``: recompute every lottery draw of a summit from its log alone.

Why this module exists: docs/architecture.md §5 promises that "the draw reproduces" can be checked by
anyone, and docs/lottery.md fixes what the lottery service logs so that it can be.  This module
replays the ``lottery.*`` events of a log -- already verified by the log checks (signatures,
``seq``, chain, checkpoints) -- in index order and recomputes, with the same pure functions the
service draws and decides with (:mod:`g1000_proofs.draw`, :mod:`g1000_proofs.seed`, and the seed
rounds' fold and rules in :mod:`g1000_proofs.rounds`, :mod:`g1000_proofs.replacements`,
:mod:`g1000_proofs.distribution`; this module only words their findings as failures):

* the register: chunks complete and in order, count and root (``register_commitment``; under
  register contract 2 ``register_root`` of the committed rows, and each reveal opening its
  commitment, :mod:`g1000_verify.register_reveals`);
* each seed round: commitments on time, once, by listed parties; reveals match their commitment;
  dice and beacon values after the commit phase and before the first reveal; the finalised
  contributions are the revealed ones in commitment order and the seed recomputes; parties that
  committed and did not reveal are reported as warnings;
* the invitation draw (bit for bit), with the register committed before the round's first
  contribution (contract 2: from the reveals alone, which must cover the rows the walk reaches
  and nothing more);
* the respondents pool: every member an invitee, once;
* each panel distribution: chunks complete, ``panels_root``, weights, the pool commitment, and
  every panel's size, membership, quotas and households;
* each panel draw (distribution committed before the round's first contribution, index and
  members) and each replacement (``next_reserve``);
* the allow-list (issue 10 H1/H2): when the charter (``ledger.summit.created`` v2) declares the
  register's vocabulary, every register row and pool member uses opaque ids and only declared
  feature names and values (:mod:`g1000_proofs.vocabulary`, the functions the lottery applies).
  A v1 charter declares none; that is noted, and rows are then not checked against one.

:func:`verify_draw` is pure: a function of the summit id and the ``(index, event)`` pairs, no
I/O.  The first fact found wrong stops it, as a :class:`~g1000_verify.model.VerificationFailure`
naming the entry index and a plain reason; since every fact is checked at the entry where it
becomes decidable and entries are replayed in index order, that is the first failing index.
:func:`run_draw` runs the log checks first and then this one step over the collected events.
Where docs/lottery.md left a choice open, its "Verifier" section says what is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from g1000_proofs import rounds
from g1000_proofs.draw import (
    DrawError,
    PanelChecker,
    Row,
    invitation_draw,
    panel_draw,
    register_commitment,
    row_from_json,
)
from g1000_proofs.distribution import panel_problems, panels_root
from g1000_proofs.draw_parameters import declaration_problem, mismatch
from g1000_proofs.register import register_root
from g1000_proofs.replacements import current_panel, replacement
from g1000_proofs.seed import (
    CommitmentMismatchError,
    check_contribution,
    compute_seed,
    verify_reveal,
)
from g1000_proofs.vocabulary import check_features, opaque_id_problem

from . import register_reveals as v2
from .model import VerificationFailure

__all__ = ["DRAW_CHECK_NAMES", "LOTTERY_STREAM", "DrawVerification", "run_draw", "verify_draw"]

LOTTERY_STREAM = "lottery"
LEDGER_STREAM = "ledger"
SUMMIT_CREATED = "ledger.summit.created"
RESPONDENTS = "respondents"
MAX_CHUNK_ROWS = 500
PURPOSES = rounds.PURPOSES

# Every check name a draw failure can carry.
DRAW_CHECK_NAMES = (
    "lottery_event",   # a lottery payload is not of the shape docs/lottery.md gives it
    "register",        # register chunks and commitment
    "seed_round",      # round opened twice, event for a round not opened / already finalised
    "commitment",      # late, unlisted or repeated commitment
    "reveal",          # reveal without commitment, not matching it, outside the reveal phase
    "public_value",    # dice / beacon value outside its window
    "seed",            # finalisation: contributions, not_revealed, timing, seed recomputation
    "commit_order",    # a subject committed after its round's first contribution
    "invitations",     # invitation draw
    "pool",            # pool members
    "distribution",    # distribution chunks, counts, weights, roots, pool commitment
    "panels",          # a panel of a distribution: size, membership, quotas, households
    "panel_draw",      # panel draw
    "replacement",     # replacement of a drop-out
    "register_reveal",  # contract 2: a reveal that does not open, is out of scope or is missing
    "vocabulary",      # a register row or pool member outside the charter's allow-list
    "draw_parameters",  # an invitation draw not made with the parameters its round declared
)

HEX64 = re.compile(r"[0-9a-f]{64}")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

COUNT_NAMES = (
    "lottery_events", "register_rows", "register_chunks", "seed_rounds", "commitments",
    "reveals", "public_values", "seeds", "invitation_draws", "invitees", "pool_members",
    "respondents", "distributions", "distribution_panels", "panel_draws", "replacements",
    "register_reveals",
)


@dataclass
class DrawVerification:
    """What the draw step found: counts, seeds, draws, warnings, notes, and the first failure."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))
    seeds: list[dict[str, Any]] = field(default_factory=list)
    draws: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failure: VerificationFailure | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None

    def as_dict(self) -> dict[str, Any]:
        """The ``draw`` member of ``--json`` output (the failure is the report's own)."""
        return {"checked": dict(self.counts), "seeds": list(self.seeds),
                "draws": list(self.draws), "warnings": list(self.warnings),
                "notes": list(self.notes)}


# --- Payload shapes (docs/lottery.md "Event types") --------------------------------------------


class _Bad(Exception):
    """A payload member is malformed; the message says which and how."""


def _text(value: Any, what: str) -> str:
    if type(value) is not str or not value:
        raise _Bad(f"{what} must be a non-empty string")
    return value


def _int(value: Any, what: str, minimum: int = 0) -> int:
    if type(value) is not int or value < minimum:
        raise _Bad(f"{what} must be an integer of at least {minimum}")
    return value


def _hex(value: Any, what: str) -> str:
    if type(value) is not str or not HEX64.fullmatch(value):
        raise _Bad(f"{what} must be 64 lowercase hex digits")
    return value


def _time(value: Any, what: str) -> str:
    if type(value) is not str or not TIME.fullmatch(value):
        raise _Bad(f"{what} must be a time written YYYY-MM-DDTHH:MM:SS.mmmZ")
    return value


def _texts(value: Any, what: str, *, unique: bool = True) -> list[str]:
    if type(value) is not list:
        raise _Bad(f"{what} must be a list of strings")
    for item in value:
        _text(item, f"an item of {what}")
    if unique and len(set(value)) != len(value):
        raise _Bad(f"{what} names an item twice")
    return value


def _row(value: Any, what: str) -> Row:
    try:
        return row_from_json(value)
    except DrawError as exc:
        raise _Bad(f"{what} is not a row: {exc}") from None


def _optional_text(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


# type -> {member: validator}; every payload also has "v": 1 and nothing else.
_SHAPES: dict[str, dict[str, Any]] = {
    "lottery.register.chunk": {
        "register_id": _text, "chunk": _int, "rows": None},
    "lottery.register.committed": {
        "register_id": _text, "count": lambda v, w: _int(v, w, 1), "root": _hex,
        "chunks": lambda v, w: _int(v, w, 1), "features": _texts},
    "lottery.seed.round_opened": {
        "round_id": _text, "purpose": None, "parties": _texts, "commit_deadline": _time,
        "reveal_deadline": _time},
    "lottery.seed.committed": {"round_id": _text, "party": _text, "commitment": _hex},
    "lottery.seed.contributed": {"round_id": _text, "contribution": None},
    "lottery.seed.finalized": {
        "round_id": _text, "seed": _hex, "contributions": None, "not_revealed": _texts},
    "lottery.invitations.drawn": {
        "draw_id": _text, "round_id": _text, "register_id": _text,
        "n": lambda v, w: _int(v, w, 1), "stratify_by": _optional_text,
        "invitees": lambda v, w: _texts(v, w, unique=False)},
    "lottery.pool.member_added": {"pool": _text, "member": _row},
    "lottery.distribution.panels": {
        "distribution_id": _text, "chunk": _int, "first_index": _int, "panels": None},
    "lottery.distribution.committed": {
        "distribution_id": _text, "pool": _text, "panel_size": lambda v, w: _int(v, w, 1),
        "quotas": None, "members": _int, "members_root": _hex,
        "panel_count": lambda v, w: _int(v, w, 1), "total_weight": lambda v, w: _int(v, w, 1),
        "weights": None, "panels_root": _hex, "chunks": lambda v, w: _int(v, w, 1)},
    "lottery.panel.drawn": {
        "distribution_id": _text, "round_id": _text, "index": _int,
        "members": lambda v, w: _texts(v, w, unique=False)},
    "lottery.panel.replaced": {
        "distribution_id": _text, "round_id": _text, "dropped": _text,
        "replacement": _optional_text},
}


def _contribution(value: Any, what: str) -> dict[str, str]:
    try:
        checked = check_contribution(value)
    except DrawError as exc:
        raise _Bad(f"{what} is malformed: {exc}") from None
    if "kind" not in checked:
        raise _Bad(f"{what} has no kind (commit-reveal, dice or beacon)")
    return checked


def _sorted_panel(value: Any, what: str) -> list[str]:
    _texts(value, what, unique=False)
    if any(a >= b for a, b in zip(value, value[1:])):
        raise _Bad(f"{what} is not a list of distinct pseudonyms in code-point order")
    return value


def _check_round_opened_v2(payload: dict) -> None:
    """``round_opened`` v2: the v1 members and ``draw``, the declared parameters of an
    invitation draw (:mod:`g1000_proofs.draw_parameters`; ``null`` or absent for a panel round)."""
    if type(payload["v"]) is not int or payload["v"] != 2:
        raise _Bad(f"unsupported lottery.seed.round_opened payload version {payload['v']!r}")
    purpose = payload.get("purpose")
    if purpose == "invitation" and "draw" not in payload:
        raise _Bad("a v2 invitation round has the member draw")
    problem = declaration_problem(purpose, payload.get("draw")) if purpose in PURPOSES else None
    if problem is not None:
        raise _Bad(problem)


def _check_shape(event_type: str, payload: Any) -> None:
    if v2.has_shape(event_type, payload):  # register contract 2 (register_reveals.py)
        try:
            v2.check_shape(event_type, payload)
        except v2.RevealProblem as exc:
            raise _Bad(str(exc)) from None
        if event_type != "lottery.register.committed":
            return
        payload = {k: v for k, v in payload.items() if k != "contract"} | {"v": 1}
    if event_type == "lottery.seed.round_opened" and type(payload) is dict and payload.get("v", 1) != 1:
        _check_round_opened_v2(payload)
        payload = {k: v for k, v in payload.items() if k != "draw"} | {"v": 1}
    shape = _SHAPES[event_type]
    if type(payload) is not dict or payload.keys() != {"v", *shape}:
        members = ", ".join(["v", *shape])
        raise _Bad(f"a {event_type} payload has exactly the members {members}")
    if payload["v"] != 1 or type(payload["v"]) is not int:
        raise _Bad(f"unsupported {event_type} payload version {payload['v']!r}")
    for name, check in shape.items():
        if check is not None:
            check(payload[name], name)
    if event_type == "lottery.register.chunk":
        rows = payload["rows"]
        if type(rows) is not list or not rows:
            raise _Bad("rows must be a non-empty list of rows")
        if len(rows) > MAX_CHUNK_ROWS:
            raise _Bad(f"a register chunk holds at most {MAX_CHUNK_ROWS} rows, this one "
                       f"{len(rows)}")
    elif event_type == "lottery.seed.round_opened":
        if payload["purpose"] not in PURPOSES:
            raise _Bad(f"purpose must be one of {', '.join(PURPOSES)}")
        if not payload["parties"]:
            raise _Bad("parties must not be empty")
    elif event_type == "lottery.seed.contributed":
        _contribution(payload["contribution"], "contribution")
    elif event_type == "lottery.seed.finalized":
        if type(payload["contributions"]) is not list:
            raise _Bad("contributions must be a list")
        for i, item in enumerate(payload["contributions"]):
            _contribution(item, f"contributions[{i}]")
    elif event_type == "lottery.distribution.panels":
        panels = payload["panels"]
        if type(panels) is not list or not panels:
            raise _Bad("panels must be a non-empty list of panels")
        for i, panel in enumerate(panels):
            _sorted_panel(panel, f"panels[{i}]")
    elif event_type == "lottery.distribution.committed":
        weights = payload["weights"]
        if type(weights) is not list or any(type(w) is not int for w in weights):
            raise _Bad("weights must be a list of integers")
        if type(payload["quotas"]) is not dict:
            raise _Bad("quotas must be an object {feature: {value: [min, max]}}")
    elif event_type == "lottery.panel.drawn":
        _sorted_panel(payload["members"], "members")


# --- State ---------------------------------------------------------------------------------------


@dataclass
class _Distribution:
    distribution_id: str
    pool_name: str = ""
    chunks: int = 0
    panels: list[list[str]] = field(default_factory=list)
    committed_at: int | None = None
    pool: dict[str, Row] = field(default_factory=dict)     # pseudonym -> row, at commit time
    pool_order: list[Row] = field(default_factory=list)
    quotas: dict = field(default_factory=dict)
    weights: list[int] = field(default_factory=list)
    drawn_at: int | None = None
    round_id: str = ""
    drawn: list[str] = field(default_factory=list)         # the panel as drawn
    replacements: list[tuple[str, str | None]] = field(default_factory=list)  # (dropped, replacement)

    @property
    def panel(self) -> list[str]:
        """The panel now, after its replacements."""
        return current_panel(self.drawn, self.replacements)


class _Replay:
    """The lottery's state, rebuilt event by event; each handler raises on the first wrong fact."""

    def __init__(self, summit_id: str, result: DrawVerification) -> None:
        self.summit_id = summit_id
        self.result = result
        self.counts = result.counts
        self.register_id: str | None = None
        self.register_rows: list[Row] = []
        self.register_chunks = 0
        self.register_committed_at: int | None = None
        self.register_version: int | None = None   # 1: rows in full; 2: committed rows
        self.reveals = v2.Reveals()
        self.committed_by_name: dict[str, Any] = {}
        self.rounds: dict[str, rounds.Round] = {}   # folded by g1000_proofs.rounds
        self.invitation_at: int | None = None
        self.invitees: set[str] = set()
        self.pools: dict[str, list[Row]] = {}
        self.pool_names: dict[str, set[str]] = {}
        self.distributions: dict[str, _Distribution] = {}
        self.ignored: dict[str, int] = {}
        self.vocabulary: dict[str, frozenset[str]] | None = None
        self.charter_version: int | None = None
        self.index = 0
        self.check = "lottery_event"

    def fail(self, reason: str, check: str | None = None) -> VerificationFailure:
        return VerificationFailure(self.index, check or self.check, reason)

    # Rounds --------------------------------------------------------------------------------

    def open_round(self, round_id: str) -> rounds.Round:
        found = self.rounds.get(round_id)
        if found is None:
            raise self.fail(f"seed round {round_id} was not opened before this entry", "seed_round")
        if found.finalized_seq is not None:
            raise self.fail(f"seed round {round_id} was already finalised at entry "
                            f"{found.finalized_seq}", "seed_round")
        return found

    def final_round(self, round_id: str, purpose: str, check: str) -> rounds.Round:
        found = self.rounds.get(round_id)
        if found is None or found.finalized_seq is None:
            raise self.fail(f"seed round {round_id} is not finalised before this draw", check)
        if found.purpose != purpose:
            raise self.fail(f"seed round {round_id} has purpose {found.purpose}, this draw "
                            f"needs a round with purpose {purpose}", check)
        return found

    def on_round_opened(self, p: dict, at: str) -> None:
        self.check = "seed_round"
        if p["round_id"] in self.rounds:
            raise self.fail(f"seed round {p['round_id']} is opened a second time (first at entry "
                            f"{self.rounds[p['round_id']].opened_seq})")
        if p["commit_deadline"] > p["reveal_deadline"]:
            raise self.fail(f"seed round {p['round_id']}: commit deadline {p['commit_deadline']} "
                            f"is after reveal deadline {p['reveal_deadline']}")
        self.rounds[p["round_id"]] = rounds.opened(p, self.index)
        self.counts["seed_rounds"] += 1

    def on_committed(self, p: dict, at: str) -> None:
        self.check = "commitment"
        r = self.open_round(p["round_id"])
        party = p["party"]
        problems = rounds.commit_problems(r, party, at)
        if "unlisted" in problems:
            raise self.fail(f"party {party!r} is not listed for seed round {r.round_id}")
        if "again" in problems:
            raise self.fail(f"party {party!r} commits a second time in seed round {r.round_id} "
                            f"(first at entry {r.commitment_of(party).seq})")
        if "late" in problems:
            raise self.fail(f"late commitment: party {party!r} committed at {at}, after the "
                            f"commit deadline {r.commit_deadline} of seed round {r.round_id}")
        if "after_contribution" in problems:
            raise self.fail(f"late commitment: party {party!r} committed after the round's first "
                            f"contribution (entry {r.first_contributed_seq})")
        self.rounds[r.round_id] = rounds.apply(r, rounds.COMMITTED, p, self.index, at)
        self.counts["commitments"] += 1

    def on_contributed(self, p: dict, at: str) -> None:
        r = self.open_round(p["round_id"])
        c = p["contribution"]
        party, kind = c["party"], c["kind"]
        self.check = "reveal" if kind == "commit-reveal" else "public_value"
        problems = rounds.contribution_problems(r, party, kind, at)
        if "again" in problems:
            raise self.fail(f"party {party!r} contributes a second time to seed round "
                            f"{r.round_id}")
        if "late" in problems:
            raise self.fail(f"{kind} contribution of {party!r} at {at}, after the reveal deadline "
                            f"{r.reveal_deadline} of seed round {r.round_id}")
        if "early" in problems:
            missing = ", ".join(sorted(set(r.parties) - {e.party for e in r.commitments}))
            raise self.fail(f"{kind} contribution of {party!r} at {at}, before the commit phase "
                            f"of seed round {r.round_id} ended (deadline {r.commit_deadline}; "
                            f"not yet committed: {missing})")
        if kind == "commit-reveal":
            if "uncommitted" in problems:
                raise self.fail(f"party {party!r} reveals a value in seed round {r.round_id} "
                                "but committed none")
            committed = r.commitment_of(party)
            try:
                verify_reveal(c, committed.commitment)
            except CommitmentMismatchError as exc:
                raise self.fail(f"the value party {party!r} reveals does not match its "
                                f"commitment at entry {committed.seq}: it hashes to "
                                f"{exc.computed}, the commitment is {exc.committed}") from None
            self.counts["reveals"] += 1
        else:
            if "committed" in problems:
                raise self.fail(f"party {party!r} committed in seed round {r.round_id}, so it "
                                f"must reveal (commit-reveal), not add a {kind} value")
            if "after_reveal" in problems:
                raise self.fail(f"{kind} value of {party!r} added after the first reveal of seed "
                                f"round {r.round_id} (entry {r.first_reveal_seq})")
            self.counts["public_values"] += 1
        self.rounds[r.round_id] = rounds.apply(r, rounds.CONTRIBUTED, p, self.index, at)

    def on_finalized(self, p: dict, at: str) -> None:
        self.check = "seed"
        r = self.open_round(p["round_id"])
        expected = rounds.seed_contributions(r)
        silent = rounds.not_revealed(r)
        # "committing" is not checked here: a round with a contribution has ended its commit
        # phase at that contribution's entry, which the contribution's own check established.
        problems = rounds.finalize_problems(r, at)
        if "empty" in problems:
            raise self.fail(f"seed round {r.round_id} has no revealed or public contribution and "
                            "cannot be finalised")
        if "waiting" in problems:
            raise self.fail(f"seed round {r.round_id} is finalised at {at}, before its reveal "
                            f"deadline {r.reveal_deadline}, while {', '.join(silent)} has not "
                            "revealed")
        logged = [_contribution(c, "contribution") for c in p["contributions"]]
        if logged != expected:
            raise self.fail(f"the finalised contributions of seed round {r.round_id} are not the "
                            "revealed ones in commitment order: expected parties "
                            f"{[c['party'] for c in expected]}, the log lists "
                            f"{[c['party'] for c in logged]}" + (
                                "" if [c["party"] for c in logged] != [c["party"] for c in expected]
                                else " (a value or kind differs)"))
        if set(p["not_revealed"]) != set(silent):
            raise self.fail(f"seed round {r.round_id}: not_revealed lists "
                            f"{sorted(p['not_revealed'])}, but the parties that committed and "
                            f"did not reveal are {sorted(silent)}")
        try:
            seed = compute_seed(self.summit_id, expected)
        except DrawError as exc:
            raise self.fail(f"the seed of round {r.round_id} cannot be computed: {exc}") from None
        if seed.hex() != p["seed"]:
            raise self.fail(f"the seed of round {r.round_id} does not recompute: the "
                            f"contributions give {seed.hex()}, the log records {p['seed']}")
        self.rounds[r.round_id] = rounds.apply(r, rounds.FINALIZED, p, self.index, at)
        self.counts["seeds"] += 1
        for party in silent:
            self.result.warnings.append(
                f"seed round {r.round_id} ({r.purpose}): party {party!r} committed at entry "
                f"{r.commitment_of(party).seq} and did not reveal; it is left out of the seed")
        self.result.seeds.append({"index": self.index, "round_id": r.round_id,
                                  "purpose": r.purpose, "seed": p["seed"],
                                  "contributions": [c["party"] for c in expected],
                                  "not_revealed": silent})

    def subject_before_round(self, what: str, committed_at: int, r: rounds.Round) -> None:
        first = r.first_contributed_seq
        if first is None or committed_at > first:
            raise self.fail(f"{what} was committed at entry {committed_at}, after the first "
                            f"contribution to seed round {r.round_id} (entry "
                            f"{first}): the seed could be known before it",
                            "commit_order")

    def designated_round(self, what: str, purpose: str, committed_at: int, r: rounds.Round,
                         at: str) -> None:
        """No choosing among seeds: a subject committed at entry ``s`` is drawn with the round
        of its purpose that started first after ``s`` (its first commitment or contribution),
        leaving out void rounds (past their reveal deadline at this entry with no contribution,
        so they can never be finalised): :func:`g1000_proofs.rounds.designated`, the rule the
        lottery draws by."""
        if not rounds.precedes(committed_at, r):
            raise self.fail(f"{what} was committed at entry {committed_at}, after seed round "
                            f"{r.round_id} had started (its first commitment, entry "
                            f"{r.first_contribution_seq}): a subject must precede every commitment of the "
                            "round that draws it", "commit_order")
        first = rounds.designated(list(self.rounds.values()), purpose, committed_at, at)
        if first is not None and first.round_id != r.round_id:
            raise self.fail(f"{what} (entry {committed_at}) must be drawn with seed round "
                            f"{first.round_id}, the first {purpose} round to start after it "
                            f"(entry {first.first_contribution_seq}), not with round {r.round_id} (started "
                            f"at entry {r.first_contribution_seq}): choosing among seeds",
                            "designated_round")

    def declared_parameters(self, r: rounds.Round, p: dict) -> None:
        """The invitation draw uses the ``n`` and ``stratify_by`` its round declared when it was
        opened, before any commitment (issue 10 H3; :mod:`g1000_proofs.draw_parameters`).
        A v1 round declared none: under register contract 2 that fails, since nothing then
        stops the parameters being chosen after the seed; an older contract 1 log gets a
        warning, so that it stays verifiable."""
        if r.payload_version == 1:
            if self.register_version == 2:
                raise self.fail(f"seed round {r.round_id} (entry {r.opened_seq}) is a v1 round that "
                                "declares no draw parameters: under register contract 2 the "
                                "invitation round must fix n and stratify_by before any party "
                                "commits, or they could be chosen after the seed",
                                "draw_parameters")
            self.result.warnings.append(
                f"the invitation draw at entry {self.index} uses seed round {r.round_id}, a v1 "
                "round that declared no draw parameters: n and stratify_by could have been "
                "chosen after the seed was known")
            return
        problem = mismatch(r.draw, p["n"], p["stratify_by"])
        if problem is not None:
            raise self.fail(f"{problem} (seed round {r.round_id}, entry {r.opened_seq})",
                            "draw_parameters")

    # The charter's allow-list -----------------------------------------------------------------

    def on_charter(self, event: dict) -> None:
        """The vocabulary of a v2 charter; the log checks have already validated its shape."""
        if self.charter_version is not None:
            return  # the genesis charter is the summit's one charter (docs/ledger.md)
        payload = event.get("payload") or {}
        self.charter_version = payload.get("v")
        register = payload.get("register")
        if self.charter_version == 2 and isinstance(register, dict) and isinstance(register.get("features"), dict):
            self.vocabulary = {name: frozenset(values) for name, values in register["features"].items()}

    def allow_listed(self, row: Row, what: str, *, complete: bool) -> None:
        """A register row (``complete``: every declared feature) or pool member must use opaque
        ids and only the charter's declared feature names and values."""
        if self.vocabulary is None:
            return
        problems = [p for p in (opaque_id_problem("pseudonym", row.pseudonym),
                                opaque_id_problem("household", row.household)) if p]
        problems += check_features(row.features, self.vocabulary, complete=complete)
        if problems:
            shown = row.pseudonym if not opaque_id_problem("pseudonym", row.pseudonym) else "with a non-opaque pseudonym"
            raise self.fail(f"{what} {shown} breaks the charter's allow-list: " + "; ".join(problems),
                            "vocabulary")

    def allow_listed_commitment(self, pseudonym: str, feature_names, what: str) -> None:
        """A row published only as commitments (a register contract that commits each attribute
        and reveals some later): its pseudonym is opaque and its committed feature names are
        exactly the charter's. For the handler of such chunks."""
        if self.vocabulary is None:
            return
        problems = [p for p in (opaque_id_problem("pseudonym", pseudonym),) if p]
        names = set(feature_names)
        problems += [f"{name[:40]!r} is not a feature the charter declares" for name in sorted(names - set(self.vocabulary))]
        problems += [f"{name}: missing (the charter declares it)" for name in sorted(set(self.vocabulary) - names)]
        if problems:
            raise self.fail(f"{what} breaks the charter's allow-list: " + "; ".join(problems), "vocabulary")

    def allow_listed_opening(self, pseudonym: str, field: str, feature: str | None, value: str) -> None:
        """A revealed value: a household id is opaque, a feature value is one the charter declares
        for that feature. For the handler of reveal events."""
        if self.vocabulary is None:
            return
        problems = [p for p in (opaque_id_problem("pseudonym", pseudonym),) if p]
        if field == "household":
            problems += [p for p in (opaque_id_problem("household", value),) if p]
        else:
            problems += check_features({feature: value}, self.vocabulary)
        if problems:
            raise self.fail(f"a revealed {field} breaks the charter's allow-list: " + "; ".join(problems),
                            "vocabulary")

    # Register and invitations -----------------------------------------------------------------

    def on_register_chunk(self, p: dict, at: str) -> None:
        self.check = "register"
        if self.register_committed_at is not None:
            raise self.fail(f"register chunk after the register was committed (entry "
                            f"{self.register_committed_at}); a summit has one register")
        if self.register_id is not None and p["register_id"] != self.register_id:
            raise self.fail(f"register chunk of register {p['register_id']}, but the summit's "
                            f"register is {self.register_id}")
        if p["chunk"] != self.register_chunks:
            if p["chunk"] > self.register_chunks:
                raise self.fail(f"register chunk {p['chunk']} follows chunk "
                                f"{self.register_chunks - 1}: chunk {self.register_chunks} is "
                                "missing" if self.register_chunks else
                                f"the register starts with chunk {p['chunk']}: chunk 0 is missing")
            raise self.fail(f"register chunk {p['chunk']} again or out of order (expected chunk "
                            f"{self.register_chunks})")
        if self.register_version not in (None, p["v"]):
            raise self.fail(f"a v{p['v']} register chunk among v{self.register_version} chunks")
        self.register_version = p["v"]
        parse = _row if p["v"] == 1 else self.committed_row
        rows = [parse(item, f"rows[{i}]") for i, item in enumerate(p["rows"])]
        for row in rows:
            if p["v"] == 1:
                self.allow_listed(row, "register row", complete=True)
            else:
                self.allow_listed_commitment(row.pseudonym, row.features, "register row")
        last = self.register_rows[-1].pseudonym if self.register_rows else None
        for row in rows:
            if last is not None and row.pseudonym <= last:
                raise self.fail(f"register rows are not in strictly ascending pseudonym order: "
                                f"{row.pseudonym!r} follows {last!r}")
            last = row.pseudonym
        self.register_id = p["register_id"]
        self.register_rows.extend(rows)
        self.register_chunks += 1
        self.counts["register_chunks"] += 1

    def on_register_committed(self, p: dict, at: str) -> None:
        self.check = "register"
        if self.register_committed_at is not None:
            raise self.fail(f"a second register commitment (the first is entry "
                            f"{self.register_committed_at}); a summit has one register")
        if self.register_id is None:
            raise self.fail(f"register {p['register_id']} is committed, but no chunk of it "
                            "precedes the commitment")
        if p["register_id"] != self.register_id:
            raise self.fail(f"register {p['register_id']} is committed, but the chunks are of "
                            f"register {self.register_id}")
        if p["chunks"] != self.register_chunks:
            raise self.fail(f"the register commitment says {p['chunks']} chunks, the log holds "
                            f"{self.register_chunks} (chunk {self.register_chunks} is missing)"
                            if p["chunks"] > self.register_chunks else
                            f"the register commitment says {p['chunks']} chunks, the log holds "
                            f"{self.register_chunks}")
        features = p["features"]
        if features != sorted(features):
            raise self.fail("the register's features are not sorted")
        for row in self.register_rows:
            if sorted(row.features) != features:
                raise self.fail(f"register row {row.pseudonym!r} has features "
                                f"{sorted(row.features)}, the register declares {features}")
        if p["v"] != self.register_version:
            raise self.fail(f"a v{p['v']} register commitment of v{self.register_version} chunks")
        count, root = (register_commitment if p["v"] == 1 else register_root)(self.register_rows)
        if count != p["count"]:
            raise self.fail(f"the register commitment says {p['count']} rows, the chunks hold "
                            f"{count}")
        if root.hex() != p["root"]:
            raise self.fail(f"the register root does not recompute: the rows give {root.hex()}, "
                            f"the log records {p['root']}")
        self.register_committed_at = self.index
        self.counts["register_rows"] = count

    def on_invitations(self, p: dict, at: str) -> None:
        self.check = "invitations"
        if self.invitation_at is not None:
            raise self.fail(f"a second invitation draw (the first is entry {self.invitation_at})")
        if self.register_committed_at is None or p["register_id"] != self.register_id:
            raise self.fail(f"register {p['register_id']} is not committed before this draw")
        r = self.final_round(p["round_id"], "invitation", "invitations")
        self.subject_before_round(f"register {self.register_id}", self.register_committed_at, r)
        self.designated_round(f"register {self.register_id}", "invitation",
                              self.register_committed_at, r, at)
        self.declared_parameters(r, p)
        try:
            if self.register_version == 2:
                self.check = "register_reveal"
                drawn = v2.rederive(r.seed_bytes, [row.pseudonym for row in self.register_rows],
                                    self.reveals, p)
                self.check = "invitations"
            else:
                drawn = invitation_draw(r.seed_bytes, self.register_rows, p["n"],
                                        stratify_by=p["stratify_by"])
        except v2.RevealProblem as exc:
            raise self.fail(str(exc)) from None
        except DrawError as exc:
            raise self.fail(f"the invitation draw cannot be made from the register: "
                            f"{exc}") from None
        logged = p["invitees"]
        if logged != drawn:
            position = next((i for i, (a, b) in enumerate(zip(logged, drawn)) if a != b),
                            min(len(logged), len(drawn)))
            if position < min(len(logged), len(drawn)):
                detail = (f"invitee {position} is {logged[position]!r}, the recomputed draw "
                          f"gives {drawn[position]!r}")
            else:
                detail = f"the log lists {len(logged)} invitees, the recomputed draw {len(drawn)}"
            raise self.fail(f"the invitation draw does not recompute: {detail}")
        self.invitation_at = self.index
        self.invitees = set(drawn)
        self.counts["invitation_draws"] += 1
        self.counts["invitees"] += len(drawn)
        self.result.draws.append({"kind": "invitations", "index": self.index,
                                  "draw_id": p["draw_id"], "round_id": r.round_id, "n": p["n"],
                                  "stratify_by": p["stratify_by"], "invitees": len(drawn)})

    # Pools and distributions ------------------------------------------------------------------

    def on_member_added(self, p: dict, at: str) -> None:
        self.check = "pool"
        pool, row = p["pool"], _row(p["member"], "member")
        self.allow_listed(row, f"member of pool {pool}", complete=False)
        names = self.pool_names.setdefault(pool, set())
        if row.pseudonym in names:
            raise self.fail(f"{row.pseudonym!r} is added to pool {pool} a second time")
        if pool == RESPONDENTS:
            if self.invitation_at is None:
                raise self.fail(f"respondent {row.pseudonym!r} is added before any invitation "
                                "draw")
            if row.pseudonym not in self.invitees:
                raise self.fail(f"respondent {row.pseudonym!r} is not an invitee of the "
                                f"invitation draw (entry {self.invitation_at})")
            revealed = self.reveals.households.get(row.pseudonym)
            if self.register_version == 2 and row.household != revealed:
                raise self.fail(f"respondent {row.pseudonym!r} joins with household "
                                f"{row.household!r}, but the register's household, revealed "
                                f"for the draw, is {revealed!r}")
            self.counts["respondents"] += 1
        names.add(row.pseudonym)
        self.pools.setdefault(pool, []).append(row)
        self.counts["pool_members"] += 1

    def committed_row(self, value: Any, what: str) -> Any:
        try:
            return v2.committed_row(value, what)
        except v2.RevealProblem as exc:
            raise _Bad(str(exc)) from None

    def on_register_revealed(self, p: dict, at: str) -> None:
        """Register contract 2: one chunk of openings, checked against the committed rows."""
        self.check = "register_reveal"
        if self.register_committed_at is None or p["register_id"] != self.register_id:
            raise self.fail(f"a reveal of register {p['register_id']}, which is not committed "
                            "before it")
        if self.register_version != 2:
            raise self.fail("a reveal of a contract-1 register (its rows are public already)")
        if self.invitation_at is not None:
            raise self.fail(f"a reveal after the invitation draw (entry {self.invitation_at}): "
                            "nothing later needs one")
        if not self.committed_by_name:
            self.committed_by_name = {row.pseudonym: row for row in self.register_rows}
        try:
            self.reveals.add(p, self.committed_by_name)
        except v2.RevealProblem as exc:
            raise self.fail(str(exc)) from None
        for item in p["openings"]:
            self.allow_listed_opening(item["pseudonym"], p["field"], p["feature"], item["value"])
        self.counts["register_reveals"] += len(p["openings"])

    def distribution(self, distribution_id: str) -> _Distribution:
        return self.distributions.setdefault(distribution_id, _Distribution(distribution_id))

    def on_panels(self, p: dict, at: str) -> None:
        self.check = "distribution"
        d = self.distribution(p["distribution_id"])
        if d.committed_at is not None:
            raise self.fail(f"panels of distribution {d.distribution_id} after its commitment "
                            f"(entry {d.committed_at})")
        if p["chunk"] != d.chunks:
            if p["chunk"] > d.chunks:
                raise self.fail(f"distribution {d.distribution_id}: chunk {p['chunk']} follows "
                                f"chunk {d.chunks - 1}: chunk {d.chunks} is missing" if d.chunks
                                else f"distribution {d.distribution_id} starts with chunk "
                                f"{p['chunk']}: chunk 0 is missing")
            raise self.fail(f"distribution {d.distribution_id}: chunk {p['chunk']} again or out "
                            f"of order (expected chunk {d.chunks})")
        if p["first_index"] != len(d.panels):
            raise self.fail(f"distribution {d.distribution_id}: chunk {p['chunk']} starts at "
                            f"panel {p['first_index']}, but {len(d.panels)} panels precede it")
        d.panels.extend(list(panel) for panel in p["panels"])
        d.chunks += 1

    def on_distribution_committed(self, p: dict, at: str) -> None:
        self.check = "distribution"
        d = self.distribution(p["distribution_id"])
        did = d.distribution_id
        if d.committed_at is not None:
            raise self.fail(f"distribution {did} is committed a second time (first at entry "
                            f"{d.committed_at})")
        if p["chunks"] != d.chunks:
            raise self.fail(f"distribution {did}: the commitment says {p['chunks']} chunks, the "
                            f"log holds {d.chunks}" + (f" (chunk {d.chunks} is missing)"
                                                       if p["chunks"] > d.chunks else ""))
        panels, weights = d.panels, p["weights"]
        if p["panel_count"] != len(panels):
            raise self.fail(f"distribution {did}: panel_count is {p['panel_count']}, the chunks "
                            f"hold {len(panels)} panels")
        if len(weights) != p["panel_count"]:
            raise self.fail(f"distribution {did}: {len(weights)} weights for "
                            f"{p['panel_count']} panels")
        bad = next((i for i, w in enumerate(weights) if w < 1), None)
        if bad is not None:
            raise self.fail(f"distribution {did}: weight {bad} is {weights[bad]}, weights must "
                            "be positive")
        if sum(weights) != p["total_weight"]:
            raise self.fail(f"distribution {did}: the weights sum to {sum(weights)}, "
                            f"total_weight is {p['total_weight']}")
        root = panels_root(panels)
        if root.hex() != p["panels_root"]:
            raise self.fail(f"distribution {did}: panels_root does not recompute: the panels "
                            f"give {root.hex()}, the log records {p['panels_root']}")
        pool = list(self.pools.get(p["pool"], []))
        if not pool:
            raise self.fail(f"distribution {did}: pool {p['pool']} has no members")
        count, members_root = register_commitment(pool)
        if count != p["members"] or members_root.hex() != p["members_root"]:
            raise self.fail(f"distribution {did}: the commitment to pool {p['pool']} does not "
                            f"recompute: its {count} members give root {members_root.hex()}, "
                            f"the log records {p['members']} members and root "
                            f"{p['members_root']}")
        by_name = {row.pseudonym: row for row in pool}
        try:
            checker = PanelChecker(pool, p["quotas"])
        except DrawError as exc:
            raise self.fail(f"distribution {did}: the quotas are malformed: {exc}") from None
        self.check = "panels"
        size = p["panel_size"]
        for i, panel in enumerate(panels):
            problems = panel_problems(checker, panel, size)   # "order": checked with the shape
            if "size" in problems:
                raise self.fail(f"distribution {did}: panel {i} has {len(panel)} members, "
                                f"panel_size is {size}")
            if "outside" in problems:
                raise self.fail(f"distribution {did}: panel {i} has {problems['outside'][0]!r}, who is not "
                                f"a member of pool {p['pool']}")
            if "quotas" in problems:
                raise self.fail(f"distribution {did}: panel {i} breaks the quotas: "
                                f"{'; '.join(problems['quotas'])}")
            if "households" in problems:
                raise self.fail(f"distribution {did}: panel {i} breaks the household rule: "
                                f"{'; '.join(problems['households'])}")
        d.committed_at = self.index
        d.pool_name = p["pool"]
        d.pool, d.pool_order = by_name, pool
        d.quotas, d.weights = p["quotas"], list(weights)
        self.counts["distributions"] += 1
        self.counts["distribution_panels"] += len(panels)

    def committed_distribution(self, distribution_id: str) -> _Distribution:
        d = self.distributions.get(distribution_id)
        if d is None or d.committed_at is None:
            raise self.fail(f"distribution {distribution_id} is not committed before this entry")
        return d

    def on_panel_drawn(self, p: dict, at: str) -> None:
        self.check = "panel_draw"
        d = self.committed_distribution(p["distribution_id"])
        if d.drawn_at is not None:
            raise self.fail(f"distribution {d.distribution_id} is drawn a second time (first at "
                            f"entry {d.drawn_at})")
        r = self.final_round(p["round_id"], "panel", "panel_draw")
        self.subject_before_round(f"distribution {d.distribution_id}", d.committed_at, r)
        self.designated_round(f"distribution {d.distribution_id}", "panel", d.committed_at, r, at)
        latest = self.distributions[rounds.designated_distribution(
            [(x.distribution_id, x.committed_at) for x in self.distributions.values()
             if x.pool_name == d.pool_name and x.committed_at is not None],
            r.first_contribution_seq)]
        if latest is not d:
            raise self.fail(f"the panel of pool {d.pool_name} must be drawn from distribution "
                            f"{latest.distribution_id} (entry {latest.committed_at}), the pool's "
                            f"last distribution committed before seed round {r.round_id} started "
                            f"(entry {r.first_contribution_seq}), not from distribution "
                            f"{d.distribution_id} (entry {d.committed_at}): choosing among "
                            "distributions", "designated_distribution")
        index = panel_draw(r.seed_bytes, d.distribution_id, d.weights)
        if p["index"] != index:
            raise self.fail(f"distribution {d.distribution_id}: the draw gives panel {index}, "
                            f"the log records panel {p['index']}")
        if p["members"] != d.panels[index]:
            other = next((i for i, panel in enumerate(d.panels) if panel == p["members"]), None)
            where = ("no panel of the distribution" if other is None
                     else f"panel {other} of the distribution")
            raise self.fail(f"distribution {d.distribution_id}: the drawn members are not panel "
                            f"{index} (they are {where})")
        d.drawn_at = self.index
        d.round_id = r.round_id
        d.drawn = list(p["members"])
        self.counts["panel_draws"] += 1
        self.result.draws.append({"kind": "panel", "index": self.index,
                                  "distribution_id": d.distribution_id, "round_id": r.round_id,
                                  "panel_index": index, "members": list(d.panel)})

    def on_replaced(self, p: dict, at: str) -> None:
        self.check = "replacement"
        d = self.committed_distribution(p["distribution_id"])
        if d.drawn_at is None:
            raise self.fail(f"distribution {d.distribution_id} has no drawn panel to replace a "
                            "member of")
        r = self.final_round(p["round_id"], "panel", "replacement")
        if r.round_id != d.round_id:
            raise self.fail(f"the replacement uses seed round {r.round_id}, but the panel of "
                            f"distribution {d.distribution_id} was drawn with round {d.round_id}: "
                            "replacements use the panel draw's seed (no choosing among seeds)",
                            "designated_round")
        dropped = p["dropped"]
        if dropped not in d.panel:
            raise self.fail(f"{dropped!r} is not on the panel of distribution "
                            f"{d.distribution_id}")
        try:
            chosen = replacement(r.seed_bytes, d.pool_order, d.drawn, d.replacements, d.quotas,
                                 dropped)
        except DrawError as exc:
            raise self.fail(f"the replacement cannot be recomputed: {exc}") from None
        expected = None if chosen is None else chosen.pseudonym
        if p["replacement"] != expected:
            raise self.fail(f"the replacement of {dropped!r} does not recompute: the next "
                            f"eligible reserve is {expected!r}, the log records "
                            f"{p['replacement']!r}")
        d.replacements.append((dropped, expected))
        self.counts["replacements"] += 1
        self.result.draws.append({"kind": "replacement", "index": self.index,
                                  "distribution_id": d.distribution_id, "round_id": r.round_id,
                                  "dropped": dropped, "replacement": expected})

    # Driver -------------------------------------------------------------------------------------

    HANDLERS = {
        "lottery.register.chunk": on_register_chunk,
        "lottery.register.committed": on_register_committed,
        v2.REVEALED: on_register_revealed,
        "lottery.seed.round_opened": on_round_opened,
        "lottery.seed.committed": on_committed,
        "lottery.seed.contributed": on_contributed,
        "lottery.seed.finalized": on_finalized,
        "lottery.invitations.drawn": on_invitations,
        "lottery.pool.member_added": on_member_added,
        "lottery.distribution.panels": on_panels,
        "lottery.distribution.committed": on_distribution_committed,
        "lottery.panel.drawn": on_panel_drawn,
        "lottery.panel.replaced": on_replaced,
    }

    def replay(self, index: int, event: dict) -> None:
        self.index = index
        event_type = event["type"]
        handler = self.HANDLERS.get(event_type)
        if handler is None:
            self.ignored[event_type] = self.ignored.get(event_type, 0) + 1
            return
        self.check = "lottery_event"
        try:
            _check_shape(event_type, event["payload"])
        except _Bad as exc:
            raise self.fail(f"{event_type}: {exc}") from None
        self.counts["lottery_events"] += 1
        try:
            handler(self, event["payload"], event["occurred_at"])
        except _Bad as exc:
            raise self.fail(f"{event_type}: {exc}", "lottery_event") from None

    def finish(self) -> None:
        notes = self.result.notes
        if self.counts["lottery_events"] == 0:
            self.result.warnings.append("the log records no lottery events: there is no draw "
                                        "to verify")
        elif self.vocabulary is None:
            notes.append("the charter declares no register vocabulary (charter v1, or no charter "
                         "given): rows and pool members were not checked against an allow-list")
        if self.register_id is not None and self.register_committed_at is None:
            notes.append(f"register {self.register_id} has {self.register_chunks} chunks and is "
                         "not committed yet")
        if self.reveals.chunks and self.invitation_at is None:
            # Contract 2 logs reveals and the draw in one transaction, so this is a log read
            # between the two or a lottery that revealed and never drew; either way the scope of
            # the reveals (only what the draw reaches) cannot be checked without the draw.
            self.result.warnings.append(
                f"{self.reveals.count} register values are revealed for invitation draw "
                f"{self.reveals.draw_id}, but no invitation draw follows: whether they are only "
                "what the draw reaches cannot be checked")
        for r in self.rounds.values():
            if r.finalized_seq is None:
                notes.append(f"seed round {r.round_id} ({r.purpose}) is not finalised yet")
        for d in self.distributions.values():
            if d.committed_at is None:
                notes.append(f"distribution {d.distribution_id} has {d.chunks} chunks and is not "
                             "committed yet")
            elif d.drawn_at is None:
                notes.append(f"distribution {d.distribution_id} is committed and not drawn yet")
        for event_type, count in sorted(self.ignored.items()):
            notes.append(f"{count} {event_type} events are not part of docs/lottery.md "
                         "(contract version 1) and were not checked")


def verify_draw(summit_id: str, events: Iterable[tuple[int, dict]]) -> DrawVerification:
    """Replay the lottery events of a verified log; the result holds the first failure, if any.

    ``events`` are ``(entry index, event)`` pairs in index order, as the log checks collected
    them: the charter (``ledger.summit.created``, for its vocabulary) and the lottery's events;
    other events are skipped.  Pure: no I/O, no clock, no randomness.
    """
    result = DrawVerification()
    replay = _Replay(summit_id, result)
    try:
        for index, event in events:
            if event.get("stream") == LOTTERY_STREAM:
                replay.replay(index, event)
            elif event.get("stream") == LEDGER_STREAM and event.get("type") == SUMMIT_CREATED:
                replay.on_charter(event)
        replay.finish()
    except VerificationFailure as failure:
        result.failure = failure
    return result


def run_draw(model: Any, options: Any = None) -> tuple[Any, DrawVerification | None]:
    """The log checks (``checks.STEPS``), then :func:`verify_draw` over the lottery events.

    Returns the :class:`~g1000_verify.checks.Verification` (whose ``failure`` is the first
    failure of either) and the draw result, ``None`` when a log check failed first.
    """
    from .checks import STEPS, Step, run_checks

    outcome: dict[str, DrawVerification] = {}

    def draw_step(v: Any) -> None:
        events = sorted(v.collected[LEDGER_STREAM] + v.collected[LOTTERY_STREAM], key=lambda p: p[0])
        result = outcome["draw"] = verify_draw(v.model.log_id, events)
        if result.failure is not None:
            raise result.failure

    verification = run_checks(model, options, [*STEPS, Step("draw", draw_step, (LEDGER_STREAM, LOTTERY_STREAM))])
    return verification, outcome.get("draw")
