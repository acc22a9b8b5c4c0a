"""Canonical JSON bytes for signed events: RFC 8785 (JSON Canonicalization Scheme).

Events are signed over their canonical form, so every producer, the ledger and outside verifiers
must produce identical bytes for the same object. The bytes come from the verifier's own JCS writer
(`g1000_proofs.jcs`), so the services and `g1000-verify` share one implementation; the `rfc8785`
library remains the tests' oracle. This module adds the project's rule for events on top, with
messages that name the offending path: events carry no floating-point numbers and no integers outside the
IEEE 754 safe range (|n| <= 2**53 - 1). Counts, scores and weights are integers; with floats out,
the canonical form is also trivial to re-implement for auditors in any language.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from g1000_proofs import jcs

from .errors import CanonicalizationError

MAX_SAFE_INTEGER = jcs.MAX_SAFE_INTEGER
MAX_DEPTH = 32  # events are shallow; a deeper value is an attack on the parser, not data


def _check(value: Any, path: str, depth: int = 0) -> None:
    """Raise for anything an event may not hold, naming where it is."""
    if depth > MAX_DEPTH:
        raise CanonicalizationError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalizationError(f"{path}: string holds a lone surrogate") from None
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalizationError(f"{path}: integer {value} is outside the safe range")
        return
    if isinstance(value, float):
        raise CanonicalizationError(f"{path}: floating-point numbers are not allowed in events")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalizationError(f"{path}: object key {key!r} is not a string")
            _check(key, f"{path} key", depth + 1)
            _check(item, f"{path}.{key}", depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]", depth + 1)
        return
    raise CanonicalizationError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 bytes of `value`, after checking it holds only event-safe JSON values."""
    _check(value, "$")
    try:
        return jcs.dumps(value)
    except jcs.CanonicalJSONError as e:  # not reached for a value _check passed; kept as ours
        raise CanonicalizationError(f"cannot canonicalise: {e}") from None


def refusing_duplicate_keys(error: Callable[[str], Exception]) -> Callable[[list[tuple[str, Any]]], dict]:
    """A `json.loads` object_pairs_hook that builds the object and raises `error(key)` for a key
    seen twice: the one duplicate-key rule of the canonical parser and the request-body parser."""

    def hook(pairs: list[tuple[str, Any]]) -> dict:
        obj: dict = {}
        for key, item in pairs:
            if key in obj:
                raise error(key)
            obj[key] = item
        return obj

    return hook


_refuse_duplicates = refusing_duplicate_keys(lambda key: CanonicalizationError(f"duplicate key {key!r}"))


def parse_json_object(data: bytes, *, reject_duplicates: bool = True) -> dict:
    """Parse bytes that must hold one JSON object; duplicate keys are rejected (RFC 8785 §3.1).

    `reject_duplicates=False` uses the C parser alone (several times faster), for callers that
    then require the bytes to equal their canonical form, which no duplicate can survive.
    """

    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_refuse_duplicates if reject_duplicates else None)
    except (UnicodeDecodeError, ValueError) as e:
        raise CanonicalizationError(f"not valid UTF-8 JSON: {e}") from None
    except RecursionError:
        raise CanonicalizationError("JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise CanonicalizationError("not a JSON object")
    return value
