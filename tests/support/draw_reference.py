"""An independent transcription of the docs/architecture.md §6 lottery contract, checked against draw.py.

The ``ref_*`` functions below use only ``hashlib``, ``hmac`` and ``json`` -- never
``g1000_proofs`` -- and are written straight from the contract text (and from the
decisions documented in ``g1000_proofs/draw.py`` and ``g1000_proofs/seed.py``), the way an
outside auditor would write them.  The golden and property tests import them so that the
*contract* is pinned, not just whatever the module happens to compute.  Deliberately different
arithmetic where possible: the apportionment compares integer remainders ``n*c mod T`` instead of
``Fraction`` remainders, the panel draw walks a running sum instead of bisecting, the replacement
recounts the whole panel per candidate.

``tests/unit/verifier/test_draw_reference.py`` runs the reference and the module side by side on
generated inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from hypothesis import settings
from hypothesis import strategies as st

from g1000_proofs import draw
from g1000_proofs.draw import Row

FAST = settings(max_examples=200, deadline=None, database=None)


class RefShort(Exception):
    """The reference draw could not fill a stratum (or the whole draw)."""


def ref_jcs(obj) -> bytes:
    """RFC 8785 for objects with ASCII member names, strings and small integers only."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def ref_R(seed: bytes, label: str) -> int:  # noqa: N802
    return int.from_bytes(hmac.new(seed, label.encode("utf-8"), hashlib.sha256).digest(), "big")


def ref_seed(summit_id: str, contributions: list[dict]) -> bytes:
    doc = {"domain": "g1000/seed/v1", "summit_id": summit_id, "contributions": contributions}
    return hashlib.sha256(ref_jcs(doc)).digest()


def ref_apportion(n: int, counts: dict[str, int]) -> dict[str, int]:
    total = sum(counts.values())
    seats = {value: n * count // total for value, count in counts.items()}
    remainder = {value: n * count % total for value, count in counts.items()}  # all over total
    left = n - sum(seats.values())
    for value in sorted(counts, key=lambda v: (-remainder[v], v))[:left]:
        seats[value] += 1
    return seats


def ref_invitation_draw(seed: bytes, rows, n: int, stratify_by: str | None = None) -> list[str]:
    """rows: (pseudonym, household, features) triples."""
    order = sorted(rows, key=lambda r: (ref_R(seed, "invite/" + r[0]), r[0]))
    if stratify_by is None:
        plan = [(order, n)]
    else:
        values = sorted({r[2][stratify_by] for r in rows})
        shares = ref_apportion(n, {v: sum(1 for r in rows if r[2][stratify_by] == v)
                                   for v in values})
        plan = [([r for r in order if r[2][stratify_by] == v], shares[v]) for v in values]
    used: set[str] = set()
    out: list[str] = []
    for stratum_rows, want in plan:
        got = 0
        for pseudonym, household, _ in stratum_rows:
            if got == want:
                break
            if household not in used:
                used.add(household)
                out.append(pseudonym)
                got += 1
        if got < want:
            raise RefShort
    return out


def ref_panel_draw(seed: bytes, draw_id: str, weights: list[int]) -> int:
    u = ref_R(seed, "panel/" + draw_id) % sum(weights)
    running = 0
    for i, weight in enumerate(weights):
        running += weight
        if running > u:
            return i
    raise AssertionError("unreachable")


def ref_quotas_ok(panel, quotas) -> bool:
    for feature, table in quotas.items():
        counts = {value: 0 for value in table}
        for _, _, features in panel:
            if feature not in features or features[feature] not in table:
                return False
            counts[features[feature]] += 1
        if any(not table[v][0] <= counts[v] <= table[v][1] for v in table):
            return False
    return True


def ref_households_ok(panel) -> bool:
    return len({h for _, h, _ in panel}) == len(panel)


def ref_next_reserve(seed: bytes, reserves, panel, quotas, dropped):
    on_panel = {p for p, _, _ in panel}
    for candidate in sorted(reserves, key=lambda r: (ref_R(seed, "reserve/" + r[0]), r[0])):
        if candidate[0] in on_panel:
            continue
        replaced = [m for m in panel if m[0] != dropped[0]] + [candidate]
        if ref_quotas_ok(replaced, quotas) and ref_households_ok(replaced):
            return candidate
    return None


def ref_register_root(rows) -> bytes:
    def mth(leaves):
        if len(leaves) == 1:
            return leaves[0]
        k = 1
        while k * 2 < len(leaves):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

    ordered = sorted(rows, key=lambda r: r[0])
    leaves = [hashlib.sha256(b"\x00" + ref_jcs({"pseudonym": p, "household": h, "features": f}))
              .digest() for p, h, f in ordered]
    return mth(leaves)


# --- Strategies shared with the property tests --------------------------------------------------

STRATUM_VALUES = ["a", "b", "c", "é", "Z"]


@st.composite
def registers(draw_, min_rows=1, max_rows=40, max_households=None):
    """Rows with shared households and a stratum feature ``s``; pseudonyms may be non-ASCII."""
    size = draw_(st.integers(min_rows, max_rows))
    households = draw_(st.integers(1, max_households or size))
    strata = draw_(st.integers(1, len(STRATUM_VALUES)))
    rows = []
    for i in range(size):
        household = draw_(st.integers(0, households - 1))
        stratum = STRATUM_VALUES[draw_(st.integers(0, strata - 1))]
        name = draw_(st.sampled_from(["p", "ü", "人"])) + str(i)
        rows.append(Row(name, f"h{household}", {"s": stratum, "t": str(i % 2)}))
    return rows


def seeds():
    return st.binary(min_size=32, max_size=32)


def outcome(fn, *args, **kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except (RefShort, draw.DrawImpossibleError):
        return ("short", None)
