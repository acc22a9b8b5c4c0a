"""A builder of honest lottery logs for ``g1000-verify draw``, and the helpers that tamper with them.

The :class:`Lottery` builder writes the ``lottery.*`` events of a summit the way the lottery
service must (docs/lottery.md), signed like every event of the verifier's test logs
(tests/support/log_builder.py).  It computes every commitment, seed, draw and root with the
*independent* reference transcriptions in tests/support/draw_reference.py
(``hashlib``/``hmac``/``json`` only, never ``g1000_proofs``), so a log it builds verifying means
the verifier agrees with the contract, not merely with itself.  The panel distributions are built
by hand (small pools, a few panels); nothing here depends on the LEXIMIN code.  ``find``,
``tamper`` and ``fails`` change one fact of a built lottery and assert where the verifier fails.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field

from g1000_verify.cli import main
from g1000_verify.draw_checks import verify_draw

from tests.support.draw_reference import (
    ref_households_ok,
    ref_invitation_draw,
    ref_jcs,
    ref_next_reserve,
    ref_panel_draw,
    ref_quotas_ok,
    ref_register_root,
    ref_seed,
)
from tests.support.log_builder import (
    LEDGER,
    SUMMIT_ID,
    ServiceKey,
    genesis,
    make_event,
)

LOTTERY = ServiceKey(bytes([0x33] * 32))
STEP = 1000          # ms between two lottery events
START = 10_000       # ms after 09:00 of the first lottery event (genesis is at 0-2 ms)


def at(ms: int) -> str:
    """The time ``ms`` milliseconds after 09:00, written as make_event writes ``occurred_at``."""
    return f"2027-03-14T09:{(ms // 60000) % 60:02d}:{(ms // 1000) % 60:02d}.{ms % 1000:03d}Z"


def ref_mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_panels_root(panels: list[list[str]]) -> str:
    return ref_mth([hashlib.sha256(b"\x00" + ref_jcs(p)).digest() for p in panels]).hex()


def row_json(row) -> dict:
    pseudonym, household, features = row
    return {"pseudonym": pseudonym, "household": household, "features": dict(features)}


@dataclass
class Round:
    round_id: str
    purpose: str
    parties: list[str]
    commit_deadline: int
    reveal_deadline: int
    values: dict[str, str] = field(default_factory=dict)
    order: list[tuple[str, object]] = field(default_factory=list)
    revealed: dict[str, dict] = field(default_factory=dict)
    seed: bytes | None = None
    opening: dict | None = None         # the round_opened payload (its draw filled in by invite)
    auto_draw: bool = False


# open_round(draw=AUTO): an invitation round declares the parameters of the first draw made
# with it (the builder fills them in when ``invite`` is called, before the log is signed).
AUTO = object()
UNDRAWN = {"n": 1, "stratify_by": None}   # what an AUTO round no draw used declares


@dataclass
class Distribution:
    distribution_id: str
    pool: str
    members: list[tuple]
    panel_size: int
    quotas: dict
    panels: list[list[str]]
    weights: list[int]
    panel: list[str] = field(default_factory=list)
    ever: set[str] = field(default_factory=set)


class Lottery:
    """Appends lottery events (type, payload, time) and keeps what the service would know."""

    def __init__(self, summit_id: str = SUMMIT_ID, features: dict | None = None) -> None:
        self.summit_id = summit_id
        self.features = features   # the charter's register vocabulary (None: a v1 charter)
        self.items: list[tuple[str, dict, int]] = []
        self.t = START
        self.rows: list[tuple] = []
        self.register_id = "reg-1"
        self.rounds: dict[str, Round] = {}
        self.invitees: list[str] = []
        self.pools: dict[str, list[tuple]] = {}
        self.distributions: dict[str, Distribution] = {}

    # Events --------------------------------------------------------------------------------

    def add(self, type_: str, payload: dict, t: int | None = None) -> int:
        """Append an event (time: ``t`` or one step later); return its position in ``items``."""
        self.t = self.t + STEP if t is None else t
        self.items.append((type_, {"v": 1, **payload}, self.t))
        return len(self.items) - 1

    def events(self) -> list[dict]:
        """Genesis (ledger and lottery keys), then the lottery events, signed, seq from 1."""
        events = genesis(keys={"ledger": LEDGER, "lottery": LOTTERY}, features=self.features)
        for seq, (type_, payload, t) in enumerate(self.items, start=1):
            events.append(make_event(LOTTERY, type=type_, seq=seq, payload=payload, n=t,
                                     summit_id=self.summit_id))
        return events

    def index(self, position: int) -> int:
        """The log index of ``items[position]`` (after the genesis' 3 entries)."""
        return 3 + (position if position >= 0 else len(self.items) + position)

    def pairs(self) -> list[tuple[int, dict]]:
        return list(enumerate(self.events()))

    def verify(self):
        return verify_draw(self.summit_id, self.pairs())

    # Register ------------------------------------------------------------------------------

    def register(self, rows: list[tuple], chunk_size: int = 500, *, skip_chunk: int | None = None,
                 features: list[str] | None = None) -> None:
        self.rows = sorted(rows, key=lambda r: r[0])
        chunks = [self.rows[i:i + chunk_size] for i in range(0, len(self.rows), chunk_size)]
        for number, chunk in enumerate(chunks):
            if number != skip_chunk:
                self.add("lottery.register.chunk", {"register_id": self.register_id,
                                                    "chunk": number,
                                                    "rows": [row_json(r) for r in chunk]})
        self.add("lottery.register.committed", {
            "register_id": self.register_id, "count": len(self.rows),
            "root": ref_register_root(self.rows).hex(), "chunks": len(chunks),
            "features": features or sorted(self.rows[0][2])})

    # Seed rounds ---------------------------------------------------------------------------

    def open_round(self, round_id: str, purpose: str, parties: list[str], *,
                   commit_window: int = 60_000, reveal_window: int = 600_000,
                   draw=AUTO, version: int = 2) -> Round:
        """A round_opened event; v2 (what the service writes) declares an invitation round's
        ``draw`` (``AUTO``: the parameters its first ``invite`` uses), v1 declares none."""
        payload = {"round_id": round_id, "purpose": purpose, "parties": parties,
                   "commit_deadline": at(self.t + STEP + commit_window),
                   "reveal_deadline": at(self.t + STEP + commit_window + reveal_window)}
        auto = version == 2 and purpose == "invitation" and draw is AUTO
        if version == 2:
            payload |= {"v": 2, "draw": dict(UNDRAWN) if auto else
                        (None if draw is AUTO else draw)}
        position = self.add("lottery.seed.round_opened", payload)
        r = Round(round_id, purpose, parties, self.t + commit_window,
                  self.t + commit_window + reveal_window, opening=self.items[position][1],
                  auto_draw=auto)
        self.rounds[round_id] = r
        return r

    def commit(self, r: Round, party: str, value: str, t: int | None = None) -> int:
        r.values[party] = value
        r.order.append(("commit", party))
        return self.add("lottery.seed.committed", {
            "round_id": r.round_id, "party": party,
            "commitment": hashlib.sha256(value.encode("utf-8")).hexdigest()}, t)

    def after_commit_phase(self, r: Round) -> None:
        self.t = max(self.t, r.commit_deadline + 1)

    def reveal(self, r: Round, party: str, value: str | None = None, t: int | None = None) -> int:
        c = {"party": party, "value": r.values[party] if value is None else value,
             "kind": "commit-reveal"}
        r.revealed[party] = c
        return self.add("lottery.seed.contributed", {"round_id": r.round_id, "contribution": c}, t)

    def public(self, r: Round, party: str, kind: str, value: str, t: int | None = None) -> int:
        c = {"party": party, "value": value, "kind": kind}
        r.order.append(("public", c))
        return self.add("lottery.seed.contributed", {"round_id": r.round_id, "contribution": c}, t)

    def finalize(self, r: Round, *, seed: str | None = None, t: int | None = None) -> int:
        contributions = []
        for what, item in r.order:
            if what == "public":
                contributions.append(item)
            elif item in r.revealed:
                contributions.append(r.revealed[item])
        silent = [p for what, p in r.order if what == "commit" and p not in r.revealed]
        if silent and t is None:
            self.t = max(self.t, r.reveal_deadline + 1)
        r.seed = ref_seed(self.summit_id, contributions)
        return self.add("lottery.seed.finalized", {
            "round_id": r.round_id, "seed": seed or r.seed.hex(), "contributions": contributions,
            "not_revealed": silent}, t)

    def seed_round(self, round_id: str, purpose: str, values: dict[str, str], *,
                   publics: list[tuple[str, str, str]] = (), silent: set[str] = frozenset(),
                   draw=AUTO, version: int = 2) -> Round:
        """Open, commit every listed party, dice/beacon values, reveals, finalise."""
        r = self.open_round(round_id, purpose, list(values), draw=draw, version=version)
        for party, value in values.items():
            self.commit(r, party, value)
        self.after_commit_phase(r)
        for party, kind, value in publics:
            self.public(r, party, kind, value)
        for party in values:
            if party not in silent:
                self.reveal(r, party)
        self.finalize(r)
        return r

    # Draws ---------------------------------------------------------------------------------

    def invite(self, r: Round, n: int, stratify_by: str | None = None,
               invitees: list[str] | None = None) -> int:
        self.invitees = ref_invitation_draw(r.seed, self.rows, n, stratify_by)
        if r.auto_draw:   # the round declares what its first draw uses
            r.opening["draw"] = {"n": n, "stratify_by": stratify_by}
            r.auto_draw = False
        return self.add("lottery.invitations.drawn", {
            "draw_id": "inv-1", "round_id": r.round_id, "register_id": self.register_id, "n": n,
            "stratify_by": stratify_by,
            "invitees": self.invitees if invitees is None else invitees})

    def add_member(self, pool: str, row: tuple) -> int:
        self.pools.setdefault(pool, []).append(row)
        return self.add("lottery.pool.member_added", {"pool": pool, "member": row_json(row)})

    def distribution(self, distribution_id: str, pool: str, panel_size: int, quotas: dict,
                     panels: list[list[str]], weights: list[int], *, chunk_size: int = 3,
                     skip_chunk: int | None = None, commit: bool = True,
                     **overrides) -> Distribution:
        members = list(self.pools[pool])
        panels = [sorted(p) for p in panels]
        d = Distribution(distribution_id, pool, members, panel_size, quotas, panels, weights)
        self.distributions[distribution_id] = d
        chunks = [panels[i:i + chunk_size] for i in range(0, len(panels), chunk_size)]
        for number, chunk in enumerate(chunks):
            if number != skip_chunk:
                self.add("lottery.distribution.panels", {
                    "distribution_id": distribution_id, "chunk": number,
                    "first_index": number * chunk_size, "panels": chunk})
        if commit:
            self.commit_distribution(d, len(chunks), **overrides)
        return d

    def commit_distribution(self, d: Distribution, chunks: int, **overrides) -> int:
        payload = {
            "distribution_id": d.distribution_id, "pool": d.pool, "panel_size": d.panel_size,
            "quotas": d.quotas, "members": len(d.members),
            "members_root": ref_register_root(d.members).hex(), "panel_count": len(d.panels),
            "total_weight": sum(d.weights), "weights": d.weights,
            "panels_root": ref_panels_root(d.panels), "chunks": chunks}
        payload.update(overrides)
        return self.add("lottery.distribution.committed", payload)

    def draw_panel(self, distribution_id: str, r: Round, **overrides) -> int:
        d = self.distributions[distribution_id]
        index = ref_panel_draw(r.seed, distribution_id, d.weights)
        d.panel = list(d.panels[index])
        d.ever = set(d.panel)
        payload = {"distribution_id": distribution_id, "round_id": r.round_id, "index": index,
                   "members": d.panel}
        payload.update(overrides)
        return self.add("lottery.panel.drawn", payload)

    def replace(self, distribution_id: str, r: Round, dropped: str, **overrides) -> int:
        d = self.distributions[distribution_id]
        by_name = {m[0]: m for m in d.members}
        reserves = [m for m in d.members if m[0] not in d.ever]
        chosen = ref_next_reserve(r.seed, reserves, [by_name[p] for p in d.panel], d.quotas,
                                  by_name[dropped])
        replacement = None if chosen is None else chosen[0]
        d.panel = sorted([p for p in d.panel if p != dropped] + ([replacement] if chosen else []))
        if chosen:
            d.ever.add(replacement)
        payload = {"distribution_id": distribution_id, "round_id": r.round_id,
                   "dropped": dropped, "replacement": replacement}
        payload.update(overrides)
        return self.add("lottery.panel.replaced", payload)


# --- The honest two-stage lottery ---------------------------------------------------------------

AGES = ("18-34", "35-64", "65+")
QUOTAS = {"gender": {"f": [1, 3], "m": [1, 3]}, "wijk": {"noord": [1, 3], "zuid": [1, 3]}}
PARTIES_1 = {"gemeente": "9f" * 32, "universiteit": "a1" * 32, "krant": "0c" * 32}
PARTIES_2 = {"gemeente": "17" * 32, "universiteit": "e4" * 32, "buurtraad": "5b" * 32}


def register_rows(size: int = 48) -> list[tuple]:
    """``size`` residents in households of one or two; wijk follows the household."""
    rows = []
    for i in range(size):
        household = i * 5 // 8
        rows.append((f"p{i:03d}", f"h{household:02d}",
                     {"age": AGES[(i * 7) % 3], "gender": "fm"[(i // 2 + i) % 2],
                      "wijk": ("noord", "zuid")[household % 2]}))
    return rows


def valid_panels(members: list[tuple], size: int, quotas: dict, count: int) -> list[list[str]]:
    """The first ``count`` panels (in combination order) that keep the quotas and households."""
    found = []
    for combo in itertools.combinations(members, size):
        if ref_quotas_ok(list(combo), quotas) and ref_households_ok(list(combo)):
            found.append(sorted(m[0] for m in combo))
            if len(found) == count:
                break
    return found


def honest_lottery(*, silent: set[str] = frozenset(), replacements: int = 1,
                   lottery: type[Lottery] | None = None) -> Lottery:
    """register -> invitation round -> invitations -> respondents -> distributions -> panel
    round -> panel draws -> replacement(s). ``lottery``: a builder class (register contract 2's
    is in test_verify_draw_v2)."""
    lot = (lottery or Lottery)()
    lot.register(register_rows(), chunk_size=20)
    r1 = lot.seed_round("round-invite", "invitation", PARTIES_1,
                        publics=[("notaris", "dice", "3-6-1-4-4-2")], silent=silent)
    lot.invite(r1, 24, "wijk")
    by_name = {row[0]: row for row in lot.rows}
    for pseudonym in lot.invitees[::2] + lot.invitees[1:9:2]:
        lot.add_member("respondents", by_name[pseudonym])
    for i in range(6):
        lot.add_member("employers", (f"e{i}", f"eh{i}", {"sector": "zorg" if i % 2 else "bouw"}))
    members = lot.pools["respondents"]
    lot.distribution("dist-citizens", "respondents", 4, QUOTAS,
                     valid_panels(members, 4, QUOTAS, 7), [5, 1, 2, 7, 1, 3, 2])
    employer_quotas = {"sector": {"bouw": [1, 1], "zorg": [1, 1]}}
    lot.distribution("dist-employers", "employers", 2, employer_quotas,
                     valid_panels(lot.pools["employers"], 2, employer_quotas, 4), [1, 1, 1, 1],
                     chunk_size=4)
    r2 = lot.seed_round("round-panel", "panel", PARTIES_2,
                        publics=[("drand", "beacon", "drand round 4521 " + "ab" * 16)],
                        silent=silent)
    lot.draw_panel("dist-citizens", r2)
    lot.draw_panel("dist-employers", r2)
    citizens = lot.distributions["dist-citizens"]
    for _ in range(replacements):
        lot.replace("dist-citizens", r2, next(m for m in citizens.panel
                                              if has_reserve(r2, citizens, m)))
    return lot


def has_reserve(r: Round, d: Distribution, dropped: str) -> bool:
    by_name = {m[0]: m for m in d.members}
    reserves = [m for m in d.members if m[0] not in d.ever]
    return ref_next_reserve(r.seed, reserves, [by_name[p] for p in d.panel], d.quotas,
                            by_name[dropped]) is not None


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def fails(lot: Lottery, position: int, check: str, *fragments: str) -> str:
    """Assert the draw check fails at ``lot.items[position]`` with ``check``; return the reason."""
    result = lot.verify()
    failure = result.failure
    assert failure is not None, "the log verified"
    assert (failure.check, failure.index) == (check, lot.index(position)), failure
    for fragment in fragments:
        assert fragment in failure.reason, failure.reason
    return failure.reason


def find(lot: Lottery, type_: str, nth: int = 0, **match) -> int:
    """Position in ``lot.items`` of the ``nth`` event of ``type_`` whose payload has ``match``."""
    hits = [i for i, (t, p, _) in enumerate(lot.items)
            if t == type_ and all(p.get(k) == v for k, v in match.items())]
    return hits[nth]


def tamper(lot: Lottery, position: int, **changes) -> int:
    type_, payload, t = lot.items[position]
    lot.items[position] = (type_, {**payload, **changes}, t)
    return position
