"""`python -m bench.panel_reference IN OUT`: the reference panel selection, in a process of its own.

Why a separate process: the reference (the Sortition Foundation's `sortition-algorithms`, pinned in
the `bench` extra) can run for an hour at G1000 scale and its solvers run inside native code that
no Python-level timeout can interrupt. bench/panel.py therefore starts this module in a new
session and kills the whole process group by pid when the hard wall-clock limit passes. It is
also kept out of the benchmark's own process so the reference's imports (cvxpy, scipy, python-mip)
cannot change how our code runs.

What it runs: the library's own routing, read from the library rather than assumed. Its entry
point `find_random_sample(selection_algorithm="leximin")` uses LEXIMIN only when Gurobi is
importable (`committee_generation.GUROBI_AVAILABLE`) and otherwise switches to maximin with a
notice. We call the same committee-generation function it would call
(`find_distribution_leximin` or `find_distribution_maximin`) and then `standardize_distribution`,
exactly as the entry point does, but stop before its randomised `lottery_rounding`, because the
benchmark needs the distribution itself (committees and their probabilities) to compute every
person's selection probability. Inputs go in through the library's public readers
(`read_in_features`, `read_in_people`) with the household as the address column, so the reference
applies the same one-per-household rule as ours. The library's randomness (its multiplicative
weights start) is seeded so reruns are comparable.

IN is JSON `{"panel_size", "quotas": {feature: {value: [min, max]}}, "people": [{"id",
"household", "features"}]}`; OUT receives the committees, their probabilities, what ran and the
time of the algorithm call alone (wall and CPU), written only on success.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from importlib import metadata
from pathlib import Path

ADDRESS_COLUMN = "household"
ID_COLUMN = "id"
BACKEND_SOLVERS = {"highspy": "HiGHS via highspy", "mip": "CBC via python-mip", "mip-cbc": "CBC via python-mip",
                   "mip-highs": "HiGHS via python-mip", "mip-gurobi": "Gurobi via python-mip"}


def version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_seconds() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def load_inputs(spec: dict, backend: str, seed: int):
    from sortition_algorithms import Settings, read_in_features, read_in_people

    panel_size = spec["panel_size"]
    feature_rows = [{"feature": feature, "value": value, "min": str(low), "max": str(high)}
                    for feature, values in spec["quotas"].items() for value, (low, high) in values.items()]
    features, _, _ = read_in_features(["feature", "value", "min", "max"], feature_rows, panel_size)
    settings = Settings(id_column=ID_COLUMN, columns_to_keep=[], check_same_address=True,
                        check_same_address_columns=[ADDRESS_COLUMN], selection_algorithm="leximin",
                        solver_backend=backend, random_number_seed=seed)
    head = [ID_COLUMN, ADDRESS_COLUMN, *spec["quotas"]]
    body = [{ID_COLUMN: p["id"], ADDRESS_COLUMN: p["household"], **p["features"]} for p in spec["people"]]
    people, _ = read_in_people(head, body, features, settings)
    return features, people, settings


def run(spec: dict, backend: str, seed: int) -> dict:
    from sortition_algorithms.committee_generation import (GUROBI_AVAILABLE, find_distribution_leximin,
                                                           find_distribution_maximin, standardize_distribution)
    from sortition_algorithms.report_messages import get_message
    from sortition_algorithms.utils import set_random_provider

    features, people, settings = load_inputs(spec, backend, seed)
    # the entry point's routing: LEXIMIN needs Gurobi, else maximin with a printed notice
    if GUROBI_AVAILABLE:
        algorithm, find, notice = "leximin", find_distribution_leximin, None
    else:
        algorithm, find, notice = "maximin", find_distribution_maximin, get_message("gurobi_unavailable_switching")
    set_random_provider(settings.random_number_seed)
    wall, cpu = time.perf_counter(), cpu_seconds()
    committees, probabilities, _ = find(features, people, spec["panel_size"], settings.normalised_address_columns,
                                        settings.solver_backend)
    committees, probabilities = standardize_distribution(committees, probabilities)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return {
        "algorithm_requested": "leximin",
        "algorithm_ran": algorithm,
        "notice": notice,
        "gurobi_available": GUROBI_AVAILABLE,
        "backend": backend,
        "solver": BACKEND_SOLVERS.get(backend, backend),
        "versions": {name: version(name) for name in ("sortition-algorithms", "mip", "cbcbox", "highspy")},
        "seed": seed,
        "seconds": wall,
        "cpu_seconds": cpu,
        "committees": [sorted(committee) for committee in committees],
        "probabilities": list(probabilities),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.panel_reference", description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--backend", default="mip", choices=sorted(BACKEND_SOLVERS),
                        help="the library's solver backend (mip = CBC)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the library's randomness (not 0: 0 is unseeded)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = run(json.loads(args.input.read_text(encoding="utf-8")), args.backend, args.seed)
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
