"""Pure decisions of the lottery: the events that record a register, a draw, a pool, a
distribution, a panel; the rules that must hold before each (docs/lottery.md).

The draws themselves are `g1000_proofs.draw` (the functions the verifier re-runs); this module
only chooses their inputs from the service's state and writes their results as event payloads.
Seed rounds are in `rounds.py`. No I/O: the API loads state, calls these, and appends.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from g1000_proofs import jcs
from g1000_proofs import register as register_v2
from g1000_proofs.draw import (
    DrawImpossibleError, DrawInputError, PanelChecker, Row,
    invitation_draw, panel_draw, register_commitment,
)
from g1000_proofs.distribution import panel_problems, panels_root
from g1000_proofs.replacements import current_panel, replacement
from g1000_proofs.rounds import precedes
from g1000_proofs.vocabulary import check_features as vocabulary_problems
from g1000_proofs.vocabulary import opaque_id_problem

from services.core.canonical import MAX_SAFE_INTEGER
from services.core.events import NewEvent

from .errors import (
    AlreadyDoneError, DrawRefusedError, InvalidDistributionError, LotteryConflictError, LotteryInvalidError,
    NoReserveError, PhaseError, QuotaError,
)
from .rounds import Round

CHUNK_ROWS = 500                  # docs/lottery.md: at most 500 rows per register chunk
CHUNK_BYTES = 256 * 1024          # and at most 256 KiB of canonical rows (Kafka message size)
MAX_EVENT_BYTES = 768 * 1024      # a single event stays well below the broker's 1 MiB default
POOL = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
RESPONDENTS = "respondents"
CONSENT_TEXT = (
    "I take part in the lottery for this summit's panel. I know that my pseudonym, my household's "
    "pseudonym and my coarse features (only the ones the summit's charter allows, such as an age "
    "band or a neighbourhood, with their allowed values) are published in the summit's public log, "
    "which can never be changed or deleted, so that anyone can check the draw and its quotas. "
    "Nothing else about me is published: no name, address, birth date or free text.")
MAX_QUOTA_FEATURES = 16
MAX_QUOTA_VALUES = 100


def _event(event_type: str, payload: dict, aggregate: str, version: int) -> NewEvent:
    return NewEvent(type=event_type, payload=payload, aggregate_id=aggregate, version=version)


def row_json(row: Row) -> dict:
    return {"pseudonym": row.pseudonym, "household": row.household, "features": dict(row.features)}


def _chunks(items: Sequence, size_of, max_items: int, max_bytes: int) -> list[list]:
    """Consecutive runs of `items` of at most `max_items` items and `max_bytes` bytes each."""
    chunks: list[list] = []
    current: list = []
    used = 0
    for item in items:
        size = size_of(item)
        if current and (len(current) >= max_items or used + size > max_bytes):
            chunks.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        chunks.append(current)
    return chunks


# --- register -----------------------------------------------------------------------------------


Salts = dict[str, tuple[bytes, dict[str, bytes]]]   # pseudonym -> (household salt, feature salts)


def new_salts(rows: Sequence[Row]) -> Salts:
    """A fresh 128-bit salt for every commitment of every row (g1000_proofs.register)."""
    size = register_v2.SALT_SIZE
    return {r.pseudonym: (secrets.token_bytes(size), {name: secrets.token_bytes(size) for name in r.features})
            for r in rows}


def register_events(summit_id: str, register_id: str, rows: Sequence[Row],
                    features: Sequence[str], salts: Salts) -> list[NewEvent]:
    """Register contract 2: `lottery.register.chunk` v2 events (pseudonym and commitments only,
    rows sorted by pseudonym) and the `committed` v2 event (count, root, `contract: 2`). The
    household ids, feature values and salts are in none of them."""
    ordered = sorted(rows, key=lambda r: r.pseudonym)
    committed = [register_v2.commit_row(r, *salts[r.pseudonym]) for r in ordered]
    chunks = _chunks([register_v2.committed_row_json(c) for c in committed],
                     lambda item: len(json.dumps(item, separators=(",", ":"))), CHUNK_ROWS, CHUNK_BYTES)
    count, root = register_v2.register_root(committed)
    aggregate = f"summit:{summit_id}/register"
    events = [_event("lottery.register.chunk",
                     {"v": 2, "register_id": register_id, "chunk": i, "rows": chunk}, aggregate, i + 1)
              for i, chunk in enumerate(chunks)]
    events.append(_event("lottery.register.committed",
                         {"v": 2, "register_id": register_id, "count": count, "root": root.hex(),
                          "chunks": len(chunks), "features": sorted(features),
                          "contract": register_v2.CONTRACT},
                         aggregate, len(chunks) + 1))
    return events


def invitation_plan(seed: bytes, rows: Sequence[Row], n: int, stratify_by: str | None,
                    features: Sequence[str]) -> register_v2.RevealPlan:
    """The invitation draw and what it reveals, from one walk (`g1000_proofs.register.reveal_plan`);
    refused as `invitation_payload` refuses."""
    if stratify_by is not None and stratify_by not in features:
        raise LotteryInvalidError(f"the register has no feature {stratify_by!r} to stratify by")
    try:
        return register_v2.reveal_plan(seed, rows, n, stratify_by)
    except DrawImpossibleError as e:
        raise DrawRefusedError(str(e)) from None
    except DrawInputError as e:
        raise LotteryInvalidError(str(e)) from None


def reveal_events(summit_id: str, register_id: str, draw_id: str, plan: register_v2.RevealPlan,
                  rows: Sequence[Row], salts: Salts) -> list[NewEvent]:
    """`lottery.register.revealed` chunks for the invitation draw `draw_id`: the stratum feature
    of every row (when stratified) and the household of every row the draw reaches (`plan`),
    nothing else. Logged before `invitations.drawn`."""
    stratify_by = plan.feature
    by_name = {r.pseudonym: r for r in rows}
    openings: list[tuple[str, dict]] = []
    for p in plan.feature_rows:
        openings.append(("feature", {"pseudonym": p, "value": by_name[p].features[stratify_by],
                                     "salt": salts[p][1][stratify_by].hex()}))
    for p in sorted(plan.household_rows):   # a chunk lists its rows by pseudonym
        openings.append(("household", {"pseudonym": p, "value": by_name[p].household,
                                       "salt": salts[p][0].hex()}))
    chunks: list[tuple[str, list[dict]]] = []
    for field in ("feature", "household"):
        items = [o for f, o in openings if f == field]
        for chunk in _chunks(items, lambda o: len(json.dumps(o, separators=(",", ":"))),
                             CHUNK_ROWS, CHUNK_BYTES):
            chunks.append((field, chunk))
    aggregate = f"summit:{summit_id}/register/reveals:{draw_id}"
    return [_event("lottery.register.revealed",
                   {"v": 1, "register_id": register_id, "draw_id": draw_id, "chunk": i, "field": field,
                    "feature": stratify_by if field == "feature" else None, "openings": chunk},
                   aggregate, i + 1)
            for i, (field, chunk) in enumerate(chunks)]


# --- which subject a round may draw -------------------------------------------------------------


def check_round_for(rnd: Round, purpose: str, subject: str, subject_seq: int,
                    designated: Round | None) -> bytes:
    """The seed of `rnd` if it may draw a subject committed at `subject_seq`; else raise.
    `designated` is `g1000_proofs.rounds.designated`, the rule g1000-verify applies too."""
    if rnd.purpose != purpose:
        raise LotteryInvalidError(f"round {rnd.round_id} is for the {rnd.purpose} draw, not the {purpose} draw")
    if not precedes(subject_seq, rnd):
        raise LotteryConflictError(f"the {subject} was committed after the first contribution of round "
                                   f"{rnd.round_id}: its seed could have been known; use a later round")
    if rnd.seed is None:
        raise PhaseError(f"round {rnd.round_id} is not finalised yet")
    if designated is not None and designated.round_id != rnd.round_id:
        raise LotteryConflictError(f"the {subject} must be drawn with round {designated.round_id}, the "
                                   "first round of this purpose after it (no choosing among seeds)")
    return bytes.fromhex(rnd.seed)


# --- invitations --------------------------------------------------------------------------------


def invitation_payload(draw_id: str, rnd: Round, seed: bytes, register_id: str, rows: Sequence[Row],
                       n: int, stratify_by: str | None, features: Sequence[str],
                       invitees: list[str] | None = None) -> dict:
    """The `invitations.drawn` payload; `invitees` when the draw was made already (the plan of
    register contract 2 walks once for the draw and its reveals)."""
    if stratify_by is not None and stratify_by not in features:
        raise LotteryInvalidError(f"the register has no feature {stratify_by!r} to stratify by")
    try:
        if invitees is None:
            invitees = invitation_draw(seed, rows, n, stratify_by=stratify_by)
    except DrawImpossibleError as e:
        raise DrawRefusedError(str(e)) from None
    except DrawInputError as e:
        raise LotteryInvalidError(str(e)) from None
    payload = {"v": 1, "draw_id": draw_id, "round_id": rnd.round_id, "register_id": register_id,
               "n": n, "stratify_by": stratify_by, "invitees": invitees}
    if len(jcs.dumps(payload)) > MAX_EVENT_BYTES:
        raise LotteryInvalidError(f"{n} invitees do not fit in one event; draw fewer")
    return payload


CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford base32
CODE_LENGTH = 12                                    # 60 bits
_CODE_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def new_code() -> str:
    """A one-time invitation code, e.g. `7K3M-Q9TX-2HCA` (grouped for printing on a letter)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str | None:
    """The 12 code characters as typed (any case, hyphens, O for 0, I/L for 1), or None."""
    code = text.upper().translate(_CODE_FOLD)
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def code_hash(summit_id: str, code: str) -> bytes:
    """What the database keeps of a code: it cannot be read back, only checked."""
    return hashlib.sha256(f"g1000/invitation-code/v1\n{summit_id}\n{code}".encode()).digest()


# --- pools --------------------------------------------------------------------------------------


def check_pool_name(pool: str, *, nominees: bool = False) -> None:
    if not POOL.match(pool):
        raise LotteryInvalidError("a pool name is 1-40 characters of a-z 0-9 _ starting with a letter")
    if nominees and pool == RESPONDENTS:
        raise LotteryInvalidError("the respondents pool is filled by invitees themselves, with their code")


def check_features(features: Mapping[str, str], vocabulary: Mapping[str, Sequence[str]]) -> list[str]:
    """Problems of a member's self-reported or nominated features: only the charter's declared
    names, each with one of its declared values (g1000_proofs.vocabulary; issue 10 H2). No free
    text, no extra keys: whatever is accepted here is published in `lottery.pool.member_added`."""
    return vocabulary_problems(features, vocabulary)


def respondent_row(invitee: Row, features: Mapping[str, str], vocabulary: Mapping[str, Sequence[str]]) -> Row:
    """The respondent as pool member: register pseudonym and household, register features
    overridden by what the respondent reports (declared names and values only)."""
    problems = check_features(features, vocabulary)
    if problems:
        raise LotteryInvalidError("the features cannot be accepted: only the charter's features and values",
                                  errors={"features": problems})
    return Row(invitee.pseudonym, invitee.household, {**invitee.features, **features})


def nominee_row(pseudonym: str | None, household: str | None, features: Mapping[str, str],
                vocabulary: Mapping[str, Sequence[str]]) -> Row:
    """A nominee of a stakeholder pool: opaque ids (generated when omitted: 128 random bits) and
    the charter's features only."""
    pseudonym = pseudonym or secrets.token_hex(16)
    problems = [p for p in (opaque_id_problem("pseudonym", pseudonym),
                            opaque_id_problem("household", household) if household else None) if p]
    problems += check_features(features, vocabulary)
    if problems:
        label = pseudonym if not opaque_id_problem("pseudonym", pseudonym) else "nominee"
        raise LotteryInvalidError("a nominee cannot be accepted", errors={label: problems})
    return Row(pseudonym, household or pseudonym, dict(features))


def member_event(summit_id: str, pool: str, row: Row) -> NewEvent:
    return _event("lottery.pool.member_added", {"v": 1, "pool": pool, "member": row_json(row)},
                  f"summit:{summit_id}/pool:{pool}/member:{row.pseudonym}", 1)


# --- quotas and distributions -------------------------------------------------------------------


def check_quotas_fit(quotas: Mapping[str, Mapping[str, Sequence[int]]], panel_size: int,
                     members: Sequence[Row]) -> dict:
    """The quotas as `{feature: {value: [min, max]}}` if they fit the pool; QuotaError listing
    what does not (unknown features, members whose value has no quota, bounds, sizes)."""
    problems: list[str] = []
    if not members:
        raise QuotaError("the pool has no members")
    if not 1 <= panel_size <= len(members):
        problems.append(f"panel_size {panel_size} must be between 1 and the pool size {len(members)}")
    if not quotas:
        problems.append("at least one quota feature is needed")
    if len(quotas) > MAX_QUOTA_FEATURES:
        problems.append(f"at most {MAX_QUOTA_FEATURES} quota features")
    table: dict[str, dict[str, list[int]]] = {}
    for feature, values in sorted(quotas.items()):
        if not values or len(values) > MAX_QUOTA_VALUES:
            problems.append(f"{feature}: 1-{MAX_QUOTA_VALUES} values")
            continue
        table[feature] = {}
        for value, bounds in sorted(values.items()):
            low, high = bounds
            if not 0 <= low <= high:
                problems.append(f"{feature}={value}: needs 0 <= min <= max, got [{low}, {high}]")
            table[feature][value] = [low, high]
        have = [m for m in members if feature in m.features]
        if not have:
            problems.append(f"{feature}: no member of the pool has this feature")
            continue
        missing = [m.pseudonym for m in members if feature not in m.features]
        if missing:
            problems.append(f"{feature}: {len(missing)} members have no value (e.g. {missing[0]})")
        unlisted = sorted({m.features[feature] for m in have} - set(values))
        if unlisted:
            problems.append(f"{feature}: values {unlisted} of pool members have no quota "
                            "(such members could never be selected)")
    if problems:
        raise QuotaError("the quotas do not fit the pool", errors={"quotas": problems[:50]})
    return table




def normalise_distribution(panels: Sequence[Sequence[str]], weights: Sequence[int]
                           ) -> tuple[list[tuple[str, ...]], list[int]]:
    """Panels sorted within, zero weights dropped, duplicates merged (first position kept)."""
    merged: dict[tuple[str, ...], int] = {}
    for panel, weight in zip(panels, weights, strict=True):
        if isinstance(weight, bool) or not isinstance(weight, numbers.Integral) or weight < 0:
            raise InvalidDistributionError(f"weight {weight!r} is not a non-negative integer")
        if weight:
            key = tuple(sorted(str(p) for p in panel))
            merged[key] = merged.get(key, 0) + int(weight)
    return list(merged), list(merged.values())


def distribution_events(summit_id: str, distribution_id: str, pool: str, panel_size: int,
                        quotas: dict, members: Sequence[Row], panels: Sequence[tuple[str, ...]],
                        weights: Sequence[int]) -> list[NewEvent]:
    """`lottery.distribution.panels` chunks and `committed`, after checking every panel."""
    checker = PanelChecker(members, quotas)
    if not panels or sum(weights) > MAX_SAFE_INTEGER:
        raise InvalidDistributionError("no panels, or weights beyond 2**53 - 1")
    for i, panel in enumerate(panels):
        problems = panel_problems(checker, panel, panel_size)
        if problems.keys() & {"size", "outside", "order"}:
            raise InvalidDistributionError(f"panel {i} is not {panel_size} distinct pool members")
        broken = problems.get("quotas", []) + problems.get("households", [])
        if broken:
            raise InvalidDistributionError(f"panel {i} breaks the rules: {broken[:3]}")
    count, members_root = register_commitment(members)
    chunks = _chunks(list(enumerate(panels)), lambda p: len(jcs.dumps(list(p[1]))), 500, CHUNK_BYTES)
    aggregate = f"summit:{summit_id}/distribution:{distribution_id}"
    events = [_event("lottery.distribution.panels",
                     {"v": 1, "distribution_id": distribution_id, "chunk": i, "first_index": chunk[0][0],
                      "panels": [list(p) for _, p in chunk]}, aggregate, i + 1)
              for i, chunk in enumerate(chunks)]
    committed = {"v": 1, "distribution_id": distribution_id, "pool": pool, "panel_size": panel_size,
                 "quotas": quotas, "members": count, "members_root": members_root.hex(),
                 "panel_count": len(panels), "total_weight": sum(weights), "weights": list(weights),
                 "panels_root": panels_root(panels).hex(), "chunks": len(chunks)}
    if len(jcs.dumps(committed)) > MAX_EVENT_BYTES:
        raise InvalidDistributionError("the distribution has too many panels for one committed event")
    events.append(_event("lottery.distribution.committed", committed, aggregate, len(chunks) + 1))
    return events


def selection_probabilities(panels: Sequence[Sequence[str]], weights: Sequence[int],
                            members: Sequence[str]) -> dict[str, Fraction]:
    """Each member's exact chance to be drawn from the committed distribution."""
    total = sum(weights)
    share = {m: 0 for m in members}
    for panel, weight in zip(panels, weights):
        for member in panel:
            share[member] += weight
    return {m: Fraction(w, total) for m, w in share.items()}


def fairness(probabilities: Mapping[str, Fraction]) -> dict:
    """Minimum, percentiles, Gini coefficient and geometric mean of the selection chances."""
    values = sorted(probabilities.values())
    n = len(values)

    def pct(q: int) -> float:
        return float(values[min(n - 1, (q * n) // 100)])

    total = sum(values)
    gini = Fraction(0) if not total else \
        sum((2 * (i + 1) - n - 1) * v for i, v in enumerate(values)) / (n * total)
    positive = [v for v in values if v > 0]
    geo = math.exp(sum(math.log(float(v)) for v in positive) / n) if len(positive) == n else 0.0
    return {"members": n, "minimum": float(values[0]), "maximum": float(values[-1]),
            "mean": float(total / n), "p10": pct(10), "p25": pct(25), "median": pct(50),
            "p75": pct(75), "p90": pct(90), "gini": float(gini), "geometric_mean": geo,
            "zero_chance": n - len(positive)}


# --- panel draw and replacements ----------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    distribution_id: str
    pool: str
    quotas: dict
    panels: list[list[str]]
    weights: list[int]
    committed_seq: int


def panel_payload(dist: Distribution, round_id: str, seed: bytes) -> dict:
    index = panel_draw(seed, dist.distribution_id, dist.weights)
    return {"v": 1, "distribution_id": dist.distribution_id, "round_id": round_id, "index": index,
            "members": sorted(dist.panels[index])}


def replacement_payload(dist: Distribution, round_id: str, seed: bytes, members: Sequence[Row],
                        drawn: Sequence[str], replacements: Sequence[tuple[str, str | None]],
                        dropped: str, accept_vacancy: bool) -> dict:
    """`next_reserve(seed, reserves, panel, quotas, dropped)` where the panel is the current one
    and the reserves are the distribution's members never on the panel (earlier drop-outs stay
    out): `g1000_proofs.replacements.replacement`, which g1000-verify recomputes."""
    if dropped not in current_panel(drawn, replacements):
        raise LotteryInvalidError(f"{dropped!r} is not on the current panel")
    chosen = replacement(seed, members, drawn, replacements, dist.quotas, dropped)
    if chosen is None and not accept_vacancy:
        raise NoReserveError(f"no reserve keeps every quota and the household rule without {dropped!r};"
                             " send accept_vacancy to record the drop-out with an empty seat")
    return {"v": 1, "distribution_id": dist.distribution_id, "round_id": round_id, "dropped": dropped,
            "replacement": chosen.pseudonym if chosen else None}


def check_not_drawn(already: bool, pool: str) -> None:
    if already:
        raise AlreadyDoneError(f"the panel of pool {pool!r} has been drawn; replace drop-outs instead")
