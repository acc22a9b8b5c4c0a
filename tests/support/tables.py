"""Builders for table-assignment tests: small instances with a planted feasible assignment."""

from __future__ import annotations

from hypothesis import strategies as st

from services.agenda.assignment import GroupBound, Participant, Table, TableProblem


@st.composite
def planted(draw, max_people: int = 12, max_tables: int = 4) -> tuple[TableProblem, dict[str, str]]:
    """A problem and an assignment that keeps its capacities and bounds (so it is feasible)."""
    n = draw(st.integers(2, max_people))
    t = draw(st.integers(1, max_tables))
    names = [f"g{i}" for i in range(draw(st.integers(1, 3)))]
    people = [Participant(f"p{i:02d}", draw(st.sampled_from(names))) for i in range(n)]
    tables = [f"t{j}" for j in range(t)]
    seats = {p.pseudonym: draw(st.sampled_from(tables)) for p in people}
    occupancy = {j: sum(1 for s in seats.values() if s == j) for j in tables}
    capacity = [Table(j, occupancy[j] + draw(st.integers(0, 2))) for j in tables]
    bounds = {}
    for g in names:
        counts = [sum(1 for p in people if p.group == g and seats[p.pseudonym] == j) for j in tables]
        shares = [100 * c // occupancy[j] if occupancy[j] else 0 for c, j in zip(counts, tables)]
        tight = draw(st.booleans())
        bounds[g] = GroupBound(min(counts) if tight else 0, max(counts) if tight else None,
                               min(shares) if draw(st.booleans()) and all(occupancy.values()) else 0, 100)
    preferences = {p.pseudonym: draw(st.lists(st.sampled_from(tables), max_size=3, unique=True)) for p in people}
    seed = draw(st.binary(max_size=8))
    return TableProblem(people, capacity, preferences, bounds, seed=seed), seats
