"""The ballot's counting rules: what a valid vote looks like and how votes are counted.

Why this module exists: the ballot service publishes a tally, and ``g1000-verify tally`` recounts
the opened votes from the log; both must apply exactly the same rules, so they live here once
(docs/architecture.md, "one home per rule"). Pure: plain data in, plain JSON-ready data out
(integers and strings only, so a published result and a recount compare byte for byte).

Methods (the ballot's ``spec``, fixed in its opening event):

- ``approval``: ``{"approve": [option, ...]}``, distinct options, between ``min`` and ``max`` of them.
- ``cumulative``: ``{"dots": {option: n}}``, whole dots ``n >= 1``, at most ``max_per_option`` on
  one option and between 1 and ``dots`` in total.
- ``score``: ``{"scores": {option: s}}`` with ``0 <= s <= max_score``; an option left out scores 0.
- ``schulze``: ``{"ranking": [option, ...]}``, distinct options, most preferred first; options left
  out are tied below every ranked one. Counted by the Schulze method (M. Schulze, "A new monotonic,
  clone-independent, reversal symmetric, and Condorcet-consistent single-winner election method",
  Social Choice and Welfare 36 (2011), §2.1): the pairwise matrix ``d[x][y]`` (voters preferring x to
  y), the strongest-path matrix ``p`` (widest paths, Floyd–Warshall), and x beats y when
  ``p[x][y] > p[y][x]``.

Tie rule (all methods): no tie is broken. Options are ranked by their total (for Schulze: by the
number of options they beat); options with equal standing share a rank, the next rank skips as in
"1, 2, 2, 4", and ``tied`` lists every group of two or more. Within a rank the options appear in the
spec's order, which carries no meaning. A choice that does not have its method's shape is a
*spoiled* ballot: it is not counted, and the result counts spoiled ballots by reason, like paper.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from .errors import TallyError

__all__ = ["METHODS", "BallotSpec", "Unopened", "parse_spec", "spoil_reason", "tally", "schulze"]

METHODS = ("approval", "cumulative", "score", "schulze")
MAX_OPTIONS = 100


@dataclass(frozen=True)
class BallotSpec:
    """A validated ballot specification."""

    method: str
    options: tuple[str, ...]
    min: int = 0
    max: int = 0
    dots: int = 0
    max_per_option: int = 0
    max_score: int = 0


class Unopened(NamedTuple):
    """A cast vote that did not open (:func:`g1000_proofs.sealing.open_vote` refused it): it is
    passed to :func:`tally` in its place, so it is spoiled with its reason, never dropped."""

    reason: str


def _whole(value: Any, what: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise TallyError(f"{what} must be a whole number {bound}")
    return value


def parse_spec(spec: Mapping[str, Any]) -> BallotSpec:
    """The ballot's method and options from its opening event; raises TallyError when malformed."""
    if not isinstance(spec, Mapping):
        raise TallyError("the ballot spec must be an object")
    method = spec.get("method")
    if method not in METHODS:
        raise TallyError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    options = spec.get("options")
    if (not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS
            or not all(isinstance(o, str) and o for o in options) or len(set(options)) != len(options)):
        raise TallyError(f"options must be 2 to {MAX_OPTIONS} distinct non-empty option ids")
    n = len(options)
    known = {"method", "options"} | {
        "approval": {"min", "max"}, "cumulative": {"dots", "max_per_option"},
        "score": {"max_score"}, "schulze": set()}[method]
    extra = sorted(set(spec) - known)
    if extra:
        raise TallyError(f"{method} takes no {', '.join(extra)}")
    if method == "approval":
        low = _whole(spec.get("min"), "min", 0, n)
        return BallotSpec(method, tuple(options), min=low, max=_whole(spec.get("max"), "max", max(low, 1), n))
    if method == "cumulative":
        dots = _whole(spec.get("dots"), "dots", 1, 1000)
        return BallotSpec(method, tuple(options), dots=dots,
                          max_per_option=_whole(spec.get("max_per_option"), "max_per_option", 1, dots))
    if method == "score":
        return BallotSpec(method, tuple(options), max_score=_whole(spec.get("max_score"), "max_score", 1, 100))
    return BallotSpec(method, tuple(options))


def _counts(value: Any, spec: BallotSpec, key: str, low: int, high: int) -> dict[str, int] | str:
    if not isinstance(value, dict) or set(value) != {key} or not isinstance(value[key], dict):
        return f"expected an object with {key!r} only"
    counts = value[key]
    for option, n in counts.items():
        if option not in spec.options:
            return "an option that is not on the ballot"
        if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= high:
            return f"a {key[:-1]} outside {low}..{high}"
    return counts


def _distinct_options(value: Any, spec: BallotSpec, key: str) -> list[str] | str:
    if not isinstance(value, dict) or set(value) != {key} or not isinstance(value[key], list):
        return f"expected an object with {key!r} only"
    chosen = value[key]
    if not all(isinstance(o, str) and o in spec.options for o in chosen):
        return "an option that is not on the ballot"
    if len(set(chosen)) != len(chosen):
        return "an option chosen twice"
    return chosen


def spoil_reason(spec: BallotSpec, choice: Any) -> str | None:
    """Why an opened choice is spoiled, or None when it counts. The reasons are the published ones."""
    if isinstance(choice, Unopened):
        return choice.reason
    if spec.method in ("approval", "schulze"):
        chosen = _distinct_options(choice, spec, "approve" if spec.method == "approval" else "ranking")
        if isinstance(chosen, str):
            return chosen
        if spec.method == "approval" and not spec.min <= len(chosen) <= spec.max:
            return f"approves {len(chosen)} options, outside {spec.min}..{spec.max}"
        if spec.method == "schulze" and not chosen:
            return "an empty ranking"
        return None
    if spec.method == "cumulative":
        counts = _counts(choice, spec, "dots", 1, spec.max_per_option)
        if isinstance(counts, str):
            return counts
        if not 1 <= sum(counts.values()) <= spec.dots:
            return f"{sum(counts.values())} dots, outside 1..{spec.dots}"
        return None
    counts = _counts(choice, spec, "scores", 0, spec.max_score)
    return counts if isinstance(counts, str) else None


def _ranks(options: tuple[str, ...], standing: Mapping[str, int]) -> tuple[list[dict], list[list[str]]]:
    """Standard competition ranking ("1, 2, 2, 4") by standing, highest first; ties listed."""
    order = sorted(options, key=lambda o: (-standing[o], options.index(o)))
    ranking, groups = [], {}
    for position, option in enumerate(order):
        rank = position + 1 if position == 0 or standing[order[position - 1]] != standing[option] \
            else ranking[-1]["rank"]
        ranking.append({"option": option, "rank": rank})
        groups.setdefault(rank, []).append(option)
    return ranking, [g for g in groups.values() if len(g) > 1]


def schulze(options: tuple[str, ...], rankings: Iterable[list[str]]) -> tuple[list[list[int]], list[list[int]]]:
    """The pairwise matrix d and the strongest-path matrix p, indexed in the options' order."""
    n = len(options)
    index = {o: i for i, o in enumerate(options)}
    d = [[0] * n for _ in range(n)]
    for ranking in rankings:
        position = {index[o]: r for r, o in enumerate(ranking)}
        unranked = len(ranking)
        for x in range(n):
            for y in range(n):
                if x != y and position.get(x, unranked) < position.get(y, unranked):
                    d[x][y] += 1
    p = [[d[x][y] if x != y and d[x][y] > d[y][x] else 0 for y in range(n)] for x in range(n)]
    for k in range(n):
        for x in range(n):
            if x == k:
                continue
            for y in range(n):
                if y not in (x, k):
                    p[x][y] = max(p[x][y], min(p[x][k], p[k][y]))
    return d, p


def tally(spec: BallotSpec, choices: Iterable[Any]) -> dict[str, Any]:
    """The full, JSON-ready result of counting ``choices`` (opened votes) under ``spec``."""
    valid, spoiled = [], Counter()
    for choice in choices:
        reason = spoil_reason(spec, choice)
        if reason is None:
            valid.append(choice)
        else:
            spoiled[reason] += 1
    result: dict[str, Any] = {"method": spec.method, "options": list(spec.options), "counted": len(valid),
                              "spoiled": sum(spoiled.values()),
                              "spoiled_by_reason": dict(sorted(spoiled.items()))}
    if spec.method == "schulze":
        d, p = schulze(spec.options, (c["ranking"] for c in valid))
        n = len(spec.options)
        beats = {o: sum(1 for y in range(n) if y != x and p[x][y] > p[y][x]) for x, o in enumerate(spec.options)}
        result.update(pairwise=d, strongest_paths=p, beats=beats)
        standing = beats
    else:
        key = {"approval": "approve", "cumulative": "dots", "score": "scores"}[spec.method]
        totals = Counter({o: 0 for o in spec.options})
        for choice in valid:
            totals.update(choice[key])  # a list counts 1 per option, a mapping adds its numbers
        standing = {o: totals[o] for o in spec.options}
        result["totals"] = standing
    result["ranking"], result["tied"] = _ranks(spec.options, standing)
    return result
