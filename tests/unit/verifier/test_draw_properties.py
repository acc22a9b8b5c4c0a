"""Property tests for g1000_proofs.draw (docs/architecture.md §6).

Each property is stated in the contract's words and checked on generated registers; where a
property is "the module computes what the contract says", the independent ``ref_*`` functions of
tests/support/draw_reference.py are the oracle.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from g1000_proofs import draw
from g1000_proofs.draw import Row
from g1000_proofs.errors import ProofError
from tests.support.draw_reference import (
    ref_households_ok,
    ref_next_reserve,
    ref_quotas_ok,
    ref_R,
    registers,
    seeds,
)

FAST = settings(max_examples=150, deadline=None, database=None)
FIXED_SEEDS = [hashlib.sha256(b"g1000 fixed seed %d" % i).digest() for i in range(40)]


def _households(rows):
    return len({row.household for row in rows})


# --- Invitation draw ----------------------------------------------------------------------------


@FAST
@given(seed=seeds(), rows=registers(), data=st.data(), stratified=st.booleans())
def test_draw_reproduces_bit_for_bit_whatever_the_row_order(seed, rows, data, stratified):
    n = data.draw(st.integers(1, _households(rows)))
    shuffled = data.draw(st.permutations(rows))
    by = "s" if stratified else None
    try:
        first = draw.invitation_draw(seed, rows, n, stratify_by=by)
    except draw.StratumExhaustedError as error:
        with pytest.raises(draw.StratumExhaustedError) as again:
            draw.invitation_draw(seed, shuffled, n, stratify_by=by)
        assert (again.value.value, again.value.drawn) == (error.value, error.drawn)
        return
    assert draw.invitation_draw(seed, rows, n, stratify_by=by) == first
    assert draw.invitation_draw(seed, shuffled, n, stratify_by=by) == first


@FAST
@given(seed=seeds(), rows=registers(max_households=8), data=st.data(), stratified=st.booleans())
def test_never_two_invitees_of_one_household(seed, rows, data, stratified):
    n = data.draw(st.integers(1, _households(rows)))
    try:
        drawn = draw.invitation_draw(seed, rows, n, stratify_by="s" if stratified else None)
    except draw.StratumExhaustedError:
        assume(False)
    by_pseudonym = {row.pseudonym: row for row in rows}
    households = [by_pseudonym[p].household for p in drawn]
    assert len(drawn) == n and len(set(drawn)) == n
    assert len(set(households)) == n


@FAST
@given(seed=seeds(), rows=registers(), data=st.data())
def test_unstratified_draw_is_the_household_filtered_prefix_of_the_order(seed, rows, data):
    n = data.draw(st.integers(1, _households(rows)))
    drawn = draw.invitation_draw(seed, rows, n)
    order = sorted(rows, key=lambda r: (ref_R(seed, "invite/" + r.pseudonym), r.pseudonym))
    last = [r.pseudonym for r in order].index(drawn[-1])
    seen = set()
    expected = []
    for row in order[:last + 1]:
        if row.household not in seen:
            seen.add(row.household)
            expected.append(row.pseudonym)
    assert drawn == expected


@FAST
@given(seed=seeds(), rows=registers(max_households=40), data=st.data())
def test_stratified_counts_equal_the_apportionment(seed, rows, data):
    n = data.draw(st.integers(1, _households(rows)))
    try:
        drawn = draw.invitation_draw(seed, rows, n, stratify_by="s")
    except draw.StratumExhaustedError:
        assume(False)
    by_pseudonym = {row.pseudonym: row for row in rows}
    counts = {}
    for row in rows:
        counts[row.features["s"]] = counts.get(row.features["s"], 0) + 1
    shares = draw.apportion(n, counts)
    got = {value: 0 for value in counts}
    for p in drawn:
        got[by_pseudonym[p].features["s"]] += 1
    assert got == shares and sum(got.values()) == n
    # strata appear in ascending value order, each contiguous
    values = [by_pseudonym[p].features["s"] for p in drawn]
    assert values == sorted(values)


@FAST
@given(n=st.integers(0, 200), counts=st.lists(st.integers(1, 50), min_size=1, max_size=5))
def test_apportion_is_largest_remainder(n, counts):
    table = dict(zip(["d", "b", "é", "a", "c"], counts))
    total = sum(counts)
    shares = draw.apportion(n, table)
    assert sum(shares.values()) == n and set(shares) == set(table)
    quota = {v: Fraction(n * c, total) for v, c in table.items()}
    for value, seats in shares.items():  # quota rule: floor or ceiling of the exact quota
        assert quota[value] - 1 < seats <= quota[value] + 1
        assert seats in (int(quota[value]), -(-quota[value].numerator // quota[value].denominator))
    # no stratum that got its floor has a larger remainder than one that got its ceiling,
    # and among equal remainders the smaller value in code-point order wins
    up = [v for v in table if shares[v] > quota[v]]
    down = [v for v in table if shares[v] <= quota[v] and quota[v] != int(quota[v])]
    for winner, loser in itertools.product(up, down):
        rw, rl = quota[winner] - int(quota[winner]), quota[loser] - int(quota[loser])
        assert rw > rl or (rw == rl and winner < loser)


def test_apportion_ties_go_to_the_smaller_value_in_code_point_order():
    assert draw.apportion(1, {"b": 1, "a": 1}) == {"a": 1, "b": 0}
    assert draw.apportion(1, {"é": 1, "z": 1}) == {"z": 1, "é": 0}  # U+0065.. < U+00E9
    assert draw.apportion(2, {"Z": 1, "a": 1, "b": 1}) == {"Z": 1, "a": 1, "b": 0}
    assert draw.apportion(5, {"x": 3, "y": 3, "w": 3}) == {"w": 2, "x": 2, "y": 1}


@FAST
@given(seed=seeds(), block=st.integers(2, 6), others=st.integers(1, 10), data=st.data())
def test_a_stratum_short_of_households_raises(seed, block, others, data):
    # stratum "m": `block` rows that all share one household, so at most one can be invited
    rows = [Row(f"m{i}", "shared", {"s": "m"}) for i in range(block)]
    rows += [Row(f"o{i}", f"h{i}", {"s": "o"}) for i in range(others)]
    n = data.draw(st.integers(1, _households(rows)))
    assume(draw.apportion(n, {"m": block, "o": others})["m"] >= 2)
    with pytest.raises(draw.StratumExhaustedError) as raised:
        draw.invitation_draw(seed, rows, n, stratify_by="s")
    assert raised.value.value == "m" and raised.value.drawn == 1
    assert isinstance(raised.value, draw.DrawImpossibleError) and isinstance(raised.value,
                                                                             ProofError)


@pytest.mark.parametrize("seed", FIXED_SEEDS[:10])
def test_a_household_drawn_in_an_earlier_stratum_blocks_it_later(seed):
    # stratum "a" is drawn first and takes its only row, of household H; stratum "b" has only
    # rows of household H, so it must fail rather than borrow from elsewhere
    rows = [Row("a1", "H", {"s": "a"}), Row("b1", "H", {"s": "b"}), Row("b2", "H", {"s": "b"}),
            Row("c1", "K", {"s": "c"}), Row("c2", "L", {"s": "c"})]
    assert draw.apportion(3, {"a": 1, "b": 2, "c": 2}) == {"a": 1, "b": 1, "c": 1}
    with pytest.raises(draw.StratumExhaustedError) as raised:
        draw.invitation_draw(seed, rows, 3, stratify_by="s")
    assert (raised.value.value, raised.value.needed, raised.value.drawn) == ("b", 1, 0)
    # without stratification the same register can give 3 invitees
    assert len(draw.invitation_draw(seed, rows, 3)) == 3


def test_changing_the_seed_changes_the_draw():
    rows = [Row(f"p{i:03d}", f"h{i:03d}", {"s": "ab"[i % 2]}) for i in range(40)]
    for by in (None, "s"):
        draws = {tuple(draw.invitation_draw(s, rows, 10, stratify_by=by)) for s in FIXED_SEEDS}
        assert len(draws) == len(FIXED_SEEDS)
    # even a one-bit change in the seed
    flipped = bytes([FIXED_SEEDS[0][0] ^ 1]) + FIXED_SEEDS[0][1:]
    assert draw.invitation_draw(flipped, rows, 10) != draw.invitation_draw(FIXED_SEEDS[0], rows,
                                                                           10)
    panels = [draw.panel_draw(s, "main", [1] * 1000) for s in FIXED_SEEDS]
    assert len(set(panels)) > 30


# --- Panel draw ---------------------------------------------------------------------------------


@FAST
@given(seed=seeds(), draw_id=st.text(min_size=1, max_size=10, alphabet="abc-/é0123"),
       weights=st.lists(st.integers(1, 10**6), min_size=1, max_size=20))
def test_panel_draw_prefix_sum_property(seed, draw_id, weights):
    i = draw.panel_draw(seed, draw_id, weights)
    u = ref_R(seed, "panel/" + draw_id) % sum(weights)
    assert 0 <= i < len(weights)
    assert sum(weights[:i]) <= u < sum(weights[:i + 1])
    assert draw.panel_draw(seed, draw_id, weights) == i


def test_panel_draw_single_panel_and_label_domain():
    assert draw.panel_draw(FIXED_SEEDS[0], "x", [7]) == 0
    # the label is "panel/" + draw_id, not the draw id alone
    weights = [1] * 997
    got = [draw.panel_draw(s, "x", weights) for s in FIXED_SEEDS]
    assert got == [ref_R(s, "panel/x") % 997 for s in FIXED_SEEDS]
    assert got != [ref_R(s, "x") % 997 for s in FIXED_SEEDS]


# --- Quotas, households, replacement ------------------------------------------------------------


@st.composite
def panels(draw_):
    """A panel, reserves, quotas around the panel's own counts, and a dropped member."""
    people = []
    size = draw_(st.integers(2, 30))
    households = draw_(st.integers(1, size))
    for i in range(size):
        people.append(Row(f"q{i}", f"h{draw_(st.integers(0, households - 1))}",
                          {"g": draw_(st.sampled_from("fm")), "a": draw_(st.sampled_from("yo"))}))
    panel_size = draw_(st.integers(1, size - 1))
    panel = people[:panel_size]
    reserves = people[panel_size:]
    quotas = {}
    for feature, values in (("g", "fm"), ("a", "yo")):
        if draw_(st.booleans()):
            table = {}
            for value in values:
                have = sum(1 for p in panel if p.features[feature] == value)
                low = max(0, have - draw_(st.integers(0, 2)))
                table[value] = (low, have + draw_(st.integers(0, 2)))
            quotas[feature] = table
    dropped = panel[draw_(st.integers(0, panel_size - 1))]
    return panel, reserves, quotas, dropped


@FAST
@given(seed=seeds(), case=panels())
def test_replacement_keeps_quotas_or_returns_none(seed, case):
    panel, reserves, quotas, dropped = case
    chosen = draw.next_reserve(seed, reserves, panel, quotas, dropped)
    expected = ref_next_reserve(seed, [tuple(r) for r in reserves], [tuple(r) for r in panel],
                                quotas, tuple(dropped))
    assert (tuple(chosen) if chosen else None) == expected
    remaining = [m for m in panel if m.pseudonym != dropped.pseudonym]
    eligible = [r for r in reserves
                if not draw.check_quotas(remaining + [r], quotas)
                and not draw.check_households(remaining + [r])]
    if chosen is None:
        assert eligible == []
    else:
        assert chosen in eligible
        assert draw.check_quotas(remaining + [chosen], quotas) == []
        assert draw.check_households(remaining + [chosen]) == []
        rank = {r.pseudonym: ref_R(seed, "reserve/" + r.pseudonym) for r in reserves}
        assert rank[chosen.pseudonym] == min(rank[r.pseudonym] for r in eligible)
    shuffled = list(reversed(reserves))
    assert draw.next_reserve(seed, shuffled, panel, quotas, dropped) == chosen


@FAST
@given(case=panels())
def test_check_quotas_and_households_agree_with_plain_counting(case):
    panel, _, quotas, _ = case
    assert (draw.check_quotas(panel, quotas) == []) == ref_quotas_ok(
        [tuple(r) for r in panel], quotas)
    assert (draw.check_households(panel) == []) == ref_households_ok([tuple(r) for r in panel])


def test_check_quotas_messages():
    panel = [Row("a", "1", {"g": "f"}), Row("b", "2", {"g": "f"}), Row("c", "3", {"g": "x"}),
             Row("d", "4", {})]
    quotas = {"g": {"f": [0, 1], "m": (1, 3)}}
    assert draw.check_quotas(panel, quotas) == [
        "g: 1 members have no value",
        "g=x: 1 members, value has no quota",
        "g=f: 2 members, above max 1",
        "g=m: 0 members, below min 1",
    ]
    assert draw.check_quotas(panel, {}) == []
    assert draw.check_households(panel + [Row("e", "1", {})]) == ["household 1: 2 members (a, e)"]


def test_reserve_on_the_panel_or_sharing_a_household_is_skipped():
    panel = [Row("p1", "H1", {"g": "f"}), Row("p2", "H2", {"g": "m"})]
    quotas = {"g": {"f": (1, 1), "m": (1, 1)}}
    reserves = [Row("r1", "H2", {"g": "f"}), Row("p2", "H2", {"g": "m"}),
                Row("r2", "H3", {"g": "m"}), Row("r3", "H4", {"g": "f"})]
    for seed in FIXED_SEEDS[:10]:
        assert draw.next_reserve(seed, reserves, panel, quotas, panel[0]) == reserves[3]
        # dropped's own household is free again
        assert draw.next_reserve(seed, [Row("r9", "H1", {"g": "f"})], panel, quotas,
                                 panel[0]) == Row("r9", "H1", {"g": "f"})
    assert draw.next_reserve(FIXED_SEEDS[0], reserves[:3], panel, quotas, panel[0]) is None
    assert draw.next_reserve(FIXED_SEEDS[0], [], panel, quotas, panel[0]) is None


# --- Register commitment ------------------------------------------------------------------------


@FAST
@given(rows=registers(max_rows=15), data=st.data())
def test_register_commitment_ignores_input_order_and_detects_changes(rows, data):
    count, root = draw.register_commitment(rows)
    assert draw.register_commitment(data.draw(st.permutations(rows))) == (count, root)
    draw.verify_register(rows, count, root)
    victim = data.draw(st.integers(0, len(rows) - 1))
    changed = list(rows)
    changed[victim] = rows[victim]._replace(household=rows[victim].household + "x")
    with pytest.raises(draw.RegisterMismatchError):
        draw.verify_register(changed, count, root)
    with pytest.raises(draw.RegisterMismatchError if len(rows) > 1 else draw.DrawInputError):
        draw.verify_register(rows[:-1], count, root)


def test_row_from_json_round_trip():
    row = Row("p1", "h1", {"wijk": "noord"})
    assert draw.row_from_json(json.loads(draw.canonical_row(row))) == row
    with pytest.raises(draw.DrawInputError):
        draw.row_from_json({"pseudonym": "p1", "household": "h1", "features": {}, "name": "x"})
    with pytest.raises(draw.DrawInputError):
        draw.row_from_json({"pseudonym": "p1", "household": "h1", "features": {"a": 1}})


# --- Errors -------------------------------------------------------------------------------------

S = FIXED_SEEDS[0]
ROWS = [Row("p1", "h1", {"s": "a"}), Row("p2", "h1", {"s": "a"}), Row("p3", "h2", {"s": "b"})]


@pytest.mark.parametrize("call, error", [
    (lambda: draw.invitation_draw(S, ROWS, 3), draw.NotEnoughHouseholdsError),
    (lambda: draw.invitation_draw(S, ROWS, 3, stratify_by="s"), draw.NotEnoughHouseholdsError),
    (lambda: draw.invitation_draw(S, ROWS + [ROWS[0]], 1), draw.DuplicatePseudonymError),
    (lambda: draw.invitation_draw(S, [], 1), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, ROWS, 0), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, ROWS, True), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, ROWS, 1, stratify_by="t"), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, ROWS, 1, stratify_by=""), draw.DrawInputError),
    (lambda: draw.invitation_draw(S[:31], ROWS, 1), draw.DrawInputError),
    (lambda: draw.invitation_draw(S.hex(), ROWS, 1), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, [("p1", "h1", {})], 1), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, [Row("", "h1", {})], 1), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, [Row("p\ud800", "h1", {})], 1), draw.DrawInputError),
    (lambda: draw.invitation_draw(S, [Row("p1", "h1", {"s": 1})], 1), draw.DrawInputError),
    (lambda: draw.R(S, b"invite/p1"), draw.DrawInputError),
    (lambda: draw.apportion(1, {}), draw.DrawInputError),
    (lambda: draw.apportion(1, {"a": 0}), draw.DrawInputError),
    (lambda: draw.panel_draw(S, "main", []), draw.DrawInputError),
    (lambda: draw.panel_draw(S, "main", [1, 0]), draw.DrawInputError),
    (lambda: draw.panel_draw(S, "main", [1, -2]), draw.DrawInputError),
    (lambda: draw.panel_draw(S, "main", [1, True]), draw.DrawInputError),
    (lambda: draw.panel_draw(S, "main", [1.0]), draw.DrawInputError),
    (lambda: draw.panel_draw(S, "", [1]), draw.DrawInputError),
    (lambda: draw.check_quotas(ROWS, {"s": {"a": (2, 1)}}), draw.QuotaSpecError),
    (lambda: draw.check_quotas(ROWS, {"s": {"a": (-1, 1)}}), draw.QuotaSpecError),
    (lambda: draw.check_quotas(ROWS, {"s": {"a": (0, 1.5)}}), draw.QuotaSpecError),
    (lambda: draw.check_quotas(ROWS, {"s": {}}), draw.QuotaSpecError),
    (lambda: draw.check_quotas(ROWS, {"s": {"a": (0, 1, 2)}}), draw.QuotaSpecError),
    (lambda: draw.next_reserve(S, [], ROWS[:1], {}, ROWS[2]), draw.DrawInputError),
    (lambda: draw.next_reserve(S, [], ROWS[:1], {}, ROWS[0]._replace(household="h9")),
     draw.DrawInputError),
    (lambda: draw.next_reserve(S, [ROWS[2], ROWS[2]], ROWS[:1], {}, ROWS[0]),
     draw.DuplicatePseudonymError),
    (lambda: draw.register_commitment([]), draw.DrawInputError),
    (lambda: draw.register_commitment(ROWS + ROWS[:1]), draw.DuplicatePseudonymError),
])
def test_invalid_input_raises_a_draw_error(call, error):
    with pytest.raises(error) as raised:
        call()
    assert isinstance(raised.value, draw.DrawError) and isinstance(raised.value, ProofError)


def test_n_equal_to_the_number_of_households_is_possible():
    for seed in FIXED_SEEDS[:5]:
        drawn = draw.invitation_draw(seed, ROWS, 2)
        assert sorted(drawn)[-1] == "p3" and len(drawn) == 2
