"""The brute-force selection oracle (tests/support/selection_oracle.py) on hand-solvable pools."""

from __future__ import annotations

from services.lottery.selection import Person

from tests.support.selection_oracle import leximin_oracle, valid_panels


# --- the oracle on hand-solvable pools ----------------------------------------------------------


def test_oracle_on_a_symmetric_pool():
    people = [Person(f"p{i}", {"g": "a"}) for i in range(4)]
    panels = valid_panels(people, 2, {"g": {"a": (0, 2)}})
    assert len(panels) == 6
    result = leximin_oracle([p.id for p in people], panels)
    assert all(abs(v - 0.5) < 1e-9 for v in result.values())


def test_oracle_on_a_quota_that_binds():
    # one "b" among three "a"; exactly one of each on a panel of 2: b always, each a 1/3
    people = [Person("a1", {"g": "a"}), Person("a2", {"g": "a"}), Person("a3", {"g": "a"}),
              Person("b1", {"g": "b"})]
    quotas = {"g": {"a": (1, 1), "b": (1, 1)}}
    result = leximin_oracle([p.id for p in people], valid_panels(people, 2, quotas))
    assert abs(result["b1"] - 1.0) < 1e-9
    assert all(abs(result[i] - 1 / 3) < 1e-9 for i in ("a1", "a2", "a3"))


def test_oracle_respects_households():
    people = [Person("x", {"g": "a"}, "h"), Person("y", {"g": "a"}, "h"), Person("z", {"g": "a"})]
    panels = valid_panels(people, 2, {"g": {"a": (0, 2)}})
    assert sorted(panels) == [("x", "z"), ("y", "z")]
    result = leximin_oracle(["x", "y", "z"], panels)
    assert abs(result["z"] - 1.0) < 1e-9 and abs(result["x"] - 0.5) < 1e-9
