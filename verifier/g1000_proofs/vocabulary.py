"""The register's allow-list: the charter's feature vocabulary and opaque ids (issue 10 H1/H2).

Why this module exists: the log is public and permanent (docs/architecture.md §1, promise 4), so what
may enter a register row or a pool member is not guessed by looking for personal data (a
deny-list, which a column called ``geb_datum`` or a cell ``Jan.de.Vries`` slips past) but
declared in advance, in the summit's charter (``ledger.summit.created`` v2, docs/ledger.md):

* a row's features are exactly the charter's feature names, each with one of its declared values
  (e.g. ``age_band: ["16-29", "30-59", "60+"]``); nothing else is ever accepted;
* pseudonyms and household ids are *opaque*: exactly 32 lowercase hexadecimal characters, the
  encoding of 128 random bits (``secrets.token_hex(16)``).  No name, address, postcode or
  register number has that form, so none can pass as an id.

The lottery applies these rules when it accepts a register or a pool member; ``g1000-verify
draw`` applies the same functions to the log, so a log that breaks them fails its check.

Contract (version 1):

``vocabulary``
    A mapping of 1..16 feature names (``^[a-z][a-z0-9_]{0,39}$``, not ``pseudonym`` or
    ``household``) to lists of 1..100 distinct values; a value is 1..64 characters, none a control
    character (U+0000-U+001F, U+007F-U+009F), with no leading or trailing white space.
``is_opaque_id(s)``
    ``s`` is a ``str`` matching ``^[0-9a-f]{32}$``.
``check_features(features, vocabulary, complete=...)``
    Problems (empty: accepted) of a ``{name: value}`` map: every name declared, every value among
    its name's values; with ``complete`` every declared name present.

Standard library only; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

OPAQUE_ID = re.compile(r"^[0-9a-f]{32}\Z")
FEATURE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
_VALUE = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,64}\Z")
RESERVED = ("pseudonym", "household")
MAX_FEATURES = 16
MAX_VALUES = 100
MAX_VALUE_CHARS = 64


def is_opaque_id(value: object) -> bool:
    """Whether ``value`` is an opaque id: 32 lowercase hex characters (128 random bits)."""
    return isinstance(value, str) and OPAQUE_ID.match(value) is not None


def opaque_id_problem(what: str, value: object) -> str | None:
    """Why ``value`` is not an opaque id (named ``what`` in the message), or None."""
    if is_opaque_id(value):
        return None
    return (f"{what} must be an opaque id: exactly 32 lowercase hex characters (128 random bits, "
            "e.g. from `g1000 register prepare`), never a name, address or register number")


def _value_problem(value: object) -> str | None:
    if not isinstance(value, str) or not _VALUE.match(value):
        return f"a value is 1-{MAX_VALUE_CHARS} characters without control characters"
    if value != value.strip():
        return "a value has no leading or trailing white space"
    return None


def check_vocabulary(vocabulary: object) -> list[str]:
    """Problems of a charter's register vocabulary (empty list: it is valid)."""
    if not isinstance(vocabulary, Mapping):
        return ["the vocabulary is an object of feature names to lists of values"]
    problems: list[str] = []
    if not 1 <= len(vocabulary) <= MAX_FEATURES:
        problems.append(f"the vocabulary declares 1-{MAX_FEATURES} features, not {len(vocabulary)}")
    for name, values in vocabulary.items():
        if not isinstance(name, str) or not FEATURE_NAME.match(name):
            problems.append(f"feature {name!r}: a name is 1-40 characters of a-z 0-9 _ starting with a letter")
            continue
        if name in RESERVED:
            problems.append(f"feature {name!r}: pseudonym and household are ids, not features")
            continue
        if not isinstance(values, (list, tuple)) or not 1 <= len(values) <= MAX_VALUES:
            problems.append(f"feature {name!r}: a list of 1-{MAX_VALUES} values")
            continue
        for value in values:
            problem = _value_problem(value)
            if problem:
                problems.append(f"feature {name!r}: value {value!r}: {problem}")
        hashable = [v for v in values if isinstance(v, str)]
        if len(set(hashable)) != len(hashable):
            problems.append(f"feature {name!r}: the values must be distinct")
    return problems


def _listed(values, shown: int = 12) -> str:
    """The allowed values for a message, cut short (a feature may declare 100 of 64 characters)."""
    ordered = sorted(values)
    more = f", … ({len(ordered) - shown} more)" if len(ordered) > shown else ""
    return ", ".join(ordered[:shown]) + more


def check_features(features: object, vocabulary: Mapping[str, object], *,
                   complete: bool = False) -> list[str]:
    """Problems of a ``{name: value}`` feature map against the vocabulary (empty: accepted).

    Every name must be declared and every value one of its name's declared values; with
    ``complete`` (a register row) every declared feature must be present. Messages never repeat
    an undeclared value (it may be personal data); they name the feature and the allowed values.
    """
    if not isinstance(features, Mapping):
        return ["features must be an object of feature names to values"]
    problems: list[str] = []
    for name in sorted(features, key=str):
        value = features[name]
        allowed = vocabulary.get(name) if isinstance(name, str) else None
        if allowed is None:
            problems.append(f"{str(name)[:40]!r} is not a feature the charter declares "
                            f"(declared: {', '.join(sorted(vocabulary))})")
        elif not isinstance(value, str) or value not in allowed:
            problems.append(f"{name}: not one of the charter's values ({_listed(allowed)})")
    if complete:
        for name in sorted(set(vocabulary) - set(features)):
            problems.append(f"{name}: missing (the charter declares it)")
    return problems
