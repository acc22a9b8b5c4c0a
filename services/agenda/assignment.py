"""Mixed tables: who sits at which table in a round, as a mixed-integer program on HiGHS.

Why this module exists: at a G1000 the participants talk in rounds at tables that each mix the
stakeholder groups (citizens, employers, government, free thinkers) within configured bounds;
they rank the tables (topics) they prefer, and in later rounds they should meet people they have
not sat with yet (issue 14, item 4). The problem is framed as in GroupSelect (Sortition
Foundation; "GroupSelect: ...", arXiv 2410.21451): balance per table and few repeat meetings.
GroupSelect searches with random shuffles and Pareto swaps (our baseline, bench/tables.py); here
the same constraints are solved as one MILP with HiGHS (https://highs.dev) through ``highspy``.

Model of one round, with ``x[p, t]`` binary (participant ``p`` at table ``t``)::

    maximise  sum w[p, t] x[p, t]  -  repeat_weight * sum z[r, g, t]  (+ a seeded tie-break)
    s.t.      sum_t x[p, t] = 1                              every participant
              sum_p x[p, t] <= capacity[t]                   every table
              min_G <= n[G, t] <= max_G                      every group G and table t, with
              100 n[G, t] >= min_percent_G * sum_p x[p, t]   n[G, t] = sum_{p in G} x[p, t]
              100 n[G, t] <= max_percent_G * sum_p x[p, t]
              z[r, g, t] >= j k[r, g, t] - j (j + 1) / 2     j = 1..CHORDS, z >= 0, with
                                                             k[r, g, t] = sum_{p at g in round r} x[p, t]

``w[p, t]`` is ``weights[i]`` when ``t`` is ``p``'s choice ``i + 1`` (default 3, 2, 1), else 0.
Repeats: a pair term ``x[p, t] x[q, t]`` per pair would need half a million products for 1,000
people. Instead, the people who sat at earlier table ``g`` in round ``r`` and now sit at ``t``,
``k`` of them, form ``k (k - 1) / 2`` repeated pairs; that function is convex, and the lines
through its values at ``j`` and ``j + 1`` are ``j k - j (j + 1) / 2``, so ``z`` -- bounded below
by the first CHORDS of them -- is exactly the number of repeated pairs up to ``CHORDS + 1``
people from one earlier table at one table, and a lower bound beyond. That is ``rounds x tables^2
x CHORDS`` rows, linear and small. (A pair who met in two earlier rounds counts in both; the
reported ``repeats`` counts distinct pairs, g1000_proofs.tables.repeat_pairs.)

HiGHS runs without presolve: at 1,000 people and 40 tables it removed 160 of 7,760 rows and no
column, and the solve was faster without it in our trials (bench/tables.py's third round).
Determinism: participants and tables are ordered by id, HiGHS runs single-threaded with a fixed
random seed and no time limit, and ties are broken by ``u[p, t] / (2 (N + 1))`` with ``u`` in
``[0, 1)`` from SHA-256 of the seed and the ids -- less than 1/2 in total, so with integer weights
it never outweighs a real difference, yet it is a property of the seed, not of the input's order.
When no assignment keeps the bounds, the same program with an elastic slack on every bound row
finds the smallest breach, and :class:`InfeasibleBoundsError` names the bound. Every result is
checked with g1000_proofs.tables.check_assignment, the rule ``g1000-verify agenda`` applies.
Pure: no I/O, no clock in the result (the solve time is in ``stats``, which equality ignores).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

from g1000_proofs.tables import GroupBound, bound_violations, check_assignment, group_counts, repeat_pairs, share_counts

from .errors import (AgendaError, AssignmentCheckError, AssignmentInputError, AssignmentTimeoutError,
                     InfeasibleBoundsError)

__all__ = ["Assignment", "GroupBound", "Participant", "Table", "TableProblem", "assign_tables"]

CHORDS = 2      # pieces of the repeated-pairs function modelled exactly (3 made the solve ~4x slower)
MIP_GAP = 1e-3  # relative gap at which HiGHS stops; the result's stats hold the gap reached
BOUND_KINDS = ("min", "max", "min_percent", "max_percent")


@dataclass(frozen=True)
class Participant:
    pseudonym: str
    group: str


@dataclass(frozen=True)
class Table:
    table_id: str
    capacity: int


@dataclass(frozen=True)
class TableProblem:
    """One round: ``preferences`` maps a pseudonym to its ranked table ids (at most
    ``len(weights)``, possibly none); ``bounds`` a group to its :class:`GroupBound` at every
    table; ``earlier`` holds the earlier rounds' seats (``{pseudonym: table_id}`` each).
    ``time_limit`` (seconds, all solves together): when it passes, the best assignment found is
    returned (``stats["mip_gap"]`` says how far from optimal) -- deterministic only without it."""

    participants: Sequence[Participant]
    tables: Sequence[Table]
    preferences: Mapping[str, Sequence[str]] = field(default_factory=dict)
    bounds: Mapping[str, GroupBound] = field(default_factory=dict)
    earlier: Sequence[Mapping[str, str]] = ()
    seed: bytes = b""
    weights: tuple[int, ...] = (3, 2, 1)
    repeat_weight: int = 1
    time_limit: float | None = None


@dataclass(frozen=True)
class Assignment:
    """``seats`` ``{pseudonym: table_id}``; ``counts`` ``{table_id: {group: n}}``; ``choices``
    ``{rank: participants}`` (rank 0: at none of their choices); ``shares`` the first, second
    and third choice shares of all participants; ``violations`` the bounds broken (none);
    ``repeats`` the distinct pairs at one table who sat together in an earlier round."""

    seats: dict[str, str]
    counts: dict[str, dict[str, int]]
    choices: dict[int, int]
    shares: tuple[float, ...]
    violations: tuple[str, ...]
    repeats: int
    stats: dict = field(default_factory=dict, compare=False)


def assign_tables(problem: TableProblem) -> Assignment:
    """The assignment that maximises satisfied preferences minus repeated pairs under capacity
    and the group bounds; raises :class:`InfeasibleBoundsError` when the bounds cannot hold."""
    started = time.perf_counter()
    people, tables, groups = _validated(problem)
    if sum(t.capacity for t in tables) < len(people):
        raise InfeasibleBoundsError(
            f"{len(people)} participants but only {sum(t.capacity for t in tables)} seats at the tables",
            None, "capacity", len(people) - sum(t.capacity for t in tables))
    model = _Model(problem, people, tables, elastic=False)
    status, x = model.solve(start=True)
    if status == highspy.HighsModelStatus.kInfeasible:
        raise _diagnose(problem, people, tables)
    if x is None and status == highspy.HighsModelStatus.kTimeLimit:
        raise AssignmentTimeoutError(f"the time limit of {problem.time_limit} s passed before an assignment was found")
    if x is None:
        raise AssignmentCheckError(f"HiGHS ended with {status} and no assignment")
    seats = {p.pseudonym: tables[int(t)].table_id for p, t in zip(people, x.argmax(axis=1))}
    capacities = {t.table_id: t.capacity for t in tables}
    counts = group_counts(seats, groups, capacities)
    problem_found = check_assignment(groups, capacities, problem.bounds, seats, counts)
    if problem_found:
        raise AssignmentCheckError(f"the optimiser's assignment breaks the rule: {problem_found}")
    choices = share_counts(seats, problem.preferences, len(problem.weights))
    info = model.h.getInfo()
    return Assignment(
        seats=seats, counts=counts, choices={r: choices.get(r, 0) for r in range(len(problem.weights) + 1)},
        shares=tuple(choices.get(r, 0) / len(people) for r in range(1, len(problem.weights) + 1)),
        violations=tuple(bound_violations(counts, capacities, problem.bounds)),
        repeats=repeat_pairs(seats, problem.earlier),
        stats={"seconds": time.perf_counter() - started, "objective": info.objective_function_value,
               "mip_gap": info.mip_gap, "nodes": info.mip_node_count, "columns": model.h.getNumCol(),
               "rows": model.h.getNumRow()})


def _validated(problem: TableProblem) -> tuple[list[Participant], list[Table], dict[str, str]]:
    people = sorted(problem.participants, key=lambda p: p.pseudonym)
    tables = sorted(problem.tables, key=lambda t: t.table_id)
    groups = {p.pseudonym: p.group for p in people}
    ids = {t.table_id for t in tables}
    if not people or not tables:
        raise AssignmentInputError("an assignment needs at least one participant and one table")
    if len(groups) < len(people) or len(ids) < len(tables):
        raise AssignmentInputError("a participant or a table occurs more than once")
    if any(not isinstance(t.capacity, int) or t.capacity < 0 for t in tables):
        raise AssignmentInputError("every table's capacity is a whole number of seats, 0 or more")
    for who, ranked in problem.preferences.items():
        if who not in groups:
            raise AssignmentInputError(f"preferences for {who}, who is not a participant")
        if len(ranked) > len(problem.weights) or len(set(ranked)) < len(ranked) or not set(ranked) <= ids:
            raise AssignmentInputError(f"the preferences of {who} are not up to {len(problem.weights)} "
                                       "distinct tables of the round")
    for group, b in problem.bounds.items():
        b = GroupBound(*b)
        if not (0 <= b.min and (b.max is None or b.min <= b.max) and 0 <= b.min_percent <= b.max_percent <= 100):
            raise AssignmentInputError(f"the bounds of {group} are not 0 <= min <= max and "
                                       "0 <= min_percent <= max_percent <= 100")
    if not all(isinstance(w, int) and w >= 0 for w in (*problem.weights, problem.repeat_weight)):
        raise AssignmentInputError("the weights are whole numbers, 0 or more")
    if problem.time_limit is not None and not problem.time_limit > 0:
        raise AssignmentInputError("the time limit is a positive number of seconds")
    return people, tables, groups


def _tie_break(seed: bytes, people: list[Participant], tables: list[Table]) -> np.ndarray:
    """``u[p, t]`` in [0, 1): the first 8 bytes of SHA-256(seed, pseudonym, table id)."""
    u = np.empty((len(people), len(tables)))
    for i, p in enumerate(people):
        for j, t in enumerate(tables):
            digest = hashlib.sha256(b"\x00".join([seed, p.pseudonym.encode(), t.table_id.encode()])).digest()
            u[i, j] = int.from_bytes(digest[:8], "big") / 2.0**64
    return u


class _Model:
    """The program of the module docstring in HiGHS; ``elastic`` adds a slack per bound row and
    minimises the slack instead (used only to name the bound that cannot hold)."""

    def __init__(self, problem: TableProblem, people: list[Participant], tables: list[Table],
                 elastic: bool) -> None:
        self.n, self.t = len(people), len(tables)
        self.deadline = None if problem.time_limit is None else time.monotonic() + problem.time_limit
        self.h = h = highspy.Highs()
        for name, value in {"output_flag": False, "random_seed": 0, "threads": 1,
                            "mip_rel_gap": MIP_GAP, "presolve": "off"}.items():
            h.setOptionValue(name, value)
        h.changeObjectiveSense(highspy.ObjSense.kMinimize if elastic else highspy.ObjSense.kMaximize)
        nx = self.n * self.t
        cost = np.zeros(nx) if elastic else self._preference_cost(problem, people, tables)
        h.addCols(nx, cost, np.zeros(nx), np.ones(nx), 0, np.zeros(nx, dtype=np.int32),
                  np.array([], dtype=np.int32), np.array([], dtype=float))
        h.changeColsIntegrality(nx, np.arange(nx, dtype=np.int32), np.ones(nx, dtype=np.uint8))
        cells = np.arange(nx, dtype=np.int32).reshape(self.n, self.t)
        for row in cells:
            self._row(row, np.ones(self.t), 1.0, 1.0)
        for j, table in enumerate(tables):
            self._row(cells[:, j], np.ones(self.n), -highspy.kHighsInf, float(table.capacity))
        self.slacks: list[tuple[int, str, str, float]] = []  # (column, group, kind, seats per unit)
        self._bound_rows(problem, people, cells, elastic)
        if not elastic and problem.repeat_weight:
            self._repeat_rows(problem, people, cells)

    def _preference_cost(self, problem: TableProblem, people: list[Participant], tables: list[Table]) -> np.ndarray:
        column = {t.table_id: j for j, t in enumerate(tables)}
        w = _tie_break(problem.seed, people, tables) / (2.0 * (self.n + 1))
        for i, p in enumerate(people):
            for rank, table_id in enumerate(problem.preferences.get(p.pseudonym, ())):
                w[i, column[table_id]] += problem.weights[rank]
        return w.ravel()

    def _row(self, index: np.ndarray, value: np.ndarray, low: float, high: float) -> None:
        self.h.addRow(low, high, len(index), np.asarray(index, dtype=np.int32), np.asarray(value, dtype=float))

    def _slack(self, cost: float) -> int:
        self.h.addCol(cost, 0.0, highspy.kHighsInf, 0, np.array([], dtype=np.int32), np.array([], dtype=float))
        return self.h.getNumCol() - 1

    def _bound_rows(self, problem: TableProblem, people: list[Participant], cells: np.ndarray, elastic: bool) -> None:
        inf = highspy.kHighsInf
        for group in sorted(problem.bounds):
            b = GroupBound(*problem.bounds[group])
            member = np.array([p.group == group for p in people])
            rows = [("min", member * 1.0, float(b.min), inf, 1.0) if b.min else None,
                    ("max", member * 1.0, -inf, float(b.max), 1.0) if b.max is not None else None,
                    ("min_percent", 100.0 * member - b.min_percent, 0.0, inf, 0.01) if b.min_percent else None,
                    ("max_percent", 100.0 * member - b.max_percent, -inf, 0.0, 0.01) if b.max_percent < 100 else None]
            for kind, coeff, low, high, per_unit in filter(None, rows):
                keep = np.flatnonzero(coeff)
                for j in range(self.t):
                    index, value = cells[keep, j], coeff[keep]
                    if elastic:  # slack on the side that relaxes the row, cost in seats
                        column = self._slack(per_unit)
                        self.slacks.append((column, group, kind, per_unit))
                        index, value = np.append(index, column), np.append(value, 1.0 if low > -inf else -1.0)
                    self._row(index, value, low, high)

    def _repeat_rows(self, problem: TableProblem, people: list[Participant], cells: np.ndarray) -> None:
        row_of = {p.pseudonym: i for i, p in enumerate(people)}
        for seats in problem.earlier:
            before: dict[str, list[int]] = {}
            for who, table_id in seats.items():
                if who in row_of:
                    before.setdefault(table_id, []).append(row_of[who])
            for members in (sorted(m) for _, m in sorted(before.items()) if len(m) > 1):
                for j in range(self.t):
                    z = self._slack(-float(problem.repeat_weight))
                    index = np.append(cells[members, j], z)
                    for chord in range(1, min(CHORDS, len(members) - 1) + 1):
                        value = np.append(np.full(len(members), -float(chord)), 1.0)
                        self._row(index, value, -chord * (chord + 1) / 2.0, highspy.kHighsInf)

    def solve(self, start: bool = False) -> tuple[highspy.HighsModelStatus, np.ndarray | None]:
        """Solve the MIP; with ``start``, first hand HiGHS a start solution from the LP (below)."""
        if start:
            self._start_from_lp()
        self._run()
        status = self.h.getModelStatus()
        if self.h.getInfo().primal_solution_status != 2:  # no feasible solution
            return status, None
        values = np.asarray(self.h.getSolution().col_value)
        return status, (values[: self.n * self.t] > 0.5).reshape(self.n, self.t)

    def _run(self) -> None:
        if self.deadline is not None:
            self.h.setOptionValue("time_limit", max(self.deadline - time.monotonic(), 1e-3))
        self.h.run()

    def _start_from_lp(self) -> None:
        """The LP relaxation is nearly integral here (80 of 40,000 cells fractional in the third
        benchmark round), but HiGHS' own heuristics took most of the time to find an incumbent.
        So: solve the LP, fix every participant the LP seats wholly at one table, solve the small
        MIP left, and pass its solution to the full MIP as a start, which can then stop at its
        root once within MIP_GAP of the LP bound. Only a start: the optimum and its gap are the
        full program's. If the fixed MIP has no solution, the full MIP starts without one."""
        h, nx = self.h, self.n * self.t
        cells = np.arange(nx, dtype=np.int32)
        h.changeColsIntegrality(nx, cells, np.zeros(nx, dtype=np.uint8))
        self._run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.changeColsIntegrality(nx, cells, np.ones(nx, dtype=np.uint8))
            return
        whole = cells[np.asarray(h.getSolution().col_value)[:nx] > 1 - 1e-6]
        h.changeColsIntegrality(nx, cells, np.ones(nx, dtype=np.uint8))
        h.changeColsBounds(len(whole), whole, np.ones(len(whole)), np.ones(len(whole)))
        self._run()
        found = h.getInfo().primal_solution_status == 2
        solution = h.getSolution()
        h.changeColsBounds(len(whole), whole, np.zeros(len(whole)), np.ones(len(whole)))
        if found:
            h.setSolution(solution)

    def slack_values(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_value)


def _diagnose(problem: TableProblem, people: list[Participant], tables: list[Table]) -> AgendaError:
    """The bound with the largest breach (in seats, over all tables) when the slack is smallest."""
    model = _Model(problem, people, tables, elastic=True)
    status, x = model.solve()
    if x is None:
        return AssignmentCheckError(f"HiGHS ended with {status} on the elastic program")
    values, short = model.slack_values(), {}
    for column, group, kind, per_unit in model.slacks:
        short[group, kind] = short.get((group, kind), 0.0) + values[column] * per_unit
    (group, kind), amount = max(sorted(short.items()), key=lambda item: item[1])
    short = math.ceil(amount - 1e-6)
    value = getattr(GroupBound(*problem.bounds[group]), kind)
    return InfeasibleBoundsError(f"no assignment keeps the bound {kind}={value} on {group} at every table "
                                 f"(the closest misses by {short} seats in all)", group, kind, short)
