"""Replacing a panel member who dropped out: which panel and which reserves `next_reserve` sees.

The lottery records a replacement and g1000-verify recomputes it with these same functions
(docs/architecture.md §5, §6; docs/lottery.md `lottery.panel.replaced`). The panel is the drawn
one after the replacements so far, in log order; the reserves are the distribution's pool
members (as committed with it) never on the panel, so an earlier drop-out does not come back and
a replacement is never drawn twice. The order among reserves is `next_reserve`'s
(`R("reserve/" + pseudonym)`), so the order `members` are given in does not matter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .draw import Row, next_reserve

__all__ = ["current_panel", "ever_on_panel", "replacement"]

Replacements = Sequence[tuple[str, "str | None"]]   # (dropped, replacement or None), log order


def current_panel(drawn: Sequence[str], replacements: Replacements) -> list[str]:
    """The panel after its replacements, sorted; a vacancy (`None`) leaves a seat empty."""
    panel = list(drawn)
    for dropped, replacement in replacements:
        panel.remove(dropped)
        if replacement is not None:
            panel.append(replacement)
    return sorted(panel)


def ever_on_panel(drawn: Sequence[str], replacements: Replacements) -> set[str]:
    return set(drawn) | {r for _, r in replacements if r is not None}


def replacement(seed: bytes, members: Sequence[Row], drawn: Sequence[str], replacements: Replacements,
                quotas: Mapping, dropped: str) -> Row | None:
    """The next eligible reserve for `dropped`, who must be on `current_panel` (each caller
    refuses that in its own words first); None when no reserve keeps every quota and the
    household rule. Raises `g1000_proofs.draw.DrawError` on malformed inputs."""
    ever = ever_on_panel(drawn, replacements)
    by_id = {m.pseudonym: m for m in members}
    panel = [by_id[p] for p in current_panel(drawn, replacements)]
    reserves = [m for m in members if m.pseudonym not in ever]
    return next_reserve(seed, reserves, panel, quotas, by_id[dropped])
