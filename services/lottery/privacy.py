"""k-anonymity of what the log publishes about a register: nobody is singled out by it.

Every row of `lottery.register.chunk` is public and permanent, with its household id and its
published features. A combination of feature values that only one or two residents share points
at them; so does a household's *composition* (the multiset of its members' combinations, which
anyone reads off the rows sharing a household id): in the first demo register 307 of 1,133
households had a composition no other household had, so whoever knows such a household finds
its pseudonyms, and with them its invitation, response and seat.

`check` therefore asks three things of the published features, with one threshold k:
- every combination of values is shared by at least k rows,
- and by rows of at least k distinct households (k people in one house are one address),
- every household composition is shared by at least k households.
It reports shortfalls by counts only: a combination shared by fewer than k is exactly what must
never be printed, so the report says how many combinations (or households) fall short and by how
much, never which. The municipality then coarsens its bands and tries again.

Pure: no I/O. Used by the register import (services/lottery/register_api.py) and by
`g1000 register prepare` (g1000/register_prepare.py), so both refuse the same registers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Protocol

DEFAULT_K = 5
MIN_K, MAX_K = 2, 100   # the configurable range; k = 1 (no check) exists only for tests


class _Row(Protocol):
    household: str
    features: dict[str, str]


@dataclass(frozen=True)
class Shortfall:
    """One of the three checks: how many combinations (or households) fall below k, grouped by
    how many share them (`by_size`: {size: number}, sizes 1..k-1)."""

    below_k: int
    by_size: dict[int, int]

    def as_json(self) -> dict:
        return {"below_k": self.below_k,
                "by_size": [{"size": s, "count": n} for s, n in sorted(self.by_size.items())]}


@dataclass(frozen=True)
class KAnonymityReport:
    k: int
    features: tuple[str, ...]
    rows: Shortfall          # combinations shared by fewer than k rows
    households: Shortfall    # combinations found in fewer than k distinct households
    compositions: Shortfall  # households whose composition fewer than k households share (counted per household)

    @property
    def ok(self) -> bool:
        return not (self.rows.below_k or self.households.below_k or self.compositions.below_k)

    def messages(self) -> list[str]:
        """One plain sentence per failing check, counts only."""
        combo = "(" + ", ".join(self.features) + ")" if self.features else "(no features)"
        out = []
        if self.rows.below_k:
            out.append(f"{_n(self.rows.below_k, 'combination')} of {combo} {_are(self.rows.below_k)} "
                       f"shared by fewer than {self.k} rows: {_sizes(self.rows, 'row')}")
        if self.households.below_k:
            out.append(f"{_n(self.households.below_k, 'combination')} of {combo} {_are(self.households.below_k)} "
                       f"found in fewer than {self.k} households: {_sizes(self.households, 'household')}")
        if self.compositions.below_k:
            n = self.compositions.below_k
            out.append(f"{_n(n, 'household')} {'has' if n == 1 else 'have'} a member composition (household "
                       f"size and members' {combo}) shared by fewer than {self.k} households: "
                       f"{_sizes(self.compositions, 'household', per='in')}")
        return out

    def as_json(self) -> dict:
        return {"k": self.k, "features": list(self.features), "rows": self.rows.as_json(),
                "households": self.households.as_json(), "compositions": self.compositions.as_json()}


def _n(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _sizes(shortfall: Shortfall, noun: str, per: str = "with") -> str:
    """"2 with 1 row, 1 with 3 rows" (per="with") or "30 in a composition of 1 household" ("in")."""
    pattern = "{n} with {size}" if per == "with" else "{n} in a composition of {size}"
    return ", ".join(pattern.format(n=n, size=_n(s, noun)) for s, n in sorted(shortfall.by_size.items()))


def _shortfall(sizes: Iterable[int], k: int, weight_by_size: bool = False) -> Shortfall:
    """Group the sizes below k; with `weight_by_size` each group of size s counts s members
    (households of a composition), else once (a combination)."""
    by_size: Counter[int] = Counter()
    for size in sizes:
        if size < k:
            by_size[size] += size if weight_by_size else 1
    return Shortfall(sum(by_size.values()), dict(sorted(by_size.items())))


def check(rows: Iterable[_Row], features: Iterable[str], k: int = DEFAULT_K) -> KAnonymityReport:
    """The k-anonymity of the rows as published with `features` (the names every reader sees
    with each row and its household id). k >= 1; k = 1 passes everything."""
    if k < 1:
        raise ValueError("k must be at least 1")
    names = tuple(sorted(features))
    row_count: Counter[tuple] = Counter()
    homes: dict[tuple, set[str]] = {}
    members: dict[str, list[tuple]] = {}
    for row in rows:
        combo = tuple(row.features.get(name) for name in names)
        row_count[combo] += 1
        homes.setdefault(combo, set()).add(row.household)
        members.setdefault(row.household, []).append(combo)
    # a composition is a multiset: sort with None-safe keys (a missing feature is its own value)
    compositions = Counter(tuple(sorted(m, key=_sort_key)) for m in members.values())
    return KAnonymityReport(
        k=k, features=names,
        rows=_shortfall(row_count.values(), k),
        households=_shortfall((len(h) for h in homes.values()), k),
        compositions=_shortfall(compositions.values(), k, weight_by_size=True),
    )


def _sort_key(combo: tuple) -> tuple:
    return tuple((v is None, v or "") for v in combo)
