"""From a lottery over compositions to explicit panels of person ids with integer weights.

Why this module exists: the LEXIMIN computation (:mod:`.leximin`, after Flanigan, Gölz, Gupta,
Hennig, Procaccia, "Fair algorithms for selecting citizens' assemblies", Nature 596, 2021) works
with *compositions* -- how many members of each type sit on a panel.  The log commits explicit
panels (sorted pseudonyms) with positive integer weights summing to ``total_weight``, from which
one panel is drawn (docs/architecture.md §6), so each composition must become concrete panels, and the
members of a type must share the type's probability *equally* (to within a tolerance).

Method (all weights are exact integers):

1. Weights: the composition probabilities times ``total_weight``, rounded by largest remainder
   (Hamilton); compositions that round to 0 are dropped.
2. Copies: a composition may be split into ``m`` copies whose weights differ by at most 1.  A
   copy heavier than half the probability of a type it takes only part of could not be evened
   out among that type's members, so such compositions are split up front.
3. Members, greedily: copies are processed heaviest first; for every type, a copy takes the
   ``x_t`` members with the largest *deficit* (coverage they should have had so far minus what
   they had; exact integers scaled by ``n_t``; ties to the earlier id).  This rotates a type's
   members through the copies.
4. Members, polished: for each type still out of balance, repeatedly take its most and least
   covered members ``a`` and ``b`` and hand one of ``a``'s seats to ``b`` (or swap a seat of
   each), choosing the copies that bring the gap closest to zero -- each move strictly
   narrows it.
5. If a type is still out of balance, copies are split unevenly to balance it exactly: with
   gap ``g`` between its most and least covered members ``a`` and ``b``, a copy with ``a``
   and without ``b`` gives ``g // 2`` of its weight to a new copy in which ``b`` sits instead
   of ``a`` (the other types' seats are repeated, so they do not change).  Each split costs one
   panel, within the ``max_panels`` budget.

Identical panels are merged at the end, and the panels are listed in code-point order.

A person's exact probability is (sum of the weights of their panels) / ``total_weight``; it
differs from the type-level probability by the weight rounding (about ``sqrt(#compositions) /
total_weight``) plus the remaining imbalance; both are reported.
"""

from __future__ import annotations

import numpy as np

from .types import TypeTable

__all__ = ["PanelSet", "build_panels", "largest_remainder"]

_MAX_ROUNDS = 8


def largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``weights`` (largest remainder; equal
    remainders go to the lower index)."""
    weights = np.asarray(weights, dtype=float)
    quotas = weights / weights.sum() * total
    floors = np.floor(quotas).astype(np.int64)
    remaining = int(total - floors.sum())
    if remaining > 0:
        order = np.lexsort((np.arange(len(quotas)), -(quotas - floors)))
        floors[order[:remaining]] += 1
    return floors


class PanelSet:
    """Explicit panels (tuples of sorted ids, in code-point order) with integer weights."""

    def __init__(self, panels: list[tuple[str, ...]], weights: list[int], stats: dict) -> None:
        self.panels = panels
        self.weights = weights
        self.stats = stats


class _Layout:
    """People of a :class:`TypeTable` as positions 0..N-1, ordered by type then id."""

    def __init__(self, table: TypeTable) -> None:
        self.ids = [pid for members in table.members for pid in members]
        self.sizes = table.sizes
        self.type_of = np.repeat(np.arange(table.count), table.sizes)
        self.start = np.concatenate([[0], np.cumsum(table.sizes)]).astype(np.int64)


class _Pieces:
    """Copies of compositions: ``comp[p]``, integer ``weight[p]``, and ``seats[p]`` (who sits)."""

    def __init__(self, compositions: np.ndarray, int_weights: np.ndarray, copies: np.ndarray,
                 people: int) -> None:
        comp, weight = [], []
        for j, (w, m) in enumerate(zip(int_weights.tolist(), copies.tolist())):
            for part in _split(w, m):
                comp.append(j)
                weight.append(part)
        self.compositions = compositions
        self.comp = np.array(comp, dtype=np.int64)
        self.weight = np.array(weight, dtype=np.int64)
        self.seats = np.zeros((len(comp), people), dtype=bool)

    def __len__(self) -> int:
        return len(self.comp)

    def order(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Row indices (all, or ``rows``) heaviest first, ties by row index."""
        rows = np.arange(len(self.comp)) if rows is None else rows
        return rows[np.lexsort((rows, -self.weight[rows]))]

    def split_off(self, p: int, part: int) -> int:
        """Split ``part`` of copy ``p``'s weight into a new copy with the same seats; its row."""
        self.weight[p] -= part
        self.comp = np.concatenate([self.comp, self.comp[p:p + 1]])
        self.weight = np.concatenate([self.weight, np.array([part], dtype=np.int64)])
        self.seats = np.concatenate([self.seats, self.seats[p:p + 1]])
        return len(self.comp) - 1


def _split(weight: int, copies: int) -> list[int]:
    base, extra = divmod(weight, copies)
    return [base + 1] * extra + [base] * (copies - extra)


def _greedy_all(layout: _Layout, pieces: _Pieces) -> None:
    """Step 3 for every type at once (vectorised over people)."""
    type_of, sizes = layout.type_of, layout.sizes
    n_of = sizes[type_of]
    deficit = np.zeros(len(type_of), dtype=np.int64)
    for p in pieces.order().tolist():
        w = int(pieces.weight[p])
        need = pieces.compositions[pieces.comp[p]][type_of]
        deficit += w * need
        row = need == n_of
        partial = np.flatnonzero((need > 0) & (need < n_of))
        if len(partial):
            order = partial[np.lexsort((partial, -deficit[partial], type_of[partial]))]
            kinds = type_of[order]
            rank = np.arange(len(order)) - np.searchsorted(kinds, kinds)
            row[order[rank < need[order]]] = True
        deficit[row] -= w * n_of[row]
        pieces.seats[p] = row


def _polish(layout: _Layout, pieces: _Pieces, t: int, gap_goal: float) -> None:
    """Step 4 for type ``t``, in place: moves and exchanges between extreme members."""
    lo, hi = int(layout.start[t]), int(layout.start[t + 1])
    block = pieces.seats[:, lo:hi]
    counts = block.sum(axis=1)
    rows = np.flatnonzero((counts > 0) & (counts < hi - lo))
    if not len(rows):
        return
    sub = block[rows]
    w = pieces.weight[rows]
    cover = w @ sub
    for _ in range(40 * (hi - lo) + 100):
        a, b = int(np.argmax(cover)), int(np.argmin(cover))
        gap = int(cover[a] - cover[b])
        if gap <= gap_goal:
            break
        give = np.flatnonzero(sub[:, a] & ~sub[:, b])   # a's seats b could take
        take = np.flatnonzero(sub[:, b] & ~sub[:, a])   # b's seats a could take
        best, best_error = None, gap  # a move must change a's coverage by d, 0 < d < gap
        d = w[give]
        ok = d < gap
        if ok.any():
            i = int(np.argmin(np.where(ok, np.abs(2 * d - gap), gap)))
            if ok[i] and abs(2 * int(d[i]) - gap) < best_error:
                best, best_error = (give[i], None), abs(2 * int(d[i]) - gap)
        if len(give) and len(take):
            tw = w[take]
            sorter = np.argsort(tw, kind="stable")
            tw_sorted = tw[sorter]
            # exchange: a gives piece g, takes piece q: d = w_g - w_q, want d close to gap / 2
            want = w[give] - gap / 2.0
            pos = np.clip(np.searchsorted(tw_sorted, want), 0, len(tw_sorted) - 1)
            for cand in (pos, np.clip(pos - 1, 0, len(tw_sorted) - 1)):
                dd = w[give] - tw_sorted[cand]
                valid = (dd > 0) & (dd < gap)
                if valid.any():
                    err = np.where(valid, np.abs(2 * dd - gap), gap)
                    i = int(np.argmin(err))
                    if err[i] < best_error:
                        best, best_error = (give[i], take[sorter[cand[i]]]), int(err[i])
        if best is None:
            break
        g, q = best
        sub[g, a], sub[g, b] = False, True
        change = int(w[g])
        if q is not None:
            sub[q, b], sub[q, a] = False, True
            change -= int(w[q])
        cover[a] -= change
        cover[b] += change
    block[rows] = sub


def _gaps(layout: _Layout, pieces: _Pieces) -> np.ndarray:
    """Per type: most minus least covered member, in weight units."""
    cover = pieces.weight @ pieces.seats
    high = np.maximum.reduceat(cover, layout.start[:-1])
    low = np.minimum.reduceat(cover, layout.start[:-1])
    return high - low


def _imbalance(layout: _Layout, pieces: _Pieces, total: int) -> np.ndarray:
    """Per type: the largest |coverage - type average| of a member, as a probability."""
    cover = pieces.weight @ pieces.seats
    sums = np.add.reduceat(cover, layout.start[:-1])
    mean = sums / layout.sizes
    worst = np.zeros(len(layout.sizes))
    np.maximum.at(worst, layout.type_of, np.abs(cover - mean[layout.type_of]))
    return worst / total


def build_panels(table: TypeTable, compositions: np.ndarray, weights: np.ndarray,
                 probabilities: np.ndarray, *, total_weight: int, max_panels: int,
                 tolerance: float = 5e-5) -> PanelSet:
    """Steps 1-5 of the module docstring.

    ``weights`` are the composition probabilities (floats summing to 1); ``probabilities`` the
    type-level probability of each member of each type (used to size the up-front splits).
    """
    layout = _Layout(table)
    sizes = table.sizes
    dropped = 0
    if len(weights) > max_panels:  # keep the heaviest compositions (rarely needed)
        keep = np.sort(np.lexsort((np.arange(len(weights)), -weights))[:max_panels])
        dropped = len(weights) - max_panels
        compositions, weights = compositions[keep], weights[keep]
    int_weights = largest_remainder(weights, total_weight)
    keep = int_weights > 0
    dropped += int((~keep).sum())
    compositions, int_weights = compositions[keep], int_weights[keep]
    copies = _initial_copies(compositions, int_weights, probabilities, sizes, total_weight,
                             max_panels)
    pieces = _Pieces(compositions, int_weights, copies, len(layout.ids))
    _greedy_all(layout, pieces)
    # a type's members may differ by at most ``goal`` weight units: the tolerance, and never
    # more than the number of compositions (so never more than the number of panels)
    goal = max(1, min(int(tolerance * total_weight), len(int_weights)))
    gaps = _gaps(layout, pieces)
    bad = np.flatnonzero(gaps > goal)
    rounds = 0
    while len(bad):
        for t in bad.tolist():
            _polish(layout, pieces, t, goal)
        gaps = _gaps(layout, pieces)
        bad = np.flatnonzero(gaps > goal)
        rounds += 1
        budget = max_panels - len(pieces)
        if not len(bad) or budget <= 0 or rounds > _MAX_ROUNDS:
            break
        added = 0
        for t in bad[np.argsort(-gaps[bad], kind="stable")].tolist():
            added += _split_and_move(layout, pieces, t, goal, budget - added)
        if not added:
            break
        gaps = _gaps(layout, pieces)
        bad = np.flatnonzero(gaps > goal)
    worst = _imbalance(layout, pieces, total_weight)
    merged: dict[tuple[str, ...], int] = {}
    for p in range(len(pieces)):
        panel = tuple(sorted(layout.ids[i] for i in np.flatnonzero(pieces.seats[p])))
        merged[panel] = merged.get(panel, 0) + int(pieces.weight[p])
    panels = sorted(merged)
    stats = {
        "panel_rounds": rounds,
        "copies": len(pieces),
        "panels": len(panels),
        "dropped_compositions": dropped,
        "max_imbalance": float(worst.max(initial=0.0)),
        "max_type_gap": int(gaps.max(initial=0)),
    }
    return PanelSet(panels, [merged[p] for p in panels], stats)


def _initial_copies(compositions, int_weights, probabilities, sizes, total, max_panels
                    ) -> np.ndarray:
    """Step 2: split compositions whose copies would outweigh half a partial type's share."""
    partial = (compositions > 0) & (compositions < sizes)
    share = np.where(partial, np.maximum(probabilities, 1e-12) * total / 2.0, np.inf)
    cap = share.min(axis=1)
    copies = np.ones(len(int_weights), dtype=np.int64)
    finite = np.isfinite(cap)
    copies[finite] = np.ceil(int_weights[finite] / np.maximum(cap[finite], 1.0))
    copies = np.clip(copies, 1, int_weights)
    budget = max(max_panels // 2, len(int_weights))
    while int(copies.sum()) > budget and copies.max() > 1:  # too many: scale down
        copies = np.maximum(1, copies // 2)
    return copies


def _split_and_move(layout: _Layout, pieces: _Pieces, t: int, gap_goal: float, budget: int
                    ) -> int:
    """Step 5 for type ``t``: balance its members exactly by splitting copies; copies added.

    While the most and least covered members ``a`` and ``b`` differ by more than the goal,
    the lightest copy with ``a`` and without ``b`` that weighs more than half their gap ``g``
    gives ``g // 2`` of its weight to a new copy in which ``b`` sits instead of ``a``.  The
    other types keep their seats (the new copy repeats them), so only ``t`` changes.
    """
    lo, hi = int(layout.start[t]), int(layout.start[t + 1])
    added = 0
    for _ in range(4 * (hi - lo)):
        if added >= budget:
            break
        cover = pieces.weight @ pieces.seats[:, lo:hi]
        a, b = int(np.argmax(cover)), int(np.argmin(cover))
        gap = int(cover[a] - cover[b])
        part = gap // 2
        if gap <= gap_goal or part < 1:
            break
        rows = np.flatnonzero(pieces.seats[:, lo + a] & ~pieces.seats[:, lo + b]
                              & (pieces.weight > part))
        if not len(rows):
            break
        p = int(rows[np.lexsort((rows, pieces.weight[rows]))[0]])
        new = pieces.split_off(p, part)
        pieces.seats[new, lo + a], pieces.seats[new, lo + b] = False, True
        added += 1
    return added
