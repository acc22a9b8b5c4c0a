"""The invitation draw's parameters, fixed in the log before its seed exists (issue 10 H3).

Why this module exists: the invitation draw (:func:`g1000_proofs.draw.invitation_draw`) is a
function of the seed *and* of ``n`` and ``stratify_by``.  If those two could be chosen after the
seed is final, an organiser who sees the seed could try every stratification and every ``n``
near the planned one, offline, and draw with whichever leaves out (or takes in) a chosen
resident -- and the draw would still recompute.  So a seed round of purpose ``invitation``
declares them when it is opened (``lottery.seed.round_opened`` v2, member ``draw``), before any
party commits, and the draw must use exactly what its round declared.  A panel draw needs no
such declaration: its distribution is committed before its round starts and fixes everything.

The lottery service applies these rules when a round is opened and when the invitation draw is
requested; ``g1000-verify draw`` applies the same functions to the log (docs/lottery.md).

Contract (``lottery.seed.round_opened`` v2, docs/lottery.md):

``draw``
    purpose ``invitation``: an object with exactly the members ``n`` (an integer, 1 to
    200,000; not a boolean) and ``stratify_by`` (a feature name ``^[a-z][a-z0-9_]{0,39}$`` or
    ``null`` for an unstratified draw).  Purpose ``panel``: ``null`` (or absent).
A draw with round ``r`` is made with ``n == r.draw.n`` and ``stratify_by == r.draw.stratify_by``.
Whether the register can serve the declared parameters (enough households, the stratum feature
present) is decided at the draw, as for any draw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_N", "declaration_problem", "mismatch"]

MAX_N = 200_000
_FEATURE = re.compile(r"[a-z][a-z0-9_]{0,39}")


def declaration_problem(purpose: str, draw: Any) -> str | None:
    """Why ``draw`` is not a valid declaration for a round of ``purpose``; None when it is."""
    if purpose != "invitation":
        if draw is not None:
            return f"a {purpose} round declares no draw parameters (its subject fixes them)"
        return None
    if draw is None:
        return ("an invitation round declares its draw's parameters (n and stratify_by) before "
                "any party commits")
    if not isinstance(draw, Mapping) or set(draw) != {"n", "stratify_by"}:
        return 'the declared draw is exactly {"n": integer, "stratify_by": feature name or null}'
    n = draw["n"]
    if type(n) is not int or not 1 <= n <= MAX_N:
        return f"the declared n must be an integer from 1 to {MAX_N}"
    feature = draw["stratify_by"]
    if feature is not None and (not isinstance(feature, str) or not _FEATURE.fullmatch(feature)):
        return "the declared stratify_by must be a feature name or null"
    return None


def mismatch(declared: Mapping[str, Any], n: int, stratify_by: str | None) -> str | None:
    """Why a draw with ``n`` and ``stratify_by`` is not the draw ``declared``; None when it is.

    ``declared`` is a valid declaration (:func:`declaration_problem` found none)."""
    differences = []
    if n != declared["n"] or type(n) is not int:
        differences.append(f"n {n!r} instead of the declared {declared['n']!r}")
    if stratify_by != declared["stratify_by"]:
        differences.append(f"stratify_by {stratify_by!r} instead of the declared "
                           f"{declared['stratify_by']!r}")
    if not differences:
        return None
    return ("the draw does not use the parameters its round declared before the seed existed: "
            + "; ".join(differences))
