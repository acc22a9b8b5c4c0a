"""Importing the register extract against the real PostgreSQL: errors with line and column,
nothing stored when refused, one register per summit, the public summary."""

from __future__ import annotations

import pytest
from g1000_proofs.register import committed_row_from_json, register_root

from services.lottery import extract, jobs
from tests.helpers import count
from tests.integration.test_lottery_flow import extract_csv, lottery  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration


def nothing_stored(lot) -> bool:
    return (lot.events() == [] and count(lot.rt, "SELECT count(*) FROM lottery_jobs") == 0
            and count(lot.rt, "SELECT count(*) FROM lottery_register_rows") == 0
            and count(lot.rt, "SELECT count(*) FROM lottery_registers") == 0)


def test_refused_extract_lists_line_and_column_and_stores_nothing(lottery):
    lot = lottery
    csv = ("pseudonym,household,first_name,age_band,postcode\n"
           "p1,h1,Jan,30-59,centrum\n"
           "p2,h2,Piet,1990-01-31,noord\n"
           "p1,h3,Kees,60+,zuid\n"
           "p4,h4,Anna,60+\n")
    r = lot.post("/register", {"csv": csv})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    errors = r.get_json()["errors"]
    assert {"line": 1, "column": 3, "message": "column 'first_name' looks like personal data; the extract "
            "holds only coarse features"} in errors
    assert any(e["line"] == 1 and e["column"] == 5 for e in errors)            # postcode column
    assert any(e["line"] == 3 and e["column"] == 4 and "date" in e["message"] for e in errors)
    assert any(e["line"] == 4 and e["column"] == 1 and "already on line 2" in e["message"] for e in errors)
    assert any(e["line"] == 5 and e["column"] is None for e in errors)          # 4 cells, header 5
    assert nothing_stored(lot)


CASES = [
    ("pseudonym,age_band\np1,30-59\n", 1, None),                            # no household column
    ("pseudonym,household,email\np1,h1,a@b.nl\n", 1, 3),
    ("pseudonym,household,age_band\np1,h1,\n", 2, 3),                       # empty value
    ("pseudonym,household,age_band\n123456782,h1,60+\n", 2, 1),             # a BSN
    ("pseudonym,household,phone_nr\np1,h1,x\n", 1, 3),
    ("pseudonym,household,area\np1,h1,3811 AB\n", 2, 3),                    # a postcode value
    ("pseudonym,household,area\np1,h1,\"a\"b\"\n", 2, None),                # broken quoting
    ("pseudonym,household\n", 2, None),                                     # no rows
]


def test_each_kind_of_error_is_located(lottery):
    for csv, line, column in CASES:
        r = lottery.post("/register", {"csv": csv})
        assert r.status_code == 422, (csv, r.get_json())
        assert any(e["line"] == line and e["column"] == column for e in r.get_json()["errors"]), r.get_json()
    assert nothing_stored(lottery)


def test_too_many_rows_and_wrong_bodies_are_refused(lottery, monkeypatch):
    monkeypatch.setattr(extract, "MAX_ROWS", 5)
    r = lottery.post("/register", {"csv": extract_csv(6)})
    assert r.status_code == 422 and r.get_json()["errors"][-1]["line"] == 7
    assert lottery.post("/register", {"csv": extract_csv(3), "extra": 1}).status_code == 422
    assert lottery.post("/register", {}).status_code == 422
    assert nothing_stored(lottery)


def test_register_is_committed_once_by_its_job_and_summarised_publicly(lottery):
    lot = lottery
    assert lot.get("/register").status_code == 404
    csv = extract_csv(1200).replace(",", ";")  # semicolons, as Dutch spreadsheets write them
    job = lot.ok(lot.post("/register", {"csv": csv}), 202)
    assert lot.events() == [] and "is committing it" in lot.get("/register").get_json()["detail"]
    assert lot.post("/register", {"csv": extract_csv(3)}).status_code == 409       # one is pending
    assert jobs.run_once(lot.rt) == job["job_id"]
    chunks = lot.events("lottery.register.chunk")
    (committed,) = lot.events("lottery.register.committed")
    assert [e.payload["chunk"] for e in chunks] == [0, 1, 2] and [len(e.payload["rows"]) for e in chunks] == [500, 500, 200]
    rows = [committed_row_from_json(r) for e in chunks for r in e.payload["rows"]]
    assert [r.pseudonym for r in rows] == sorted(r.pseudonym for r in rows)
    count_, root = register_root(rows)
    public = lot.ok(lot.get("/register"))
    assert committed.payload == {"v": 2, "register_id": public["register_id"], "count": 1200, "root": root.hex(),
                                 "chunks": 3, "features": ["age_band", "gender", "neighbourhood"], "contract": 2}
    assert public["feature_counts"]["gender"] == {"f": 600, "m": 600} and public["committed_seq"] == 4
    assert lot.ok(lot.client.get(job["location"]))["register_id"] == public["register_id"]
    again = lot.post("/register", {"csv": extract_csv(3)})
    assert again.status_code == 409 and len(lot.events()) == 4


def test_unknown_summit_is_404(lottery):
    other = "00000000-0000-4000-8000-000000000000"
    assert lottery.client.get(lottery.url("/register", other)).status_code == 404
    r = lottery.client.post(lottery.url("/register", other), json={"csv": extract_csv(3)}, headers=lottery.auth())
    assert r.status_code == 404 and r.content_type == "application/problem+json"


@pytest.mark.parametrize("csv_text", ['"', 'pseudonym,household,age\n"p1,h1,x\n', '"a\nb'])
def test_a_header_or_row_that_is_not_csv_is_a_row_error(lottery, csv_text):
    """Found by schemathesis: a lone quote in the header line was a 500."""
    response = lottery.post("/register", {"csv": csv_text})
    assert response.status_code == 422 and response.content_type == "application/problem+json"
    errors = response.get_json()["errors"]
    assert errors and all(e["line"] >= 1 for e in errors)


def test_a_register_that_singles_people_out_is_refused_with_counts_only(lottery, service_env):
    """H3: the published rows (household id and every feature) must be k-anonymous, with the k
    the service is configured with (default 5); the refusal says how many fall short, not which."""
    from dataclasses import replace

    from services.core.config import load_config

    lot = lottery
    configured = load_config("lottery", service_env).register_k_anonymity   # the fixture lowered it
    lot.rt.config = replace(lot.rt.config, register_k_anonymity=configured)
    assert lot.rt.config.register_k_anonymity == 5
    lines = ["pseudonym,household,age_band,gender,neighbourhood"]
    for i in range(40):   # 40 one-person households, 5 of each (age, gender, neighbourhood) …
        lines.append(f"p{i:03d},h{i:03d},{AGE[i % 4]},{'fm'[(i // 4) % 2]},noord")
    ok = "\n".join(lines) + "\n"
    bad = ok + "p900,h900,65+,x,zuid\np901,h901,16-29,f,zuid\np902,h901,16-29,f,zuid\n"   # … and two who stand out
    r = lot.post("/register", {"csv": bad})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    body = r.get_json()
    assert body["k_anonymity"]["k"] == 5
    assert body["k_anonymity"]["features"] == ["age_band", "gender", "neighbourhood"]
    assert body["k_anonymity"]["rows"] == {"below_k": 2, "by_size": [{"size": 1, "count": 1}, {"size": 2, "count": 1}]}
    assert body["k_anonymity"]["households"]["below_k"] == 2
    assert body["k_anonymity"]["compositions"] == {"below_k": 2, "by_size": [{"size": 1, "count": 2}]}
    assert {"line": 1, "column": None, "message": "2 combinations of (age_band, gender, neighbourhood) are "
            "shared by fewer than 5 rows: 1 with 1 row, 1 with 2 rows"} in body["errors"]
    for value in ("zuid", "p900", "h901", "65+"):
        assert value not in r.get_data(as_text=True)
    assert nothing_stored(lot)
    assert lot.post("/register", {"csv": ok}).status_code == 202


AGE = ("16-29", "30-44", "45-64", "65+")
