"""``g1000-verify draw``, properties: whatever the register, parties and weights, an honest log
verifies and its draws reproduce bit for bit the independent reference (tests/support/draw_reference.py);
changing any single invitee, revealed value or drawn index is caught at that entry."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.support.draw_reference import (
    RefShort,
    ref_invitation_draw,
    ref_panel_draw,
    ref_seed,
    registers,
)
from tests.support.lottery_logs import Lottery, find, tamper, valid_panels

PROPS = settings(max_examples=60, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

VALUES = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12)


@st.composite
def seed_rounds(draw_, purpose: str = "invitation"):
    """Committing parties with values, which of them stay silent, and public values."""
    parties = draw_(st.lists(st.sampled_from(["gemeente", "krant", "uni", "raad", "été"]),
                             min_size=1, max_size=4, unique=True))
    values = {party: draw_(VALUES) for party in parties}
    silent = set(draw_(st.lists(st.sampled_from(parties), unique=True, max_size=len(parties))))
    publics = draw_(st.lists(st.tuples(st.sampled_from(["notaris", "drand"]),
                                       st.sampled_from(["dice", "beacon"]), VALUES),
                             max_size=2, unique_by=lambda p: p[0]))
    assume(len(silent) < len(parties) or publics)
    return values, silent, publics


def invitation_log(rows, round_spec, n, stratify_by):
    values, silent, publics = round_spec
    lot = Lottery()
    lot.register(rows, chunk_size=7)
    r = lot.seed_round("r1", "invitation", values, publics=publics, silent=silent)
    try:
        ref_invitation_draw(r.seed, rows, n, stratify_by)
    except RefShort:
        assume(False)
    lot.invite(r, n, stratify_by)
    return lot, r


@PROPS
@given(rows=registers(max_rows=30), spec=seed_rounds(), data=st.data(), stratified=st.booleans())
def test_invitation_draws_reproduce_bit_for_bit(rows, spec, data, stratified):
    households = len({row[1] for row in rows})
    n = data.draw(st.integers(1, households))
    lot, r = invitation_log(rows, spec, n, "s" if stratified else None)
    result = lot.verify()
    assert result.failure is None, result.failure
    values, silent, publics = spec
    expected = [{"party": p, "value": v, "kind": "commit-reveal"}
                for p, v in values.items() if p not in silent]
    expected += [{"party": p, "value": v, "kind": k} for p, k, v in publics]
    assert result.seeds[0]["seed"] == ref_seed(lot.summit_id, expected).hex()
    assert sorted(result.seeds[0]["not_revealed"]) == sorted(silent)
    assert len(result.warnings) == len(silent)
    assert result.counts["invitees"] == n
    assert lot.items[-1][1]["invitees"] == ref_invitation_draw(r.seed, rows, n,
                                                               "s" if stratified else None)


@PROPS
@given(rows=registers(min_rows=2, max_rows=30), spec=seed_rounds(), data=st.data())
def test_any_changed_invitee_is_caught(rows, spec, data):
    households = len({row[1] for row in rows})
    n = data.draw(st.integers(1, households))
    lot, _ = invitation_log(rows, spec, n, None)
    invitees = list(lot.items[-1][1]["invitees"])
    position = data.draw(st.integers(0, n - 1))
    other = data.draw(st.sampled_from([row[0] for row in rows if row[0] != invitees[position]]))
    if other in invitees:
        j = invitees.index(other)
        invitees[position], invitees[j] = invitees[j], invitees[position]
    else:
        invitees[position] = other
    tamper(lot, len(lot.items) - 1, invitees=invitees)
    failure = lot.verify().failure
    assert (failure.check, failure.index) == ("invitations", lot.index(-1))


@PROPS
@given(rows=registers(max_rows=12), spec=seed_rounds(), data=st.data())
def test_any_changed_revealed_value_is_caught(rows, spec, data):
    values, silent, publics = spec
    assume(len(silent) < len(values))
    lot, _ = invitation_log(rows, spec, 1, None)
    party = data.draw(st.sampled_from([p for p in values if p not in silent]))
    position = find(lot, "lottery.seed.contributed", contribution={
        "party": party, "value": values[party], "kind": "commit-reveal"})
    forged = data.draw(VALUES.filter(lambda v: v != values[party]))
    tamper(lot, position, contribution={"party": party, "value": forged, "kind": "commit-reveal"})
    failure = lot.verify().failure
    assert (failure.check, failure.index) == ("reveal", lot.index(position))


@st.composite
def pools(draw_):
    size = draw_(st.integers(3, 9))
    households = draw_(st.integers(2, size))
    members = [(f"m{i}", f"h{draw_(st.integers(0, households - 1))}",
                {"g": draw_(st.sampled_from("fm"))}) for i in range(size)]
    assume(len({m[1] for m in members}) >= 2)
    return members


@PROPS
@given(members=pools(), spec=seed_rounds(), data=st.data())
def test_panel_draws_reproduce_bit_for_bit(members, spec, data):
    values, silent, publics = spec
    lot = Lottery()
    for member in members:
        lot.add_member("nominees", member)
    panels = valid_panels(members, 2, {}, data.draw(st.integers(1, 6)))
    assume(panels)
    weights = data.draw(st.lists(st.integers(1, 2**40), min_size=len(panels),
                                 max_size=len(panels)))
    distribution_id = data.draw(st.sampled_from(["d", "dist/é", "stakeholders-employers"]))
    lot.distribution(distribution_id, "nominees", 2, {}, panels, weights, chunk_size=2)
    r = lot.seed_round("r2", "panel", values, publics=publics, silent=silent)
    drawn = lot.draw_panel(distribution_id, r)
    result = lot.verify()
    assert result.failure is None, result.failure
    index = ref_panel_draw(r.seed, distribution_id, weights)
    assert result.draws[0]["panel_index"] == index
    assert result.draws[0]["members"] == sorted(panels[index])
    if len(panels) > 1:
        other = (index + 1) % len(panels)
        tamper(lot, drawn, index=other, members=sorted(panels[other]))
        failure = lot.verify().failure
        assert (failure.check, failure.index) == ("panel_draw", lot.index(drawn))
