"""`g1000 register prepare` (g1000/register_prepare.py): the raw extract becomes an opaque,
allow-listed upload and a private mapping; nothing personal reaches the upload, unmapped values
and registers that single people out are refused with every problem listed."""

from __future__ import annotations

import csv
import io
import json
import re
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from g1000.register_prepare import (
    PrepareRefused, age_on, band_of, parse_bands, parse_mapping, prepare, vocabulary_from,
)
from services.core.errors import ConfigError
from services.lottery.extract import parse_extract
from services.lottery.privacy import check

HEX128 = re.compile(r"[0-9a-f]{32}\Z")
ROOT = Path(__file__).resolve().parents[3]

MAPPING_TOML = """\
household = ["straat", "huisnummer", "postcode"]
key = ["bsn"]
delimiter = ";"

[features.age_band]
column = "geboortedatum"
birth_date = { reference_date = 2027-03-01, bands = ["16-39", "40+"] }

[features.gender]
column = "geslacht"
values = { V = "vrouw", M = "man" }
"""
MAPPING = {"household": ["straat", "huisnummer", "postcode"], "key": ["bsn"], "delimiter": ";",
           "features": {"age_band": {"column": "geboortedatum",
                                     "birth_date": {"reference_date": "2027-03-01", "bands": ["16-39", "40+"]}},
                        "gender": {"column": "geslacht", "values": {"V": "vrouw", "M": "man"}}}}

VOCABULARY = {"age_band": ["16-39", "40+"], "gender": ["vrouw", "man", "anders"]}


def raw_extract(households: int = 10) -> str:
    """Households of two (a woman of 30 and a man of 50) at distinct addresses, with the kind
    of columns a real export has."""
    lines = ["bsn;voornaam;achternaam;straat;huisnummer;postcode;geboortedatum;geslacht"]
    for h in range(households):
        lines.append(f"1000000{h:02d};Anna;de Vries;Kerkstraat;{h + 1};3811AB;1997-01-15;V")
        lines.append(f"2000000{h:02d};Jan;de Vries;kerkstraat ;{h + 1};3811 ab ;15-06-1976;M")
    return "\n".join(lines) + "\n"


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_age_on_counts_completed_years_and_bands_are_inclusive():
    assert age_on(date(2000, 3, 2), date(2027, 3, 1)) == 26
    assert age_on(date(2000, 3, 1), date(2027, 3, 1)) == 27
    bands = parse_bands(["65+", "16-29", "30-64"])
    assert [band_of(a, bands) for a in (15, 16, 29, 30, 64, 65, 120)] == [None, "16-29", "16-29", "30-64",
                                                                          "30-64", "65+", "65+"]
    for bad in (["16-29", "20-40"], ["40+", "50+"], ["x"], [], ["30-20"]):
        with pytest.raises(ConfigError):
            parse_bands(bad)


def test_the_upload_is_opaque_allow_listed_and_in_pseudonym_order():
    prepared = prepare(raw_extract(), parse_mapping(MAPPING), k=5, vocabulary=VOCABULARY)
    upload = rows_of(prepared.upload_csv)
    assert upload[0] == ["pseudonym", "household", "age_band", "gender"]
    body = upload[1:]
    assert len(body) == 20 and prepared.households == 10            # spelling of one address: one home
    assert all(HEX128.match(p) and HEX128.match(h) for p, h, *_ in body)
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    assert {tuple(r[2:]) for r in body} == {("16-39", "vrouw"), ("40+", "man")}
    non_ids = "\n".join(",".join(r[2:]) for r in upload)   # the ids are random hex (checked above)
    for personal in ("Anna", "Vries", "Kerkstraat", "3811", "1997", "100000"):
        assert personal not in non_ids
    extract = parse_extract(prepared.upload_csv, VOCABULARY)                      # the service accepts it
    assert check(extract.rows, extract.features, 5).ok
    # the private file maps each pseudonym back to its raw line and key, for the letters
    private = rows_of(prepared.private_csv)
    assert private[0] == ["pseudonym", "household", "line", "bsn"]
    by_pseudonym = {r[0]: r for r in private[1:]}
    assert set(by_pseudonym) == {r[0] for r in body}
    anna = next(r for r in private[1:] if r[3] == "100000003")
    assert anna[2] == "8" and by_pseudonym[anna[0]][1] == next(r[1] for r in body if r[0] == anna[0])


def test_fresh_ids_every_run():
    a = prepare(raw_extract(), parse_mapping(MAPPING), k=5, vocabulary=VOCABULARY)
    b = prepare(raw_extract(), parse_mapping(MAPPING), k=5, vocabulary=VOCABULARY)
    assert not {r[0] for r in rows_of(a.upload_csv)[1:]} & {r[0] for r in rows_of(b.upload_csv)[1:]}


def test_unmapped_values_are_refused_each_with_its_line():
    text = raw_extract().replace(";V\n", ";X\n", 1) + "3;Piet;Bos;Dorpsweg;1;1234AB;2015-01-01;M\n"
    with pytest.raises(PrepareRefused) as info:
        prepare(text, parse_mapping(MAPPING), k=5, vocabulary=VOCABULARY)
    assert info.value.lines == [
        "line 2, column 'geslacht': value 'X' has no mapping for feature 'gender'",
        "line 22, column 'geboortedatum': the age at 2027-03-01 is in none of the bands of feature 'age_band'"]
    assert "2015" not in " ".join(info.value.lines)                   # a birth date is never echoed


def test_a_register_that_singles_people_out_is_refused_by_counts():
    text = raw_extract(4) + "3;Piet;Bos;Dorpsweg;1;1234AB;1950-01-01;M\n"
    with pytest.raises(PrepareRefused) as info:
        prepare(text, parse_mapping(MAPPING), k=5, vocabulary=VOCABULARY)
    lines = info.value.lines
    assert lines[0] == ("k-anonymity (k = 5): 1 combination of (age_band, gender) is shared by fewer than 5 "
                        "rows: 1 with 4 rows")
    assert lines[1].startswith("k-anonymity (k = 5): 1 combination of (age_band, gender) is found in fewer")
    assert lines[2].startswith("k-anonymity (k = 5): 5 households have a member composition")
    assert not any("Piet" in line or "Dorpsweg" in line for line in lines)


def test_missing_columns_and_bad_mappings_are_named():
    with pytest.raises(PrepareRefused, match="no column 'geslacht'"):
        prepare("bsn;straat;huisnummer;postcode;geboortedatum\n1;a;1;2;1990-01-01\n", parse_mapping(MAPPING), k=5, vocabulary=VOCABULARY)
    for doc, what in (({**MAPPING, "household": []}, "household"), ({**MAPPING, "extra": 1}, "extra"),
                      ({k: v for k, v in MAPPING.items() if k != "household"}, "household"),
                      ({**MAPPING, "features": {"Age": {"column": "x", "values": {"a": "b"}}}}, "'Age'"),
                      ({**MAPPING, "features": {"age": {"column": "x"}}}, "exactly one")):
        with pytest.raises(ConfigError, match=what):
            parse_mapping(doc)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'verifier'}", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "g1000.cli", "register", "prepare", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_the_command_writes_both_files_and_exits_0_1_2(tmp_path):
    (tmp_path / "raw.csv").write_text(raw_extract())
    (tmp_path / "mapping.toml").write_text(MAPPING_TOML)
    (tmp_path / "mapping.json").write_text(json.dumps(MAPPING))
    (tmp_path / "summit.json").write_text(json.dumps({"theme": "t", "register": {"features": VOCABULARY}}))
    args = ["raw.csv", "--mapping", "mapping.toml", "--out", "upload.csv", "--private", "private.csv",
            "--vocabulary", "summit.json"]
    done = run_cli(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "20 residents in 10 households" in done.stdout
    assert stat.S_IMODE((tmp_path / "private.csv").stat().st_mode) == 0o600
    assert len(parse_extract((tmp_path / "upload.csv").read_text(), VOCABULARY).rows) == 20
    # the same from a JSON mapping; existing outputs are kept unless --force
    again = run_cli(*args, cwd=tmp_path)
    assert again.returncode == 2 and "exists (pass --force" in again.stderr
    assert run_cli(*args[:2], "mapping.json", *args[3:], "--force", cwd=tmp_path).returncode == 0
    # refused data: exit 1, every problem on its own line, nothing written
    (tmp_path / "raw.csv").write_text(raw_extract().replace(";V\n", ";?\n"))
    refused = run_cli("raw.csv", "--mapping", "mapping.toml", "--out", "u2.csv", "--private", "p2.csv",
                      "--vocabulary", "summit.json", cwd=tmp_path)
    assert refused.returncode == 1 and "g1000: error: line 2, column 'geslacht'" in refused.stderr
    assert not (tmp_path / "u2.csv").exists() and not (tmp_path / "p2.csv").exists()
    assert "Traceback" not in refused.stderr
    # usage: an unreadable mapping is exit 2 with one line
    bad = run_cli("raw.csv", "--mapping", "nope.toml", "--out", "u3.csv", "--private", "p3.csv",
                  "--vocabulary", "summit.json", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().startswith("g1000: error: cannot read the mapping file")
    # a mapping that can write a value the charter does not declare: exit 2, nothing written
    (tmp_path / "narrow.json").write_text(json.dumps({"features": {"age_band": ["16-39", "40+"], "gender": ["man"]}}))
    narrow = run_cli("raw.csv", "--mapping", "mapping.toml", "--out", "u4.csv", "--private", "p4.csv",
                     "--vocabulary", "narrow.json", cwd=tmp_path)
    assert narrow.returncode == 2 and "value 'vrouw' is not one of the charter's values" in narrow.stderr
    assert not (tmp_path / "u4.csv").exists() and not (tmp_path / "p4.csv").exists()


def test_the_mapping_must_produce_exactly_the_charters_vocabulary():
    mapping = parse_mapping(MAPPING)
    for vocabulary, fragment in (
        ({"age_band": ["16-39", "40+"]}, "the mapping maps feature 'gender', which the charter does not declare"),
        (VOCABULARY | {"education": ["low"]}, "the charter declares feature 'education'"),
        (VOCABULARY | {"age_band": ["16-39", "40-64", "65+"]}, "value '40+' is not one of the charter's values"),
        (VOCABULARY | {"gender": ["vrouw"]}, "value 'man' is not one of the charter's values"),
    ):
        with pytest.raises(ConfigError, match=re.escape(fragment)):
            prepare(raw_extract(), mapping, k=5, vocabulary=vocabulary)


def test_the_vocabulary_is_read_from_a_summit_its_register_or_the_bare_map():
    for doc in ({"summit_id": "x", "register": {"features": VOCABULARY}}, {"features": VOCABULARY}, VOCABULARY):
        assert vocabulary_from(doc) == VOCABULARY
    with pytest.raises(ConfigError, match="declares no register vocabulary"):
        vocabulary_from({"summit_id": "x", "register": None})
    with pytest.raises(ConfigError, match="not valid"):
        vocabulary_from({"age_band": []})
