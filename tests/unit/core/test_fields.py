"""services/core/fields.py: text that can be stored in PostgreSQL and signed as RFC 8785 JSON."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from services.core.canonical import canonical_bytes
from services.core.fields import Text


class S(Schema):
    free = Text()
    line = Text(single_line=True)


@pytest.mark.parametrize("value", ["a\x00b", "\ud800", "x\udfffy", "\x07", "\x7f", "a\x1bb"])
def test_unstorable_characters_are_refused(value):
    with pytest.raises(ValidationError) as caught:
        S().load({"free": value})
    assert "U+" in str(caught.value.messages["free"])


def test_newlines_only_where_allowed():
    assert S().load({"free": "twee\nregels\tmet tab\r\n"})["free"].count("\n") == 2
    with pytest.raises(ValidationError):
        S().load({"line": "twee\nregels"})


@given(st.text())
def test_whatever_is_accepted_can_be_signed(value):
    try:
        loaded = S().load({"free": value})["free"]
    except ValidationError:
        return
    assert "\x00" not in loaded
    canonical_bytes({"t": loaded})  # no lone surrogate: canonical JSON (and so a signature) exists
