"""What ``g1000-verify`` prints: a plain-text report for people, one JSON object for machines.

Why this module exists: docs/architecture.md §5 asks for a plain reason with the first failing index, and
machine-readable output with ``--json``.  Both are rendered here from the same
:class:`~g1000_verify.checks.Verification`, so they cannot disagree.  The JSON object has exactly
these members (a contract for scripts that call the verifier)::

    {"ok": bool, "log_id": str, "tree_size": int | null,
     "checked": {"entries", "signatures", "checkpoints", "consistency_proofs", "receipts"},
     "failure": null | {"index": int | null, "check": str, "reason": str},
     "log_key_source": "argument" | "source", "notes": [str, ...],
     "completeness": null | {"complete": bool, "invalid": [str, ...],
                             "streams": [{"stream", "head_seq": int | null, "logged_seq", "behind"}]}}

``completeness`` is null when no stream heads were compared (a bundle without ``--heads``, or a
log check failed first).
``tree_size`` is the size of the latest verified checkpoint, or else the size the source claims.
"""

from __future__ import annotations

import json
from typing import Any

from .checks import Verification

__all__ = ["as_dict", "format_draw_json", "format_draw_text", "format_json", "format_tally_json",
           "format_tally_text", "format_text", "tree_size"]


def tree_size(v: Verification) -> int | None:
    if v.checkpoints:
        return max(cp.size for cp in v.checkpoints)
    return v.model.tree_size


def as_dict(v: Verification) -> dict[str, Any]:
    return {
        "ok": v.ok,
        "log_id": v.model.log_id,
        "tree_size": tree_size(v),
        "checked": dict(v.counts),
        "failure": None if v.failure is None else v.failure.as_dict(),
        "log_key_source": v.log_key_source,
        "notes": [*v.warnings, *v.notes],
        "completeness": v.completeness,
    }


def format_json(v: Verification) -> str:
    return json.dumps(as_dict(v), ensure_ascii=True)


def _consistency_line(v: Verification) -> str:
    if v.model.proofs is None:
        return "implied by recomputed roots"
    return f"{v.counts['consistency_proofs']} RFC 9162 proofs from the gateway verified"


def format_text(v: Verification) -> str:
    counts = v.counts
    source = "bundle" if v.model.kind == "bundle" else "gateway"
    lines = [f"g1000-verify: log {v.model.log_id} ({source} {v.model.location})"]
    lines.extend(v.warnings)
    lines.append(f"  entries      {counts['entries']} checked: contiguous from 0, leaf hashes and "
                 "hash chain recomputed, envelopes, keys and seq")
    lines.append(f"  signatures   {counts['signatures']} Ed25519 signatures verified")
    lines.append(f"  checkpoints  {counts['checkpoints']} signed checkpoints verified, roots "
                 "recomputed from the entries")
    if v.ok:
        lines.append(f"  consistency  {_consistency_line(v)}")
    lines.append(f"  receipts     {counts['receipts']} verified")
    if v.completeness is not None:
        if v.completeness["complete"]:
            lines.append("  complete     the latest checkpoint holds every seq its producers' signed heads name")
        else:
            lines.append("  complete     NO: the log is behind its producers (see the notes)")
    for note in v.notes:
        if not note.startswith("consistency between checkpoints"):
            lines.append(f"  note: {note}")
    if v.failure is None:
        lines.append(f"OK: every check holds for tree size {tree_size(v)}")
    else:
        lines.append(f"FAIL [{v.failure.check}] {v.failure.describe()}")
    return "\n".join(lines)


# --- g1000-verify draw ------------------------------------------------------------------------
#
# JSON: the object above plus ``"draw": null | {"checked": {...}, "seeds": [...], "draws": [...],
# "warnings": [...], "notes": [...]}`` (null when a log check failed first); see draw_checks.


def draw_as_dict(v: Verification, draw: Any) -> dict[str, Any]:
    return {**as_dict(v), "draw": None if draw is None else draw.as_dict()}


def format_draw_json(v: Verification, draw: Any) -> str:
    return json.dumps(draw_as_dict(v, draw), ensure_ascii=True)


def _draw_lines(draw: Any) -> list[str]:
    c = draw.counts
    lines = [f"  register     {c['register_rows']} rows in {c['register_chunks']} chunks, count "
             "and root recomputed"]
    if c.get("register_reveals"):
        lines.append(f"  reveals      {c['register_reveals']} openings checked against their "
                     "commitments, none beyond what the invitation draw reaches")
    lines.append(f"  seeds        {c['seeds']} of {c['seed_rounds']} rounds finalised and "
                 f"recomputed ({c['commitments']} commitments, {c['reveals']} reveals, "
                 f"{c['public_values']} dice/beacon values)")
    for seed in draw.seeds:
        lines.append(f"    {seed['purpose']} round {seed['round_id']} (entry {seed['index']}): "
                     f"{seed['seed']}")
    lines.append(f"  invitations  {c['invitation_draws']} draw recomputed ({c['invitees']} "
                 f"invitees); {c['respondents']} respondents, each an invitee")
    lines.append(f"  panels       {c['distributions']} distributions with "
                 f"{c['distribution_panels']} panels checked (size, pool, quotas, households, "
                 "roots)")
    lines.append(f"  draws        {c['panel_draws']} panel draws and {c['replacements']} "
                 "replacements recomputed")
    lines.extend(f"  WARNING: {warning}" for warning in draw.warnings)
    lines.extend(f"  note: {note}" for note in draw.notes)
    return lines


def _with_section(v: Verification, section: list[str], holds: str) -> str:
    """The log's report with a command's own lines before its verdict, which gains ``holds``
    when every check passed."""
    lines = format_text(v).split("\n")
    verdict = lines.pop()
    lines.extend(section)
    if v.failure is None:
        verdict += holds
    lines.append(verdict)
    return "\n".join(lines)


def format_draw_text(v: Verification, draw: Any) -> str:
    section = (["  draw         not checked: the log checks failed first"] if draw is None
               else _draw_lines(draw))
    return _with_section(v, section, "; every draw recomputes")


# --- g1000-verify tally -----------------------------------------------------------------------
#
# JSON: the object above plus ``"tally": null | {"checked": {...}, "ballots": [{"ballot_id",
# "index", "method", "options", "state", "roll", "issued", "cast", "counted", "spoiled",
# "ranking"}, ...], "warnings": [...], "notes": [...]}`` (null when a log check failed first);
# see tally_checks.


def tally_as_dict(v: Verification, tally: Any) -> dict[str, Any]:
    return {**as_dict(v), "tally": None if tally is None else tally.as_dict()}


def format_tally_json(v: Verification, tally: Any) -> str:
    return json.dumps(tally_as_dict(v, tally), ensure_ascii=True)


def _ranking_text(ranking: list[dict] | None) -> str:
    if not ranking:
        return ""
    return ", ".join(f"{item['rank']}. {item['option']}" for item in ranking)


def _tally_lines(tally: Any) -> list[str]:
    c = tally.counts
    lines = [f"  ballots      {c['ballots']} ballots ({c['opened']} opened, {c['tallied']} "
             f"tallied); {c['arrivals']} arrivals, rolls recomputed from them"]
    lines.append(f"  votes        {c['issued']} credentials issued, each to one pseudonym on the "
                 f"roll; {c['casts']} casts, each credential and nullifier checked, in the window")
    for b in tally.ballots:
        line = (f"    ballot {b['ballot_id']} (entry {b['index']}, {b['method']}, "
                f"{b['options']} options): {b['state']}")
        if b["roll"] is not None:
            line += f"; roll {b['roll']}, issued {b['issued']}, cast {b['cast']}"
        if b["counted"] is not None:
            line += (f"; recounted: {b['counted']} counted, {b['spoiled']} spoiled; "
                     f"{_ranking_text(b['ranking'])}")
        lines.append(line)
    lines.extend(f"  WARNING: {warning}" for warning in tally.warnings)
    lines.extend(f"  note: {note}" for note in tally.notes)
    return lines


def format_tally_text(v: Verification, tally: Any) -> str:
    section = (["  tally        not checked: the log checks failed first"] if tally is None
               else _tally_lines(tally))
    return _with_section(v, section, "; every ballot's rules hold and every published result recounts")


# --- g1000-verify agenda ----------------------------------------------------------------------
#
# JSON: the object above plus ``"agenda": null | {"texts": N}`` (null when a log check failed
# first); see agenda_checks.


def format_agenda_json(v: Verification, checked: int | None) -> str:
    return json.dumps({**as_dict(v), "agenda": None if checked is None else {"texts": checked}}, ensure_ascii=True)


def format_agenda_text(v: Verification, checked: int | None) -> str:
    if checked is None:
        line = "  agenda       not checked" + ("" if v.failure is not None and v.failure.check == "agenda"
                                               else ": the log checks failed first")
    else:
        line = (f"  agenda       {checked} served texts checked against the log's sha256, length "
                "and withholdings")
    return _with_section(v, [line], "; every served agenda text matches the log")
