"""The demo's register (g1000/demo_lottery.py) is one a municipality could publish: it passes the
import's checks, k-anonymity with the default k included, and its ids say nothing (H3)."""

from __future__ import annotations

import re

from g1000.demo_lottery import POPULATION, VOCABULARY, population_csv
from services.lottery.extract import parse_extract
from services.lottery.privacy import DEFAULT_K, check

HEX128 = re.compile(r"[0-9a-f]{32}\Z")


def test_the_demo_register_passes_the_k_anonymity_check():
    extract = parse_extract(population_csv(), VOCABULARY)
    assert len(extract.rows) == POPULATION
    report = check(extract.rows, extract.features, DEFAULT_K)
    assert report.ok, report.messages()


def test_ids_are_random_128_bit_hex_in_pseudonym_order_and_fresh_each_time():
    first, second = population_csv(), population_csv()
    rows = [line.split(",") for line in first.splitlines()[1:]]
    assert all(HEX128.match(p) and HEX128.match(h) for p, h, *_ in rows)
    assert [p for p, *_ in rows] == sorted(p for p, *_ in rows)       # file order leaks nothing
    assert not {p for p, *_ in rows} & {line.split(",")[0] for line in second.splitlines()[1:]}
    # the town itself is the same each time: the same multiset of features
    assert sorted(r[2:] for r in rows) == sorted(line.split(",")[2:] for line in second.splitlines()[1:])


def test_small_towns_pass_too():
    for size, k in ((7, 5), (100, 5), (500, 2), (999, 9)):
        extract = parse_extract(population_csv(size, seed=size, k=k), VOCABULARY)
        assert len(extract.rows) == size and check(extract.rows, extract.features, k).ok
