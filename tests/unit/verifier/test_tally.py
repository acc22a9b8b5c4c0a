"""The ballot's counting rules (g1000_proofs.tally): each method with its ties and spoiled ballots,
Schulze's published example with both matrices, and properties for random ballots."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs.errors import TallyError
from g1000_proofs.tally import parse_spec, schulze, spoil_reason, tally

OPTIONS = ["a", "b", "c", "d"]


def test_approval_counts_ties_share_a_rank_and_spoiled_ballots_are_counted_by_reason():
    spec = parse_spec({"method": "approval", "options": OPTIONS, "min": 1, "max": 2})
    votes = [{"approve": ["a", "b"]}, {"approve": ["b"]}, {"approve": ["c", "a"]}, {"approve": ["d"]},
             {"approve": []}, {"approve": ["a", "a"]}, {"approve": ["z"]}, {"approve": ["a", "b", "c"]},
             "not even an object"]
    result = tally(spec, votes)
    assert result["totals"] == {"a": 2, "b": 2, "c": 1, "d": 1}
    assert result["ranking"] == [{"option": "a", "rank": 1}, {"option": "b", "rank": 1},
                                 {"option": "c", "rank": 3}, {"option": "d", "rank": 3}]
    assert result["tied"] == [["a", "b"], ["c", "d"]]
    assert (result["counted"], result["spoiled"]) == (4, 5)
    assert result["spoiled_by_reason"] == {
        "an option chosen twice": 1, "an option that is not on the ballot": 1,
        "approves 0 options, outside 1..2": 1, "approves 3 options, outside 1..2": 1,
        "expected an object with 'approve' only": 1}


def test_cumulative_respects_the_dots_and_the_maximum_per_option():
    spec = parse_spec({"method": "cumulative", "options": OPTIONS, "dots": 5, "max_per_option": 3})
    votes = [{"dots": {"a": 3, "b": 2}}, {"dots": {"c": 3, "d": 1}}, {"dots": {"a": 4}},
             {"dots": {"a": 3, "b": 3}}, {"dots": {"a": 0}}, {"dots": {"b": True}}, {"dots": {}}]
    result = tally(spec, votes)
    assert result["totals"] == {"a": 3, "b": 2, "c": 3, "d": 1}
    assert [r["option"] for r in result["ranking"]] == ["a", "c", "b", "d"]
    assert result["tied"] == [["a", "c"]]
    assert result["spoiled_by_reason"] == {"0 dots, outside 1..5": 1, "6 dots, outside 1..5": 1,
                                           "a dot outside 1..3": 3}


def test_score_leaves_unscored_options_at_zero():
    spec = parse_spec({"method": "score", "options": OPTIONS, "max_score": 5})
    result = tally(spec, [{"scores": {"a": 5, "b": 0}}, {"scores": {"b": 4}}, {"scores": {"c": 6}}])
    assert result["totals"] == {"a": 5, "b": 4, "c": 0, "d": 0}
    assert result["ranking"][2:] == [{"option": "c", "rank": 3}, {"option": "d", "rank": 3}]
    assert result["spoiled_by_reason"] == {"a score outside 0..5": 1}


# The 45-voter example of Schulze's method (Schulze 2011 §3.1, also the method's best-known worked
# example): 5 ACBED, 5 ADECB, 8 BEDAC, 3 CABED, 7 CAEBD, 2 CBADE, 7 DCEBA, 8 EBADC -> E > A > C > B > D.
SCHULZE_VOTERS = [(5, "ACBED"), (5, "ADECB"), (8, "BEDAC"), (3, "CABED"), (7, "CAEBD"), (2, "CBADE"),
                  (7, "DCEBA"), (8, "EBADC")]
SCHULZE_D = [[0, 20, 26, 30, 22], [25, 0, 16, 33, 18], [19, 29, 0, 17, 24], [15, 12, 28, 0, 14],
             [23, 27, 21, 31, 0]]
SCHULZE_P = [[0, 28, 28, 30, 24], [25, 0, 28, 33, 24], [25, 29, 0, 29, 24], [25, 28, 28, 0, 24],
             [25, 28, 28, 31, 0]]


def test_schulze_reproduces_the_published_45_voter_example():
    spec = parse_spec({"method": "schulze", "options": list("ABCDE")})
    votes = [{"ranking": list(order)} for count, order in SCHULZE_VOTERS for _ in range(count)]
    random.Random(7).shuffle(votes)
    result = tally(spec, votes)
    assert result["pairwise"] == SCHULZE_D
    assert result["strongest_paths"] == SCHULZE_P
    assert [r["option"] for r in result["ranking"]] == list("EACBD")
    assert result["tied"] == [] and result["counted"] == 45


def test_schulze_cycle_of_equal_strength_is_a_tie_not_a_broken_one():
    """A Condorcet cycle a > b > c > a with equal margins: nobody beats anybody; all share rank 1."""
    spec = parse_spec({"method": "schulze", "options": ["a", "b", "c"]})
    votes = [{"ranking": r} for r in (["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"])]
    result = tally(spec, votes)
    assert result["beats"] == {"a": 0, "b": 0, "c": 0}
    assert result["tied"] == [["a", "b", "c"]]


def test_schulze_unranked_options_tie_below_the_ranked_ones():
    d, _ = schulze(("a", "b", "c"), [["b"]])
    assert d == [[0, 0, 0], [1, 0, 1], [0, 0, 0]]


@pytest.mark.parametrize("spec", [
    {"method": "plurality", "options": OPTIONS},
    {"method": "approval", "options": ["a"], "min": 0, "max": 1},
    {"method": "approval", "options": ["a", "a"], "min": 0, "max": 1},
    {"method": "approval", "options": OPTIONS, "min": 3, "max": 2},
    {"method": "approval", "options": OPTIONS, "min": 0, "max": 5},
    {"method": "approval", "options": OPTIONS, "min": 0, "max": 1, "dots": 3},
    {"method": "cumulative", "options": OPTIONS, "dots": 3, "max_per_option": 4},
    {"method": "score", "options": OPTIONS, "max_score": True},
    {"method": "schulze", "options": OPTIONS, "max": 1},
    ["not", "an", "object"],
])
def test_malformed_specs_are_refused(spec):
    with pytest.raises(TallyError):
        parse_spec(spec)


# --- properties --------------------------------------------------------------------------------

SPECS = st.sampled_from([
    {"method": "approval", "options": OPTIONS, "min": 0, "max": 3},
    {"method": "cumulative", "options": OPTIONS, "dots": 4, "max_per_option": 2},
    {"method": "score", "options": OPTIONS, "max_score": 3},
    {"method": "schulze", "options": OPTIONS},
])


def _choice(method: str):
    some = st.lists(st.sampled_from(OPTIONS + ["x"]), max_size=5)
    counts = st.dictionaries(st.sampled_from(OPTIONS + ["x"]), st.integers(-1, 5), max_size=5)
    return {"approval": some.map(lambda o: {"approve": o}), "schulze": some.map(lambda o: {"ranking": o}),
            "cumulative": counts.map(lambda c: {"dots": c}), "score": counts.map(lambda c: {"scores": c})}[method]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), raw=SPECS)
def test_every_ballot_is_counted_or_spoiled_and_order_does_not_matter(data, raw):
    spec = parse_spec(raw)
    votes = data.draw(st.lists(_choice(spec.method), max_size=30))
    result = tally(spec, votes)
    assert result["counted"] + result["spoiled"] == len(votes)
    assert sum(result["spoiled_by_reason"].values()) == result["spoiled"]
    assert tally(spec, list(reversed(votes))) == result
    valid = [v for v in votes if spoil_reason(spec, v) is None]
    assert result["counted"] == len(valid)
    if spec.method == "approval":
        assert sum(result["totals"].values()) == sum(len(v["approve"]) for v in valid)
    ranks = [r["rank"] for r in result["ranking"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert sorted(r["option"] for r in result["ranking"]) == sorted(OPTIONS)


@settings(max_examples=200, deadline=None)
@given(rankings=st.lists(st.permutations(OPTIONS).map(lambda p: p[:3]), min_size=1, max_size=25))
def test_schulze_elects_the_condorcet_winner_and_paths_are_at_least_as_strong_as_wins(rankings):
    n = len(OPTIONS)
    d, p = schulze(tuple(OPTIONS), rankings)
    for x in range(n):
        for y in range(n):
            if x != y:
                assert d[x][y] + d[y][x] <= len(rankings)
                if d[x][y] > d[y][x]:
                    assert p[x][y] >= d[x][y]
    result = tally(parse_spec({"method": "schulze", "options": OPTIONS}), [{"ranking": r} for r in rankings])
    for x, option in enumerate(OPTIONS):
        if all(d[x][y] > d[y][x] for y in range(n) if y != x):
            assert result["ranking"][0] == {"option": option, "rank": 1}
            assert result["ranking"][1]["rank"] == 2
