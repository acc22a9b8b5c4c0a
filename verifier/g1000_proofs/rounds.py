"""Seed rounds: the fold of a round's events and the rules on it, pure and in one place.

The lottery service decides each request with these rules and g1000-verify replays the log with
the same ones (docs/architecture.md §5: the auditor runs the service's pure rule; §6 and
docs/lottery.md "Seed rounds" and "Verifier" for the round contract). A round is opened with its
parties and two deadlines; until the commit deadline listed parties commit `SHA-256(value)`; the
commit phase ends at that deadline, or as soon as every listed party has committed. After it the
parties reveal until the reveal deadline, and dice or beacon values may be added before the first
reveal. The seed is `g1000_proofs.seed.compute_seed` over the contributions in commitment order;
parties that committed and did not reveal are left out. A subject (the register, a distribution)
is drawn with the round of its purpose that started first after it was committed.

`seq` is the position of an event in its log: the service's per-stream `seq`, the verifier's
entry index. Both grow with log order, which is all the rules compare. Times are the envelope's
`YYYY-MM-DDTHH:MM:SS.mmmZ` strings, which compare correctly as text.

The checks return problem codes, not messages: each caller words them for its audience (an HTTP
problem for an organiser, a verification failure naming a log entry for an auditor) and picks
which to report first. The codes are the rule; the set returned is the same for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

__all__ = [
    "BEACON_SEPARATOR", "COMMITTED", "CONTRIBUTED", "FINALIZED", "OPENED", "PURPOSES",
    "Entry", "Round", "apply", "commit_problems", "contribution_problems", "designated",
    "designated_distribution",
    "finalize_problems", "fold", "not_revealed", "opened", "precedes", "seed_contributions",
    "window_problems",
]

PURPOSES = ("invitation", "panel")
BEACON_SEPARATOR = " @ "      # a beacon's logged value is `<value> @ <source>`

OPENED = "lottery.seed.round_opened"
COMMITTED = "lottery.seed.committed"
CONTRIBUTED = "lottery.seed.contributed"
FINALIZED = "lottery.seed.finalized"


@dataclass(frozen=True)
class Entry:
    """A commitment (`commitment` set) or a contribution (`value`, `kind` set) as logged."""

    seq: int
    occurred_at: str
    party: str
    commitment: str | None = None
    value: str | None = None
    kind: str | None = None
    source: str | None = None

    def contribution(self) -> dict:
        """The contribution object exactly as the log records it (the seed hashes this)."""
        return {"party": self.party, "value": self.value, "kind": self.kind}


@dataclass(frozen=True)
class Round:
    """A seed round after the events folded so far (`apply`)."""

    round_id: str
    purpose: str
    parties: tuple[str, ...]
    commit_deadline: str
    reveal_deadline: str
    opened_seq: int
    version: int = 1                  # events folded (the aggregate version the service writes)
    commitments: tuple[Entry, ...] = ()
    contributions: tuple[Entry, ...] = ()
    seed: str | None = None           # hex, once finalised
    not_revealed: tuple[str, ...] = ()
    finalized_seq: int | None = None
    payload_version: int = 1          # of its round_opened event (2 declares `draw`)
    draw: dict | None = None          # an invitation round's declared {"n", "stratify_by"}

    @property
    def first_contribution_seq(self) -> int | None:
        """Seq of the round's first commitment or contribution: when the round started, and
        what a subject drawn with it must precede."""
        seqs = [e.seq for e in self.commitments + self.contributions]
        return min(seqs) if seqs else None

    @property
    def first_contributed_seq(self) -> int | None:
        """Seq of the first `contributed` event (a reveal, dice or beacon value)."""
        return min((e.seq for e in self.contributions), default=None)

    @property
    def first_reveal_seq(self) -> int | None:
        return min((e.seq for e in self.contributions if e.kind == "commit-reveal"), default=None)

    @property
    def seed_bytes(self) -> bytes | None:
        return None if self.seed is None else bytes.fromhex(self.seed)

    def commitment_of(self, party: str) -> Entry | None:
        return next((e for e in self.commitments if e.party == party), None)

    def contribution_of(self, party: str) -> Entry | None:
        return next((e for e in self.contributions if e.party == party), None)

    def all_committed(self) -> bool:
        return {e.party for e in self.commitments} == set(self.parties)

    def commit_phase_over(self, now: str) -> bool:
        """Past the commit deadline, or every listed party has committed."""
        return now > self.commit_deadline or self.all_committed()

    def has_reveal(self) -> bool:
        return self.first_reveal_seq is not None

    def state(self, now: str) -> str:
        if self.seed is not None:
            return "finalized"
        if not self.commit_phase_over(now):
            return "committing"
        return "revealing" if now <= self.reveal_deadline else "ended"

    def void(self, now: str) -> bool:
        """Past its reveal deadline with nothing to make a seed of: it can never be finalised."""
        return self.seed is None and now > self.reveal_deadline and not self.contributions


# --- the fold -----------------------------------------------------------------------------------


def opened(payload: dict, seq: int) -> Round:
    """The round a `round_opened` payload (v1, or v2 with `draw`) opens at `seq`."""
    return Round(payload["round_id"], payload["purpose"], tuple(payload["parties"]),
                 payload["commit_deadline"], payload["reveal_deadline"], seq,
                 payload_version=payload["v"], draw=payload.get("draw"))


def apply(rnd: Round, event_type: str, payload: dict, seq: int, occurred_at: str) -> Round:
    """The round after one more of its events. It records, it does not judge: the checks below
    say whether the event was allowed."""
    version = rnd.version + 1
    if event_type == COMMITTED:
        entry = Entry(seq, occurred_at, payload["party"], commitment=payload["commitment"])
        return replace(rnd, version=version, commitments=rnd.commitments + (entry,))
    if event_type == CONTRIBUTED:
        c = payload["contribution"]
        source = c["value"].rpartition(BEACON_SEPARATOR)[2] if c["kind"] == "beacon" else None
        entry = Entry(seq, occurred_at, c["party"], value=c["value"], kind=c["kind"], source=source)
        return replace(rnd, version=version, contributions=rnd.contributions + (entry,))
    if event_type == FINALIZED:
        return replace(rnd, version=version, seed=payload["seed"], finalized_seq=seq,
                       not_revealed=tuple(payload["not_revealed"]))
    raise ValueError(f"not an event of a seed round: {event_type}")


def fold(events: Iterable[tuple[str, dict, int, str]]) -> Round | None:
    """A round from its events `(type, payload, seq, occurred_at)` in log order; None unless the
    first is its `round_opened`."""
    rnd = None
    for event_type, payload, seq, occurred_at in events:
        if rnd is None:
            if event_type != OPENED:
                return None
            rnd = opened(payload, seq)
        else:
            rnd = apply(rnd, event_type, payload, seq, occurred_at)
    return rnd


# --- the seed's inputs --------------------------------------------------------------------------


def seed_contributions(rnd: Round) -> list[dict]:
    """Contributions in commitment order: revealed parties at the position of their commitment,
    dice and beacon at the position of the event that recorded them; non-revealers left out."""
    positioned = []
    for entry in rnd.contributions:
        committed = rnd.commitment_of(entry.party) if entry.kind == "commit-reveal" else None
        positioned.append((entry.seq if committed is None else committed.seq, entry))
    return [entry.contribution() for _, entry in sorted(positioned, key=lambda p: p[0])]


def not_revealed(rnd: Round) -> list[str]:
    """The parties that committed and have not revealed, in commitment order."""
    return [e.party for e in rnd.commitments if rnd.contribution_of(e.party) is None]


# --- checks: the problem codes of one more event at time `at` -----------------------------------


def window_problems(rnd: Round, event_type: str, at: str) -> list[str]:
    """The time rules alone: a commitment is "late" past the commit deadline; a contribution is
    "early" before the commit phase is over and "late" past the reveal deadline. The service
    checks them again against the time the log gave its event."""
    problems = []
    if event_type == COMMITTED and at > rnd.commit_deadline:
        problems.append("late")
    if event_type == CONTRIBUTED:
        if not rnd.commit_phase_over(at):
            problems.append("early")
        if at > rnd.reveal_deadline:
            problems.append("late")
    return problems


def commit_problems(rnd: Round, party: str, at: str) -> list[str]:
    """Why `party` may not commit at `at`: "unlisted" (not a party of the round), "again"
    (committed already), "late" (past the commit deadline), "after_contribution" (a value was
    contributed already). Empty when it may. A finalised round is the caller's to refuse."""
    problems = []
    if party not in rnd.parties:
        problems.append("unlisted")
    if rnd.commitment_of(party) is not None:
        problems.append("again")
    problems += window_problems(rnd, COMMITTED, at)
    if rnd.contributions:
        problems.append("after_contribution")
    return problems


def contribution_problems(rnd: Round, party: str, kind: str, at: str) -> list[str]:
    """Why `party` may not contribute a `kind` value at `at`: "again" (it contributed already),
    "early" (the commit phase is not over), "late" (past the reveal deadline); for a reveal
    "uncommitted" (no commitment); for dice or a beacon "committed" (a committed party reveals
    instead) and "after_reveal" (a party has revealed already). Whether the value opens its
    commitment is `g1000_proofs.seed.verify_reveal`."""
    problems = []
    if rnd.contribution_of(party) is not None:
        problems.append("again")
    problems += window_problems(rnd, CONTRIBUTED, at)
    committed = rnd.commitment_of(party) is not None
    if kind == "commit-reveal":
        if not committed:
            problems.append("uncommitted")
    else:
        if committed:
            problems.append("committed")
        if rnd.has_reveal():
            problems.append("after_reveal")
    return problems


def finalize_problems(rnd: Round, at: str) -> list[str]:
    """Why the round may not be finalised at `at`: "committing" (the commit phase is not over),
    "waiting" (a committed party has not revealed and the reveal deadline is ahead), "empty"
    (no revealed or public contribution to make a seed of)."""
    problems = []
    if not rnd.commit_phase_over(at):
        problems.append("committing")
    if not_revealed(rnd) and at <= rnd.reveal_deadline:
        problems.append("waiting")
    if not rnd.contributions:
        problems.append("empty")
    return problems


# --- which round draws a subject ----------------------------------------------------------------


def precedes(subject_seq: int, rnd: Round) -> bool:
    """A subject committed at `subject_seq` came before `rnd` started (its first commitment or
    contribution), so its contents could not be chosen knowing the seed."""
    first = rnd.first_contribution_seq
    return first is not None and subject_seq < first


def designated(rounds: Sequence[Round], purpose: str, subject_seq: int, now: str) -> Round | None:
    """The round a subject committed at `subject_seq` must be drawn with: of the rounds of this
    purpose that started after the subject, the one that started first, skipping void rounds.
    So the organiser cannot pick among several seeds."""
    eligible = [r for r in rounds if r.purpose == purpose and precedes(subject_seq, r)
                and not r.void(now)]
    return min(eligible, key=lambda r: r.first_contribution_seq, default=None)


def designated_distribution(committed: Iterable[tuple[str, int]], round_started: int) -> str | None:
    """The distribution a pool's panel is drawn from with a round that started at
    `round_started`: of the pool's distributions `(distribution_id, committed_seq)`, the last one
    committed before the round started. So the organiser cannot pick among distributions once
    the seed could be known (docs/lottery.md "Verifier", `designated_distribution`)."""
    before = [(seq, distribution_id) for distribution_id, seq in committed if seq < round_started]
    return max(before)[1] if before else None
