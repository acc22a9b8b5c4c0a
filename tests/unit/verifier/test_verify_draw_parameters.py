"""``g1000-verify draw``: the invitation draw uses the parameters its round declared (issue 10 H3).

The attack: ``n`` and ``stratify_by`` used to appear only in ``lottery.invitations.drawn``, after
the seed was final, so an organiser who saw the seed could try every stratification and every
``n`` near the planned one and draw with whichever left out a chosen resident; the draw still
recomputed.  Now the invitation round declares them in ``lottery.seed.round_opened`` v2, before
any commitment, and the verifier refuses a draw that uses others.  Logs are built with the
reference builders of ``test_verify_draw`` (contract 1) and ``test_verify_draw_v2`` (contract 2).
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from g1000_proofs.draw_parameters import MAX_N, declaration_problem, mismatch

from tests.support.draw_reference import RefShort, ref_invitation_draw
from tests.support.lottery_logs import PARTIES_1, Lottery, fails, find, register_rows, tamper
from tests.support.lottery_logs_v2 import V2Lottery

DECLARED = {"n": 16, "stratify_by": "wijk"}
FEATURES = (None, "age", "gender", "wijk")


def until_seed(builder=V2Lottery, draw=DECLARED, version: int = 2):
    lot = builder()
    lot.register(register_rows(), chunk_size=20)
    r = lot.seed_round("round-invite", "invitation", PARTIES_1, draw=draw, version=version)
    return lot, r


def test_the_organiser_cannot_choose_the_draws_parameters_after_seeing_the_seed():
    """The attack, in full: with the seed final, search the parameters near the declared ones for
    a draw that leaves out a resident the declared draw invites. Such a draw exists and
    recomputes (it verifies when its round had declared it), but drawn with the round that
    declared other parameters, the verifier refuses it."""
    lot, r = until_seed()
    rows = sorted(register_rows(), key=lambda row: row[0])
    honest = ref_invitation_draw(r.seed, rows, DECLARED["n"], DECLARED["stratify_by"])
    choice = None
    for target in honest:
        for n, feature in itertools.product(range(DECLARED["n"] - 4, DECLARED["n"] + 5), FEATURES):
            try:
                tried = ref_invitation_draw(r.seed, rows, n, feature)
            except RefShort:
                continue
            if target not in tried:
                choice = target, n, feature
                break
        if choice:
            break
    assert choice is not None, "the attack found no parameters to exploit"
    target, n, feature = choice
    assert (n, feature) != (DECLARED["n"], DECLARED["stratify_by"])

    lot.invite(r, n, feature)
    assert target not in lot.invitees
    drawn = find(lot, "lottery.invitations.drawn")
    fails(lot, drawn, "draw_parameters", "does not use the parameters its round declared",
          "round-invite")

    # The same chosen draw, declared before the seed, verifies: only the declaration refuses it.
    fair, r2 = until_seed(draw={"n": n, "stratify_by": feature})
    assert r2.seed == r.seed
    fair.invite(r2, n, feature)
    assert fair.verify().ok, fair.verify().failure


@pytest.mark.parametrize("builder", [Lottery, V2Lottery])
@pytest.mark.parametrize("n, feature, fragment", [
    (15, "wijk", "n 15 instead of the declared 16"),
    (16, None, "stratify_by None instead of the declared 'wijk'"),
    (16, "gender", "stratify_by 'gender' instead of the declared 'wijk'"),
])
def test_a_draw_with_other_parameters_than_declared_fails(builder, n, feature, fragment):
    lot, r = until_seed(builder)
    drawn = lot.invite(r, n, feature)
    fails(lot, drawn, "draw_parameters", fragment)


def test_the_declared_draw_verifies_under_both_contracts():
    for builder in (Lottery, V2Lottery):
        lot, r = until_seed(builder)
        lot.invite(r, DECLARED["n"], DECLARED["stratify_by"])
        result = lot.verify()
        assert result.ok, result.failure
        assert result.warnings == []


def test_a_contract_2_log_whose_invitation_round_is_v1_fails():
    lot, r = until_seed(V2Lottery, version=1)
    drawn = lot.invite(r, 16, "wijk")
    fails(lot, drawn, "draw_parameters", "v1 round that declares no draw parameters",
          "register contract 2")


def test_a_contract_1_log_whose_invitation_round_is_v1_verifies_with_a_warning():
    lot, r = until_seed(Lottery, version=1)
    lot.invite(r, 16, "wijk")
    result = lot.verify()
    assert result.ok, result.failure
    assert any("v1 round that declared no draw parameters" in w for w in result.warnings)


@pytest.mark.parametrize("draw, fragment", [
    ({"n": 0, "stratify_by": None}, "n must be an integer from 1"),
    ({"n": True, "stratify_by": None}, "n must be an integer from 1"),
    ({"n": MAX_N + 1, "stratify_by": None}, "n must be an integer from 1"),
    ({"n": 3}, "exactly"),
    ({"n": 3, "stratify_by": None, "extra": 1}, "exactly"),
    ({"n": 3, "stratify_by": "Wijk"}, "stratify_by must be a feature name"),
    (None, "an invitation round declares its draw's parameters"),
    ([24, "wijk"], "exactly"),
])
def test_a_malformed_declaration_fails_at_the_round(draw, fragment):
    lot, _ = until_seed(draw=draw)
    fails(lot, find(lot, "lottery.seed.round_opened"), "lottery_event", fragment)


def test_a_v2_invitation_round_without_a_draw_member_fails():
    lot, _ = until_seed()
    opened = find(lot, "lottery.seed.round_opened")
    type_, payload, t = lot.items[opened]
    lot.items[opened] = (type_, {k: v for k, v in payload.items() if k != "draw"}, t)
    fails(lot, opened, "lottery_event", "has the member draw")


def test_a_panel_round_declares_no_draw():
    lot = Lottery()
    lot.open_round("p", "panel", ["a"], draw={"n": 3, "stratify_by": None})
    fails(lot, 0, "lottery_event", "a panel round declares no draw parameters")
    ok = Lottery()
    ok.open_round("p", "panel", ["a"])             # draw: null
    assert ok.items[0][1]["draw"] is None and ok.verify().ok
    absent = Lottery()
    absent.open_round("p", "panel", ["a"])
    tamper(absent, 0)
    del absent.items[0][1]["draw"]                  # draw absent is read as null
    assert absent.verify().ok


def test_a_round_opened_v3_is_not_read():
    lot, _ = until_seed()
    opened = tamper(lot, find(lot, "lottery.seed.round_opened"), v=3)
    fails(lot, opened, "lottery_event", "unsupported lottery.seed.round_opened payload version 3")


# --- the pure rule (g1000_proofs.draw_parameters), which the service applies too ------------------

declarations = st.fixed_dictionaries({"n": st.integers(1, MAX_N),
                                      "stratify_by": st.sampled_from(FEATURES)})


@given(declared=declarations, n=st.integers(1, MAX_N), feature=st.sampled_from(FEATURES))
def test_mismatch_is_none_exactly_for_the_declared_parameters(declared, n, feature):
    assert declaration_problem("invitation", declared) is None
    same = (n, feature) == (declared["n"], declared["stratify_by"])
    assert (mismatch(declared, n, feature) is None) == same


def test_a_boolean_n_is_not_the_declared_1():
    assert mismatch({"n": 1, "stratify_by": None}, True, None) is not None
