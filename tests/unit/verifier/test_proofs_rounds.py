"""g1000_proofs.rounds, properties: the seed-round fold and rules that the lottery service and
g1000-verify both run (docs/architecture.md §5, §6; docs/lottery.md "Seed rounds").

Histories are generated from arbitrary attempts, each kept only when the rules allow it, so the
properties hold for every round a log can hold. Each is checked against a formulation written
independently here (walking the log in order), not against the module's own helpers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from g1000_proofs import rounds
from g1000_proofs.seed import commitment, value_bytes

PROPS = settings(max_examples=150, deadline=None, database=None)
EPOCH = datetime(2026, 3, 1, tzinfo=timezone.utc)
PARTIES = ["gemeente", "krant", "uni", "raad"]


def at(ms: int) -> str:
    """A time `ms` milliseconds after the epoch, as the envelope writes it."""
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def opened_round(round_id="r", purpose="invitation", parties=("gemeente", "krant"), commit=1_000,
                 reveal=2_000, seq=1) -> rounds.Round:
    return rounds.opened({"v": 1, "round_id": round_id, "purpose": purpose,
                          "parties": list(parties), "commit_deadline": at(commit),
                          "reveal_deadline": at(reveal)}, seq)


ATTEMPT = st.tuples(st.sampled_from(["commit", "reveal", "dice", "beacon"]),
                    st.sampled_from(PARTIES + ["notary", "drand"]), st.integers(1, 400))


@st.composite
def histories(draw):
    """A round and the events the rules let into its log: `(round, log)` where `log` is the
    `(type, payload, seq, occurred_at)` list from `round_opened` on, times never decreasing."""
    parties = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=4, unique=True))
    commit = draw(st.integers(100, 2_000))
    reveal = commit + draw(st.integers(0, 2_000))
    rnd = opened_round(parties=parties, commit=commit, reveal=reveal)
    log = [(rounds.OPENED, {"v": 1, "round_id": "r", "purpose": "invitation", "parties": parties,
                            "commit_deadline": at(commit), "reveal_deadline": at(reveal)}, 1, at(0))]
    now, seq = 0, 1
    values: dict[str, str] = {}
    for action, party, step in draw(st.lists(ATTEMPT, max_size=14)):
        now += step
        value = f"{party}-{now}"
        if action == "commit":
            if rounds.commit_problems(rnd, party, at(now)):
                continue
            values[party] = value
            event = (rounds.COMMITTED, {"v": 1, "round_id": "r", "party": party,
                                        "commitment": commitment(value_bytes(value))})
        else:
            kind = "commit-reveal" if action == "reveal" else action
            if rounds.contribution_problems(rnd, party, kind, at(now)):
                continue
            if kind == "commit-reveal":   # the value its commitment was made of
                value = values[party]
            event = (rounds.CONTRIBUTED, {"v": 1, "round_id": "r",
                                          "contribution": {"party": party, "value": value, "kind": kind}})
        seq += 1
        log.append((*event, seq, at(now)))
        rnd = rounds.apply(rnd, event[0], event[1], seq, at(now))
    return rnd, log, now


@PROPS
@given(histories())
def test_the_fold_is_the_events_applied_in_order(history):
    rnd, log, _ = history
    assert rounds.fold(log) == rnd
    assert rnd.version == len(log)
    assert rounds.fold(log[1:]) is None or log[1:] == []
    assert [e.party for e in rnd.commitments] == [p["party"] for t, p, s, o in log if t == rounds.COMMITTED]


@PROPS
@given(histories())
def test_seed_contributions_are_in_commitment_order(history):
    """Walking the log: at each commitment the party's reveal if it came, at each dice or beacon
    event that value; parties that committed and did not reveal are left out."""
    rnd, log, _ = history
    reveals = {p["contribution"]["party"]: p["contribution"] for t, p, s, o in log
               if t == rounds.CONTRIBUTED and p["contribution"]["kind"] == "commit-reveal"}
    expected, silent = [], []
    for event_type, payload, _, _ in log:
        if event_type == rounds.COMMITTED:
            if payload["party"] in reveals:
                expected.append(reveals[payload["party"]])
            else:
                silent.append(payload["party"])
        elif event_type == rounds.CONTRIBUTED and payload["contribution"]["kind"] != "commit-reveal":
            expected.append(payload["contribution"])
    assert rounds.seed_contributions(rnd) == expected
    assert rounds.not_revealed(rnd) == silent


@PROPS
@given(histories())
def test_what_the_rules_let_in_respects_the_phases(history):
    """Every commitment is by a listed party, once, by the commit deadline and before any value;
    every contribution comes after the commit phase and by the reveal deadline; dice and beacon
    values precede the first reveal; nobody contributes twice."""
    rnd, log, _ = history
    first_value = None
    committed: set[str] = set()
    contributed: set[str] = set()
    revealed = False
    for event_type, payload, seq, occurred in log[1:]:
        if event_type == rounds.COMMITTED:
            assert payload["party"] in rnd.parties and payload["party"] not in committed
            assert occurred <= rnd.commit_deadline and first_value is None
            committed.add(payload["party"])
        else:
            c = payload["contribution"]
            assert c["party"] not in contributed and occurred <= rnd.reveal_deadline
            assert occurred > rnd.commit_deadline or committed == set(rnd.parties)
            if c["kind"] == "commit-reveal":
                assert c["party"] in committed
                revealed = True
            else:
                assert c["party"] not in committed and not revealed
            contributed.add(c["party"])
            first_value = first_value or seq


@PROPS
@given(histories(), st.integers(0, 6_000))
def test_finalisation_needs_a_value_and_every_reveal_or_the_deadline(history, later):
    rnd, _, now = history
    when = at(now + later)
    problems = rounds.finalize_problems(rnd, when)
    assert ("empty" in problems) == (not rounds.seed_contributions(rnd))
    assert ("waiting" in problems) == (bool(rounds.not_revealed(rnd)) and when <= rnd.reveal_deadline)
    assert ("committing" in problems) == (when <= rnd.commit_deadline
                                          and {e.party for e in rnd.commitments} != set(rnd.parties))


@PROPS
@given(histories(), st.integers(0, 6_000), st.integers(0, 6_000))
def test_the_phases_only_move_forward(history, a, b):
    rnd, _, now = history
    early, late = sorted((a, b))
    if rnd.commit_phase_over(at(now + early)):
        assert rnd.commit_phase_over(at(now + late))
    order = ["committing", "revealing", "ended", "finalized"]
    assert order.index(rnd.state(at(now + early))) <= order.index(rnd.state(at(now + late)))
    assert not ({"early", "late"} <= set(rounds.window_problems(rnd, rounds.CONTRIBUTED, at(now + early))))


# --- the designated round -----------------------------------------------------------------------


@st.composite
def round_sets(draw):
    """Rounds of both purposes that started (or not) at distinct seqs, some finalised, some past
    their reveal deadline with no contribution."""
    count = draw(st.integers(1, 6))
    starts = draw(st.lists(st.integers(2, 60), min_size=count, max_size=count, unique=True))
    found = []
    for i, start in enumerate(starts):
        rnd = opened_round(f"r{i}", draw(st.sampled_from(["invitation", "panel"])),
                           parties=("gemeente",), commit=100, reveal=draw(st.integers(101, 400)),
                           seq=1)
        fate = draw(st.sampled_from(["unstarted", "committed", "contributed", "final"]))
        if fate != "unstarted":
            rnd = rounds.apply(rnd, rounds.COMMITTED, {"party": "gemeente", "commitment": "0" * 64},
                               start, at(50))
        if fate in ("contributed", "final"):
            rnd = rounds.apply(rnd, rounds.CONTRIBUTED,
                               {"contribution": {"party": "notary", "value": "4", "kind": "dice"}},
                               start + 100, at(120))
        if fate == "final":
            rnd = rounds.apply(rnd, rounds.FINALIZED, {"seed": "1" * 64, "not_revealed": ["gemeente"]},
                               start + 200, at(130))
        found.append(rnd)
    return found


@PROPS
@given(round_sets(), st.sampled_from(["invitation", "panel"]), st.integers(0, 70),
       st.integers(0, 500), st.randoms(use_true_random=False))
def test_the_designated_round_is_the_first_live_one_to_start_after_the_subject(found, purpose, subject,
                                                                            now, rng):
    """Of the rounds of this purpose that started after the subject and can still be finalised
    (not past their reveal deadline without a contribution), the one that started first; the
    order the rounds are listed in does not matter."""
    chosen = rounds.designated(found, purpose, subject, at(now))
    live = [r for r in found if r.purpose == purpose and r.commitments and r.commitments[0].seq > subject
            and (r.contributions or r.seed is not None or at(now) <= r.reveal_deadline)]
    if not live:
        assert chosen is None
    else:
        assert chosen is min(live, key=lambda r: r.commitments[0].seq)
        assert rounds.precedes(subject, chosen) and not chosen.void(at(now))
    shuffled = list(found)
    rng.shuffle(shuffled)
    again = rounds.designated(shuffled, purpose, subject, at(now))
    assert (again and again.round_id) == (chosen and chosen.round_id)


@PROPS
@given(round_sets(), st.integers(0, 70))
def test_a_round_that_started_before_the_subject_never_draws_it(found, subject):
    for rnd in found:
        started = rnd.first_contribution_seq
        assert rounds.precedes(subject, rnd) == (started is not None and subject < started)
        if not rounds.precedes(subject, rnd):
            assert rounds.designated([rnd], rnd.purpose, subject, at(0)) is None


@PROPS
@given(st.lists(st.integers(1, 80), unique=True, max_size=6), st.integers(1, 90),
       st.randoms(use_true_random=False))
def test_the_designated_distribution_is_the_last_committed_before_the_round_started(seqs, started, rng):
    committed = [(f"d{seq}", seq) for seq in seqs]
    rng.shuffle(committed)
    chosen = rounds.designated_distribution(committed, started)
    earlier = [seq for seq in seqs if seq < started]
    assert chosen == (f"d{max(earlier)}" if earlier else None)


# --- replacements -------------------------------------------------------------------------------


@PROPS
@given(st.integers(4, 12), st.data())
def test_a_replacement_keeps_the_panel_size_and_never_brings_anyone_back(size, data):
    """Drop-outs one after another: each replacement (when there is one) is a pool member never
    on the panel before, the panel keeps its size less its vacancies, and shuffling the pool's
    order changes no choice."""
    from g1000_proofs.draw import Row
    from g1000_proofs.replacements import current_panel, ever_on_panel, replacement

    pool = [Row(f"m{i:02d}", f"h{i:02d}", {"age": "young" if i % 2 else "old"}) for i in range(size * 2)]
    quotas = {"age": {"young": [0, size], "old": [0, size]}}
    drawn = sorted(data.draw(st.permutations([m.pseudonym for m in pool]))[:size])
    seed = data.draw(st.binary(min_size=32, max_size=32))
    shuffled = data.draw(st.permutations(pool))
    history: list[tuple[str, str | None]] = []
    for _ in range(data.draw(st.integers(1, size))):
        panel = current_panel(drawn, history)
        dropped = data.draw(st.sampled_from(panel))
        chosen = replacement(seed, pool, drawn, history, quotas, dropped)
        assert replacement(seed, list(shuffled), drawn, history, quotas, dropped) == chosen
        if chosen is not None:
            assert chosen.pseudonym not in ever_on_panel(drawn, history)
        history.append((dropped, None if chosen is None else chosen.pseudonym))
        vacancies = sum(1 for _, r in history if r is None)
        assert len(current_panel(drawn, history)) == size - vacancies
        assert dropped not in current_panel(drawn, history)


# --- a distribution's panels --------------------------------------------------------------------


@PROPS
@given(st.integers(2, 10), st.data())
def test_each_broken_panel_rule_is_named(size, data):
    """A sound panel has no problem; a member too many or too few, an outsider, a wrong order, a
    household twice or a quota overrun is each reported under its rule."""
    from g1000_proofs.distribution import panel_problems
    from g1000_proofs.draw import PanelChecker, Row

    pool = [Row(f"m{i:02d}", f"h{i // 2:02d}", {"age": "young" if i % 4 < 2 else "old"})
            for i in range(size * 4)]
    quotas = {"age": {"young": [0, size], "old": [0, size]}}
    checker = PanelChecker(pool, quotas)
    singles = [m.pseudonym for m in pool if int(m.pseudonym[1:]) % 2 == 0]   # one per household
    panel = sorted(data.draw(st.permutations(singles))[:size])
    assert panel_problems(checker, panel, size) == {}
    assert panel_problems(checker, panel[:-1], size).keys() == {"size"}
    assert "outside" in panel_problems(checker, sorted(panel[:-1] + ["zz"]), size)
    assert "order" in panel_problems(checker, panel[::-1], size)
    partner = f"m{int(panel[0][1:]) + 1:02d}"                  # the same household as panel[0]
    assert "households" in panel_problems(checker, sorted(panel[:-1] + [partner]), size)
    tight = PanelChecker(pool, {"age": {"young": [0, 0], "old": [0, size]}})
    has_young = any(m.features["age"] == "young" for m in pool if m.pseudonym in panel)
    assert ("quotas" in panel_problems(tight, panel, size)) == has_young
