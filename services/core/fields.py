"""Marshmallow fields shared by the services' and the gateway's request schemas.

`Text` is a string that can be stored and signed: JSON may carry NUL (`\\u0000`) and unpaired
UTF-16 surrogates (`\\ud800`) inside strings, but PostgreSQL text cannot hold NUL and UTF-8 (so
RFC 8785 canonical bytes, and so a signed event) cannot hold a lone surrogate. Refusing them at
the edge turns what would be a failure deep in a transaction into a field-level 422.
"""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields

# NUL and the other C0 controls except tab, line feed and carriage return; DEL; lone surrogates
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_UNSTORABLE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class Text(fields.String):
    """A string without NUL, control characters (tab and newlines allowed unless `single_line`)
    or unpaired surrogates."""

    def __init__(self, *args, single_line: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._forbidden = _UNSTORABLE_LINE if single_line else _UNSTORABLE

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        bad = self._forbidden.search(text)
        if bad:
            raise ValidationError(f"must not contain the character U+{ord(bad.group()):04X}"
                                  " (control characters and unpaired surrogates cannot be stored)")
        return text
