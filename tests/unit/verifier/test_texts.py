"""g1000_proofs.texts: the NFC text, its SHA-256 and UTF-8 length, as the ballot's log commits to them."""

from __future__ import annotations

import hashlib

import pytest
from g1000_proofs.errors import TextError
from g1000_proofs.texts import LANGUAGES, byte_length, check_text, describe, describe_all, normalise, sha256_hex

COMPOSED = "Caf\u00e9 \u00e9\u00e9n"          # é as one code point
DECOMPOSED = "Cafe\u0301 e\u0301e\u0301n"    # e + combining acute


def test_the_languages_are_dutch_english_and_french():
    assert LANGUAGES == ("nl", "en", "fr")


def test_composed_and_decomposed_texts_give_one_commitment():
    assert normalise(DECOMPOSED) == COMPOSED
    assert sha256_hex(DECOMPOSED) == sha256_hex(COMPOSED) == hashlib.sha256(COMPOSED.encode()).hexdigest()
    assert byte_length(DECOMPOSED) == byte_length(COMPOSED) == len(COMPOSED.encode()) == 11


def test_known_digest_of_an_ascii_text():
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 B.1
    assert byte_length("") == 0


def test_describe_names_language_digest_and_length():
    assert describe("nl", "Fietsen") == {"language": "nl", "sha256": sha256_hex("Fietsen"), "length": 7}


def test_describe_refuses_an_unknown_language_and_non_text():
    with pytest.raises(TextError):
        describe("de", "Radfahren")
    with pytest.raises(TextError):
        describe("nl", b"bytes")


def test_describe_all_sorts_by_language_and_refuses_repeats_and_none():
    out = describe_all([{"language": "nl", "text": "Ja"}, {"language": "en", "text": "Yes"}])
    assert [d["language"] for d in out] == ["en", "nl"]
    with pytest.raises(TextError):
        describe_all([{"language": "nl", "text": "Ja"}, {"language": "nl", "text": "Jawel"}])
    with pytest.raises(TextError):
        describe_all([])


def test_check_text_accepts_the_described_text_in_any_normal_form_and_nothing_else():
    described = describe("fr", COMPOSED)
    check_text(described, DECOMPOSED)
    with pytest.raises(TextError):
        check_text(described, "Cafe een")
    with pytest.raises(TextError):
        check_text({**described, "length": described["length"] + 1}, COMPOSED)
