"""The lottery service fixes the invitation draw's parameters when the round is opened (issue 10 H3).

Pure decisions of ``services.lottery.rounds``: an invitation round's ``round_opened`` v2 declares
``draw`` = {n, stratify_by}; the draw is made with exactly those (a request may leave them out,
or repeat them; other values are refused). The same rule, ``g1000_proofs.draw_parameters``, is
what ``g1000-verify draw`` applies (tests/unit/verifier/test_verify_draw_parameters.py).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.core.errors import SchemaError
from services.core.event_catalog import CATALOG
from services.lottery import rounds
from services.lottery.errors import LotteryConflictError, LotteryInvalidError

ROUND = "6f1c8a2e-2b0e-4a57-9c43-1d2e3f405060"
NOW, COMMIT, REVEAL = (rounds.stamp(datetime(2027, 3, 1, h, tzinfo=timezone.utc)) for h in (9, 10, 11))
FEATURES = ["age_band", "neighbourhood"]


def open_(purpose="invitation", draw=None, features=FEATURES) -> dict:
    return rounds.open_payload(ROUND, purpose, ["gemeente"], COMMIT, REVEAL, NOW, draw=draw, features=features)


def round_with(draw, version=2) -> rounds.Round:
    return rounds.Round(ROUND, "invitation", ("gemeente",), COMMIT, REVEAL, 1, payload_version=version, draw=draw)


def test_an_invitation_round_is_written_v2_with_its_declared_draw():
    payload = open_("invitation", {"n": 40, "stratify_by": "neighbourhood"})
    assert payload["v"] == 2 and payload["draw"] == {"n": 40, "stratify_by": "neighbourhood"}
    CATALOG.validate("lottery.seed.round_opened", payload)
    panel = open_("panel")
    assert panel["v"] == 2 and panel["draw"] is None
    CATALOG.validate("lottery.seed.round_opened", panel)


@pytest.mark.parametrize("purpose, draw, fragment", [
    ("invitation", None, "declares its draw's parameters"),
    ("invitation", {"n": 0, "stratify_by": None}, "integer from 1"),
    ("invitation", {"n": 4, "stratify_by": "gender"}, "no feature 'gender'"),
    ("panel", {"n": 4, "stratify_by": None}, "a panel round declares no draw parameters"),
])
def test_a_round_without_valid_draw_parameters_is_refused(purpose, draw, fragment):
    with pytest.raises(LotteryInvalidError, match=fragment) as refused:
        open_(purpose, draw)
    assert set(refused.value.errors) == {"draw"}


def test_a_stratified_round_needs_a_declared_feature():
    with pytest.raises(LotteryInvalidError, match="declared: none"):
        open_("invitation", {"n": 4, "stratify_by": "age_band"}, features=[])
    assert open_("invitation", {"n": 4, "stratify_by": None}, features=[])["draw"]["stratify_by"] is None


def test_the_catalog_keeps_v1_readable_and_refuses_a_v2_invitation_round_without_draw():
    v1 = {k: v for k, v in open_("panel").items() if k != "draw"} | {"v": 1}
    CATALOG.validate("lottery.seed.round_opened", v1)
    bad = open_("invitation", {"n": 4, "stratify_by": None}) | {"draw": None}
    with pytest.raises(SchemaError, match="declares its draw's parameters"):
        CATALOG.validate("lottery.seed.round_opened", bad)
    with pytest.raises(SchemaError):
        CATALOG.validate("lottery.seed.round_opened", bad | {"draw": {"n": 4, "stratify_by": None, "x": 1}})


def test_the_draw_uses_the_declared_parameters():
    rnd = round_with({"n": 40, "stratify_by": "neighbourhood"})
    assert rounds.declared_draw(rnd, None, rounds.OMITTED) == (40, "neighbourhood")
    assert rounds.declared_draw(rnd, 40, "neighbourhood") == (40, "neighbourhood")
    assert rounds.declared_draw(rnd, 40, rounds.OMITTED) == (40, "neighbourhood")


@pytest.mark.parametrize("n, stratify_by, fragment", [
    (41, rounds.OMITTED, "n 41 instead of the declared 40"),
    (None, None, "stratify_by None instead of the declared 'neighbourhood'"),
    (40, "age_band", "stratify_by 'age_band' instead"),
])
def test_a_draw_request_with_other_parameters_is_refused(n, stratify_by, fragment):
    with pytest.raises(LotteryConflictError, match=fragment):
        rounds.declared_draw(round_with({"n": 40, "stratify_by": "neighbourhood"}), n, stratify_by)


def test_a_v1_round_cannot_draw_invitations():
    with pytest.raises(LotteryConflictError, match="declares no draw parameters"):
        rounds.declared_draw(round_with(None, version=1), 40, None)
