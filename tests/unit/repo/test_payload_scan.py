"""The payload scanner (tests/payload_scan.py) that the e2e test runs over the demo's log: it
passes clean payloads and catches a planted name wherever it is put."""

from __future__ import annotations

import copy

import pytest

from tests.payload_scan import scan

VOCABULARY = {"age_band": ["16-29", "30-59", "65+"], "neighbourhood": ["centrum", "noord"]}
P1, P2, H1 = "0" * 31 + "1", "0" * 31 + "2", "a" * 32
UUID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
HEX = "ab" * 32

CLEAN = [
    {"type": "ledger.summit.created", "payload": {
        "v": 2, "theme": "Samen leven in onze stad", "municipality": "Demostad", "date": "2027-03-14",
        "seats": {"citizens": 800, "free_thinkers": 80}, "register": {"features": VOCABULARY}}},
    {"type": "ledger.key.registered", "payload": {"v": 1, "stream": "lottery", "public_key": HEX, "key_id": HEX,
                                                  "valid_from": "2027-03-14T08:00:00.000Z"}},
    {"type": "lottery.register.chunk", "payload": {"v": 1, "register_id": UUID, "chunk": 0, "rows": [
        {"pseudonym": P1, "household": H1, "features": {"age_band": "16-29", "neighbourhood": "noord"}},
        {"pseudonym": P2, "household": H1, "features": {"age_band": "65+", "neighbourhood": "noord"}}]}},
    {"type": "lottery.register.committed", "payload": {"v": 1, "register_id": UUID, "count": 2, "root": HEX,
                                                       "chunks": 1, "features": ["age_band", "neighbourhood"]}},
    {"type": "lottery.seed.contributed", "payload": {"v": 1, "round_id": UUID, "contribution": {
        "party": "notary", "value": "3 6 1 4 4 2", "kind": "dice"}}},
    {"type": "lottery.invitations.drawn", "payload": {"v": 1, "draw_id": UUID, "round_id": UUID,
                                                      "register_id": UUID, "n": 1, "stratify_by": "neighbourhood",
                                                      "invitees": [P1]}},
    {"type": "lottery.pool.member_added", "payload": {"v": 1, "pool": "respondents", "member": {
        "pseudonym": P1, "household": H1, "features": {"age_band": "16-29", "neighbourhood": "noord"}}}},
    {"type": "lottery.distribution.committed", "payload": {
        "v": 1, "distribution_id": UUID, "pool": "respondents", "panel_size": 1,
        "quotas": {"age_band": {"16-29": [0, 1], "65+": [0, 1]}}, "members": 1, "members_root": HEX,
        "panel_count": 1, "total_weight": 1, "weights": [1], "panels_root": HEX, "chunks": 1}},
    {"type": "lottery.panel.replaced", "payload": {"v": 1, "distribution_id": UUID, "round_id": UUID,
                                                   "dropped": P1, "replacement": None}},
    {"type": "agenda.topic.nominated", "payload": {"v": 2, "topic_id": UUID, "texts": [
        {"field": "description", "language": "nl", "sha256": HEX, "length": 29},
        {"field": "title", "language": "nl", "sha256": HEX, "length": 16}]}},
    {"type": "lottery.seed.round_opened", "payload": {
        "v": 2, "round_id": UUID, "purpose": "invitation", "parties": ["gemeente"],
        "commit_deadline": "2027-03-14T08:00:00.000Z", "reveal_deadline": "2027-03-14T09:00:00.000Z",
        "draw": {"n": 1, "stratify_by": "neighbourhood"}}},
]


def events(changed: list[dict] | None = None) -> list[tuple[int, dict]]:
    return list(enumerate(changed if changed is not None else CLEAN))


def test_clean_payloads_pass():
    assert scan(events(), VOCABULARY) == []


def planted(position: int, change) -> list[dict]:
    changed = copy.deepcopy(CLEAN)
    change(changed[position]["payload"])
    return changed


@pytest.mark.parametrize("position, change, fragment", [
    (2, lambda p: p["rows"][0]["features"].update(age_band="Jan de Vries"), "age_band: not one of"),
    (2, lambda p: p["rows"][1]["features"].update(naam="Jan de Vries"), "'naam' is not a feature"),
    (2, lambda p: p["rows"][0].update(pseudonym="Jan.de.Vries"), "rows[0].pseudonym: not an opaque id"),
    (6, lambda p: p["member"].update(household="3811AB-12"), "member.household: not an opaque id"),
    (6, lambda p: p["member"]["features"].update(gezondheid="diabetes type 2"), "'gezondheid' is not a feature"),
    (5, lambda p: p["invitees"].append("Jan.de.Vries"), "invitees[1]: a pseudonym that is not an opaque id"),
    (8, lambda p: p.update(dropped="jan"), "dropped: a pseudonym that is not an opaque id"),
    (5, lambda p: p.update(stratify_by="naam"), "feature 'naam' is not declared"),
    (3, lambda p: p["features"].append("geboortedatum"), "feature 'geboortedatum' is not declared"),
    (7, lambda p: p["quotas"]["age_band"].update({"Jan de Vries": [0, 1]}), "quotas.age_band"),
    (6, lambda p: p.update(opmerking="woon Kerkstraat 12"), "opmerking: a member the catalogue's schema does not"),
    (4, lambda p: p["contribution"].update(name="Jan de Vries"), "contribution.name: a member the catalogue"),
    (0, lambda p: p["seats"].update({"Jan de Vries": 1}), "free text where the catalogue declares none"),
    (1, lambda p: p.update(stream="Jan de Vries"), "stream: free text"),
    (10, lambda p: p["draw"].update(stratify_by="naam"), "draw.stratify_by: feature 'naam' is not declared"),
    (10, lambda p: p["draw"].update(stratify_by="Jan de Vries"), "free text where the catalogue declares none"),
    (9, lambda p: p["texts"][1].update(sha256="Groen in de wijk"), "texts[1].sha256: free text"),
    (9, lambda p: p["texts"][0].update(text="Meer bomen"), "texts[0].text: a member the catalogue"),
], ids=lambda x: x if isinstance(x, str) else None)
def test_a_planted_name_is_found(position, change, fragment):
    problems = scan(events(planted(position, change)), VOCABULARY)
    assert problems and any(fragment in p for p in problems), problems
    assert all(p.startswith(f"entry {position} ") for p in problems)


def test_the_agenda_holds_no_words():
    """Issue 14: a topic's words stay out of the log; v1 nominations (words in the payload) are
    still valid in the catalogue but a scan reports their words, and so it does words planted in v2."""
    v1 = {"type": "agenda.topic.nominated", "payload": {"v": 1, "topic_id": UUID, "title": "Groen in de wijk",
                                                        "description": "Meer bomen, zegt Jan de Vries"}}
    problems = scan([(0, v1)], VOCABULARY)
    assert len(problems) == 2 and all("free text where the catalogue declares none" in p for p in problems)
    withheld = {"type": "agenda.text.withheld", "payload": {"v": 1, "topic_id": UUID, "field": "title",
                                                            "reason": "personal-data"}}
    assert scan([(0, withheld)], VOCABULARY) == []
    planted_reason = copy.deepcopy(withheld)
    planted_reason["payload"]["reason"] = "Jan de Vries"
    assert scan([(0, planted_reason)], VOCABULARY)


def test_an_unknown_payload_version_is_reported():
    problems = scan([(0, {"type": "lottery.pool.member_added", "payload": {"v": 9}})], VOCABULARY)
    assert problems == ["entry 0 lottery.pool.member_added v: no catalogue schema for version 9"]


def test_committed_rows_and_openings_are_scanned_by_their_shape():
    """Register contracts that publish commitments and reveal some values (their schemas live in
    the catalogue beside v1): the shape-based part of the scan, called directly."""
    from tests.payload_scan import _Scan

    def run(event_type, payload):
        out: list[str] = []
        _Scan(7, event_type, VOCABULARY, out).committed(payload)
        return out

    good_row = {"pseudonym": P1, "commitments": {"household": HEX, "features": {"age_band": HEX, "neighbourhood": HEX}}}
    assert run("lottery.register.chunk", {"rows": [good_row]}) == []
    bad_row = {"pseudonym": "Jan.de.Vries", "commitments": {"household": HEX, "features": {"naam": HEX}}}
    problems = run("lottery.register.chunk", {"rows": [bad_row]})
    assert any("rows[0].pseudonym: not an opaque id" in p for p in problems)
    assert any("feature 'naam' is not declared" in p for p in problems)
    opened = {"field": "feature", "feature": "neighbourhood", "openings": [{"pseudonym": P1, "value": "noord", "salt": P2}]}
    assert run("lottery.register.revealed", opened) == []
    opened["openings"][0]["value"] = "Kerkstraat 12"
    assert any("neighbourhood: not one of" in p for p in run("lottery.register.revealed", opened))
    household = {"field": "household", "feature": None, "openings": [{"pseudonym": P1, "value": "3811AB-12", "salt": P2}]}
    assert any("not an opaque id" in p for p in run("lottery.register.revealed", household))


BALLOT = [
    {"type": "ballot.participant.arrived", "payload": {"v": 1, "pseudonym": P1}},
    {"type": "ballot.ballot.created", "payload": {
        "v": 1, "ballot_id": UUID, "title": [{"language": "nl", "sha256": HEX, "length": 10}],
        "method": {"kind": "approval", "min": 1, "max": 1},
        "options": [{"option_id": o, "texts": [{"language": "nl", "sha256": HEX, "length": 3}]} for o in ("a", "b")],
        "opens_at": "2027-03-14T10:00:00.000Z", "closes_at": "2027-03-14T11:00:00.000Z",
        "sealing": {"public_key": HEX, "k": 1, "n": 1, "share_hashes": [HEX]}}},
    {"type": "ballot.ballot.opened", "payload": {"v": 1, "ballot_id": UUID, "roll": {"count": 1, "root": HEX},
                                                 "credential_key": "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"}},
    {"type": "ballot.credential.issued", "payload": {"v": 1, "ballot_id": UUID, "pseudonym": P1}},
    {"type": "ballot.vote.cast", "payload": {"v": 1, "ballot_id": UUID, "batch": UUID, "nullifier": HEX,
                                             "credential": {"token": HEX, "prefix": HEX, "signature": "q83v" * 86},
                                             "sealed": "AAEC" * 100}},
    {"type": "ballot.tally.published", "payload": {"v": 1, "ballot_id": UUID, "counted": 1, "result": {
        "method": "approval", "counted": 0, "spoiled": 1,
        "spoiled_by_reason": {"approves 2 options, outside 1..1": 1}, "totals": {"a": 0, "b": 0}}}},
]


def test_clean_ballot_payloads_pass_and_a_name_in_them_is_caught():
    assert scan(list(enumerate(BALLOT)), VOCABULARY) == []
    named = copy.deepcopy(BALLOT)
    named[0]["payload"]["pseudonym"] = "Jan de Vries"
    named[4]["payload"]["sealed"] = "Jan de Vries, Dorpsstraat 1"
    problems = scan(list(enumerate(named)), VOCABULARY)
    assert len(problems) == 2 and "pseudonym" in problems[0] and "sealed" in problems[1]
