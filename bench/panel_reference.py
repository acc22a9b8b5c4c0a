"""`python -m bench.panel_reference IN OUT`: the reference panel selection, in a process of its own.

The reference (the Sortition Foundation's `sortition-algorithms`, pinned in the `bench` extra) can
run for an hour at G1000 scale inside native solver code no Python-level timeout interrupts, so
bench/panel.py starts this module in a new session and kills the process group by pid when its
wall-clock limit passes; a process of its own also keeps the reference's imports (cvxpy, scipy,
python-mip) from changing how our code runs.

What it runs is the library's own routing, read from the library: `find_random_sample(
selection_algorithm="leximin")` uses LEXIMIN only when Gurobi is importable and otherwise maximin
with a notice. We call the committee-generation function it would call and `standardize_distribution`,
as the entry point does, but stop before its randomised `lottery_rounding`: the benchmark needs the
distribution itself to compute every person's selection probability. Inputs go through the library's
public readers with the household as the address column (so it applies the same one-per-household
rule as ours); its randomness is seeded so reruns are comparable; the solver backend is the
library's choice of BACKENDS (default `mip`, CBC, its fastest open-source one for maximin here).

Usage: `python -m bench.panel_reference IN OUT [BACKEND]`. IN is JSON `{"panel_size", "quotas": {feature: {value: [min, max]}}, "people": [{"id", "household",
"features"}]}`; OUT receives the committees, their probabilities, what ran and the wall and CPU
time of the algorithm call alone, written only on success.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
import time
from importlib import metadata
from pathlib import Path

BACKENDS = {"highspy": "HiGHS via highspy", "mip": "CBC via python-mip", "mip-cbc": "CBC via python-mip",
            "mip-highs": "HiGHS via python-mip", "mip-gurobi": "Gurobi via python-mip"}
SEED = 1


def cpu_seconds() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def run(spec: dict, backend: str = "mip") -> dict:
    from sortition_algorithms import Settings, read_in_features, read_in_people
    from sortition_algorithms.committee_generation import (GUROBI_AVAILABLE, find_distribution_leximin,
                                                           find_distribution_maximin, standardize_distribution)
    from sortition_algorithms.report_messages import get_message
    from sortition_algorithms.utils import set_random_provider

    panel_size = spec["panel_size"]
    rows = [{"feature": feature, "value": value, "min": str(low), "max": str(high)}
            for feature, values in spec["quotas"].items() for value, (low, high) in values.items()]
    features, _, _ = read_in_features(["feature", "value", "min", "max"], rows, panel_size)
    settings = Settings(id_column="id", columns_to_keep=[], check_same_address=True,
                        check_same_address_columns=["household"], selection_algorithm="leximin",
                        solver_backend=backend, random_number_seed=SEED)
    people, _ = read_in_people(["id", "household", *spec["quotas"]],
                               [{"id": p["id"], "household": p["household"], **p["features"]} for p in spec["people"]],
                               features, settings)
    if GUROBI_AVAILABLE:  # the entry point's routing: LEXIMIN needs Gurobi, else maximin with a notice
        algorithm, find, notice = "leximin", find_distribution_leximin, None
    else:
        algorithm, find, notice = "maximin", find_distribution_maximin, get_message("gurobi_unavailable_switching")
    set_random_provider(settings.random_number_seed)
    wall, cpu = time.perf_counter(), cpu_seconds()
    committees, probabilities, _ = find(features, people, panel_size, settings.normalised_address_columns, backend)
    committees, probabilities = standardize_distribution(committees, probabilities)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    return {"algorithm_requested": "leximin", "algorithm_ran": algorithm, "notice": notice, "solver": BACKENDS[backend],
            "version": metadata.version("sortition-algorithms"), "seed": SEED, "seconds": wall, "cpu_seconds": cpu,
            "committees": [sorted(committee) for committee in committees], "probabilities": list(probabilities)}


def main(argv: list[str] | None = None) -> int:
    source, target, *backend = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = run(json.loads(Path(source).read_text(encoding="utf-8")), *backend)
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    tmp.replace(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
