"""`g1000 register prepare`: turn a municipality's raw register extract into the file to upload.

The raw extract (names, addresses, BSN, birth dates …) never leaves the municipality's machine.
This command reads it locally with a mapping file that says which raw column gives which
allow-listed feature and how raw values become vocabulary values, and which raw columns make
up the household (usually the address). It writes two files:

- the upload: `pseudonym`, `household` and the mapped features only; pseudonyms and household
  ids are fresh 128-bit random hex (so they say nothing about a person or an address), rows in
  pseudonym order (so the file's order says nothing about the register's order);
- the private mapping, pseudonym → raw line (and the key columns the mapping names), mode 0600:
  the municipality keeps it to address the invitation letters. It is never uploaded.

It takes the summit's charter vocabulary (`--vocabulary`: the allow-list of feature names and
values, `ledger.summit.created` v2; g1000_proofs.vocabulary) and refuses a mapping whose features
are not exactly the declared ones or that can produce a value the charter does not declare. It
refuses the whole extract (writes nothing) when a raw value has no mapping, and runs the same
checks as the import (services/lottery/extract.py, services/lottery/privacy.py), so a prepared
file is one the service accepts; k-anonymity failures are reported by counts only.

Mapping file (TOML, or JSON with the same structure when the name ends in `.json`)::

    household = ["straat", "huisnummer", "toevoeging", "postcode"]  # raw columns of the household
    key = ["bsn"]                      # optional: raw columns copied to the private file
    delimiter = ";"                    # optional: else taken from the header line like the import

    [features.age_band]
    column = "geboortedatum"
    birth_date = { reference_date = "2027-03-01", bands = ["16-29", "30-44", "45-64", "65+"] }

    [features.gender]
    column = "geslacht"
    values = { V = "vrouw", M = "man", X = "anders" }

A band is "LOW-HIGH" or "LOW+" in whole years at the reference date (the summit day). Birth
dates are read as YYYY-MM-DD, YYYYMMDD or DD-MM-YYYY. Values are matched after trimming spaces.

Everything but `run` is pure.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

from g1000_proofs.draw import Row

from services.core.errors import ConfigError

from .errors import PrepareRefused

MAX_ERRORS = 50
_BAND = re.compile(r"^(\d{1,3})(?:-(\d{1,3})|\+)\Z")
_DATE_FORMATS = (re.compile(r"^(\d{4})-(\d{2})-(\d{2})\Z"), re.compile(r"^(\d{4})(\d{2})(\d{2})\Z"),
                 re.compile(r"^(\d{2})-(\d{2})-(\d{4})\Z"))


@dataclass(frozen=True)
class Band:
    label: str
    low: int
    high: int | None   # None: no upper end ("65+")


@dataclass(frozen=True)
class FeatureRule:
    """How one allow-listed feature is read from one raw column."""

    name: str
    column: str
    values: dict[str, str] = field(default_factory=dict)   # explicit value map
    reference: date | None = None                           # birth date → age band at this date
    bands: tuple[Band, ...] = ()

    def apply(self, raw: str) -> tuple[str | None, str | None]:
        """(vocabulary value, None) or (None, why it cannot be mapped)."""
        if self.reference is None:
            if raw in self.values:
                return self.values[raw], None
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            return None, f"value {shown!r} has no mapping for feature {self.name!r}"
        born = parse_date(raw)
        if born is None:
            return None, f"not a birth date (YYYY-MM-DD, YYYYMMDD or DD-MM-YYYY) for feature {self.name!r}"
        band = band_of(age_on(born, self.reference), self.bands)
        if band is None:
            return None, f"the age at {self.reference.isoformat()} is in none of the bands of feature {self.name!r}"
        return band, None


@dataclass(frozen=True)
class Mapping:
    features: tuple[FeatureRule, ...]
    household: tuple[str, ...]
    key: tuple[str, ...] = ()
    delimiter: str | None = None


@dataclass(frozen=True)
class Prepared:
    upload_csv: str
    private_csv: str
    rows: int
    households: int


# --- pure parts -------------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    for i, pattern in enumerate(_DATE_FORMATS):
        m = pattern.match(text)
        if m:
            a, b, c = (int(g) for g in m.groups())
            try:
                return date(c, b, a) if i == 2 else date(a, b, c)
            except ValueError:
                return None
    return None


def age_on(born: date, day: date) -> int:
    """Whole years completed on `day` (a birthday on 29 February counts from 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def band_of(age: int, bands: tuple[Band, ...]) -> str | None:
    for band in bands:
        if age >= band.low and (band.high is None or age <= band.high):
            return band.label
    return None


def parse_bands(labels) -> tuple[Band, ...]:
    if not isinstance(labels, list) or not labels:
        raise ConfigError("birth_date.bands must be a non-empty list such as [\"16-29\", \"30-44\", \"65+\"]")
    bands = []
    for label in labels:
        m = _BAND.match(label) if isinstance(label, str) else None
        if not m or (m.group(2) is not None and int(m.group(2)) < int(m.group(1))):
            raise ConfigError(f"age band {label!r} is not LOW-HIGH or LOW+ in whole years")
        bands.append(Band(label, int(m.group(1)), int(m.group(2)) if m.group(2) else None))
    bands.sort(key=lambda b: b.low)
    for a, b in zip(bands, bands[1:]):
        if a.high is None or a.high >= b.low:
            raise ConfigError(f"age bands {a.label!r} and {b.label!r} overlap")
    return tuple(bands)


def _strings(value, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{what} must be a column name or a non-empty list of them")
    return tuple(value)


def parse_mapping(doc: dict) -> Mapping:
    """A Mapping from the parsed mapping file, or ConfigError naming what is wrong."""
    if not isinstance(doc, dict):
        raise ConfigError("the mapping file must hold a table (object)")
    unknown = set(doc) - {"features", "household", "key", "delimiter"}
    if unknown:
        raise ConfigError(f"unknown mapping setting(s): {', '.join(sorted(unknown))}")
    if "household" not in doc:
        raise ConfigError("the mapping names no household columns (`household = [...]`, e.g. the address)")
    features = doc.get("features")
    if not isinstance(features, dict) or not features:
        raise ConfigError("the mapping has no [features.<name>] tables")
    rules = []
    for name, spec in sorted(features.items()):
        if not re.match(r"^[a-z][a-z0-9_]{0,39}\Z", name):
            raise ConfigError(f"feature name {name!r} is not 1-40 characters of a-z 0-9 _")
        if not isinstance(spec, dict) or not isinstance(spec.get("column"), str):
            raise ConfigError(f"features.{name} needs `column` (the raw column it is read from)")
        kinds = [k for k in ("values", "birth_date") if k in spec]
        if len(kinds) != 1 or set(spec) - {"column", "values", "birth_date"}:
            raise ConfigError(f"features.{name} needs exactly one of `values` or `birth_date` besides `column`")
        if kinds == ["values"]:
            values = spec["values"]
            if not isinstance(values, dict) or not values or not all(
                    isinstance(v, str) and v for v in values.values()):
                raise ConfigError(f"features.{name}.values must map raw values to vocabulary values")
            rules.append(FeatureRule(name, spec["column"], {k.strip(): v for k, v in values.items()}))
        else:
            bd = spec["birth_date"]
            if not isinstance(bd, dict) or set(bd) != {"reference_date", "bands"}:
                raise ConfigError(f"features.{name}.birth_date needs `reference_date` and `bands`")
            ref = bd["reference_date"]
            ref = ref if isinstance(ref, date) else parse_date(str(ref))
            if ref is None:
                raise ConfigError(f"features.{name}.birth_date.reference_date is not a date (YYYY-MM-DD)")
            rules.append(FeatureRule(name, spec["column"], reference=ref, bands=parse_bands(bd["bands"])))
    delimiter = doc.get("delimiter")
    if delimiter is not None and delimiter not in (",", ";", "\t", "|"):
        raise ConfigError("delimiter must be one of , ; | or a tab")
    key = _strings(doc["key"], "key") if "key" in doc else ()
    return Mapping(tuple(rules), _strings(doc["household"], "household"), key, delimiter)


def vocabulary_from(doc: object) -> dict[str, list[str]]:
    """The charter vocabulary from a JSON document: a summit as GET /v1/summits/{id} answers it,
    the charter's `register` member (`{"features": {...}}`), or the bare `{feature: [values]}`."""
    from g1000_proofs.vocabulary import check_vocabulary

    if isinstance(doc, dict) and "register" in doc:
        doc = doc["register"]
        if doc is None:
            raise ConfigError("this summit's charter declares no register vocabulary (it predates charter v2)")
    if isinstance(doc, dict) and set(doc) == {"features"}:
        doc = doc["features"]
    problems = check_vocabulary(doc)
    if problems:
        raise ConfigError("the vocabulary is not valid: " + "; ".join(problems[:5]))
    return {name: list(values) for name, values in doc.items()}


def check_mapping(mapping: Mapping, vocabulary: dict[str, list[str]]) -> None:
    """Refuse (ConfigError) a mapping that does not produce exactly the charter's features, or
    that can produce a value the charter does not declare: every output is allow-listed."""
    names = {r.name for r in mapping.features}
    problems = [f"the charter declares feature {n!r}, the mapping does not map it" for n in sorted(set(vocabulary) - names)]
    problems += [f"the mapping maps feature {n!r}, which the charter does not declare" for n in sorted(names - set(vocabulary))]
    for rule in mapping.features:
        allowed = set(vocabulary.get(rule.name, ()))
        outputs = set(rule.values.values()) if rule.reference is None else {b.label for b in rule.bands}
        if rule.name in vocabulary:
            problems += [f"features.{rule.name}: value {v!r} is not one of the charter's values"
                         for v in sorted(outputs - allowed)]
    if problems:
        raise ConfigError("the mapping does not fit the charter's vocabulary: " + "; ".join(problems))


def _household_key(cells: list[str]) -> str:
    """Spelling differences within one address ("3811 AB" / "3811ab ") are one home."""
    return "\x1f".join("".join(c.split()).casefold() for c in cells)


def prepare(text: str, mapping: Mapping, k: int, vocabulary: dict[str, list[str]],
            token: Callable[[], str] = lambda: secrets.token_hex(16)) -> Prepared:
    """The upload and the private mapping from the raw extract's text, or PrepareRefused (data)
    or ConfigError (a mapping that does not fit the charter's vocabulary)."""
    from services.lottery import privacy
    from services.lottery.errors import ExtractRejectedError
    from services.lottery.extract import parse_extract

    check_mapping(mapping, vocabulary)
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = mapping.delimiter or (";" if ";" in header_line and "," not in header_line else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [c.strip() for c in next(reader, [])]
    needed = [r.column for r in mapping.features] + list(mapping.household) + list(mapping.key)
    missing = sorted({c for c in needed if c not in header})
    if missing:
        raise PrepareRefused([f"the raw extract has no column {c!r} (the mapping names it)" for c in missing])
    at = {name: header.index(name) for name in needed}
    errors: list[str] = []
    raw_rows: list[tuple[int, dict[str, str], str, list[str]]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                errors.append(f"line {line}: {len(cells)} cells, the header has {len(header)}")
                continue
            features = {}
            for rule in mapping.features:
                value, problem = rule.apply(cells[at[rule.column]].strip())
                if problem:
                    errors.append(f"line {line}, column {rule.column!r}: {problem}")
                features[rule.name] = value
            home = [cells[at[c]] for c in mapping.household]
            if not any(c.strip() for c in home):
                errors.append(f"line {line}: the household columns are empty")
            raw_rows.append((line, features, _household_key(home), [cells[at[c]].strip() for c in mapping.key]))
            if len(errors) >= MAX_ERRORS:
                break
    except csv.Error as e:
        errors.append(f"line {reader.line_num}: not valid CSV: {e}")
    if not errors and not raw_rows:
        errors.append("the raw extract has no rows")
    if errors:
        more = [f"(stopped after {MAX_ERRORS} problems)"] if len(errors) >= MAX_ERRORS else []
        raise PrepareRefused(errors + more)

    homes: dict[str, str] = {}
    rows, private = [], []
    for line, features, home, key in raw_rows:
        household = homes.setdefault(home, token())
        pseudonym = token()
        rows.append(Row(pseudonym, household, features))
        private.append([pseudonym, household, str(line), *key])
    if len({r.pseudonym for r in rows}) != len(rows):
        raise PrepareRefused(["two pseudonyms collided; run the command again"])
    rows.sort(key=lambda r: r.pseudonym)
    private.sort()
    names = [r.name for r in mapping.features]
    upload = _csv([["pseudonym", "household", *names],
                   *([r.pseudonym, r.household, *(r.features[n] for n in names)] for r in rows)])
    try:   # what the service will check of the file's form, so an upload is never refused for it
        parse_extract(upload, vocabulary)
    except ExtractRejectedError as e:
        raise PrepareRefused([f"the prepared file would be refused: line {x['line']}: {x['message']}"
                              for x in (e.errors or [])] or [e.message]) from None
    report = privacy.check(rows, names, k)
    if not report.ok:
        raise PrepareRefused([f"k-anonymity (k = {k}): {m}" for m in report.messages()]
                             + ["coarsen the bands or value maps (merge small values) and run it again"])
    return Prepared(upload, _csv([["pseudonym", "household", "line", *mapping.key], *private]),
                    len(rows), len(homes))


def _csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


# --- files ------------------------------------------------------------------------------------


def load_mapping(path: Path) -> Mapping:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read the mapping file {path}: {e.strerror}") from None
    try:
        doc = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise ConfigError(f"the mapping file {path} is not valid {kind}: {e}") from None
    return parse_mapping(doc)


def _write(path: Path, text: str, mode: int, force: bool) -> None:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, mode)
    except FileExistsError:
        raise ConfigError(f"{path} exists (pass --force to overwrite it)") from None
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        os.fchmod(f.fileno(), mode)   # also when --force reused a file with wider permissions
        f.write(text)


def load_vocabulary(path: Path) -> dict[str, list[str]]:
    try:
        return vocabulary_from(json.loads(path.read_bytes()))
    except OSError as e:
        raise ConfigError(f"cannot read the vocabulary file {path}: {e.strerror}") from None
    except ValueError as e:
        raise ConfigError(f"the vocabulary file {path} is not valid JSON: {e}") from None


def run(raw: Path, mapping_path: Path, out: Path, private: Path, k: int, force: bool = False, *,
        vocabulary_path: Path) -> Prepared:
    """Read, prepare, and write both files (nothing is written when anything is refused)."""
    if not 2 <= k <= 100:
        raise ConfigError(f"--k {k} is outside 2..100")
    if out.resolve() == private.resolve() or raw.resolve() in (out.resolve(), private.resolve()):
        raise ConfigError("the raw extract, the upload and the private mapping must be three different files")
    mapping = load_mapping(mapping_path)
    vocabulary = load_vocabulary(vocabulary_path)
    try:
        text = raw.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the raw extract {raw} as UTF-8: {getattr(e, 'strerror', None) or e}") from None
    prepared = prepare(text, mapping, k, vocabulary)
    for path in (out, private):
        if path.exists() and not force:
            raise ConfigError(f"{path} exists (pass --force to overwrite it)")
    _write(private, prepared.private_csv, 0o600, force)
    _write(out, prepared.upload_csv, 0o644, force)
    return prepared
