"""The pseudonymised register extract: parse the CSV, accept exactly the charter's vocabulary.

docs/architecture.md §1 promise 4: no personal data ever enters the log. The extract is the one place
where a municipality could paste a real population-register export by mistake, so the rule is an
allow-list (issue 10 H1), not a guess at what looks personal: the header is exactly `pseudonym`,
`household` and every feature the summit's charter declares (`ledger.summit.created` v2,
`register.features`), no others; every feature cell is one of its feature's declared values;
pseudonyms and household ids are opaque, 32 lowercase hex characters (128 random bits). The
rules are g1000_proofs.vocabulary, which `g1000-verify draw` applies to the log too. Every
problem is reported with its line and column so the file can be fixed; a file with any error is
refused whole (nothing is stored). Messages never repeat a refused cell (it may be personal).

Format: UTF-8 text (a leading BOM is ignored), comma- or semicolon-separated (taken from the
header line), RFC 4180 quoting, header on line 1. Cells are trimmed of surrounding spaces.
Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from g1000_proofs.draw import Row
from g1000_proofs.vocabulary import check_features, opaque_id_problem

from services.core.bodylimits import REGISTER_BODY_BYTES

from .errors import ExtractRejectedError

MAX_ROWS = 200_000
MAX_ERRORS = 100
MAX_TEXT_CHARS = REGISTER_BODY_BYTES  # the register route's body limit (services/core/bodylimits.py)
REQUIRED = ("pseudonym", "household")

Vocabulary = Mapping[str, Sequence[str]]


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


def _allowed(vocabulary: Vocabulary) -> dict[str, frozenset[str]]:
    """The vocabulary with each feature's values as a set (a register has up to 200,000 rows)."""
    return {name: frozenset(values) for name, values in vocabulary.items()}


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


def _header(cells: list[str], errors: _Errors, vocabulary: Vocabulary) -> list[str]:
    """The column names; exactly `pseudonym`, `household` and the charter's features, any order."""
    names = [c.strip() for c in cells]
    seen: dict[str, int] = {}
    declared = ", ".join(sorted(vocabulary))
    for column, name in enumerate(names, 1):
        if name in seen:
            errors.add(1, column, f"column {name[:40]!r} occurs twice (also column {seen[name]})")
        seen.setdefault(name, column)
        if name not in REQUIRED and name not in vocabulary:
            errors.add(1, column, f"column {name[:40]!r} is not a feature the summit's charter declares: "
                                  f"the extract holds only pseudonym, household and {declared}")
    for required in (*REQUIRED, *sorted(vocabulary)):
        if required not in seen:
            errors.add(1, None, f"the header has no {required!r} column (the charter declares it)"
                       if required in vocabulary else f"the header has no {required!r} column")
    return names


def parse_extract(text: str, vocabulary: Vocabulary) -> Extract:
    """The rows of a pseudonymised register extract, or ExtractRejectedError listing every error.
    `vocabulary` is the charter's `register.features` (g1000_proofs.vocabulary)."""
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
        names = _header(header, errors, vocabulary)
        # every error at once, so the file is fixed in one go; without the two identifying
        # columns the rows cannot be read at all
        rows = (_rows(reader, names, errors, _allowed(vocabulary))
                if all(c in names for c in REQUIRED) else [])
    except csv.Error as e:
        errors.add(max(1, reader.line_num), None, f"not valid CSV: {e}")
        rows = []
    if not errors.items and not rows:
        errors.add(2, None, "the extract has no rows")
    features = tuple(sorted(n for n in names if n not in REQUIRED))
    if errors.items:
        more = " (only the first %d are listed)" % MAX_ERRORS if errors.full else ""
        raise ExtractRejectedError(f"the register extract has {len(errors.items)} error(s){more};"
                                   " nothing was stored", errors=_json(errors))
    return Extract(tuple(sorted(rows, key=lambda r: r.pseudonym)), features)


def _json(errors: _Errors) -> list[dict]:
    return [e.as_json() for e in errors.items]


def _rows(reader, names: list[str], errors: _Errors, allowed: dict[str, frozenset[str]]) -> list[Row]:
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
        row = _row(line, names, [c.strip() for c in cells], errors, first_line, allowed)
        if row is not None:
            rows.append(row)
    return rows


def _row(line: int, names: list[str], cells: list[str], errors: _Errors,
         first_line: dict[str, int], allowed: dict[str, frozenset[str]]) -> Row | None:
    ok = True
    values: dict[str, str] = {}
    for column, (name, cell) in enumerate(zip(names, cells), 1):
        if name in REQUIRED:
            problem = opaque_id_problem(name, cell)
        elif name in allowed:
            problem = next(iter(check_features({name: cell}, allowed)), None)
        else:
            problem = None  # an undeclared column: reported once, on the header line
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


def feature_counts(rows, features) -> dict[str, dict[str, int]]:
    """How many rows have each value of each feature (for the public summary)."""
    counts: dict[str, dict[str, int]] = {f: {} for f in features}
    for row in rows:
        for name in features:
            value = row.features.get(name)
            if value is not None:
                counts[name][value] = counts[name].get(value, 0) + 1
    return {f: dict(sorted(v.items())) for f, v in counts.items()}
