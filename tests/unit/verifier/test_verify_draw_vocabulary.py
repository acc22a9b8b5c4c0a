"""``g1000-verify draw`` checks the charter's allow-list (issue 10 H1/H2): with a v2 charter, a
register row or pool member that uses an undeclared feature or value, or an id that is not opaque,
fails the draw check (``vocabulary``) at its entry, with the same g1000_proofs.vocabulary rules the
lottery applies."""

from __future__ import annotations

import hashlib

from g1000_verify.draw_checks import DRAW_CHECK_NAMES

from tests.support.log_builder import LOG_VKEY, build_log
from tests.support.lottery_logs import Lottery, fails, run

FEATURES = {"age_band": ["16-29", "30-59", "60+"], "wijk": ["noord", "zuid"]}


def oid(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()[:32]


def rows(n: int = 12) -> list[tuple]:
    return [(oid(f"p{i}"), oid(f"h{i // 2}"), {"age_band": FEATURES["age_band"][i % 3],
                                               "wijk": FEATURES["wijk"][(i // 2) % 2]}) for i in range(n)]


def test_an_allow_listed_log_verifies_without_a_note():
    lot = Lottery(features=FEATURES)
    lot.register(rows())
    lot.add_member("employers", (oid("e1"), oid("e1"), {"wijk": "noord"}))
    result = lot.verify()
    assert result.failure is None and result.notes == [] and result.counts["register_rows"] == 12
    assert "vocabulary" in DRAW_CHECK_NAMES


def test_a_register_row_outside_the_vocabulary_fails_at_its_chunk():
    for bad, fragment in (
        (("Jan.de.Vries", oid("h"), {"age_band": "60+", "wijk": "noord"}), "pseudonym must be an opaque id"),
        ((oid("x"), "3811AB-12", {"age_band": "60+", "wijk": "noord"}), "household must be an opaque id"),
        ((oid("x"), oid("h"), {"age_band": "1961-04-12", "wijk": "noord"}), "age_band: not one of"),
        ((oid("x"), oid("h"), {"age_band": "60+", "wijk": "noord", "opmerking": "woon Kerkstraat 12"}),
         "'opmerking' is not a feature the charter declares"),
        ((oid("x"), oid("h"), {"age_band": "60+"}), "wijk: missing"),
    ):
        lot = Lottery(features=FEATURES)
        lot.register([*rows(), bad])
        fails(lot, 0, "vocabulary", "register row", "breaks the charter's allow-list", fragment)


def test_a_pool_member_with_free_text_fails_at_its_entry():
    """H2's exact features, published as a pool member, fail the draw check."""
    lot = Lottery(features=FEATURES)
    lot.register(rows())
    member = lot.add_member("employers", (oid("e1"), oid("e1"), {
        "opmerking": "woon Kerkstraat 12 …", "religie": "…", "gezondheid": "diabetes type 2"}))
    reason = fails(lot, member, "vocabulary", "member of pool employers", "'gezondheid' is not a feature")
    assert "'religie'" in reason and "'opmerking'" in reason


def test_a_v1_charter_is_not_held_to_a_vocabulary_it_never_declared():
    lot = Lottery()
    lot.register([("p1", "h1", {"sector": "zorg"}), ("p2", "h1", {"sector": "bouw"})])
    result = lot.verify()
    assert result.failure is None and any("declares no register vocabulary" in n for n in result.notes)


def test_the_cli_fails_a_log_that_breaks_the_allow_list(capsys, tmp_path):
    lot = Lottery(features=FEATURES)
    lot.register(rows())
    bad = lot.add_member("employers", ("r00001", "hh00001", {"wijk": "noord"}))
    path = build_log(lot.events()).write(tmp_path / "b")
    code, out, _ = run(capsys, "draw", str(path), "--log-key", LOG_VKEY)
    assert code == 1
    assert out.rstrip().splitlines()[-1].startswith(f"FAIL [vocabulary] entry {lot.index(bad)}: member of pool "
                                                    "employers with a non-opaque pseudonym breaks")


def replay_with_charter():
    from g1000_verify.draw_checks import DrawVerification, _Replay

    replay = _Replay("s", DrawVerification())
    replay.on_charter({"payload": {"v": 2, "register": {"features": FEATURES}}})
    return replay


def test_committed_rows_and_openings_are_held_to_the_allow_list_too():
    """For register contracts that publish commitments and reveal some values later: the hooks
    their handlers call (pseudonym opaque, committed names exactly the charter's; a revealed
    household opaque, a revealed feature value declared)."""
    import pytest
    from g1000_verify.model import VerificationFailure

    replay = replay_with_charter()
    replay.allow_listed_commitment(oid("p"), ["age_band", "wijk"], "row")
    replay.allow_listed_opening(oid("p"), "household", None, oid("h"))
    replay.allow_listed_opening(oid("p"), "feature", "wijk", "zuid")
    for call, fragment in (
        (lambda: replay.allow_listed_commitment("Jan.de.Vries", ["age_band", "wijk"], "row"), "opaque"),
        (lambda: replay.allow_listed_commitment(oid("p"), ["age_band", "wijk", "naam"], "row"), "'naam'"),
        (lambda: replay.allow_listed_commitment(oid("p"), ["age_band"], "row"), "wijk: missing"),
        (lambda: replay.allow_listed_opening(oid("p"), "household", None, "3811AB-12"), "household must be"),
        (lambda: replay.allow_listed_opening(oid("p"), "feature", "wijk", "Kerkstraat 12"), "wijk: not one of"),
    ):
        with pytest.raises(VerificationFailure) as info:
            call()
        assert info.value.check == "vocabulary" and fragment in info.value.reason
