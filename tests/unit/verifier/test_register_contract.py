"""Register contract 2 (g1000_proofs.register): the golden vector and the properties it promises.

The golden file ``golden/register_v2.json`` pins the commitment, leaf and root encoding for fixed
salts; it is checked against the module and against a transcription of the docstring in
``hashlib``/``json`` below.  The properties: a reveal opens only its own commitment; the walk over
revealed households re-derives exactly the invitees of ``invitation_draw`` on the full rows
(stratified and not) and needs nothing beyond the rows it reached; a missing reveal is an error,
never a placeholder household.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs import draw, register
from g1000_proofs.draw import Row
from tests.support.draw_reference import ref_jcs, registers, seeds

GOLDEN = json.loads((Path(__file__).parent / "golden" / "register_v2.json").read_text("utf-8"))
FAST = settings(max_examples=150, deadline=None, database=None)


def _ref_household(pseudonym: str, household: str, salt: bytes) -> str:
    return hashlib.sha256(b"g1000/register/v2/household\x00" + salt
                          + ref_jcs([pseudonym, household])).hexdigest()


def _ref_feature(pseudonym: str, name: str, value: str, salt: bytes) -> str:
    return hashlib.sha256(b"g1000/register/v2/feature\x00" + salt
                          + ref_jcs([pseudonym, name, value])).hexdigest()


def _salts(row: Row, tag: bytes = b"") -> tuple[bytes, dict[str, bytes]]:
    def salt(what: str) -> bytes:
        return hashlib.sha256(tag + f"{row.pseudonym}/{what}".encode()).digest()[:16]
    return salt("household"), {name: salt("f:" + name) for name in row.features}


# --- golden vector ------------------------------------------------------------------------------


@pytest.mark.parametrize("item", GOLDEN["rows"], ids=lambda item: item["pseudonym"])
def test_golden_commitments_and_leaves(item):
    row = Row(item["pseudonym"], item["household"], item["features"])
    household_salt = bytes.fromhex(item["household_salt"])
    feature_salts = {n: bytes.fromhex(s) for n, s in item["feature_salts"].items()}
    committed = register.commit_row(row, household_salt, feature_salts)
    assert register.committed_row_json(committed)["commitments"] == item["commitments"]
    assert register.canonical_committed_row(committed) == item["leaf"].encode()
    assert hashlib.sha256(b"\x00" + item["leaf"].encode()).hexdigest() == item["leaf_hash"]
    # the docstring, transcribed
    assert _ref_household(row.pseudonym, row.household, household_salt) == item["commitments"]["household"]
    for name, value in row.features.items():
        assert _ref_feature(row.pseudonym, name, value, feature_salts[name]) == \
            item["commitments"]["features"][name]
    assert ref_jcs({"pseudonym": row.pseudonym, "commitments": item["commitments"]}) == item["leaf"].encode()
    assert register.committed_row_from_json(json.loads(item["leaf"])) == committed


def test_golden_root_is_over_rows_sorted_by_pseudonym():
    rows = [register.committed_row_from_json({"pseudonym": i["pseudonym"], "commitments": i["commitments"]})
            for i in GOLDEN["rows"]]
    assert register.register_root(rows) == (GOLDEN["count"], bytes.fromhex(GOLDEN["root"]))
    assert register.register_root(reversed(rows)) == (GOLDEN["count"], bytes.fromhex(GOLDEN["root"]))
    register.verify_register_root(rows, GOLDEN["count"], bytes.fromhex(GOLDEN["root"]))
    with pytest.raises(register.RegisterRootMismatchError):
        register.verify_register_root(rows[1:], GOLDEN["count"], bytes.fromhex(GOLDEN["root"]))


# --- a reveal opens only its own commitment -----------------------------------------------------


values = st.text(min_size=1, max_size=12)


@FAST
@given(p=values, q=values, h=values, h2=values, name=st.sampled_from(["age", "area"]),
       salt=st.binary(min_size=16, max_size=16), salt2=st.binary(min_size=16, max_size=16))
def test_a_reveal_opens_only_its_own_commitment(p, q, h, h2, name, salt, salt2):
    mine = register.commit_row(Row(p, h, {name: h}), salt, {name: salt})
    register.check_household_opening(mine, h, salt)
    register.check_feature_opening(mine, name, h, salt)
    if (q, h2, salt2) != (p, h, salt):
        # the reveal (p, h, salt) held against another row's commitments: it opens none of them
        other = register.commit_row(Row(q, h2, {name: h2}), salt2, {name: salt2})
        moved = register.CommittedRow(p, other.household, other.features)
        with pytest.raises(register.OpeningMismatchError):
            register.check_household_opening(moved, h, salt)
        with pytest.raises(register.OpeningMismatchError):
            register.check_feature_opening(moved, name, h, salt)
    if h2 != h:
        with pytest.raises(register.OpeningMismatchError):
            register.check_household_opening(mine, h2, salt)       # another value
    if salt2 != salt:
        with pytest.raises(register.OpeningMismatchError):
            register.check_household_opening(mine, h, salt2)       # another salt
    # domain separation: the same value and salt never open the other kind of commitment
    assert register.feature_commitment(p, "household", h, salt) != \
        register.household_commitment(p, h, salt)
    with pytest.raises(register.OpeningMismatchError):
        register.check_feature_opening(mine, "other", h, salt)      # no such feature


def test_salts_are_128_bits():
    with pytest.raises(draw.DrawInputError):
        register.household_commitment("p", "h", b"\x00" * 15)
    with pytest.raises(draw.DrawInputError):
        register.commit_row(Row("p", "h", {"a": "b"}), b"\x00" * 16, {})


# --- the reached set re-derives the draw --------------------------------------------------------


@FAST
@given(seed=seeds(), rows=registers(), data=st.data(), stratified=st.booleans())
def test_reached_rows_rederive_invitation_draw_and_need_nothing_else(seed, rows, data, stratified):
    n = data.draw(st.integers(1, len(rows)))
    stratify_by = "s" if stratified else None
    try:
        expected = draw.invitation_draw(seed, rows, n, stratify_by=stratify_by)
    except draw.DrawImpossibleError:
        with pytest.raises(draw.DrawImpossibleError):
            register.reveal_plan(seed, rows, n, stratify_by)
        return
    plan = register.reveal_plan(seed, rows, n, stratify_by)
    assert plan.invitees == expected
    assert set(expected) <= set(plan.household_rows) and len(set(plan.household_rows)) == len(plan.household_rows)
    assert plan.feature_rows == (sorted(r.pseudonym for r in rows) if stratified else [])
    by_name = {r.pseudonym: r for r in rows}
    # the verifier's side: only the reached households, in any pseudonym order
    households = {p: by_name[p].household for p in plan.household_rows}
    strata = {p: by_name[p].features["s"] for p in by_name} if stratified else None
    names = data.draw(st.permutations(list(by_name)))
    walk = register.reached_rows(seed, names, n, households, stratify_by=stratify_by, strata=strata)
    assert walk.invitees == expected and walk.reached == plan.household_rows
    # a missing reveal of any reached row is an error naming a reached row, never a guess
    missing = data.draw(st.sampled_from(plan.household_rows))
    fewer = {p: h for p, h in households.items() if p != missing}
    with pytest.raises(register.UnrevealedRowError) as caught:
        register.reached_rows(seed, names, n, fewer, stratify_by=stratify_by, strata=strata)
    assert caught.value.pseudonym in plan.household_rows


@FAST
@given(seed=seeds(), rows=registers(min_rows=8), data=st.data())
def test_unstratified_small_draws_reach_few_rows(seed, rows, data):
    """Only the walk's prefix is revealed: a draw of one reaches exactly one row."""
    plan = register.reveal_plan(seed, rows, 1)
    assert plan.household_rows == plan.invitees and len(plan.invitees) == 1


def test_committed_row_json_is_checked():
    good = {"pseudonym": "p", "commitments": {"household": "0" * 64, "features": {"a": "1" * 64}}}
    assert register.committed_row_from_json(good).features == {"a": "1" * 64}
    for bad in ({**good, "household": "h"},
                {"pseudonym": "p", "commitments": {"household": "0" * 63, "features": {}}},
                {"pseudonym": "p", "commitments": {"household": "0" * 64, "features": {"a": "A" * 64}}},
                {"pseudonym": "", "commitments": good["commitments"]}):
        with pytest.raises(draw.DrawInputError):
            register.committed_row_from_json(bad)
