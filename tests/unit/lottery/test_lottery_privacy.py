"""The k-anonymity check of a register (services/lottery/privacy.py): what every reader sees of
the register must not single out a resident or a household, and the report names counts only."""

from __future__ import annotations

from collections import Counter

from g1000_proofs.draw import Row
from hypothesis import given, settings
from hypothesis import strategies as st

from services.lottery.privacy import check

FEATURES = ("age_band", "gender", "wijk")
VALUES = st.sampled_from(["a", "b", "c"])


def row(p: str, h: str, age: str, gender: str, wijk: str) -> Row:
    return Row(p, h, {"age_band": age, "gender": gender, "wijk": wijk})


@st.composite
def registers(draw, max_households: int = 12):
    """Households of one to four residents with features from a small vocabulary."""
    rows = []
    for h in range(draw(st.integers(1, max_households))):
        for _ in range(draw(st.integers(1, 4))):
            rows.append(row(f"p{len(rows):04d}", f"h{h:03d}", draw(VALUES), draw(VALUES), draw(VALUES)))
    return rows


def copies(rows: list[Row], k: int) -> list[Row]:
    """Every household k times over (fresh ids): each combination and composition k-fold."""
    return [Row(f"{r.pseudonym}-{i}", f"{r.household}-{i}", r.features) for i in range(k) for r in rows]


@settings(max_examples=60, deadline=None)
@given(registers(), st.integers(1, 8))
def test_every_household_repeated_k_times_passes(rows, k):
    assert check(copies(rows, k), FEATURES, k).ok


@settings(max_examples=60, deadline=None)
@given(registers(), st.integers(2, 8))
def test_a_resident_unlike_anyone_else_fails_every_check(rows, k):
    unique = row("zzz", "hzzz", "unique", "unique", "unique")
    report = check(copies(rows, k) + [unique], FEATURES, k)
    assert not report.ok
    assert report.rows.by_size.get(1) == 1 and report.households.by_size.get(1) == 1
    assert report.compositions.by_size.get(1) == 1


@settings(max_examples=60, deadline=None)
@given(registers(), st.integers(1, 8))
def test_counts_match_a_direct_count(rows, k):
    report = check(rows, FEATURES, k)
    combos = Counter(tuple(r.features[f] for f in FEATURES) for r in rows)
    homes = {c: {r.household for r in rows if tuple(r.features[f] for f in FEATURES) == c} for c in combos}
    members: dict[str, list] = {}
    for r in rows:
        members.setdefault(r.household, []).append(tuple(r.features[f] for f in FEATURES))
    shapes = Counter(tuple(sorted(m)) for m in members.values())
    assert report.rows.below_k == sum(1 for n in combos.values() if n < k)
    assert report.households.below_k == sum(1 for h in homes.values() if len(h) < k)
    assert report.compositions.below_k == sum(1 for m in members.values() if shapes[tuple(sorted(m))] < k)
    assert report.ok == (report.rows.below_k == report.households.below_k == report.compositions.below_k == 0)
    # a combination in k households has at least k rows
    assert report.rows.below_k <= report.households.below_k


@settings(max_examples=40, deadline=None)
@given(registers(), st.integers(2, 8))
def test_publishing_fewer_features_never_makes_it_worse(rows, k):
    full, fewer = check(rows, FEATURES, k), check(rows, FEATURES[:1], k)
    # a coarser partition: each class that falls short is a union of finer ones that fall short
    assert fewer.rows.below_k <= full.rows.below_k
    assert fewer.households.below_k <= full.households.below_k
    assert fewer.compositions.below_k <= full.compositions.below_k


def test_k_people_of_one_household_are_not_k_anonymous():
    rows = [row(f"p{i}", "h1", "65+", "f", "noord") for i in range(5)]
    report = check(rows, FEATURES, 5)
    assert report.rows.below_k == 0 and report.households.below_k == 1
    assert report.households.by_size == {1: 1} and report.compositions.by_size == {1: 1}


def test_a_composition_singles_out_a_household_even_when_each_combination_is_common():
    """The attack on the demo register: every single combination is common, but the pair a
    household forms is not."""
    rows = []
    for h in range(5):   # five households of (a, b) and five of (a, a) and five of (b, b) ...
        rows += [row(f"x{h}1", f"hx{h}", "a", "f", "n"), row(f"x{h}2", f"hx{h}", "b", "f", "n")]
        rows += [row(f"y{h}1", f"hy{h}", "a", "f", "n"), row(f"y{h}2", f"hy{h}", "a", "f", "n")]
        rows += [row(f"z{h}1", f"hz{h}", "b", "f", "n"), row(f"z{h}2", f"hz{h}", "b", "f", "n")]
    assert check(rows, FEATURES, 5).ok
    rows += [row("w1", "hw", "a", "f", "n"), row("w2", "hw", "a", "f", "n"), row("w3", "hw", "b", "f", "n")]
    report = check(rows, FEATURES, 5)
    assert report.rows.below_k == report.households.below_k == 0
    assert report.compositions.below_k == 1 and not report.ok


def test_the_report_names_counts_never_values():
    rows = copies([row("p1", "h1", "30-44", "man", "centrum")], 5)
    rows += [row("q1", "hq1", "16-29", "vrouw", "oost"), row("q2", "hq2", "16-29", "vrouw", "oost"),
             row("q3", "hq3", "16-29", "vrouw", "oost"), row("s1", "hs1", "65+", "x", "west")]
    report = check(rows, FEATURES, 5)
    messages = report.messages()
    assert messages[0] == ("2 combinations of (age_band, gender, wijk) are shared by fewer than 5 rows: "
                           "1 with 1 row, 1 with 3 rows")
    assert messages[1].startswith("2 combinations of (age_band, gender, wijk) are found in fewer than 5 households")
    assert messages[2].startswith("4 households have a member composition")
    text = " ".join(messages) + repr(report.as_json())
    for value in ("16-29", "vrouw", "oost", "65+", "west", "hq1", "s1"):
        assert value not in text
    assert report.as_json()["rows"] == {"below_k": 2, "by_size": [{"size": 1, "count": 1}, {"size": 3, "count": 1}]}
    assert report.as_json()["compositions"] == {"below_k": 4, "by_size": [{"size": 1, "count": 1},
                                                                          {"size": 3, "count": 3}]}
