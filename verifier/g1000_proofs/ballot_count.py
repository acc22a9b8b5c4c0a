"""Opening and counting a closed ballot's votes: the step the service and ``g1000-verify tally`` share.

Why this module exists: the ballot service publishes ``ballot.tally.published`` and the verifier
recounts it from the log alone (docs/ballot.md); both must turn the same log into the same result,
so the recount is one pure function here, built on :mod:`g1000_proofs.sealing` (RFC 9180 HPKE
opening) and :mod:`g1000_proofs.tally` (the counting rules).

- :func:`spec_of` reads the ``method`` object of ``ballot.ballot.created`` (``{"kind": ...}`` with
  the method's parameters, docs/ballot.md) and the ballot's option ids into a
  :class:`g1000_proofs.tally.BallotSpec` (``parse_spec``): ``approval`` takes ``min``/``max``,
  ``cumulative`` ``dots``/``max_per_option``, ``score`` ``max`` (the spec's ``max_score``),
  ``schulze`` nothing.
- :func:`recount` opens every cast vote in log order with the revealed key; a vote that does not
  open is counted as :class:`g1000_proofs.tally.Unopened` with the opening's reason, so it is
  spoiled, never dropped; the result is ``tally.tally(spec, choices)``.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import sealing, tally
from .errors import SealingError, TallyError

__all__ = ["KIND_PARAMETERS", "open_choices", "recount", "spec_of"]

# the method object's members besides "kind", and the parse_spec names they take
KIND_PARAMETERS = {
    "approval": {"min": "min", "max": "max"},
    "cumulative": {"dots": "dots", "max_per_option": "max_per_option"},
    "score": {"max": "max_score"},
    "schulze": {},
}


def spec_of(method: Mapping[str, Any], option_ids: Iterable[str]) -> tally.BallotSpec:
    """The counting spec of a ballot's `method` object and option ids; raises TallyError."""
    if not isinstance(method, Mapping) or not isinstance(method.get("kind"), str) \
            or method["kind"] not in KIND_PARAMETERS:
        raise TallyError(f"the method's kind must be one of {', '.join(KIND_PARAMETERS)}")
    names = KIND_PARAMETERS[method["kind"]]
    extra = sorted(set(method) - {"kind"} - set(names))
    if extra:
        raise TallyError(f"{method['kind']} takes no {', '.join(extra)}")
    missing = sorted(set(names) - set(method))
    if missing:
        raise TallyError(f"{method['kind']} needs {', '.join(missing)}")
    spec = {"method": method["kind"], "options": list(option_ids)}
    spec.update({names[k]: method[k] for k in names})
    return tally.parse_spec(spec)


def open_choices(sealed_votes: Iterable[bytes], private_hex: str, summit_id: str, ballot_id: str) -> list[Any]:
    """Each vote's choice, or :class:`tally.Unopened` with the reason it does not open."""
    out: list[Any] = []
    for sealed in sealed_votes:
        try:
            out.append(sealing.open_vote(sealed, private_hex, summit_id, ballot_id))
        except SealingError as e:
            out.append(tally.Unopened(str(e)))
    return out


def recount(spec: tally.BallotSpec, sealed_votes: Iterable[bytes], private_hex: str, summit_id: str,
            ballot_id: str) -> tuple[int, dict[str, Any]]:
    """(votes opened, the result) of a ballot's cast votes in log order."""
    choices = open_choices(sealed_votes, private_hex, summit_id, ballot_id)
    return len(choices), tally.tally(spec, choices)
