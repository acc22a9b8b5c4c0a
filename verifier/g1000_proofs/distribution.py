"""A committed panel distribution: its root and what every one of its panels must satisfy.

The lottery checks each panel before it commits a distribution and g1000-verify checks them again
from the log, with these functions (docs/architecture.md §5, §6; docs/lottery.md
`lottery.distribution.committed`): `panels_root` is the RFC 9162 MTH over
`SHA-256(0x00 || JCS(panel))` in distribution order, and a panel has `panel_size` distinct pool
members in code-point order, keeps every quota and seats no household twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import jcs, merkle
from .draw import PanelChecker

__all__ = ["panel_problems", "panels_root"]


def panels_root(panels: Sequence[Sequence[str]]) -> bytes:
    """RFC 9162 MTH over `SHA-256(0x00 || JCS(panel))` in distribution order."""
    return merkle.root_from_leaves([merkle.leaf_hash(jcs.dumps(list(p))) for p in panels])


def panel_problems(checker: PanelChecker, panel: Sequence[str], panel_size: int) -> dict[str, list]:
    """What is wrong with one panel, by rule: "size" (its member count when not `panel_size`),
    "outside" (members not in the pool), "order" (not distinct and sorted), "quotas" and
    "households" (`PanelChecker`'s problems). Only the rules that fail are keys; empty when the
    panel is sound."""
    problems: dict[str, list] = {}
    if len(panel) != panel_size:
        problems["size"] = [len(panel)]
    outside = [name for name in panel if name not in checker]
    if outside:
        problems["outside"] = outside
    if list(panel) != sorted(set(panel)):
        problems["order"] = [list(panel)]
    if not outside:
        for rule, found in (("quotas", checker.quotas(panel)), ("households", checker.households(panel))):
            if found:
                problems[rule] = found
    return problems
