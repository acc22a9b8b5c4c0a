"""The lottery's pure rules: the extract's allow-list (the charter's vocabulary), invitation codes, register and
distribution events (chunk limits, commitments, catalogue schemas), seed-round phases, the
choice of round, quotas and replacements. No database, no broker."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from g1000_proofs import jcs
from g1000_proofs import register as register_v2
from g1000_proofs.draw import Row, canonical_row, next_reserve, register_commitment
from g1000_proofs.seed import compute_seed

from services.core.errors import SchemaError
from services.core.event_catalog import CATALOG
from services.lottery import domain, rounds
from services.lottery.errors import (
    DrawRefusedError, ExtractRejectedError, LotteryConflictError, LotteryInvalidError, NoReserveError, PhaseError,
    QuotaError, RevealMismatchError,
)
from services.lottery.extract import parse_extract

SUMMIT = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
ROUND = "6f1c8a2e-2b0e-4a57-9c43-1d2e3f405060"
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)


def at(seconds: float) -> str:
    return rounds.stamp(T0 + timedelta(seconds=seconds))


# --- the extract ---------------------------------------------------------------------------------


VOCABULARY = {"age_band": ["16-29", "30-59", "60+"], "area": ["f", "m", "x", "noord", "zuid", "hbo/wo"]}
_ID = st.binary(min_size=16, max_size=16).map(bytes.hex)
_VALUE = st.sampled_from(VOCABULARY["area"])


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(_ID, st.tuples(_ID, st.sampled_from(VOCABULARY["age_band"]), _VALUE), min_size=1,
                       max_size=40), st.booleans())
def test_any_clean_extract_parses_to_its_rows_and_commitment(people, semicolons):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if semicolons else ",")
    writer.writerow(["area", "pseudonym", "household", "age_band"])   # any column order
    for pseudonym, (household, age, area) in people.items():
        writer.writerow([area, pseudonym, household, age])
    parsed = parse_extract("\ufeff" + out.getvalue(), VOCABULARY)
    expected = sorted((Row(p, h, {"age_band": a, "area": b}) for p, (h, a, b) in people.items()),
                      key=lambda r: r.pseudonym)
    assert list(parsed.rows) == expected and parsed.features == ("age_band", "area")
    assert register_commitment(parsed.rows) == register_commitment(expected)


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=',;"\r\n'), min_size=1,
               max_size=30).filter(lambda t: t.strip() and t.strip() not in VOCABULARY["area"]),
       st.sampled_from(["pseudonym", "household", "area", "extra"]))
def test_anything_outside_the_allow_list_is_refused_and_never_echoed(text, where):
    """Whatever the cell holds (a name, an address, a date), it passes only if it is declared."""
    pid, hid = "0" * 32, "1" * 32
    header = "pseudonym,household,age_band,area" + (",extra" if where == "extra" else "")
    cells = {"pseudonym": pid, "household": hid, "area": "noord"}
    if where != "extra":
        cells[where] = text
    line = f"{cells['pseudonym']},{cells['household']},60+,{cells['area']}" + (f",{text}" if where == "extra" else "")
    with pytest.raises(ExtractRejectedError) as info:
        parse_extract(f"{header}\n{line}\n", VOCABULARY)
    column = {"pseudonym": 1, "household": 2, "area": 4, "extra": 5}[where]
    assert any(e["column"] == column for e in info.value.errors), info.value.errors
    if where != "extra" and len(text.strip()) > 2:
        assert text.strip() not in str(info.value.errors)


def test_missing_and_undeclared_columns_are_header_errors():
    with pytest.raises(ExtractRejectedError) as info:
        parse_extract("pseudonym,household,age_band,kenteken\n" + "0" * 32 + "," + "1" * 32 + ",60+,AB-12\n",
                      VOCABULARY)
    messages = {(e["line"], e["column"]): e["message"] for e in info.value.errors}
    assert "'kenteken' is not a feature the summit's charter declares" in messages[(1, 4)]
    assert "no 'area' column (the charter declares it)" in messages[(1, None)]


# --- invitation codes -----------------------------------------------------------------------------


@settings(max_examples=50)
@given(st.data())
def test_codes_survive_how_people_type_them(data):
    code = domain.new_code()
    raw = code.replace("-", "")
    typed = "".join(data.draw(st.sampled_from([c, c.lower()])) for c in raw)
    typed = typed.replace("0", data.draw(st.sampled_from(["0", "o", "O"]))).replace(
        "1", data.draw(st.sampled_from(["1", "i", "l", "L"])))
    assert domain.normalise_code(typed) == domain.normalise_code(code) == raw
    assert domain.normalise_code(" " + code + " ") == raw


@given(st.text(max_size=20))
def test_anything_else_is_not_a_code(text):
    normalised = domain.normalise_code(text)
    assert normalised is None or (len(normalised) == 12 and set(normalised) <= set(domain.CODE_ALPHABET))


def test_code_hashes_depend_on_the_summit():
    assert domain.code_hash(SUMMIT, "A" * 12) != domain.code_hash(ROUND, "A" * 12)
    assert len({domain.new_code() for _ in range(200)}) == 200


# --- register and distribution events -------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(st.integers(1, 1100), st.integers(6, 64))
def test_register_chunks_respect_both_limits_and_reassemble(n, width):
    rows = [Row(f"p{i:05d}".ljust(width, "x"), f"h{i // 3}", {f"f{k}": "v" * width for k in range(16)})
            for i in range(n)]
    salts = domain.new_salts(rows)
    events = domain.register_events(SUMMIT, ROUND, list(reversed(rows)), [f"f{k}" for k in range(16)], salts)
    *chunks, committed = events
    for e in events:
        CATALOG.validate(e.type, e.payload)
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    assert all(len(e.payload["rows"]) <= 500 for e in chunks)
    assert all(sum(len(jcs.dumps(r)) for r in e.payload["rows"]) <= domain.CHUNK_BYTES for e in chunks)
    assert [r["pseudonym"] for e in chunks for r in e.payload["rows"]] == [r.pseudonym for r in rows]
    count, root = register_v2.register_root(register_v2.commit_row(r, *salts[r.pseudonym]) for r in rows)
    assert committed.payload["count"] == count and committed.payload["root"] == root.hex()
    assert committed.payload["chunks"] == len(chunks) and committed.payload["contract"] == 2
    published = b"".join(jcs.dumps(e.payload) for e in events).decode()
    assert "v" * width not in published and '"h0"' not in published   # contract 2: no clear value


@settings(max_examples=10, deadline=None)
@given(st.integers(2, 1300), st.sampled_from([None, "f1"]), st.binary(min_size=32, max_size=32))
def test_reveal_events_open_exactly_the_plan_in_valid_chunks(n, stratify_by, seed):
    rows = [Row(f"p{i:05d}", f"h{i // 2}", {"f0": "x", "f1": "abc"[i % 3]}) for i in range(n)]
    salts = domain.new_salts(rows)
    committed = {r.pseudonym: register_v2.commit_row(r, *salts[r.pseudonym]) for r in rows}
    plan = domain.invitation_plan(seed, rows, max(1, n // 4), stratify_by, ["f0", "f1"])
    events = domain.reveal_events(SUMMIT, ROUND, ROUND, plan, rows, salts)
    for e in events:
        CATALOG.validate(e.type, e.payload)
    assert [e.payload["chunk"] for e in events] == list(range(len(events)))
    assert [e.version for e in events] == list(range(1, len(events) + 1))
    households, features = set(), set()
    for e in events:
        for o in e.payload["openings"]:
            row, salt = committed[o["pseudonym"]], bytes.fromhex(o["salt"])
            if e.payload["field"] == "household":
                register_v2.check_household_opening(row, o["value"], salt)
                households.add(o["pseudonym"])
            else:
                register_v2.check_feature_opening(row, "f1", o["value"], salt)
                features.add(o["pseudonym"])
    assert households == set(plan.household_rows) and features == set(plan.feature_rows)
    assert features == (set(committed) if stratify_by else set())


def test_invitation_plan_refuses_as_the_payload_does():
    rows = [Row("p1", "h1", {"s": "a"}), Row("p2", "h1", {"s": "b"})]
    with pytest.raises(DrawRefusedError):
        domain.invitation_plan(b"\x00" * 32, rows, 2, None, ["s"])
    with pytest.raises(LotteryInvalidError):
        domain.invitation_plan(b"\x00" * 32, rows, 1, "t", ["s"])


def _pool(genders: str) -> list[Row]:
    return [Row(f"m{i}", f"h{i}", {"gender": g}) for i, g in enumerate(genders)]


def test_distribution_events_check_every_panel_and_validate():
    members = _pool("ffmm")
    quotas = {"gender": {"f": [1, 1], "m": [1, 1]}}
    panels, weights = domain.normalise_distribution(
        [("m2", "m0"), ("m0", "m3"), ("m1", "m2"), ("m1", "m3"), ("m0", "m2")], [1, 2, 3, 4, 0])
    assert panels == [("m0", "m2"), ("m0", "m3"), ("m1", "m2"), ("m1", "m3")] and weights == [1, 2, 3, 4]
    events = domain.distribution_events(SUMMIT, ROUND, "employers", 2, quotas, members, panels, weights)
    for e in events:
        CATALOG.validate(e.type, e.payload)
    committed = events[-1].payload
    assert committed["panels_root"] == domain.panels_root(panels).hex() and committed["total_weight"] == 10
    for bad in ([("m0", "m1")], [("m0", "m9")], [("m0",)]):
        with pytest.raises(domain.InvalidDistributionError):
            domain.distribution_events(SUMMIT, ROUND, "employers", 2, quotas, members, bad, [1])
    probabilities = domain.selection_probabilities(panels, weights, [m.pseudonym for m in members])
    assert sum(probabilities.values()) == 2 and domain.fairness(probabilities)["minimum"] == pytest.approx(0.3)


def test_quotas_must_fit_the_pool():
    members = _pool("ffm") + [Row("m9", "h9", {"age": "60+"})]
    with pytest.raises(QuotaError) as info:
        domain.check_quotas_fit({"gender": {"f": [0, 2]}, "shoe": {"42": [0, 1]}}, 9, members)
    problems = info.value.errors["quotas"]
    assert any("panel_size 9" in p for p in problems) and any("shoe" in p for p in problems)
    assert any("['m'] of pool members have no quota" in p for p in problems)
    assert any("1 members have no value" in p for p in problems)
    assert domain.check_quotas_fit({"gender": {"f": [0, 2], "m": [0, 1]}}, 2, _pool("ffm")) == \
        {"gender": {"f": [0, 2], "m": [0, 1]}}


@settings(max_examples=40, deadline=None)
@given(st.text("fmx", min_size=3, max_size=9), st.binary(min_size=32, max_size=32), st.data())
def test_replacements_are_next_reserve_of_the_members_never_on_the_panel(genders, seed, data):
    members = _pool(genders)
    panel = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=len(members),
                               unique_by=lambda r: r.pseudonym))
    quotas = {"gender": {g: [0, len(members)] for g in "fmx"}}
    dist = domain.Distribution(ROUND, "employers", quotas, [sorted(m.pseudonym for m in panel)], [1], 1)
    dropped = data.draw(st.sampled_from(panel))
    expected = next_reserve(seed, [m for m in members if m not in panel], panel, quotas, dropped)
    try:
        payload = domain.replacement_payload(dist, ROUND, seed, members, dist.panels[0], [], dropped.pseudonym, False)
    except NoReserveError:
        assert expected is None
    else:
        assert payload["replacement"] == expected.pseudonym
        CATALOG.validate("lottery.panel.replaced", payload)


def test_earlier_drop_outs_never_come_back():
    members = _pool("ffff")
    quotas = {"gender": {"f": [2, 2]}}
    dist = domain.Distribution(ROUND, "p", quotas, [["m0", "m1"]], [1], 1)
    seed = bytes(32)
    first = domain.replacement_payload(dist, ROUND, seed, members, ["m0", "m1"], [], "m0", False)
    history = [("m0", first["replacement"])]
    second = domain.replacement_payload(dist, ROUND, seed, members, ["m0", "m1"], history, first["replacement"], False)
    assert second["replacement"] not in ("m0", "m1", first["replacement"])
    third_panel = domain.current_panel(["m0", "m1"], history + [(first["replacement"], second["replacement"])])
    assert len(third_panel) == 2 and "m1" in third_panel
    with pytest.raises(NoReserveError):
        domain.replacement_payload(dist, ROUND, seed, members, ["m0", "m1"],
                                   history + [(first["replacement"], second["replacement"])], "m1", False)
    with pytest.raises(LotteryInvalidError):
        domain.replacement_payload(dist, ROUND, seed, members, ["m0", "m1"], history, "m0", False)


# --- seed rounds ----------------------------------------------------------------------------------


def opened(parties=("a", "b"), commit=60, reveal=120) -> rounds.Round:
    payload = rounds.open_payload(ROUND, "panel", list(parties), at(commit), at(reveal), at(0))
    CATALOG.validate("lottery.seed.round_opened", payload)
    return rounds.Round(ROUND, "panel", tuple(parties), payload["commit_deadline"], payload["reveal_deadline"], 1)


def record(rnd: rounds.Round, event_type: str, payload: dict, when: float) -> rounds.Round:
    CATALOG.validate(event_type, payload)
    seq = max([rnd.opened_seq] + [e.seq for e in rnd.commitments + rnd.contributions]) + 1
    rounds.check_recorded(rnd, event_type, at(when))
    return rounds.apply(rnd, event_type, payload, seq, at(when))


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_a_round_runs_through_its_phases():
    rnd = opened(("a", "b", "c"))
    with pytest.raises(PhaseError):
        rounds.reveal_payload(record(rnd, "lottery.seed.committed",
                                     rounds.commit_payload(rnd, "a", digest("x"), at(1)), 1), "a", "x", at(2))
    rnd = record(rnd, "lottery.seed.committed", rounds.commit_payload(rnd, "a", digest("va"), at(1)), 1)
    rnd = record(rnd, "lottery.seed.committed", rounds.commit_payload(rnd, "b", digest("vb"), at(2)), 2)
    assert rnd.state(at(3)) == "committing" and rnd.first_contribution_seq == 2
    with pytest.raises(PhaseError):
        rounds.commit_payload(rnd, "c", digest("vc"), at(61))               # late
    with pytest.raises(PhaseError):
        rounds.check_recorded(rnd, "lottery.seed.committed", at(60.001))   # logged a moment too late
    with pytest.raises(LotteryInvalidError):
        rounds.commit_payload(rnd, "z", digest("vz"), at(3))               # not a party
    with pytest.raises(RevealMismatchError):
        rounds.reveal_payload(rnd, "b", "va", at(61))
    rnd = record(rnd, "lottery.seed.contributed", rounds.public_payload(rnd, "dice", "notary", "4 2", None, at(61)), 61)
    rnd = record(rnd, "lottery.seed.contributed", rounds.reveal_payload(rnd, "b", "vb", at(62)), 62)
    with pytest.raises(PhaseError):
        rounds.public_payload(rnd, "beacon", "beacon", "ff", "drand", at(63))  # after the first reveal
    with pytest.raises(PhaseError):
        rounds.finalize_payload(rnd, SUMMIT, at(63))                       # a is still to reveal
    final = rounds.finalize_payload(rnd, SUMMIT, at(121))
    CATALOG.validate("lottery.seed.finalized", final)
    assert final["not_revealed"] == ["a"]
    assert [c["party"] for c in final["contributions"]] == ["b", "notary"]   # commitment order
    assert final["seed"] == compute_seed(SUMMIT, final["contributions"]).hex()


@settings(max_examples=60, deadline=None)
@given(st.permutations(["a", "b", "c", "d"]), st.permutations(["a", "b", "c", "d"]), st.integers(0, 4))
def test_seed_order_is_commitment_order_whatever_the_reveal_order(commit_order, reveal_order, dice_at):
    rnd = opened(("a", "b", "c", "d"))
    for i, party in enumerate(commit_order):
        rnd = record(rnd, "lottery.seed.committed", rounds.commit_payload(rnd, party, digest(party), at(i)), i)
    if dice_at == 0:
        rnd = record(rnd, "lottery.seed.contributed", rounds.public_payload(rnd, "dice", "notary", "6", None, at(11)), 11)
    for i, party in enumerate(reveal_order):
        rnd = record(rnd, "lottery.seed.contributed", rounds.reveal_payload(rnd, party, party, at(20 + i)), 20 + i)
    final = rounds.finalize_payload(rnd, SUMMIT, at(30))
    expected = list(commit_order) + (["notary"] if dice_at == 0 else [])
    assert [c["party"] for c in final["contributions"]] == expected and final["not_revealed"] == []


def test_the_commit_phase_ends_when_every_party_committed_and_beacons_carry_their_source():
    rnd = opened(("a", "b"))
    rnd = record(rnd, "lottery.seed.committed", rounds.commit_payload(rnd, "a", digest("va"), at(1)), 1)
    with pytest.raises(PhaseError):
        rounds.public_payload(rnd, "dice", "notary", "6", None, at(2))      # b may still commit
    rnd = record(rnd, "lottery.seed.committed", rounds.commit_payload(rnd, "b", digest("vb"), at(2)), 2)
    assert rnd.state(at(3)) == "revealing"                                   # long before the deadline
    beacon = rounds.public_payload(rnd, "beacon", "beacon", "9f" * 32, "drand quicknet 4711", at(3))
    assert beacon["contribution"] == {"party": "beacon", "value": "9f" * 32 + " @ drand quicknet 4711",
                                      "kind": "beacon"}
    rnd = record(rnd, "lottery.seed.contributed", beacon, 3)
    assert rnd.contributions[-1].source == "drand quicknet 4711"
    with pytest.raises(LotteryInvalidError):
        rounds.public_payload(rnd, "dice", "a", "6", None, at(4))            # a party of the round
    with pytest.raises(LotteryInvalidError):
        rounds.public_payload(rnd, "beacon", "beacon2", "x @ y", "z", at(4))


def test_rounds_that_cannot_be_finalised_or_open_wrongly():
    with pytest.raises(LotteryInvalidError):
        opened(commit=-1)
    with pytest.raises(LotteryInvalidError):
        opened(reveal=400 * 86400)
    for moment in (datetime(9999, 12, 31, 23, 0, tzinfo=timezone(-timedelta(hours=14))),
                   datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), datetime(2030, 1, 1)):
        with pytest.raises(LotteryInvalidError):
            rounds.stamp(moment)
    with pytest.raises(LotteryInvalidError):
        opened(commit=60, reveal=60)
    rnd = opened()
    with pytest.raises(PhaseError):
        rounds.finalize_payload(rnd, SUMMIT, at(200))      # nothing to make a seed of
    assert rnd.void(at(200)) and not rnd.void(at(100))


def _round_with_first(round_id: str, purpose: str, first_seq: int | None, reveal=120) -> rounds.Round:
    rnd = rounds.Round(round_id, purpose, ("a",), at(60), at(reveal), 1)
    if first_seq is None:
        return rnd
    entry = rounds.Entry(first_seq, at(1), "a", commitment=digest("x"))
    return rounds.Round(round_id, purpose, ("a",), at(60), at(reveal), 1, commitments=(entry,),
                        contributions=(rounds.Entry(first_seq + 1, at(61), "a", value="x", kind="commit-reveal"),))


def test_the_designated_round_is_the_first_after_the_subject_that_can_finish():
    before = _round_with_first("r-before", "invitation", 5)
    other = _round_with_first("r-panel", "panel", 12)
    first = _round_with_first("r-first", "invitation", 15)
    second = _round_with_first("r-second", "invitation", 20)
    void = rounds.Round("r-void", "invitation", ("a",), at(60), at(90), 1,
                        commitments=(rounds.Entry(11, at(1), "a", commitment=digest("x")),))
    found = [before, other, second, void, first]
    assert rounds.designated(found, "invitation", 10, at(50)).round_id == "r-void"   # still live
    assert rounds.designated(found, "invitation", 10, at(100)).round_id == "r-first"  # void skipped
    assert rounds.designated(found, "panel", 10, at(100)).round_id == "r-panel"
    assert rounds.designated(found, "invitation", 25, at(100)) is None
    finished = rounds.Round("r-first", "invitation", ("a",), at(60), at(120), 1, commitments=first.commitments,
                            contributions=first.contributions, seed="00" * 32)
    assert domain.check_round_for(finished, "invitation", "register", 10, finished) == bytes(32)
    with pytest.raises(LotteryConflictError):
        domain.check_round_for(finished, "invitation", "register", 15, finished)        # subject too late
    with pytest.raises(LotteryInvalidError):
        domain.check_round_for(finished, "panel", "distribution", 10, finished)
    with pytest.raises(LotteryConflictError):
        domain.check_round_for(finished, "invitation", "register", 10, second)


# --- the catalogue refuses what the contract forbids ----------------------------------------------


def _good_row() -> dict:
    return {"pseudonym": "p1", "household": "h1", "features": {"age_band": "16-29"}}


def _opening(pseudonym: str) -> dict:
    return {"pseudonym": pseudonym, "value": "16-29", "salt": "0" * 32}


def _reveal() -> dict:
    return {"v": 1, "register_id": ROUND, "draw_id": ROUND, "chunk": 0, "field": "feature",
            "feature": "age_band", "openings": [_opening("p1")]}


def test_catalogue_accepts_register_contract_2():
    CATALOG.validate("lottery.register.revealed", _reveal())
    CATALOG.validate("lottery.register.revealed", {**_reveal(), "field": "household", "feature": None})
    CATALOG.validate("lottery.register.chunk", {"v": 2, "register_id": ROUND, "chunk": 0, "rows": [
        {"pseudonym": "p1", "commitments": {"household": "0" * 64, "features": {"age_band": "1" * 64}}}]})


@pytest.mark.parametrize("event_type, payload", [
    ("lottery.seed.committed", {"v": 1, "round_id": ROUND, "party": "a\n", "commitment": "0" * 64}),
    ("lottery.seed.committed", {"v": 1, "round_id": ROUND, "party": "a", "commitment": "A" * 64}),
    ("lottery.seed.committed", {"v": 1, "round_id": ROUND.upper(), "party": "a", "commitment": "0" * 64}),
    ("lottery.register.committed", {"v": 1, "register_id": ROUND, "count": 1.0, "root": "0" * 64,
                                    "chunks": 1, "features": []}),
    ("lottery.register.committed", {"v": 1, "register_id": ROUND, "count": 1, "root": "0" * 64,
                                    "chunks": 1, "features": ["b", "a"]}),
    ("lottery.register.chunk", {"v": 1, "register_id": ROUND, "chunk": 0,
                                "rows": [{**_good_row(), "pseudonym": "p2"}, _good_row()]}),
    ("lottery.register.chunk", {"v": 1, "register_id": ROUND, "chunk": 0, "rows": [{**_good_row(), "name": "x"}]}),
    ("lottery.pool.member_added", {"v": 1, "pool": "respondents", "member": {**_good_row(), "pseudonym": "a b"}}),
    ("lottery.seed.contributed", {"v": 1, "round_id": ROUND, "contribution": {"party": "b", "value": "1",
                                                                             "kind": "lucky"}}),
    ("lottery.seed.contributed", {"v": 1, "round_id": ROUND, "source": "x",
                                  "contribution": {"party": "b", "value": "1", "kind": "beacon"}}),
    ("lottery.seed.contributed", {"v": 1, "round_id": ROUND,
                                  "contribution": {"party": "b", "value": "1", "kind": "dice", "at": "x"}}),
    ("lottery.distribution.committed", {"v": 1, "distribution_id": ROUND, "pool": "p", "panel_size": 1,
                                        "quotas": {"g": {"f": [0, 1]}}, "members": 1, "members_root": "0" * 64,
                                        "panel_count": 2, "total_weight": 3, "weights": [1, 1],
                                        "panels_root": "0" * 64, "chunks": 1}),
    ("lottery.panel.drawn", {"v": 1, "distribution_id": ROUND, "round_id": ROUND, "index": 0, "members": ["b", "a"]}),
    ("lottery.invitations.drawn", {"v": 1, "draw_id": ROUND, "round_id": ROUND, "register_id": ROUND, "n": 2,
                                   "stratify_by": None, "invitees": ["a"]}),
    # register contract 2: no clear value in a chunk, contract 2 only, well-formed reveals
    ("lottery.register.chunk", {"v": 2, "register_id": ROUND, "chunk": 0, "rows": [_good_row()]}),
    ("lottery.register.chunk", {"v": 2, "register_id": ROUND, "chunk": 0, "rows": [
        {"pseudonym": "p1", "commitments": {"household": "h1", "features": {}}}]}),
    ("lottery.register.committed", {"v": 2, "register_id": ROUND, "count": 1, "root": "0" * 64,
                                    "chunks": 1, "features": [], "contract": 1}),
    ("lottery.register.revealed", {**_reveal(), "feature": None}),
    ("lottery.register.revealed", {**_reveal(), "field": "household"}),
    ("lottery.register.revealed", {**_reveal(), "openings": [{"pseudonym": "p1", "value": "a", "salt": "0" * 30}]}),
    ("lottery.register.revealed", {**_reveal(), "openings": [_opening("p2"), _opening("p1")]}),
])
def test_catalogue_refuses_payloads_outside_the_contract(event_type, payload):
    with pytest.raises(SchemaError):
        CATALOG.validate(event_type, payload)


def test_every_documented_lottery_type_is_in_the_catalogue():
    documented = {"lottery.register.chunk", "lottery.register.committed", "lottery.seed.round_opened",
                  "lottery.seed.committed", "lottery.seed.contributed",
                  "lottery.seed.finalized", "lottery.invitations.drawn", "lottery.pool.member_added",
                  "lottery.distribution.panels", "lottery.distribution.committed", "lottery.panel.drawn",
                  "lottery.panel.replaced", "lottery.register.revealed"}
    assert {t for t, _ in CATALOG.types() if t.startswith("lottery.")} == documented
    assert canonical_row(Row("p", "h", {})) == b'{"features":{},"household":"h","pseudonym":"p"}'
    assert list(itertools.islice(domain.new_code(), 4, 5)) == ["-"]
