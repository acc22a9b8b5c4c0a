"""The texts of a ballot (and, later, of the agenda): how the log commits to them without holding them.

Why this module exists: a ballot's title and option texts are shown to voters but must not enter the
log as free text (docs/ballot.md: the texts are served by the API, never in the log). The log holds,
per language, the SHA-256 and the UTF-8 byte length of the text in Unicode Normalization Form C
(UAX #15, "Unicode Normalization Forms"), so the same words typed with composed or decomposed
accents give the same commitment, and anyone holding the text can check it against the log
(FIPS 180-4 SHA-256, RFC 3629 UTF-8). The service describes the texts it stores with this module,
and a reader or ``g1000-verify`` checks a served text with it.

Pure: no I/O. Failures raise :class:`TextError`.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping

from .errors import TextError

__all__ = ["LANGUAGES", "byte_length", "check_text", "describe", "describe_all", "normalise", "sha256_hex"]

LANGUAGES = ("nl", "en", "fr")


def normalise(text: str) -> str:
    """The text in NFC, the form that is hashed and stored."""
    if not isinstance(text, str):
        raise TextError("a text must be a string")
    return unicodedata.normalize("NFC", text)


def sha256_hex(text: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 bytes of the NFC text."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def byte_length(text: str) -> int:
    """The UTF-8 byte length of the NFC text."""
    return len(normalise(text).encode("utf-8"))


def describe(language: str, text: str) -> dict:
    """`{language, sha256, length}`: what the log holds of one text."""
    if language not in LANGUAGES:
        raise TextError(f"a language is one of {', '.join(LANGUAGES)}")
    return {"language": language, "sha256": sha256_hex(text), "length": byte_length(text)}


def describe_all(texts: Iterable[Mapping]) -> list[dict]:
    """The descriptions of `[{language, text}]`, one per language, sorted by language."""
    out: dict[str, dict] = {}
    for item in texts:
        language = item["language"]
        if language in out:
            raise TextError("a language appears twice")
        out[language] = describe(language, item["text"])
    if not out:
        raise TextError("at least one language is needed")
    return [out[k] for k in sorted(out)]


def check_text(described: Mapping, text: str) -> None:
    """A served text must be the one the log describes (same NFC bytes)."""
    if described.get("sha256") != sha256_hex(text) or described.get("length") != byte_length(text):
        raise TextError(f"the {described.get('language')} text does not match its sha256 and length in the log")
