"""g1000_proofs.ballot_count: the method object read into a spec, and the recount of sealed votes."""

from __future__ import annotations

import secrets

import pytest
from g1000_proofs import sealing, tally
from g1000_proofs.ballot_count import open_choices, recount, spec_of
from g1000_proofs.errors import TallyError

SUMMIT, BALLOT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "9b2f6a1e-0c1d-4e5f-8a9b-0c1d2e3f4a5b"
OPTIONS = ["bikes", "parks", "trams"]


def _keypair() -> tuple[str, str]:
    private = secrets.token_bytes(32).hex()
    return private, sealing.public_key_hex(private)


@pytest.mark.parametrize("method, expected", [
    ({"kind": "approval", "min": 1, "max": 2}, {"method": "approval", "min": 1, "max": 2}),
    ({"kind": "cumulative", "dots": 5, "max_per_option": 3},
     {"method": "cumulative", "dots": 5, "max_per_option": 3}),
    ({"kind": "score", "max": 10}, {"method": "score", "max_score": 10}),
    ({"kind": "schulze"}, {"method": "schulze"}),
])
def test_spec_of_each_kind_is_parse_spec_of_its_parameters(method, expected):
    assert spec_of(method, OPTIONS) == tally.parse_spec({**expected, "options": OPTIONS})


@pytest.mark.parametrize("method", [
    {"kind": "plurality"}, {"method": "approval", "min": 1, "max": 2}, {"kind": "score"},
    {"kind": "score", "max": 10, "max_score": 10}, {"kind": "approval", "min": 3, "max": 2}, "approval",
    {"kind": ["approval"]}, {"kind": {"approval": 1}}, {"kind": "approval", "min": True, "max": 1},
])
def test_spec_of_refuses_what_the_contract_does_not_define(method):
    with pytest.raises(TallyError):
        spec_of(method, OPTIONS)


def test_recount_opens_counts_and_spoils_votes_that_do_not_open_with_their_reason():
    private, public = _keypair()
    _, other = _keypair()
    spec = spec_of({"kind": "approval", "min": 1, "max": 2}, OPTIONS)
    choices = [{"approve": ["bikes"]}, {"approve": ["bikes", "trams"]}, {"approve": []}]
    sealed = [sealing.seal_vote(c, public, SUMMIT, BALLOT) for c in choices]
    sealed.append(sealing.seal_vote({"approve": ["parks"]}, other, SUMMIT, BALLOT))   # another key
    sealed.append(sealing.seal_vote({"approve": ["parks"]}, public, SUMMIT, SUMMIT))  # another ballot
    counted, result = recount(spec, sealed, private, SUMMIT, BALLOT)
    assert counted == 5
    opened = open_choices(sealed, private, SUMMIT, BALLOT)
    assert opened[:3] == choices and all(isinstance(o, tally.Unopened) for o in opened[3:])
    assert result == tally.tally(spec, opened)
    assert result["totals"] == {"bikes": 2, "parks": 0, "trams": 1}
    assert result["counted"] == 2 and result["spoiled"] == 3
    assert result["spoiled_by_reason"][opened[3].reason] == 2
