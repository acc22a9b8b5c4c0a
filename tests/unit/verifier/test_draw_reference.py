"""The independent transcription of the docs/architecture.md §6 lottery contract
(tests/support/draw_reference.py) agrees with draw.py on generated inputs."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from g1000_proofs import draw

from tests.support.draw_reference import (
    FAST,
    outcome,
    ref_apportion,
    ref_invitation_draw,
    ref_panel_draw,
    ref_R,
    ref_register_root,
    ref_seed,
    registers,
    seeds,
    STRATUM_VALUES,
)


# --- The reference agrees with the module -------------------------------------------------------


@FAST
@given(seed=seeds(), label=st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
def test_R_matches_reference(seed, label):
    assert draw.R(seed, label) == ref_R(seed, label)


@FAST
@given(seed=seeds(), rows=registers(), data=st.data(), stratified=st.booleans())
def test_invitation_draw_matches_reference(seed, rows, data, stratified):
    households = len({r.household for r in rows})
    n = data.draw(st.integers(1, households))
    by = "s" if stratified else None
    mine = outcome(draw.invitation_draw, seed, rows, n, stratify_by=by)
    theirs = outcome(ref_invitation_draw, seed, [tuple(r) for r in rows], n, by)
    assert mine == theirs


@FAST
@given(n=st.integers(0, 60), counts=st.lists(st.integers(1, 30), min_size=1, max_size=5))
def test_apportion_matches_reference(n, counts):
    table = dict(zip(STRATUM_VALUES, counts))
    assert draw.apportion(n, table) == ref_apportion(n, table)


@FAST
@given(seed=seeds(), draw_id=st.text(min_size=1, max_size=12, alphabet="abcxyz/-0123é"),
       weights=st.lists(st.integers(1, 2**40), min_size=1, max_size=12))
def test_panel_draw_matches_reference(seed, draw_id, weights):
    assert draw.panel_draw(seed, draw_id, weights) == ref_panel_draw(seed, draw_id, weights)


@FAST
@given(rows=registers(max_rows=20))
def test_register_root_matches_reference(rows):
    assert draw.register_commitment(rows) == (len(rows), ref_register_root(rows))


@FAST
@given(summit=st.text(min_size=1, max_size=10, alphabet="0123456789abcdef-"),
       values=st.lists(st.text(min_size=1, max_size=10, alphabet="0123456789 abcé"),
                       min_size=1, max_size=5))
def test_seed_matches_reference(summit, values):
    from g1000_proofs import seed as seedmod

    contributions = [{"party": f"party-{i}", "value": v} for i, v in enumerate(values)]
    contributions[0]["kind"] = "commit-reveal"
    assert seedmod.compute_seed(summit, contributions) == ref_seed(summit, contributions)
