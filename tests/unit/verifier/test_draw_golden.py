"""Golden vectors for the docs/architecture.md §6 lottery contract.

Every pinned value below is checked twice: once as computed by ``g1000_proofs.draw`` /
``g1000_proofs.seed``, once as computed by the independent ``ref_*`` transcription in
tests/support/draw_reference.py (hashlib, hmac and json only).  An auditor can re-derive each literal with
a few lines of any language; a change to the module that changes a literal is a contract change.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from g1000_proofs import draw, seed
from g1000_proofs.draw import Row
from tests.support.draw_reference import (
    ref_apportion,
    ref_invitation_draw,
    ref_jcs,
    ref_next_reserve,
    ref_panel_draw,
    ref_R,
    ref_register_root,
    ref_seed,
)

SEED = hashlib.sha256(b"g1000 test seed").digest()
SEED_HEX = "8e7eb072daf4819e43b25b867f15c0f5ba5fc1fed516ec21f4164be9e5e4d276"

R_VECTORS = {
    "invite/r00": 109960434118088350340692683725918009849071378244394717247677499862606127387006,
    "panel/main": 28907307418162939382592861047309863620426994678395203910986630798596957781392,
    "reserve/r07": 33170465734087529334336194354666921664558055424461291196551163683228440571196,
    "invite/\u00eb-01":
        110612675707156026046874376917529150163519230434755163875437942532232285013836,
    "": 90083348557409540290883745696045567031524351890853381502303790724722082552870,
}

WIJK = ["centrum", "noord", "zuid", "west"]
AGE = ["18-34", "35-64", "65+"]


def _household(i: int) -> str:
    """Rows 0-15 in pairs (h00-h07), 16-24 in threes (h08-h10), 25-39 alone (h11-h25)."""
    if i < 16:
        return f"h{i // 2:02d}"
    if i < 25:
        return f"h{8 + (i - 16) // 3:02d}"
    return f"h{11 + i - 25:02d}"


ROWS = [Row(f"r{i:02d}", _household(i), {"wijk": WIJK[i % 4], "age": AGE[i % 3]})
        for i in range(40)]
BY_PSEUDONYM = {row.pseudonym: row for row in ROWS}
TUPLES = [tuple(row) for row in ROWS]

DRAW_PLAIN = ["r30", "r28", "r06", "r10", "r35", "r20", "r18", "r04", "r26", "r39"]
# wijk counts are 10/10/10/10: quotas 2.5 each, the two extra seats go to the two smallest
# values in code-point order (centrum, noord); strata drawn in order centrum, noord, west, zuid.
DRAW_WIJK = ["r28", "r20", "r04", "r37", "r01", "r17", "r07", "r35", "r30", "r10"]
# age counts are 14/13/13: quotas 3.5/3.25/3.25 -> 4/3/3.
DRAW_AGE = ["r30", "r06", "r18", "r39", "r28", "r10", "r04", "r35", "r20", "r26"]

REGISTER_ROOT = "a6e0e3c167f8af95893f1c4900f37e22ab140c66b5dd4d5cfe100b1eb830643f"

SUMMIT = "2b0e1f4c-0000-4000-8000-000000000001"
CONTRIBUTIONS = [
    {"party": "gemeente", "value": "9f" * 32, "kind": "commit-reveal"},
    {"party": "notaris", "value": "3 1 4 1 5 9", "kind": "dice"},
    {"party": "drand", "value": "beacon-round-123", "kind": "beacon"},
]
SUMMIT_SEED = "be4b13c9a8de9f85ed17866d3cec6b7362f04dd5d812c472af3e766365a4977a"
GEMEENTE_COMMITMENT = "182854d3f745f5d7d30f64ef6a903514c59dd270b7ac6d25e3f7990ef899d27d"

PANEL_WEIGHTS = [3, 1, 4, 1, 5, 9, 2, 6]  # W = 31
PANEL_U = 28  # R("panel/main") mod 31
PANEL_INDEX = 7  # prefix sums 3,4,8,9,14,23,25,31: first > 28 is index 7


def test_seed_constant():
    assert SEED.hex() == SEED_HEX


@pytest.mark.parametrize("label", sorted(R_VECTORS))
def test_R_vectors(label):
    assert draw.R(SEED, label) == R_VECTORS[label]
    digest = hmac.new(SEED, label.encode("utf-8"), hashlib.sha256).digest()
    assert int.from_bytes(digest, "big") == R_VECTORS[label]


def test_R_reads_the_digest_big_endian():
    digest = hmac.new(SEED, b"invite/r00", hashlib.sha256).digest()
    assert draw.R(SEED, "invite/r00") >> 248 == digest[0]
    assert draw.R(SEED, "invite/r00") & 0xFF == digest[-1]


def test_compute_seed_vector():
    assert seed.compute_seed(SUMMIT, CONTRIBUTIONS).hex() == SUMMIT_SEED
    assert ref_seed(SUMMIT, CONTRIBUTIONS).hex() == SUMMIT_SEED
    # the literal bytes that are hashed, written out by hand
    literal = ('{"contributions":[{"kind":"commit-reveal","party":"gemeente","value":"' + "9f" * 32
               + '"},{"kind":"dice","party":"notaris","value":"3 1 4 1 5 9"},{"kind":"beacon",'
               '"party":"drand","value":"beacon-round-123"}],"domain":"g1000/seed/v1",'
               '"summit_id":"' + SUMMIT + '"}')
    assert hashlib.sha256(literal.encode()).hexdigest() == SUMMIT_SEED


def test_commitment_vector():
    value = CONTRIBUTIONS[0]["value"]
    assert seed.commitment(seed.value_bytes(value)) == GEMEENTE_COMMITMENT
    assert seed.contribution_commitment(CONTRIBUTIONS[0]) == GEMEENTE_COMMITMENT
    assert hashlib.sha256(value.encode("utf-8")).hexdigest() == GEMEENTE_COMMITMENT
    seed.verify_reveal(CONTRIBUTIONS[0], GEMEENTE_COMMITMENT)


def test_register_commitment_vector():
    assert draw.register_commitment(ROWS) == (40, bytes.fromhex(REGISTER_ROOT))
    assert ref_register_root(TUPLES).hex() == REGISTER_ROOT
    assert draw.register_commitment(list(reversed(ROWS)))[1].hex() == REGISTER_ROOT
    draw.verify_register(ROWS, 40, bytes.fromhex(REGISTER_ROOT))


def test_canonical_row_vector():
    assert draw.canonical_row(ROWS[0]) == (
        b'{"features":{"age":"18-34","wijk":"centrum"},"household":"h00","pseudonym":"r00"}')
    assert draw.canonical_row(ROWS[0]) == ref_jcs(
        {"pseudonym": "r00", "household": "h00", "features": dict(ROWS[0].features)})


def test_invitation_draw_vector_unstratified():
    assert draw.invitation_draw(SEED, ROWS, 10) == DRAW_PLAIN
    assert ref_invitation_draw(SEED, TUPLES, 10) == DRAW_PLAIN
    # the vector exercises the household rule: r07 (h03) comes before the 10th invitee in
    # invitation order but is skipped because r06 (h03) was already invited
    order = [row.pseudonym for row in draw.invitation_order(SEED, ROWS)]
    assert order.index("r07") < order.index(DRAW_PLAIN[-1]) and "r07" not in DRAW_PLAIN
    assert order == sorted(order, key=lambda p: ref_R(SEED, "invite/" + p))


def test_invitation_draw_vector_stratified_with_remainder_tie():
    assert draw.apportion(10, {w: 10 for w in WIJK}) == {"centrum": 3, "noord": 3, "west": 2,
                                                          "zuid": 2}
    assert ref_apportion(10, {w: 10 for w in WIJK}) == {"centrum": 3, "noord": 3, "west": 2,
                                                         "zuid": 2}
    assert draw.invitation_draw(SEED, ROWS, 10, stratify_by="wijk") == DRAW_WIJK
    assert ref_invitation_draw(SEED, TUPLES, 10, "wijk") == DRAW_WIJK
    counts = [BY_PSEUDONYM[p].features["wijk"] for p in DRAW_WIJK]
    assert counts == ["centrum"] * 3 + ["noord"] * 3 + ["west"] * 2 + ["zuid"] * 2


def test_invitation_draw_vector_stratified_by_age():
    assert draw.apportion(10, {"18-34": 14, "35-64": 13, "65+": 13}) == {
        "18-34": 4, "35-64": 3, "65+": 3}
    assert draw.invitation_draw(SEED, ROWS, 10, stratify_by="age") == DRAW_AGE
    assert ref_invitation_draw(SEED, TUPLES, 10, "age") == DRAW_AGE


def test_panel_draw_vector():
    assert ref_R(SEED, "panel/main") % 31 == PANEL_U
    assert draw.panel_draw(SEED, "main", PANEL_WEIGHTS) == PANEL_INDEX
    assert ref_panel_draw(SEED, "main", PANEL_WEIGHTS) == PANEL_INDEX


def test_next_reserve_vector():
    panel = [BY_PSEUDONYM[p] for p in DRAW_WIJK]
    reserves = [row for row in ROWS if row.pseudonym not in DRAW_WIJK]
    quotas = {"wijk": {"centrum": (3, 3), "noord": (3, 3), "west": (2, 2), "zuid": (2, 2)}}
    assert draw.check_quotas(panel, quotas) == [] and draw.check_households(panel) == []
    # reserve order starts r18 r08 r36 r14 r19 r27 (wrong wijk), then r33 (noord, h19)
    replacement = draw.next_reserve(SEED, reserves, panel, quotas, BY_PSEUDONYM["r01"])
    assert replacement == BY_PSEUDONYM["r33"]
    assert ref_next_reserve(SEED, [tuple(r) for r in reserves], [tuple(r) for r in panel],
                            quotas, tuple(BY_PSEUDONYM["r01"])) == tuple(BY_PSEUDONYM["r33"])
    assert [r.pseudonym for r in draw.reserve_order(SEED, reserves)][:7] == [
        "r18", "r08", "r36", "r14", "r19", "r27", "r33"]
