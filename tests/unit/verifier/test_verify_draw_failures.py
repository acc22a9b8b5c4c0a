"""``g1000-verify draw``: every way a lottery log can be wrong fails at the right entry.

Each test builds a validly signed lottery log with the :class:`Lottery` builder (the log checks
all pass) in which exactly one lottery fact is wrong, and asserts the check that catches it, the
FIRST failing entry index and a plain reason.
"""

from __future__ import annotations

import hashlib

import pytest

from tests.support.lottery_logs import (
    PARTIES_1,
    PARTIES_2,
    QUOTAS,
    Lottery,
    STEP,
    at,
    fails,
    find,
    honest_lottery,
    register_rows,
    tamper,
    valid_panels,
)


def through_respondents() -> tuple[Lottery, list[tuple]]:
    """Register, invitation round, invitations and 12 respondents; returns the lottery and pool."""
    lot = Lottery()
    lot.register(register_rows(), chunk_size=20)
    r1 = lot.seed_round("round-invite", "invitation", PARTIES_1)
    lot.invite(r1, 24, "wijk")
    by_name = {row[0]: row for row in lot.rows}
    for pseudonym in lot.invitees[::2]:
        lot.add_member("respondents", by_name[pseudonym])
    return lot, lot.pools["respondents"]


def small_round(lot: Lottery, purpose: str = "invitation", round_id: str = "r"):
    r = lot.open_round(round_id, purpose, ["a", "b"])
    lot.commit(r, "a", "value a")
    lot.commit(r, "b", "value b")
    lot.after_commit_phase(r)
    return r


# --- Seed rounds ---------------------------------------------------------------------------------


def test_wrong_reveal():
    lot = Lottery()
    r = small_round(lot)
    bad = lot.reveal(r, "b", value="value B")
    reason = fails(lot, bad, "reveal", "party 'b' reveals does not match its commitment at entry "
                   f"{lot.index(2)}")
    assert hashlib.sha256(b"value B").hexdigest() in reason


def test_late_commitment():
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a", "b"], commit_window=5 * STEP)
    lot.commit(r, "a", "value a")
    late = lot.commit(r, "b", "value b", t=r.commit_deadline + 1)
    fails(lot, late, "commitment", "late commitment: party 'b' committed at "
          f"{at(r.commit_deadline + 1)}, after the commit deadline {at(r.commit_deadline)}")


def test_commitment_after_the_first_contribution():
    """On time by its own clock, but logged after the round's first contribution."""
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a", "b", "c"])
    lot.commit(r, "a", "value a")
    lot.commit(r, "b", "value b")
    lot.after_commit_phase(r)
    first = lot.public(r, "notaris", "dice", "5")
    late = lot.commit(r, "c", "value c", t=r.commit_deadline - 1)
    fails(lot, late, "commitment", "late commitment: party 'c' committed after the round's first "
          f"contribution (entry {lot.index(first)})")


def test_unlisted_party_and_second_commitment():
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a", "b"])
    lot.commit(r, "a", "value a")
    bad = lot.commit(r, "mallory", "value m")
    fails(lot, bad, "commitment", "party 'mallory' is not listed for seed round r")
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a", "b"])
    lot.commit(r, "a", "value a")
    bad = lot.commit(r, "a", "another value")
    fails(lot, bad, "commitment", "party 'a' commits a second time", f"entry {lot.index(1)}")


def test_dice_after_a_reveal():
    lot = Lottery()
    r = small_round(lot)
    first = lot.reveal(r, "a")
    bad = lot.public(r, "notaris", "dice", "6-6-6")
    fails(lot, bad, "public_value", "dice value of 'notaris' added after the first reveal",
          f"(entry {lot.index(first)})")


def test_dice_during_the_commit_phase():
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a", "b"])
    lot.commit(r, "a", "value a")
    bad = lot.public(r, "notaris", "dice", "2")
    fails(lot, bad, "public_value", "before the commit phase of seed round r ended",
          "not yet committed: b")


def test_reveal_after_the_reveal_deadline():
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    bad = lot.reveal(r, "b", t=r.reveal_deadline + 1)
    fails(lot, bad, "reveal", "after the reveal deadline")


def test_reveal_without_commitment_and_committed_party_adding_dice():
    lot = Lottery()
    r = small_round(lot)
    bad = lot.add("lottery.seed.contributed", {"round_id": "r", "contribution": {
        "party": "c", "value": "x", "kind": "commit-reveal"}})
    fails(lot, bad, "reveal", "party 'c' reveals a value in seed round r but committed none")
    lot = Lottery()
    r = small_round(lot)
    bad = lot.public(r, "a", "beacon", "x")
    fails(lot, bad, "public_value", "party 'a' committed in seed round r, so it must reveal")


def test_tampered_seed():
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    lot.reveal(r, "b")
    bad = lot.finalize(r, seed="00" * 32)
    fails(lot, bad, "seed", "the seed of round r does not recompute", "00" * 32)


def test_finalised_contributions_out_of_commitment_order():
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    lot.reveal(r, "b")
    bad = lot.finalize(r)
    contributions = lot.items[bad][1]["contributions"]
    tamper(lot, bad, contributions=contributions[::-1])
    fails(lot, bad, "seed", "not the revealed ones in commitment order",
          "expected parties ['a', 'b'], the log lists ['b', 'a']")


def test_not_revealed_must_list_the_silent_parties():
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    bad = lot.finalize(r)
    tamper(lot, bad, not_revealed=[])
    fails(lot, bad, "seed", "not_revealed lists [], but the parties that committed and did not "
          "reveal are ['b']")


def test_finalised_before_the_reveal_deadline_with_a_party_silent():
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    bad = lot.finalize(r, t=lot.t + STEP)
    fails(lot, bad, "seed", "before its reveal deadline", "while b has not revealed")


def test_round_without_contribution_cannot_be_finalised_and_rounds_finalise_once():
    lot = Lottery()
    r = small_round(lot)
    bad = lot.add("lottery.seed.finalized", {"round_id": "r", "seed": "11" * 32,
                                             "contributions": [], "not_revealed": ["a", "b"]},
                  t=r.reveal_deadline + 1)
    fails(lot, bad, "seed", "no revealed or public contribution")
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    lot.reveal(r, "b")
    lot.finalize(r)
    bad = lot.public(r, "notaris", "dice", "4")
    fails(lot, bad, "seed_round", "seed round r was already finalised")


# --- Register and invitations --------------------------------------------------------------------


def test_missing_register_chunk():
    lot = Lottery()
    lot.register(register_rows(), chunk_size=20, skip_chunk=1)
    fails(lot, 1, "register", "register chunk 2 follows chunk 0: chunk 1 is missing")
    lot = Lottery()
    lot.register(register_rows(), chunk_size=20, skip_chunk=2)
    fails(lot, 2, "register", "the register commitment says 3 chunks, the log holds 2 "
          "(chunk 2 is missing)")


def test_register_root_count_order_and_features():
    lot = Lottery()
    lot.register(register_rows(10))
    tamper(lot, 1, root="ab" * 32)
    fails(lot, 1, "register", "the register root does not recompute")
    lot = Lottery()
    lot.register(register_rows(10))
    rows = lot.items[0][1]["rows"]
    tamper(lot, 0, rows=[rows[1], rows[0], *rows[2:]])
    fails(lot, 0, "register", "not in strictly ascending pseudonym order")
    lot = Lottery()
    lot.register(register_rows(10), features=["age", "gender"])
    fails(lot, 1, "register", "register row 'p000' has features ['age', 'gender', 'wijk']")


def test_invitation_list_changed():
    lot, _ = through_respondents()
    bad = find(lot, "lottery.invitations.drawn")
    invitees = lot.items[bad][1]["invitees"]
    tamper(lot, bad, invitees=[invitees[0], invitees[2], invitees[1], *invitees[3:]])
    fails(lot, bad, "invitations", "the invitation draw does not recompute: invitee 1 is "
          f"{invitees[2]!r}, the recomputed draw gives {invitees[1]!r}")
    lot, _ = through_respondents()
    outsider = next(row[0] for row in lot.rows if row[0] not in lot.invitees)
    tamper(lot, bad, invitees=[*invitees[:-1], outsider])
    fails(lot, bad, "invitations", f"invitee 23 is {outsider!r}")
    lot, _ = through_respondents()
    tamper(lot, bad, invitees=invitees[:-1])
    fails(lot, bad, "invitations", "the log lists 23 invitees, the recomputed draw 24")


def test_register_committed_after_the_rounds_first_contribution():
    lot = Lottery()
    r = small_round(lot)
    lot.reveal(r, "a")
    lot.reveal(r, "b")
    lot.finalize(r)
    lot.register(register_rows(10))
    bad = lot.invite(r, 3)
    fails(lot, bad, "commit_order", f"register reg-1 was committed at entry {lot.index(bad - 1)}, "
          f"after the first contribution to seed round r (entry {lot.index(3)})")


def test_invitation_draw_needs_a_finalised_invitation_round():
    lot = Lottery()
    lot.register(register_rows(10))
    r = small_round(lot, purpose="panel")
    lot.reveal(r, "a")
    lot.reveal(r, "b")
    lot.finalize(r)
    bad = lot.invite(r, 3)
    fails(lot, bad, "invitations", "has purpose panel, this draw needs a round with purpose "
          "invitation")


def test_respondent_not_an_invitee_or_added_twice():
    lot, pool = through_respondents()
    outsider = next(row for row in lot.rows if row[0] not in lot.invitees)
    bad = lot.add_member("respondents", outsider)
    fails(lot, bad, "pool", f"respondent {outsider[0]!r} is not an invitee")
    lot, pool = through_respondents()
    bad = lot.add_member("respondents", pool[3])
    fails(lot, bad, "pool", f"{pool[3][0]!r} is added to pool respondents a second time")


# --- Distributions -------------------------------------------------------------------------------


def with_distribution(panels=None, weights=None, **kw) -> tuple[Lottery, int]:
    lot, pool = through_respondents()
    panels = panels or valid_panels(pool, 4, QUOTAS, 5)
    weights = weights or [1, 2, 3, 4, 5][:len(panels)]
    lot.distribution("d", "respondents", 4, QUOTAS, panels, weights, **kw)
    return lot, find(lot, "lottery.distribution.committed")


def test_missing_distribution_chunk():
    lot, committed = with_distribution(skip_chunk=1, chunk_size=2)
    fails(lot, committed - 1, "distribution", "chunk 2 follows chunk 0: chunk 1 is missing")
    lot, committed = with_distribution(skip_chunk=2, chunk_size=2)
    fails(lot, committed, "distribution", "the commitment says 3 chunks, the log holds 2 "
          "(chunk 2 is missing)")


def test_weights_not_matching():
    lot, committed = with_distribution()
    tamper(lot, committed, total_weight=16)
    fails(lot, committed, "distribution", "the weights sum to 15, total_weight is 16")
    lot, committed = with_distribution()
    tamper(lot, committed, weights=[1, 2, 3, 4])
    fails(lot, committed, "distribution", "4 weights for 5 panels")
    lot, committed = with_distribution(weights=[1, 0, 3, 4, 5])
    fails(lot, committed, "distribution", "weight 1 is 0, weights must be positive")
    lot, committed = with_distribution()
    tamper(lot, committed, panel_count=6, weights=[1, 2, 3, 4, 5, 6], total_weight=21)
    fails(lot, committed, "distribution", "panel_count is 6, the chunks hold 5 panels")


def test_roots_must_recompute():
    lot, committed = with_distribution()
    tamper(lot, committed, panels_root="cd" * 32)
    fails(lot, committed, "distribution", "panels_root does not recompute")
    lot, committed = with_distribution()
    tamper(lot, committed, members=13)
    fails(lot, committed, "distribution", "the commitment to pool respondents does not "
          "recompute: its 12 members")


def test_panel_violating_a_quota():
    lot, pool = through_respondents()
    women = [m[0] for m in pool if m[2]["gender"] == "f"][:4]
    panels = valid_panels(pool, 4, QUOTAS, 2) + [women]
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 1, 1])
    fails(lot, find(lot, "lottery.distribution.committed"), "panels",
          "distribution d: panel 2 breaks the quotas: gender=f: 4 members, above max 3")


def test_household_violation():
    lot = Lottery()
    lot.register(register_rows(10))
    r = lot.seed_round("r", "invitation", {"a": "value a"})
    lot.invite(r, 3)
    for i, household in enumerate(["x", "x", "y", "z"]):
        lot.add_member("nominees", (f"n{i}", household, {"g": "fm"[i % 2]}))
    panels = [["n0", "n2"], ["n0", "n1"]]
    lot.distribution("d", "nominees", 2, {}, panels, [1, 1])
    fails(lot, find(lot, "lottery.distribution.committed"), "panels",
          "distribution d: panel 1 breaks the household rule: household x: 2 members (n0, n1)")


def test_panel_size_and_pool_membership():
    lot, pool = through_respondents()
    panels = valid_panels(pool, 4, QUOTAS, 2)
    panels.append(panels[0][:3])
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 1, 1])
    fails(lot, find(lot, "lottery.distribution.committed"), "panels",
          "panel 2 has 3 members, panel_size is 4")
    lot, pool = through_respondents()
    outsider = next(row[0] for row in lot.rows if row[0] not in lot.invitees)
    panels = valid_panels(pool, 4, QUOTAS, 2)
    panels.append(sorted(panels[0][:3] + [outsider]))
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 1, 1])
    fails(lot, find(lot, "lottery.distribution.committed"), "panels",
          f"panel 2 has {outsider!r}, who is not a member of pool respondents")


def test_members_added_after_the_commitment_are_not_in_the_distribution():
    lot, pool = through_respondents()
    panels = valid_panels(pool, 4, QUOTAS, 2)
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 1], commit=False)
    late = next(row for row in lot.rows if row[0] in lot.invitees and row not in pool)
    lot.commit_distribution(lot.distributions["d"], 1)
    lot.add_member("respondents", late)
    assert lot.verify().failure is None
    lot, pool = through_respondents()
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 1], commit=False)
    lot.add_member("respondents", late)            # added before the commitment ...
    bad = lot.commit_distribution(lot.distributions["d"], 1)   # ... which leaves it out
    fails(lot, bad, "distribution", "its 13 members give root", "the log records 12 members")


# --- Panel draws and replacements ----------------------------------------------------------------


def panel_stage(*, distribution_late: bool = False,
                purpose: str = "panel") -> tuple[Lottery, object]:
    lot, pool = through_respondents()
    panels = valid_panels(pool, 4, QUOTAS, 6)
    if not distribution_late:
        lot.distribution("d", "respondents", 4, QUOTAS, panels, [3, 1, 4, 1, 5, 9])
    r = lot.open_round("round-panel", purpose, list(PARTIES_2))
    for party, value in PARTIES_2.items():
        lot.commit(r, party, value)
    lot.after_commit_phase(r)
    lot.reveal(r, "gemeente")
    if distribution_late:
        lot.distribution("d", "respondents", 4, QUOTAS, panels, [3, 1, 4, 1, 5, 9])
    lot.reveal(r, "universiteit")
    lot.reveal(r, "buurtraad")
    lot.finalize(r)
    return lot, r


def test_distribution_committed_after_the_rounds_first_contribution():
    lot, r = panel_stage(distribution_late=True)
    committed = find(lot, "lottery.distribution.committed")
    first = find(lot, "lottery.seed.contributed", round_id="round-panel")
    bad = lot.draw_panel("d", r)
    fails(lot, bad, "commit_order", f"distribution d was committed at entry "
          f"{lot.index(committed)}, after the first contribution to seed round round-panel "
          f"(entry {lot.index(first)})")


def test_panel_outside_the_distribution():
    lot, r = panel_stage()
    bad = lot.draw_panel("d", r)
    d = lot.distributions["d"]
    index = lot.items[bad][1]["index"]
    other = (index + 1) % len(d.panels)
    tamper(lot, bad, members=d.panels[other])
    fails(lot, bad, "panel_draw", f"the drawn members are not panel {index} (they are panel "
          f"{other} of the distribution)")
    tamper(lot, bad, members=sorted(m[0] for m in d.members[:4]))
    if sorted(m[0] for m in d.members[:4]) not in d.panels:
        fails(lot, bad, "panel_draw", "(they are no panel of the distribution)")
    tamper(lot, bad, index=other, members=d.panels[other])
    fails(lot, bad, "panel_draw", f"the draw gives panel {index}, the log records panel {other}")


def test_panel_draw_needs_a_finalised_panel_round_and_happens_once():
    lot, r = panel_stage(purpose="invitation")
    bad = lot.draw_panel("d", r)
    fails(lot, bad, "panel_draw", "has purpose invitation, this draw needs a round with purpose "
          "panel")
    lot, r = panel_stage()
    first = lot.draw_panel("d", r)
    bad = lot.draw_panel("d", r)
    fails(lot, bad, "panel_draw", f"drawn a second time (first at entry {lot.index(first)})")
    lot, _ = through_respondents()
    panels = valid_panels(lot.pools["respondents"], 4, QUOTAS, 2)
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 1])
    r = lot.open_round("round-panel", "panel", ["a"])
    lot.commit(r, "a", "va")
    lot.after_commit_phase(r)
    lot.reveal(r, "a")
    bad = lot.add("lottery.panel.drawn", {"distribution_id": "d", "round_id": "round-panel",
                                          "index": 0, "members": panels[0]})
    fails(lot, bad, "panel_draw", "seed round round-panel is not finalised before this draw")


def test_replacement_must_recompute():
    lot, r = panel_stage()
    lot.draw_panel("d", r)
    d = lot.distributions["d"]
    bad = lot.replace("d", r, d.panel[1])
    expected = lot.items[bad][1]["replacement"]
    wrong = next(m[0] for m in d.members if m[0] not in d.ever and m[0] != expected)
    tamper(lot, bad, replacement=wrong)
    fails(lot, bad, "replacement", f"the next eligible reserve is {expected!r}, the log records "
          f"{wrong!r}")


def test_replacement_of_someone_not_on_the_panel():
    lot, r = panel_stage()
    lot.draw_panel("d", r)
    d = lot.distributions["d"]
    outsider = next(m[0] for m in d.members if m[0] not in d.panel)
    bad = lot.add("lottery.panel.replaced", {"distribution_id": "d", "round_id": r.round_id,
                                             "dropped": outsider, "replacement": None})
    fails(lot, bad, "replacement", f"{outsider!r} is not on the panel of distribution d")


def test_a_dropped_member_never_comes_back_as_a_reserve():
    """Two replacements in a row recompute with the panel as it then is, and reserves that were
    never on it (the first drop-out is not a reserve for the second)."""
    lot, r = panel_stage()
    lot.draw_panel("d", r)
    d = lot.distributions["d"]
    for _ in range(3):
        lot.replace("d", r, d.panel[0])
    result = lot.verify()
    assert result.failure is None, result.failure
    dropped = {x["dropped"] for x in result.draws if x["kind"] == "replacement"}
    assert not dropped & {x["replacement"] for x in result.draws if x["kind"] == "replacement"}


# --- Shapes and ordering of failures -------------------------------------------------------------


@pytest.mark.parametrize("position, changes, fragment", [
    (0, {"extra": 1}, "a lottery.register.chunk payload has exactly the members v, register_id, "
                      "chunk, rows"),
    (0, {"v": 3}, "unsupported lottery.register.chunk payload version 3"),
    (0, {"v": 2}, "is not a committed row"),   # a v1 row under the v2 label
    (0, {"rows": [{"pseudonym": "p", "household": "h"}]}, "rows[0] is not a row"),
    (1, {"root": "AB" * 32}, "root must be 64 lowercase hex digits"),
])
def test_malformed_payloads(position, changes, fragment):
    lot = Lottery()
    lot.register(register_rows(10))
    tamper(lot, position, **changes)
    fails(lot, position, "lottery_event", fragment)


def test_contribution_without_kind_and_bad_deadlines():
    lot = Lottery()
    r = small_round(lot)
    bad = lot.add("lottery.seed.contributed", {"round_id": "r", "contribution": {
        "party": "a", "value": "value a"}})
    fails(lot, bad, "lottery_event", "has no kind")
    lot = Lottery()
    lot.open_round("r", "invitation", ["a"])
    tamper(lot, 0, commit_deadline="2027-03-14 09:00:00")
    fails(lot, 0, "lottery_event", "commit_deadline must be a time")
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a"])
    tamper(lot, 0, commit_deadline=at(r.reveal_deadline + 1))
    fails(lot, 0, "seed_round", "is after reveal deadline")


def test_the_first_failure_wins():
    lot = honest_lottery()
    invitations = find(lot, "lottery.invitations.drawn")
    panel_seed = find(lot, "lottery.seed.finalized", round_id="round-panel")
    tamper(lot, panel_seed, seed="22" * 32)
    invitees = lot.items[invitations][1]["invitees"]
    tamper(lot, invitations, invitees=invitees[::-1])
    fails(lot, invitations, "invitations")


# --- No choosing among seeds or distributions ----------------------------------------------------


def finished_round(lot: Lottery, round_id: str, purpose: str, values: dict[str, str]):
    """A round whose parties all commit and reveal, then finalised."""
    return lot.seed_round(round_id, purpose, values)


def test_register_committed_between_a_rounds_commitment_and_its_first_reveal():
    """The subject must precede the round's first *commitment*, not only its first reveal."""
    lot = Lottery()
    r = lot.open_round("r", "invitation", ["a", "b"])
    first = lot.commit(r, "a", "value a")
    lot.register(register_rows(10))
    lot.commit(r, "b", "value b")
    lot.after_commit_phase(r)
    lot.reveal(r, "a")
    lot.reveal(r, "b")
    lot.finalize(r)
    bad = lot.invite(r, 3)
    fails(lot, bad, "commit_order", "after seed round r had started (its first commitment, "
          f"entry {lot.index(first)})")


def test_invitation_draw_must_use_the_first_round_after_the_register():
    """Two finalised invitation rounds after the register: drawing with the second is seed
    shopping, even though the register precedes both."""
    lot = Lottery()
    lot.register(register_rows(20))
    finished_round(lot, "first", "invitation", PARTIES_1)
    second = finished_round(lot, "second", "invitation", PARTIES_2)
    bad = lot.invite(second, 4)
    fails(lot, bad, "designated_round", "must be drawn with seed round first, the first "
          "invitation round to start after it", "not with round second", "choosing among seeds")


def test_a_round_started_before_the_register_does_not_count_and_a_void_round_is_skipped():
    lot = Lottery()
    # started before the register: not eligible for it (and cannot draw it)
    early = lot.open_round("early", "invitation", ["a"])
    lot.commit(early, "a", "va")
    lot.register(register_rows(20))
    # a round that gets one commitment and no contribution by its reveal deadline is void
    void = lot.open_round("void", "invitation", ["a", "b"])
    lot.commit(void, "a", "va")
    lot.t = void.reveal_deadline + 1
    # a panel round in between is of another purpose
    finished_round(lot, "panel-round", "panel", {"x": "vx"})
    good = finished_round(lot, "good", "invitation", PARTIES_1)
    lot.invite(good, 4)
    result = lot.verify()
    assert result.failure is None, result.failure
    assert result.draws[0]["round_id"] == "good"


def test_a_round_that_is_not_void_yet_is_designated():
    """Before its reveal deadline a started round may still be finalised: it stays designated."""
    lot = Lottery()
    lot.register(register_rows(20))
    pending = lot.open_round("pending", "invitation", ["a", "b"], reveal_window=10_000_000)
    lot.commit(pending, "a", "va")
    later = finished_round(lot, "later", "invitation", PARTIES_1)
    bad = lot.invite(later, 4)
    fails(lot, bad, "designated_round", "must be drawn with seed round pending")


def two_distributions() -> tuple[Lottery, object]:
    lot, pool = through_respondents()
    panels = valid_panels(pool, 4, QUOTAS, 6)
    lot.distribution("d1", "respondents", 4, QUOTAS, panels[:3], [1, 2, 3])
    lot.distribution("d2", "respondents", 4, QUOTAS, panels[3:], [3, 2, 1])
    r = finished_round(lot, "round-panel", "panel", PARTIES_2)
    return lot, r


def test_the_panel_is_drawn_from_the_pools_last_distribution():
    lot, r = two_distributions()
    lot.draw_panel("d2", r)
    result = lot.verify()
    assert result.failure is None, result.failure
    lot, r = two_distributions()
    bad = lot.draw_panel("d1", r)
    second = find(lot, "lottery.distribution.committed", distribution_id="d2")
    fails(lot, bad, "designated_distribution", "must be drawn from distribution d2 (entry "
          f"{lot.index(second)}), the pool's last distribution committed before seed round "
          "round-panel started", "choosing among distributions")


def test_another_pools_distribution_does_not_supersede():
    lot, pool = through_respondents()
    panels = valid_panels(pool, 4, QUOTAS, 3)
    lot.distribution("d", "respondents", 4, QUOTAS, panels, [1, 2, 3])
    by_name = {row[0]: row for row in lot.rows}
    for pseudonym in lot.invitees[1::2]:
        lot.add_member("employers", by_name[pseudonym])
    other = valid_panels(lot.pools["employers"], 4, QUOTAS, 2)
    lot.distribution("e", "employers", 4, QUOTAS, other, [1, 1])
    r = finished_round(lot, "round-panel", "panel", PARTIES_2)
    lot.draw_panel("d", r)
    lot.draw_panel("e", r)
    result = lot.verify()
    assert result.failure is None, result.failure


def test_a_replacement_uses_the_panel_draws_round():
    lot, r = panel_stage()
    lot.draw_panel("d", r)
    d = lot.distributions["d"]
    other = finished_round(lot, "round-other", "panel", PARTIES_1)
    bad = lot.replace("d", other, d.panel[0])
    fails(lot, bad, "designated_round", "the replacement uses seed round round-other, but the "
          "panel of distribution d was drawn with round round-panel")
