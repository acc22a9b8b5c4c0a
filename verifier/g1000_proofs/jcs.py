"""RFC 8785 JSON Canonicalization Scheme (JCS) for float-free JSON, standard library only.

Why this module exists: every G1000 event is signed over the JCS bytes of the event without
``sig``, and the log's leaf hash is taken over the JCS bytes of the whole event (docs/architecture.md §3
and §4, docs/events.md, docs/ledger.md).  An independent auditor must recompute those bytes
without trusting our services, and the verifier (``g1000_verify``) must install with nothing but
the standard library and ``cryptography``, so it cannot use the ``rfc8785`` package the services
use.  Events carry no floating-point numbers and only integers within ±(2**53-1) (docs/events.md),
and for that subset RFC 8785 reduces to:

* objects: members sorted by their names compared as arrays of UTF-16 code units
  (RFC 8785 §3.2.3), ``{"name":value,...}`` with no whitespace;
* arrays: ``[a,b,...]`` with no whitespace;
* strings (RFC 8785 §3.2.2.2): emitted as-is in UTF-8 except ``"`` -> ``\\"``, ``\\`` -> ``\\\\``
  and the controls U+0000..U+001F, written ``\\b \\t \\n \\f \\r`` where JSON has a short form
  and ``\\u00xx`` (lowercase hex) otherwise.  Nothing else is escaped (not U+007F, not U+2028);
  strings holding a lone surrogate cannot be encoded and are rejected (§3.2.2.2 requires it);
* integers in decimal, which is what ECMAScript's Number serialisation (§3.2.2.3) gives for any
  integer within ±(2**53-1);
* ``true``, ``false``, ``null``.

Floats (and ``NaN``/``Infinity``), integers outside ±(2**53-1), non-string member names and
non-JSON values raise :class:`CanonicalJSONError`.

Implementation: one validating walk over the value decides whether every member name is ASCII
(the common case: then code-point order, which Python's ``sort_keys`` uses, equals UTF-16 order)
and the standard library's C JSON encoder writes the bytes; only values with non-ASCII member
names take a slower pure-Python path that sorts by UTF-16 code units.  The C encoder's string
escaping with ``ensure_ascii=False`` is exactly the §3.2.2.2 rule above.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _encode_string
from typing import Any

from .errors import CanonicalJSONError

__all__ = ["MAX_SAFE_INTEGER", "CanonicalJSONError", "dumps", "dumps_with_and_without"]

MAX_SAFE_INTEGER = 2**53 - 1
_MIN_SAFE_INTEGER = -MAX_SAFE_INTEGER
_MAX_DEPTH = 500


_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False, check_circular=False
)
_encode = _ENCODER.encode


def _scan(value: Any, depth: int) -> bool:
    """Validate ``value``; return True if some object has a non-ASCII member name."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return False
    if kind is int:
        if _MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return False
        raise CanonicalJSONError(f"integer {value} is outside ±(2**53-1)")
    if depth > _MAX_DEPTH:
        raise CanonicalJSONError(f"value is nested deeper than {_MAX_DEPTH} levels")
    if kind is dict:
        slow = False
        for name, item in value.items():
            if type(name) is not str:
                if not isinstance(name, str):
                    raise CanonicalJSONError(f"object member name {name!r} is not a string")
                slow = True
            elif not name.isascii():
                slow = True
            if type(item) is str:
                continue
            if _scan(item, depth + 1):
                slow = True
        return slow
    if kind is list or kind is tuple:
        slow = False
        for item in value:
            if type(item) is not str and _scan(item, depth + 1):
                slow = True
        return slow
    return _scan_other(value, depth)


def _scan_other(value: Any, depth: int) -> bool:
    """Subclasses of the JSON types; anything else is refused."""
    if isinstance(value, float):
        raise CanonicalJSONError(f"floating-point number {value!r} is not allowed")
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        if _MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return True  # written by the pure-Python path, which normalises to int
        raise CanonicalJSONError(f"integer {int(value)} is outside ±(2**53-1)")
    if isinstance(value, str):
        return True
    if isinstance(value, dict):
        _scan(dict(value), depth)
        return True
    if isinstance(value, (list, tuple)):
        _scan(list(value), depth)
        return True
    raise CanonicalJSONError(f"{type(value).__name__} is not a JSON value")


def _utf16_order(name: str) -> bytes:
    try:
        return name.encode("utf-16-be")
    except UnicodeEncodeError:
        raise CanonicalJSONError("member name contains a lone surrogate") from None


def _write(value: Any, out: list[str]) -> None:
    """Pure-Python JCS writer (values already validated by ``_scan``)."""
    if isinstance(value, str):
        out.append(_encode_string(str(value)))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, dict):
        out.append("{")
        names = sorted(value, key=_utf16_order)
        for position, name in enumerate(names):
            if position:
                out.append(",")
            out.append(_encode_string(str(name)))
            out.append(":")
            _write(value[name], out)
        out.append("}")
    else:
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _write(item, out)
        out.append("]")


def _to_utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalJSONError("a string contains a lone surrogate (RFC 8785 §3.2.2.2)") from None


def _text(value: Any, slow: bool) -> str:
    if slow:
        out: list[str] = []
        _write(value, out)
        return "".join(out)
    return _encode(value)


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a float-free JSON value.

    Raises :class:`CanonicalJSONError` for floats, integers outside ±(2**53-1), lone surrogates,
    non-string member names and values that are not JSON.
    """
    return _to_utf8(_text(value, _scan(value, 0)))


def dumps_with_and_without(obj: dict, name: str) -> tuple[bytes, bytes]:
    """``(dumps(obj), dumps(obj without member name))`` from one validation walk.

    This is what a signed event needs: the log hashes the whole event, the signature covers the
    event without ``sig``.  If ``obj`` has no member ``name`` both results are the same bytes.
    """
    if not isinstance(obj, dict):
        raise CanonicalJSONError("dumps_with_and_without needs a JSON object")
    slow = _scan(obj, 0)
    if name not in obj or slow or type(name) is not str:
        whole = _to_utf8(_text(obj, slow))
        if name not in obj:
            return whole, whole
        rest = {key: item for key, item in obj.items() if key != name}
        return whole, _to_utf8(_text(rest, slow))
    # Fast path (every member name ASCII, so code-point order is JCS order): write the object
    # without ``name`` once, then splice ``"name":value`` in before the members that sort after
    # it; their text is the tail of the first result, so only they are written a second time.
    rest = {key: item for key, item in obj.items() if key != name}
    without = _encode(rest)
    after = _encode({key: item for key, item in rest.items() if key > name})
    member = _encode_string(name) + ":" + _encode(obj[name])
    if len(after) > 2:
        cut = len(without) - len(after) + 1
        whole = without[:cut] + member + "," + without[cut:]
    else:
        whole = without[:-1] + ("," if len(without) > 2 else "") + member + "}"
    return _to_utf8(whole), _to_utf8(without)
