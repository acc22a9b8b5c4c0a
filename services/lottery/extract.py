"""The pseudonymised register extract: parse the CSV, refuse anything that looks like personal data.

ARCHITECTURE §1 promise 4: no personal data ever enters the log. The extract is the one place
where a municipality could paste a real population-register export by mistake, so this module
is strict: only `pseudonym`, `household` and coarse feature columns; column names that name
personal data (name, address, postcode, birth date, e-mail, phone, BSN …) are refused; so are
cells that look like a date, an e-mail address, a phone number, a Dutch postcode or a BSN.
Every problem is reported with its line and column so the file can be fixed; a file with any
error is refused whole (nothing is stored).

Format: UTF-8 text (a leading BOM is ignored), comma- or semicolon-separated (taken from the
header line), RFC 4180 quoting, header on line 1. Cells are trimmed of surrounding spaces.
Pure: no I/O.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass

from g1000_proofs.draw import Row

from .errors import ExtractRejectedError

MAX_ROWS = 200_000
MAX_FEATURES = 16
MAX_CELL_CHARS = 64
MAX_FEATURE_VALUES = 100   # a feature with more distinct values is not "coarse"
MAX_ERRORS = 100
MAX_TEXT_CHARS = 64 * 1024 * 1024

FEATURE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")   # pseudonyms and household ids
VALUE = re.compile(r"^[^\x00-\x1f\x7f-\x9f]{1,64}\Z")
REQUIRED = ("pseudonym", "household")

# Column names that name personal data: substrings of the name without underscores, and whole
# underscore-separated words (short ones, which would match too much as substrings).
_PERSONAL_SUBSTRINGS = ("name", "naam", "voorletter", "tussenvoegsel", "address", "adres",
                        "street", "straat", "housenumber", "huisnummer", "postcode", "postal",
                        "zipcode", "birth", "geboorte", "born", "email", "mail", "phone",
                        "telefoon", "mobiel", "mobile", "passport", "paspoort", "socialsecurity",
                        "burgerservice")
_PERSONAL_WORDS = frozenset({"zip", "dob", "bsn", "ssn", "tel", "iban", "ip", "nin", "initials",
                             "surname", "gsm", "id_number"})

_DATE_PATTERNS = (
    re.compile(r"(?<!\d)\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?!\d)"),          # 1990-01-31
    re.compile(r"(?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?!\d)"),        # 31-01-1990, 1/2/90
    re.compile(r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),  # 19900131
    re.compile(r"(?<!\d)\d{1,2}\s*(?:jan|feb|mar|maa|apr|may|mei|jun|jul|aug|sep|oct|okt|nov|dec)"
               r"[a-z]*\.?\s*\d{2,4}(?!\d)", re.IGNORECASE),             # 31 jan 1990
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\dA-Za-z])\+?\d(?:[\s-]?\d){8,}(?![\dA-Za-z])")
_POSTCODE = re.compile(r"^\d{4}\s?[A-Za-z]{2}\Z")
_NINE_DIGITS = re.compile(r"^\d{9}\Z")


@dataclass(frozen=True)
class CellError:
    """One problem in the file: 1-based line, 1-based column (None: the whole line)."""

    line: int
    column: int | None
    message: str

    def as_json(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class Extract:
    rows: tuple[Row, ...]          # sorted by pseudonym (code-point order)
    features: tuple[str, ...]      # feature column names, sorted


def personal_column(name: str) -> bool:
    """Whether a column name looks like it holds personal data."""
    flat = name.replace("_", "")
    return (any(part in flat for part in _PERSONAL_SUBSTRINGS)
            or name in _PERSONAL_WORDS or any(w in _PERSONAL_WORDS for w in name.split("_")))


def _is_bsn(text: str) -> bool:
    """Nine digits that pass the BSN eleven test (Dutch citizen service number)."""
    if not _NINE_DIGITS.match(text):
        return False
    digits = [int(c) for c in text]
    return (sum(d * w for d, w in zip(digits[:8], range(9, 1, -1))) - digits[8]) % 11 == 0


def personal_value(text: str, *, identifier: bool = False) -> str | None:
    """Why a cell looks like personal data, or None. Identifiers (pseudonyms, household ids) are
    random strings, so only a whole-cell match counts for them."""
    if _is_bsn(text):
        return "looks like a BSN (citizen service number)"
    if identifier:
        if any(p.fullmatch(text) for p in _DATE_PATTERNS):
            return "looks like a date"
        return "looks like an e-mail address" if _EMAIL.fullmatch(text) else None
    if any(p.search(text) for p in _DATE_PATTERNS):
        return "looks like a date (no birth dates: use a coarse band such as an age band)"
    if _EMAIL.search(text):
        return "looks like an e-mail address"
    if _PHONE.search(text):
        return "looks like a phone number"
    if _POSTCODE.match(text):
        return "looks like a postcode (use a neighbourhood or district)"
    return None


def check_identifier(what: str, text: str) -> str | None:
    if not IDENTIFIER.match(text):
        return (f"{what} must be 1-{MAX_CELL_CHARS} characters of A-Z a-z 0-9 . _ : - "
                "starting with a letter or digit")
    if not text[0].isdigit():
        return None  # every date and BSN pattern starts with a digit; "@" is not allowed at all
    return personal_value(text, identifier=True)


@functools.lru_cache(maxsize=4096)  # coarse features repeat a few values over all rows
def check_feature_value(text: str) -> str | None:
    if not text:
        return "empty value: every feature needs a value (use e.g. 'unknown')"
    if not VALUE.match(text):
        return f"a feature value is 1-{MAX_CELL_CHARS} characters without control characters"
    return personal_value(text)


def check_feature_name(name: str) -> str | None:
    if not FEATURE_NAME.match(name):
        return "a feature name is 1-40 characters of a-z 0-9 _ starting with a letter"
    if personal_column(name):
        return f"column {name!r} looks like personal data; the extract holds only coarse features"
    return None


class _Errors:
    def __init__(self) -> None:
        self.items: list[CellError] = []

    def add(self, line: int, column: int | None, message: str) -> None:
        if len(self.items) < MAX_ERRORS:
            self.items.append(CellError(line, column, message))

    @property
    def full(self) -> bool:
        return len(self.items) >= MAX_ERRORS


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return ";" if ";" in header and "," not in header else ","


def _header(cells: list[str], errors: _Errors) -> list[str]:
    names = [c.strip() for c in cells]
    seen: dict[str, int] = {}
    for column, name in enumerate(names, 1):
        if name in seen:
            errors.add(1, column, f"column {name!r} occurs twice (also column {seen[name]})")
        seen.setdefault(name, column)
        if name not in REQUIRED:
            problem = check_feature_name(name)
            if problem:
                errors.add(1, column, problem)
    for required in REQUIRED:
        if required not in seen:
            errors.add(1, None, f"the header has no {required!r} column")
    if len(names) - len(REQUIRED) > MAX_FEATURES:
        errors.add(1, None, f"at most {MAX_FEATURES} feature columns")
    return names


def parse_extract(text: str) -> Extract:
    """The rows of a pseudonymised register extract, or ExtractRejectedError listing every error."""
    errors = _Errors()
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractRejectedError("the extract is too large",
                                   errors=[CellError(1, None, "file too large").as_json()])
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    names: list[str] = []  # stays empty when the header line itself is not valid CSV
    try:
        header = next(reader, None)
        if not header:
            errors.add(1, None, "the file is empty: a header line is required")
            raise ExtractRejectedError("the register extract is empty", errors=_json(errors))
        names = _header(header, errors)
        # every error at once, so the file is fixed in one go; without the two identifying
        # columns the rows cannot be read at all
        rows = _rows(reader, names, errors) if all(c in names for c in REQUIRED) else []
    except csv.Error as e:
        errors.add(max(1, reader.line_num), None, f"not valid CSV: {e}")
        rows = []
    if not errors.items and not rows:
        errors.add(2, None, "the extract has no rows")
    features = tuple(sorted(n for n in names if n not in REQUIRED))
    if not errors.items:
        _coarseness(rows, names, errors)
    if errors.items:
        more = " (only the first %d are listed)" % MAX_ERRORS if errors.full else ""
        raise ExtractRejectedError(f"the register extract has {len(errors.items)} error(s){more};"
                                   " nothing was stored", errors=_json(errors))
    return Extract(tuple(sorted(rows, key=lambda r: r.pseudonym)), features)


def _json(errors: _Errors) -> list[dict]:
    return [e.as_json() for e in errors.items]


def _rows(reader, names: list[str], errors: _Errors) -> list[Row]:
    rows: list[Row] = []
    first_line: dict[str, int] = {}
    width = len(names)
    for cells in reader:
        line = reader.line_num
        if errors.full:
            break
        if not cells or cells == [""]:
            continue  # blank line
        if len(rows) >= MAX_ROWS:
            errors.add(line, None, f"more than {MAX_ROWS} rows")
            break
        if len(cells) != width:
            errors.add(line, None, f"the line has {len(cells)} cells, the header {width}")
            continue
        row = _row(line, names, [c.strip() for c in cells], errors, first_line)
        if row is not None:
            rows.append(row)
    return rows


def _row(line: int, names: list[str], cells: list[str], errors: _Errors,
         first_line: dict[str, int]) -> Row | None:
    ok = True
    values: dict[str, str] = {}
    for column, (name, cell) in enumerate(zip(names, cells), 1):
        if "\n" in cell or "\r" in cell:
            problem = "a cell may not hold a line break"
        elif name in REQUIRED:
            problem = check_identifier(name, cell)
        else:
            problem = check_feature_value(cell)
        if problem:
            errors.add(line, column, problem)
            ok = False
        values[name] = cell
    pseudonym = values.get("pseudonym", "")
    if ok and pseudonym in first_line:
        errors.add(line, names.index("pseudonym") + 1,
                   f"pseudonym {pseudonym!r} already on line {first_line[pseudonym]}")
        return None
    if not ok:
        return None
    first_line[pseudonym] = line
    features = {n: values[n] for n in names if n not in REQUIRED}
    return Row(pseudonym, values["household"], features)


def _coarseness(rows: list[Row], names: list[str], errors: _Errors) -> None:
    for column, name in enumerate(names, 1):
        if name in REQUIRED:
            continue
        distinct = {row.features[name] for row in rows}
        if len(distinct) > MAX_FEATURE_VALUES:
            errors.add(1, column, f"feature {name!r} has {len(distinct)} distinct values (at most "
                                  f"{MAX_FEATURE_VALUES}): features must be coarse bands")


def feature_counts(rows, features) -> dict[str, dict[str, int]]:
    """How many rows have each value of each feature (for the public summary)."""
    counts: dict[str, dict[str, int]] = {f: {} for f in features}
    for row in rows:
        for name in features:
            value = row.features.get(name)
            if value is not None:
                counts[name][value] = counts[name].get(value, 0) + 1
    return {f: dict(sorted(v.items())) for f, v in counts.items()}
