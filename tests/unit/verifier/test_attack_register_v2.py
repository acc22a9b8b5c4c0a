"""A dishonest lottery against ``g1000-verify draw`` under register contract 2 (issue 10 H3).

Attacks not covered by test_verify_draw_v2.py, each built with its honest V2Lottery builder and
one change an operator could make: what the verifier refuses, and what it reports.
"""

from __future__ import annotations

import pytest

from tests.support import lottery_logs_v2 as v2
from tests.support.lottery_logs import PARTIES_1, fails, find, register_rows
from tests.support.lottery_logs_v2 import REVEALED, V2Lottery, lottery_until_draw, opening


def reveal_positions(lot) -> list[int]:
    return [i for i, (t, _, _) in enumerate(lot.items) if t == REVEALED]


def test_a_salt_used_for_every_commitment_is_refused(monkeypatch):
    """A broken generator (one salt for all): the stratum reveal hands out the salt of every
    hidden commitment, so the unrevealed households and features open by trial; refused."""
    monkeypatch.setattr(v2, "ref_salt", lambda pseudonym, what: b"\x07" * 16)
    lot = lottery_until_draw()
    fails(lot, reveal_positions(lot)[0], "register_reveal", "was revealed before",
          "fresh salt")


def test_a_row_whose_household_and_stratum_share_a_salt_is_refused(monkeypatch):
    honest = v2.ref_salt
    lot0 = lottery_until_draw()
    victim = lot0.invitees[0]
    monkeypatch.setattr(v2, "ref_salt", lambda p, what: honest(p, "wijk") if p == victim
                        else honest(p, what))
    lot = lottery_until_draw()
    position = next(i for i in reveal_positions(lot) if lot.items[i][1]["field"] == "household"
                    and any(o["pseudonym"] == victim for o in lot.items[i][1]["openings"]))
    fails(lot, position, "register_reveal", f"household of {victim!r} was revealed before")


def test_stratum_openings_ordered_by_a_hidden_feature_are_refused(monkeypatch):
    """The all-rows stratum chunk ordered by a feature that stays hidden (age) would publish
    every row's age band through the order alone; openings must ascend by pseudonym."""
    monkeypatch.setattr(V2Lottery, "reveal_chunk", 500)
    lot = lottery_until_draw()
    by_name = {row[0]: row for row in lot.rows}
    position = reveal_positions(lot)[0]
    payload = lot.items[position][1]
    assert payload["field"] == "feature" and len(payload["openings"]) == len(lot.rows)
    payload["openings"].sort(key=lambda o: (by_name[o["pseudonym"]][2]["age"], o["pseudonym"]))
    assert [o["pseudonym"] for o in payload["openings"]] != sorted(by_name)
    fails(lot, position, "register_reveal", "not in ascending pseudonym order")


def test_openings_out_of_order_across_chunks_are_refused():
    lot = lottery_until_draw()
    positions = [i for i in reveal_positions(lot) if lot.items[i][1]["field"] == "feature"]
    assert len(positions) >= 2
    first, second = lot.items[positions[0]][1], lot.items[positions[1]][1]
    first["openings"], second["openings"] = second["openings"], first["openings"]
    fails(lot, positions[1], "register_reveal", "not in ascending pseudonym order")


def test_reveals_with_no_invitation_draw_after_them_are_reported():
    """Reveals of every household and no draw: nothing can bound their scope, so say so."""
    lot = V2Lottery()
    lot.register(register_rows(), chunk_size=20)
    lot.seed_round("round-invite", "invitation", PARTIES_1)
    lot.add(REVEALED, {"register_id": lot.register_id, "draw_id": "inv-1", "chunk": 0,
                       "field": "household", "feature": None,
                       "openings": [opening(row, "household") for row in lot.rows]})
    result = lot.verify()
    assert result.ok, result.failure
    assert any("no invitation draw follows" in w and f"{len(lot.rows)} register values" in w
               for w in result.warnings), result.warnings


def test_an_honest_v2_log_has_no_reveal_warning():
    lot = lottery_until_draw()
    result = lot.verify()
    assert result.ok and not any("no invitation draw follows" in w for w in result.warnings)


def test_a_commitment_copied_to_a_reached_row_cannot_be_opened():
    """The operator gives row B row A's commitments (the root is its own to compute): B's
    household cannot be revealed, since the pseudonym is inside each commitment."""
    lot = lottery_until_draw(stratify_by=None)
    a, b = lot.invitees[0], lot.invitees[1]
    by_name = {row[0]: row for row in lot.rows}
    lot2 = lottery_until_draw(stratify_by=None)
    for t, payload, _ in lot2.items:
        if t == "lottery.register.chunk":
            for row in payload["rows"]:
                if row["pseudonym"] == b:
                    row["commitments"] = v2.ref_commitments(by_name[a])
    # the root no longer recomputes from the honest root; recompute it as the operator would
    committed_at = find(lot2, "lottery.register.committed")
    all_rows = [r for t, p, _ in lot2.items if t == "lottery.register.chunk" for r in p["rows"]]
    root = v2.ref_mth([v2.hashlib.sha256(b"\x00" + v2.ref_jcs(r)).digest() for r in all_rows])
    lot2.items[committed_at][1]["root"] = root.hex()
    position = next(i for i in reveal_positions(lot2)
                    if any(o["pseudonym"] == b for o in lot2.items[i][1]["openings"]))
    fails(lot2, position, "register_reveal", f"household of {b!r}", "does not open")


@pytest.mark.parametrize("stratify_by", ["wijk", None])
def test_a_reveal_for_another_draw_id_than_the_draw_fails(stratify_by):
    lot = lottery_until_draw(stratify_by=stratify_by)
    for position in reveal_positions(lot):
        lot.items[position][1]["draw_id"] = "inv-other"
    fails(lot, -1, "register_reveal", "the reveals are for invitation draw inv-other")


# The attack on the draw's parameters (chosen after the seed) is test_verify_draw_parameters.py's
# test_the_organiser_cannot_choose_the_draws_parameters_after_seeing_the_seed.
