"""Mixed tables (issue 14, item 4): our MILP against a greedy and a GroupSelect-style local search.

One synthetic summit: 1,000 participants (70 % citizens, 10 % each employers, government, free
thinkers, as at Heerenveen's tables of 7 + 1 + 1 + 1), 40 tables of 26 seats, bounds per table of
14-20 citizens and 1-4 of each other group, 3 rounds. Per round every participant ranks up to 3
tables (10 % rank none, 10 % one) drawn with Zipf-like popularity (exponent 0.8, a new order per
round), so the popular tables are oversubscribed. Each method runs the 3 rounds on its own
history (its own earlier rounds count for its repeats), in this process, one after the other:

- ours: services.agenda.assignment.assign_tables, weights 3/2/1, with a repeated pair weighing 1
  and, in a second run, 3 (the two ends of the trade-off: preferences against new encounters);
- greedy: participants in shuffled order, each to their best-ranked table with a seat and room
  under the group's maximum, else to the open table with the fewest of their group;
- shuffle-and-swap, in the manner of GroupSelect (arXiv 2410.21451): a random deal round robin,
  then SWAPS random pair swaps, each kept when it is a Pareto improvement of (bound breaches,
  repeated pairs, preference score) -- no criterion worse, one better.

Bound violations and repeats are counted by g1000_proofs.tables (the auditor's rule), the same
for every method. Time is wall and CPU time per round (ours includes building the model and its
check); on a shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from g1000_proofs.tables import bound_violations, group_counts, repeat_pairs, share_counts
from services.agenda.assignment import GroupBound, Participant, Table, TableProblem, assign_tables

from .machine import host, package_version
from .report import bullets, table, verdict

GROUPS = ("citizen",) * 7 + ("employer", "government", "free-thinker")
BOUNDS = {"citizen": GroupBound(14, 20), "employer": GroupBound(1, 4), "government": GroupBound(1, 4),
          "free-thinker": GroupBound(1, 4)}
WEIGHTS = (3, 2, 1)
SWAPS = 200_000
GOAL_SECONDS = 10.0
OURS = {"ours, repeat weight 1": 1, "ours, repeat weight 3": 3}
METHODS = (*OURS, "greedy", "shuffle-and-swap")


@dataclass(frozen=True)
class TablesParams:
    participants: int = 1_000
    tables: int = 40
    capacity: int = 26
    rounds: int = 3
    seed: int = 14


@dataclass
class RoundResult:
    method: str
    round: int
    seconds: float
    cpu: float
    shares: tuple[float, ...]
    violations: int
    repeats: int


@dataclass
class TablesResult:
    params: TablesParams
    rounds: list[RoundResult] = field(default_factory=list)


def instance(params: TablesParams) -> tuple[list[Participant], list[Table], list[dict[str, list[str]]]]:
    rng = random.Random(params.seed)
    people = [Participant(f"p{i:04d}", GROUPS[i % len(GROUPS)]) for i in range(params.participants)]
    tables = [Table(f"t{j:02d}", params.capacity) for j in range(params.tables)]
    rounds = []
    for _ in range(params.rounds):
        order = rng.sample([t.table_id for t in tables], len(tables))
        weight = [1 / (rank + 1) ** 0.8 for rank in range(len(order))]
        prefs = {}
        for p in people:
            wanted, ranked = rng.choices((0, 1, 3), (1, 1, 8))[0], []
            while len(ranked) < wanted:
                pick = rng.choices(order, weight)[0]
                ranked += [pick] if pick not in ranked else []
            prefs[p.pseudonym] = ranked
        rounds.append(prefs)
    return people, tables, rounds


def greedy(people, tables, prefs, rng) -> dict[str, str]:
    seated, count, seats = defaultdict(int), defaultdict(int), {}
    for p in rng.sample(people, len(people)):
        high = BOUNDS[p.group].max

        def open_(t):
            return seated[t.table_id] < t.capacity and count[t.table_id, p.group] < high
        ranked = [t for tid in prefs[p.pseudonym] for t in tables if t.table_id == tid and open_(t)]
        fallback = sorted((t for t in tables if open_(t)) or (t for t in tables if seated[t.table_id] < t.capacity),
                          key=lambda t: (count[t.table_id, p.group], seated[t.table_id]))
        choice = (ranked or fallback)[0].table_id
        seats[p.pseudonym] = choice
        seated[choice] += 1
        count[choice, p.group] += 1
    return seats


def _breach(n: int, b: GroupBound) -> int:
    return max(0, b.min - n) + max(0, n - (b.max if b.max is not None else n))


def shuffle_and_swap(people, tables, prefs, earlier, rng) -> dict[str, str]:
    order = rng.sample(people, len(people))
    seats = {p.pseudonym: tables[i % len(tables)].table_id for i, p in enumerate(order)}
    group = {p.pseudonym: p.group for p in people}
    members = defaultdict(set)
    for who, t in seats.items():
        members[t].add(who)
    count = defaultdict(int)
    for who, t in seats.items():
        count[t, group[who]] += 1
    met = defaultdict(set)
    for past in earlier:
        at = defaultdict(set)
        for who, t in past.items():
            at[t].add(who)
        for who, t in past.items():
            met[who] |= at[t] - {who}

    def score(who, t):
        ranked = prefs[who]
        return WEIGHTS[ranked.index(t)] if t in ranked else 0

    names = list(seats)
    for _ in range(SWAPS):
        p, q = rng.sample(names, 2)
        a, b = seats[p], seats[q]
        if a == b:
            continue
        gp, gq = group[p], group[q]
        balance = 0
        if gp != gq:
            for t, g, d in ((a, gp, -1), (a, gq, 1), (b, gp, 1), (b, gq, -1)):
                balance += _breach(count[t, g] + d, BOUNDS[g]) - _breach(count[t, g], BOUNDS[g])
        repeats = (len(met[p] & members[b]) - (q in met[p]) + len(met[q] & members[a]) - (p in met[q])
                   - len(met[p] & members[a]) - len(met[q] & members[b]))
        loss = score(p, a) + score(q, b) - score(p, b) - score(q, a)
        if max(balance, repeats, loss) <= 0 and min(balance, repeats, loss) < 0:
            seats[p], seats[q] = b, a
            members[a].remove(p), members[b].remove(q), members[a].add(q), members[b].add(p)
            for t, g, d in ((a, gp, -1), (a, gq, 1), (b, gp, 1), (b, gq, -1)):
                count[t, g] += d
    return seats


def run_tables(params: TablesParams = TablesParams()) -> TablesResult:
    people, tables, rounds = instance(params)
    groups = {p.pseudonym: p.group for p in people}
    capacities = {t.table_id: t.capacity for t in tables}
    result = TablesResult(params)
    for method in METHODS:
        rng, history = random.Random(params.seed + 1), []
        for r, prefs in enumerate(rounds, 1):
            started, cpu = time.perf_counter(), time.process_time()
            if method in OURS:
                seats = assign_tables(TableProblem(people, tables, prefs, BOUNDS, tuple(history),
                                                   seed=f"round {r}".encode(), weights=WEIGHTS,
                                                   repeat_weight=OURS[method])).seats
            elif method == "greedy":
                seats = greedy(people, tables, prefs, rng)
            else:
                seats = shuffle_and_swap(people, tables, prefs, history, rng)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            ranks = share_counts(seats, prefs)
            violations = bound_violations(group_counts(seats, groups, capacities), capacities, BOUNDS)
            result.rounds.append(RoundResult(method, r, seconds, cpu, tuple(ranks[k] / len(people) for k in (1, 2, 3)),
                                             len(violations), repeat_pairs(seats, history)))
            history.append(seats)
    return result


def _goals(result: TablesResult) -> list[str]:
    by = {(r.method, r.round): r for r in result.rounds}
    lines = []
    for name, r in ((name, r) for name in OURS for r in range(1, result.params.rounds + 1)):
        ours, others = by[name, r], [by[m, r] for m in METHODS[len(OURS):]]
        lines.append(
            f"{name}, round {r}: 0 violations: {verdict(ours.violations == 0)}; more first choices than both:"
            f" {verdict(all(ours.shares[0] > o.shares[0] for o in others))}; fewer repeats than both"
            f" ({ours.repeats} vs {', '.join(str(o.repeats) for o in others)}): "
            + (verdict(all(ours.repeats < o.repeats for o in others)) if r > 1 else "– (no earlier round)")
            + f"; under {GOAL_SECONDS:g} s (wall {ours.seconds:.1f} s, CPU {ours.cpu:.1f} s):"
            f" {verdict(ours.seconds < GOAL_SECONDS)}.")
    return lines


def tables_section(result: TablesResult, started: datetime, load_start: str, load_end: str, code: str) -> str:
    p = result.params
    machine = {**host(started), "highspy": package_version("highspy"), "load average at start": load_start,
               "load average at end": load_end, "code": code}

    def pct(x: float) -> str:
        return f"{100 * x:.1f} %"
    rows = [(r.method, r.round, f"{r.seconds:.2f} s", f"{r.cpu:.2f} s", f"**{pct(r.shares[0])}**", pct(r.shares[1]),
             pct(r.shares[2]), pct(1 - sum(r.shares)), r.violations, r.repeats) for r in result.rounds]
    return "\n\n".join([
        "## Mixed tables: the table assignment against a greedy and a shuffle-and-swap baseline",
        "Ours at two repeat weights and the two baselines on the same synthetic summit, in the same run (method:"
        " bench/tables.py). Nothing here is a test threshold.",
        table(("machine", ""), machine.items()),
        bullets("Parameters:", [
            f"{p.participants:,} participants, {p.tables} tables of {p.capacity}, {p.rounds} rounds, seed {p.seed};",
            "bounds per table: " + ", ".join(f"{g} {b.min}–{b.max}" for g, b in BOUNDS.items()) + ";",
            f"weights {'/'.join(map(str, WEIGHTS))} for first/second/third choice; shuffle-and-swap tries"
            f" {SWAPS:,} swaps per round."]),
        table(("method", "round", "wall time", "CPU time", "first choice", "second", "third", "none of theirs",
               "bound violations", "repeat encounters (pairs)"), rows,
              "Shares of all participants; repeats = distinct pairs at one table who sat together in an earlier"
              " round of the same method."),
        bullets("Goals (ours):", _goals(result)),
    ])
