"""Common ground the Polis way (issue 14, item 5): opinion groups, the statements that represent
each group, and the statements every group supports, from the agree/disagree/pass votes of a
table (or of the whole summit) on its statements.

Sources (the facts carry over, the code is our own):

- Polis math, https://github.com/compdemocracy/polis/tree/edge/math: ``src/polismath/math/pca.clj``
  (sparsity-aware projection), ``clusters.clj`` (k-means, silhouette), ``repness.clj`` and
  ``stats.clj`` (representativeness and its z-tests), ``conversation.clj`` (group-informed
  consensus); the notes in ``math/python_conversion/docs/algorithm_analysis.md``.
- C. Small et al., "Polis: Scaling deliberation by mapping high dimensional opinion spaces",
  Recerca 26(2), 2021, https://doi.org/10.6035/recerca.5516.
- red-dwarf, the Polis community's Python port, https://github.com/polis-community/red-dwarf
  (docs in its ``docs/`` folder, ``reddwarf.utils.stats``, ``reddwarf.implementations.base``).

The pipeline, over a vote matrix V (participants x statements; +1 agree, -1 disagree, 0 pass,
NaN not voted), every participant and statement in a fixed (sorted) order:

1. Projection: each missing vote is replaced by its statement's mean vote (mean imputation),
   scikit-learn's PCA (full SVD, 2 components) projects every participant, and each projection is
   scaled by sqrt(n_statements / n_votes_of_the_participant), Polis's sparsity-aware correction
   that keeps people who voted little from bunching in the centre.
2. Groups: only participants with at least ``min_votes`` (7) votes (passes count) are clustered.
   k-means (scikit-learn, k-means++, fixed ``random_state`` and ``n_init``) runs for every k in
   2..5 (fewer when there are fewer distinct points); the k with the highest silhouette wins (the
   smaller k on a tie). Groups are numbered in the order of their first member.
3. Representative statements, per group g and statement s, over the clustered participants:
   na, nd, ns = agrees, disagrees, votes in g; pa = (na+1)/(ns+2) and pd likewise;
   pat = 2*sqrt(ns+1)*((na+1)/(ns+1) - 1/2) (the one-proportion test); ra = pa / pa(not g);
   rat = the two-proportion z-test of (na+1)/(ns+1) in g against the same outside g, with the
   pooled proportion (0 when it is 1); pd, pdt, rd, rdt the same for disagree. A statement
   represents g when both tests pass at 90 % one-sided (z > 1.2816) for agree or for disagree;
   its direction is agree when rat > rdt; the candidates are ranked by r * rt * p * pt of their
   direction (ra*rat*pa*pat for agree), the first ``top`` (5) are kept.
4. Group-informed consensus of s: the product over the groups of (A_g+1)/(S_g+2) (A_g agrees,
   S_g votes of group g), and the same for disagree; statements ranked by the agree product.

Differences from Polis and red-dwarf, on purpose: no "best agree" statement is put in front of a
group's list and no fallback statement is added when none passes both tests (a list holds only
statements that pass them); Polis's base clusters (for conversations over 100 participants) and
its k-smoothing over successive updates are left out: the result is a function of the votes
alone, so anyone recomputes it from the log. Ties are broken by statement order.

Determinism: the same votes give the same groups, lists and rankings (PCA by full SVD with
scikit-learn's sign convention, k-means with a fixed seed, every ordering explicit). Floats may
differ in their last digits between BLAS builds; ``CommonGround.summary`` rounds them.

Pure: numpy and scikit-learn, no I/O. The votes are pseudonymous: a participant is an opaque id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.metrics import silhouette_score

from services.agenda.errors import VoteMatrixError

AGREE, DISAGREE, PASS = 1, -1, 0
Z_90 = 1.2816  # one-sided 90 % critical value of the standard normal, as in Polis's stats.clj


@dataclass(frozen=True)
class Parameters:
    """The published parameters of the computation (Polis's defaults)."""

    min_votes: int = 7
    k_min: int = 2
    k_max: int = 5
    random_state: int = 0
    n_init: int = 10
    top: int = 5
    z_critical: float = Z_90

    def check(self) -> None:
        if self.min_votes < 1 or not 2 <= self.k_min <= self.k_max or self.n_init < 1 or self.top < 1:
            raise VoteMatrixError(f"parameters out of range: {self}")


@dataclass(frozen=True)
class VoteMatrix:
    """Votes as a matrix: ``values[i, j]`` is participant i's vote on statement j (NaN: none)."""

    participants: tuple[str, ...]
    statements: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        shape = (len(self.participants), len(self.statements))
        if self.values.shape != shape:
            raise VoteMatrixError(f"the matrix is {self.values.shape}, its labels say {shape}")
        if len(set(self.participants)) != shape[0] or len(set(self.statements)) != shape[1]:
            raise VoteMatrixError("a participant or statement is named twice")
        given = self.values[~np.isnan(self.values)]
        if not np.isin(given, (AGREE, DISAGREE, PASS)).all():
            raise VoteMatrixError("a vote is not +1 (agree), -1 (disagree) or 0 (pass)")

    def vote_counts(self) -> np.ndarray:
        """Per participant, how many statements they voted on (a pass counts)."""
        return (~np.isnan(self.values)).sum(axis=1)


def vote_matrix(votes: Iterable[tuple[str, str, int]], statements: Sequence[str] = ()) -> VoteMatrix:
    """The matrix of ``(participant, statement, vote)`` triples in log order: a later vote of a
    participant on a statement replaces the earlier one. Participants are sorted; statements are
    ``statements`` in that order followed by any others voted on, sorted."""
    latest: dict[tuple[str, str], int] = {}
    for participant, statement, vote in votes:
        if isinstance(vote, bool) or vote not in (AGREE, DISAGREE, PASS):
            raise VoteMatrixError(f"vote {vote!r} is not +1 (agree), -1 (disagree) or 0 (pass)")
        latest[(participant, statement)] = vote
    people = sorted({p for p, _ in latest})
    named = list(dict.fromkeys(statements))
    columns = named + sorted({s for _, s in latest} - set(named))
    values = np.full((len(people), len(columns)), np.nan)
    row = {p: i for i, p in enumerate(people)}
    column = {s: j for j, s in enumerate(columns)}
    for (participant, statement), vote in latest.items():
        values[row[participant], column[statement]] = vote
    return VoteMatrix(tuple(people), tuple(columns), values)


@dataclass(frozen=True)
class StatementStats:
    """One statement's standing in one group, in the direction it represents the group."""

    statement: str
    direction: str  # "agree" or "disagree"
    n_success: int  # na (or nd)
    n_seen: int  # ns
    p: float  # pa = (na+1)/(ns+2)
    p_test: float  # pat
    repness: float  # ra
    repness_test: float  # rat

    @property
    def metric(self) -> float:
        """Polis's ranking of representative statements: ra * rat * pa * pat."""
        return self.repness * self.repness_test * self.p * self.p_test


@dataclass(frozen=True)
class Group:
    """An opinion group: its members (participant ids) and its representative statements."""

    members: tuple[str, ...]
    representative: tuple[StatementStats, ...]


@dataclass(frozen=True)
class Consensus:
    """A statement's group-informed consensus: prod_g (A_g+1)/(S_g+2), and the same for disagree."""

    statement: str
    agree: float
    disagree: float


@dataclass(frozen=True)
class CommonGround:
    """The result: groups, the k and silhouette that chose them, consensus ranked by agree."""

    parameters: Parameters
    projections: dict[str, tuple[float, ...]]
    groups: tuple[Group, ...]
    silhouette: float | None
    consensus: tuple[Consensus, ...]

    def labels(self) -> dict[str, int]:
        """Clustered participant -> the index of their group."""
        return {m: g for g, group in enumerate(self.groups) for m in group.members}

    def summary(self, digits: int = 6) -> dict:
        """Plain data for publishing and recomputing: ids, directions, floats rounded."""
        return {
            "parameters": asdict(self.parameters),
            "silhouette": None if self.silhouette is None else round(self.silhouette, digits),
            "groups": [{"members": list(g.members),
                        "representative": [{"statement": s.statement, "direction": s.direction,
                                            "metric": round(s.metric, digits)} for s in g.representative]}
                       for g in self.groups],
            "consensus": [{"statement": c.statement, "agree": round(c.agree, digits),
                           "disagree": round(c.disagree, digits)} for c in self.consensus],
        }


def project(matrix: VoteMatrix) -> np.ndarray:
    """Participants in (up to) two dimensions: mean imputation, PCA, sparsity-aware scaling."""
    n_people, n_statements = matrix.values.shape
    filled = SimpleImputer(strategy="mean", keep_empty_features=True).fit_transform(matrix.values)
    components = min(2, n_people, n_statements)
    if (filled == filled[0]).all():  # everyone voted alike: no variance, everyone at the origin
        return np.zeros((n_people, components))
    points = PCA(n_components=components, svd_solver="full").fit_transform(filled)
    scale = np.sqrt(n_statements / np.maximum(1, matrix.vote_counts()))
    return points * scale[:, np.newaxis]


def cluster(points: np.ndarray, parameters: Parameters) -> tuple[np.ndarray, float | None]:
    """k-means for k in k_min..k_max, the k of the best silhouette; labels numbered by first
    appearance. Fewer than three distinct points make one group (silhouette None)."""
    distinct = len(np.unique(points, axis=0))
    best_labels, best_score = np.zeros(len(points), dtype=int), None
    for k in range(parameters.k_min, min(parameters.k_max, distinct - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=parameters.n_init, random_state=parameters.random_state,
                        algorithm="lloyd").fit_predict(points)
        if len(set(labels.tolist())) < 2:
            continue
        score = float(silhouette_score(points, labels))
        if best_score is None or score > best_score:
            best_labels, best_score = labels, score
    return _by_first_appearance(best_labels), best_score


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order = {label: index for index, label in enumerate(dict.fromkeys(labels.tolist()))}
    return np.array([order[label] for label in labels.tolist()], dtype=int)


def one_proportion_test(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """Polis's z of a proportion against 1/2, with one pseudo-count: 2*sqrt(n+1)*((s+1)/(n+1) - 1/2)."""
    return 2 * np.sqrt(trials + 1) * ((successes + 1) / (trials + 1) - 0.5)


def two_proportion_test(succ_in: np.ndarray, succ_out: np.ndarray,
                        n_in: np.ndarray, n_out: np.ndarray) -> np.ndarray:
    """Polis's pooled two-proportion z of (s_in+1)/(n_in+1) against (s_out+1)/(n_out+1); 0 where
    the pooled proportion is 1 (nothing to tell apart)."""
    s1, s2, n1, n2 = succ_in + 1, succ_out + 1, n_in + 1, n_out + 1
    pooled = (s1 + s2) / (n1 + n2)
    spread = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (s1 / n1 - s2 / n2) / spread
    return np.where(pooled >= 1, 0.0, z)


def smoothed(successes: np.ndarray, trials: np.ndarray) -> np.ndarray:
    """(s+1)/(n+2): the probability with one pseudo-count each way (pa, pd, and consensus)."""
    return (successes + 1) / (trials + 2)


def _counts(values: np.ndarray, vote: int) -> tuple[np.ndarray, np.ndarray]:
    return (values == vote).sum(axis=0), (~np.isnan(values)).sum(axis=0)


def _direction_stats(inside: np.ndarray, outside: np.ndarray, vote: int) -> dict[str, np.ndarray]:
    n_in, seen_in = _counts(inside, vote)
    n_out, seen_out = _counts(outside, vote)
    p = smoothed(n_in, seen_in)
    return {"n": n_in, "seen": seen_in, "p": p, "pt": one_proportion_test(n_in, seen_in),
            "r": p / smoothed(n_out, seen_out), "rt": two_proportion_test(n_in, n_out, seen_in, seen_out)}


def representative(values: np.ndarray, in_group: np.ndarray, statements: Sequence[str],
                   parameters: Parameters) -> tuple[StatementStats, ...]:
    """The group's representative statements (rows of ``values`` where ``in_group``), best first."""
    agree = _direction_stats(values[in_group], values[~in_group], AGREE)
    disagree = _direction_stats(values[in_group], values[~in_group], DISAGREE)
    z = parameters.z_critical
    candidates = []
    for j, statement in enumerate(statements):
        passes = (agree["pt"][j] > z and agree["rt"][j] > z) or (disagree["pt"][j] > z and disagree["rt"][j] > z)
        if not passes:
            continue
        name, side = ("agree", agree) if agree["rt"][j] > disagree["rt"][j] else ("disagree", disagree)
        candidates.append(StatementStats(statement, name, int(side["n"][j]), int(side["seen"][j]),
                                         float(side["p"][j]), float(side["pt"][j]),
                                         float(side["r"][j]), float(side["rt"][j])))
    ranked = sorted(enumerate(candidates), key=lambda item: (-item[1].metric, item[0]))
    return tuple(stats for _, stats in ranked[:parameters.top])


def group_consensus(values: np.ndarray, labels: np.ndarray, statements: Sequence[str]) -> tuple[Consensus, ...]:
    """Group-informed consensus per statement, ranked by the agree product (ties: statement order)."""
    agree = np.ones(len(statements))
    disagree = np.ones(len(statements))
    for g in sorted(set(labels.tolist())):
        members = values[labels == g]
        agree *= smoothed(*_counts(members, AGREE))
        disagree *= smoothed(*_counts(members, DISAGREE))
    order = sorted(range(len(statements)), key=lambda j: (-agree[j], j))
    return tuple(Consensus(statements[j], float(agree[j]), float(disagree[j])) for j in order)


def common_ground(matrix: VoteMatrix, parameters: Parameters = Parameters()) -> CommonGround:
    """Opinion groups, their representative statements and the group-informed consensus."""
    parameters.check()
    if not matrix.participants or not matrix.statements:
        return CommonGround(parameters, {}, (), None, ())
    points = project(matrix)
    projections = {p: tuple(float(x) for x in points[i]) for i, p in enumerate(matrix.participants)}
    clustered = matrix.vote_counts() >= parameters.min_votes
    if not clustered.any():
        return CommonGround(parameters, projections, (), None, ())
    labels, silhouette = cluster(points[clustered], parameters)
    values = matrix.values[clustered]
    members = [p for p, keep in zip(matrix.participants, clustered) if keep]
    groups = tuple(
        Group(tuple(m for m, label in zip(members, labels) if label == g),
              representative(values, labels == g, matrix.statements, parameters))
        for g in range(int(labels.max()) + 1))
    return CommonGround(parameters, projections, groups, silhouette,
                        group_consensus(values, labels, matrix.statements))
