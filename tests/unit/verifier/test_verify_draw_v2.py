"""``g1000-verify draw`` on register contract 2 logs: commitments, reveals, the draw from them.

:class:`V2Lottery` (tests/support/lottery_logs_v2.py) writes the register as the lottery service
must under contract 2, with independent transcriptions of the contract, so an honest log verifying
means the verifier agrees with the contract.
Each failure test changes one fact and asserts the check, the first failing entry and a reason.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.draw_reference import RefShort, registers
from tests.support.log_builder import LOG_VKEY, build_log
from tests.support.lottery_logs import Lottery, fails, find, honest_lottery, run
from tests.support.lottery_logs_v2 import REVEALED, V2Lottery, lottery_until_draw, opening


@pytest.fixture(scope="module")
def honest2():
    return honest_lottery(lottery=V2Lottery)


def test_an_honest_v2_lottery_verifies(honest2):
    result = honest2.verify()
    assert result.ok, result.failure
    reveals = sum(len(p["openings"]) for t, p, _ in honest2.items if t == REVEALED)
    assert result.counts["register_reveals"] == reveals == len(honest2.rows) + len(honest2.reached)
    assert result.counts["register_rows"] == 48 and result.counts["panel_draws"] == 2
    assert 24 <= len(honest2.reached) < 48      # the walk stopped early: some households stay hidden


def test_a_v2_log_discloses_nothing_of_unreached_rows(honest2):
    """Only the reached rows' households and the stratum feature are ever in the clear."""
    reached = set(honest2.reached)
    disclosed = {}
    for type_, payload, _ in honest2.items:
        if type_ == "lottery.register.chunk":
            assert all(set(row) == {"pseudonym", "commitments"} for row in payload["rows"])
        elif type_ == REVEALED:
            for o in payload["openings"]:
                disclosed.setdefault(o["pseudonym"], set()).add(payload["feature"] or "household")
        elif type_ == "lottery.pool.member_added" and payload["pool"] == "respondents":
            disclosed.setdefault(payload["member"]["pseudonym"], set()).add("respondent")
    for pseudonym, what in disclosed.items():
        assert pseudonym in reached or what == {"wijk"}, (pseudonym, what)
    hidden = {h for p, h, _ in honest2.rows} - {h for p, h, _ in honest2.rows if p in reached}
    assert hidden, "the test register should keep some household unreached"
    text = json.dumps([payload for _, payload, _ in honest2.items])
    assert not any(f'"{h}"' in text for h in hidden)


def test_cli_draw_verifies_a_v2_bundle(capsys, honest2, tmp_path):
    bundle = build_log(honest2.events()).write(tmp_path / "summit.ndjson")
    code, out, _ = run(capsys, "draw", str(bundle), "--json", "--log-key", LOG_VKEY)
    assert code == 0, out
    assert json.loads(out)["draw"]["checked"]["register_reveals"] > 0


def test_cli_draw_fails_a_v2_bundle_with_a_forged_reveal(capsys, tmp_path):
    lot = honest_lottery(lottery=V2Lottery)
    position = find(lot, REVEALED, field="household")
    lot.items[position][1]["openings"][0]["value"] = "h99"
    bundle = build_log(lot.events()).write(tmp_path / "summit.ndjson")
    code, out, _ = run(capsys, "draw", str(bundle), "--json", "--log-key", LOG_VKEY)
    assert code == 1 and json.loads(out)["failure"]["check"] == "register_reveal"


# --- one fact wrong -----------------------------------------------------------------------------


def _reveal_of(lot: Lottery, pseudonym: str, field: str = "household") -> tuple[int, int]:
    for position, (type_, payload, _) in enumerate(lot.items):
        if type_ == REVEALED and (payload["feature"] or "household") == field:
            for i, o in enumerate(payload["openings"]):
                if o["pseudonym"] == pseudonym:
                    return position, i
    raise LookupError(pseudonym)


def drop_reveal(lot: Lottery, pseudonym: str, field: str = "household") -> None:
    """Leave one opening out (and its chunk, when it was alone), chunk numbers kept consecutive."""
    position, i = _reveal_of(lot, pseudonym, field)
    del lot.items[position][1]["openings"][i]
    if not lot.items[position][1]["openings"]:
        del lot.items[position]
        chunk = 0
        for type_, payload, _ in lot.items:
            if type_ == REVEALED:
                payload["chunk"], chunk = chunk, chunk + 1


def test_a_missing_household_reveal_fails():
    lot = lottery_until_draw()
    drop_reveal(lot, lot.invitees[-1])
    fails(lot, -1, "register_reveal", "whose household is not revealed")


def test_a_missing_stratum_reveal_fails():
    lot = lottery_until_draw()
    unreached = next(p for p, _, _ in lot.rows if p not in lot.reached)
    drop_reveal(lot, unreached, "wijk")
    fails(lot, -1, "register_reveal", f"the value of row {unreached!r} is not revealed")


@pytest.mark.parametrize("member, value", [("value", "h99"), ("salt", "00" * 16)])
def test_a_reveal_that_does_not_open_its_commitment_fails(member, value):
    lot = lottery_until_draw()
    position, i = _reveal_of(lot, lot.invitees[0])
    lot.items[position][1]["openings"][i][member] = value
    fails(lot, position, "register_reveal", "does not open its commitment")


def test_a_reveal_moved_to_another_row_fails():
    lot = lottery_until_draw()
    position, i = _reveal_of(lot, lot.invitees[0])
    other = next(p for p, _, _ in lot.rows if p not in lot.reached)
    openings = lot.items[position][1]["openings"]
    openings[i]["pseudonym"] = other
    openings.sort(key=lambda o: o["pseudonym"])
    fails(lot, position, "register_reveal", "does not open its commitment")


def test_revealing_an_unreached_household_fails_even_when_it_opens():
    lot = lottery_until_draw()
    by_name = {row[0]: row for row in lot.rows}
    extra = next(p for p, _, _ in lot.rows if p not in lot.reached)
    positions = [i for i, (t, p, _) in enumerate(lot.items) if t == REVEALED and p["field"] == "household"]
    merged = sorted([o for i in positions for o in lot.items[i][1]["openings"]]
                    + [opening(by_name[extra], "household")], key=lambda o: o["pseudonym"])
    for i in positions:     # the same chunks, one opening more in the last: still in order
        size = len(lot.items[i][1]["openings"]) + (i == positions[-1])
        lot.items[i][1]["openings"], merged = merged[:size], merged[size:]
    fails(lot, -1, "register_reveal", f"the household of row {extra!r} is revealed, but the draw "
          "does not reach it")


def test_revealing_a_feature_an_unstratified_draw_does_not_need_fails():
    lot = lottery_until_draw(stratify_by=None)
    row = lot.rows[0]
    lot.items.insert(len(lot.items) - 1, (REVEALED, {
        "v": 1, "register_id": lot.register_id, "draw_id": "inv-1",
        "chunk": sum(1 for t, _, _ in lot.items if t == REVEALED), "field": "feature",
        "feature": "age", "openings": [opening(row, "age")]}, lot.items[-1][2] - 1))
    fails(lot, -1, "register_reveal", "feature 'age' is revealed, but the draw is not stratified")


def test_a_second_reveal_of_one_row_fails():
    lot = lottery_until_draw()
    position, i = _reveal_of(lot, lot.invitees[0])
    payload = lot.items[position][1]
    lot.items.insert(len(lot.items) - 1, (REVEALED, {
        **payload, "chunk": sum(1 for t, _, _ in lot.items if t == REVEALED),
        "openings": [payload["openings"][i]]}, lot.items[-1][2] - 1))
    fails(lot, -2, "register_reveal", "revealed a second time")


def test_a_reveal_of_no_register_row_or_after_the_draw_fails():
    lot = lottery_until_draw()
    position, i = _reveal_of(lot, lot.invitees[0])
    lot.items[position][1]["openings"][i]["pseudonym"] = "zz-nobody"
    lot.items[position][1]["openings"].sort(key=lambda o: o["pseudonym"])
    fails(lot, position, "register_reveal", "which is not a register row")
    lot = lottery_until_draw()
    late = lot.add(REVEALED, {"register_id": lot.register_id, "draw_id": "inv-1", "chunk": 99,
                              "field": "household", "feature": None,
                              "openings": [opening(lot.rows[0], "household")]})
    fails(lot, late, "register_reveal", "after the invitation draw")


def test_a_respondent_with_another_household_than_revealed_fails():
    lot = lottery_until_draw()
    p, _, features = next(row for row in lot.rows if row[0] == lot.invitees[0])
    position = lot.add_member("respondents", (p, "h-elsewhere", features))
    fails(lot, position, "pool", "but the register's household, revealed for the draw, is")


def test_a_changed_commitment_breaks_the_root():
    lot = lottery_until_draw()
    position = find(lot, "lottery.register.chunk")
    lot.items[position][1]["rows"][0]["commitments"]["household"] = "ab" * 32
    fails(lot, find(lot, "lottery.register.committed"), "register", "root does not recompute")


def test_v1_rows_in_a_v2_register_fail():
    lot = lottery_until_draw()
    position = find(lot, "lottery.register.chunk", chunk=1)
    lot.items[position] = ("lottery.register.chunk", {**lot.items[position][1], "v": 1,
                           "rows": [{"pseudonym": "p999", "household": "h", "features": {}}]},
                           lot.items[position][2])
    fails(lot, position, "register", "a v1 register chunk among v2 chunks")


# --- property: any needed reveal missing fails; the honest log verifies -------------------------


@settings(max_examples=30, deadline=None, database=None)
@given(rows=registers(min_rows=2, max_rows=24), data=st.data(), stratified=st.booleans(),
       value=st.text("0123456789abcdef", min_size=1, max_size=8))
def test_a_log_missing_any_needed_reveal_fails(rows, data, stratified, value):
    lot = V2Lottery()
    lot.register([(r.pseudonym, r.household, dict(r.features)) for r in rows])
    r1 = lot.seed_round("round-invite", "invitation", {"gemeente": value})
    n = data.draw(st.integers(1, len({r.household for r in rows})))
    try:
        lot.invite(r1, n, "s" if stratified else None)
    except RefShort:
        return      # a stratum runs short: the lottery refuses the draw and logs nothing
    result = lot.verify()
    assert result.ok, result.failure
    needed = [(p, "household") for p in lot.reached] + ([(p, "s") for p, _, _ in lot.rows] if stratified else [])
    pseudonym, field = data.draw(st.sampled_from(needed))
    drop_reveal(lot, pseudonym, field)
    result = lot.verify()
    assert not result.ok and result.failure.check == "register_reveal", result.failure
