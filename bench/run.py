"""`python -m bench.run` (what `make bench` runs): measure, then write BENCHMARKS.md.

The run executes a frozen copy of the code (bench/snapshot.py), so all repetitions time the
same version even while the repository is being edited. Two benchmarks, both by default
(`--only pipeline|ledger` runs one): the pipeline (bench/pipeline.py) and the transparency log
(bench/ledger.py, a log of `--ledger-entries` entries). Order: the Ed25519 ceiling first (pure
CPU, before any server or thread exists), then the servers (embedded unless G1000_DATABASE_URL /
G1000_KAFKA_BOOTSTRAP are set), the pipeline repetitions and one profiled run; then the ledger
benchmark on servers of its own (fresh data directory, empty broker). The servers are stopped by
pid in `finally`, also on Ctrl-C or SIGTERM, and their data removed. Each benchmark writes its own
sections of the report as soon as it has finished, so one failing does not lose the other's.
Exit 0 with the report written; 1 with one line on stderr if the harness could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Iterator

from services.core.errors import CoreError

from .ceiling import RAW_1, run_ceiling
from .infra import BenchError, Servers, servers, workdir
from .ledger import LedgerParams, run_ledger
from .ledger_report import ledger_section, ratios
from .machine import changed_files, code_version, describe, snapshot_digest, source_snapshot
from .pipeline import PipelineParams, e2e_label, run_pipeline
from .profiling import profile_stages
from .report import ceiling_section, pipeline_section, write_sections
from .snapshot import is_frozen, repository, run_frozen
from .stats import fmt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per pipeline run (N)")
    parser.add_argument("--single-events", type=int, default=None,
                        help="events for the 1-event-per-transaction runs (default N/10)")
    parser.add_argument("--batch", type=int, default=100, help="events per append transaction")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the report shows medians")
    parser.add_argument("--verify-seconds", type=float, default=2.0,
                        help="duration of each Ed25519 measurement")
    parser.add_argument("--profile-events", type=int, default=5_000,
                        help="events in the profiled run (0: no profile)")
    parser.add_argument("--only", choices=("pipeline", "ledger"), default=None,
                        help="run one benchmark (default: both)")
    parser.add_argument("--ledger-entries", type=int, default=1_000_000,
                        help="agenda events in the benchmark's summit log (plus its genesis entries)")
    parser.add_argument("--ledger-batch", type=int, default=500, help="events per append transaction (ledger)")
    parser.add_argument("--ledger-capacity-events", type=int, default=200_000,
                        help="events of the ledger-consumer-alone run over a pre-filled topic")
    parser.add_argument("--ledger-profile-events", type=int, default=20_000,
                        help="events of the profiled ledger consumer run (0: no profile)")
    parser.add_argument("--ledger-proofs", type=int, default=2_000,
                        help="inclusion proofs and consistency proofs timed (each)")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="report to update")
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeat < 1 or args.batch < 1:
        parser.error("--events, --repeat and --batch must be at least 1")
    if args.ledger_entries < 2 or args.ledger_batch < 1 or args.ledger_capacity_events < 1 \
            or args.ledger_proofs < 1 or args.ledger_profile_events < 0:
        parser.error("--ledger-entries must be at least 2, --ledger-batch, --ledger-capacity-events and"
                     " --ledger-proofs at least 1")
    if args.single_events is None:
        args.single_events = max(1, args.events // 10)
    return args


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def code_line(measured: dict[str, str]) -> str:
    """What code was measured (the frozen copy), and whether the repository moved on meanwhile."""
    repo = repository()
    line = (f"{code_version(repo)}; this run measured a copy taken at its start"
            f" (digest {snapshot_digest(measured)})")
    changed = changed_files(measured, source_snapshot(repo))
    if changed:
        line += f"; changed in the repository during the run, not measured: {', '.join(changed)}"
    return line


def measure_and_report(args: argparse.Namespace) -> None:
    measured = source_snapshot(Path(__file__).resolve().parent.parent)
    with workdir() as root:
        if args.only in (None, "pipeline"):
            pipeline_run(args, root, measured)
        if args.only in (None, "ledger"):
            ledger_run(args, root, measured)


@contextlib.contextmanager
def own_servers(place: Path) -> Iterator[Servers]:
    """Servers whose data lives in `place`, removed when they stop (a 1M log is gigabytes)."""
    place.mkdir()
    try:
        with servers(place) as srv:
            yield srv
    finally:
        shutil.rmtree(place, ignore_errors=True)


def pipeline_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> None:
    began = time.monotonic()
    print("bench: Ed25519 ceiling", file=sys.stderr)
    ceiling = run_ceiling(seconds=args.verify_seconds, repeat=args.repeat)
    params = PipelineParams(args.events, args.single_events, args.batch, args.repeat)
    with own_servers(root / "pipeline") as srv:
        machine = describe(srv.database_url, broker=srv.broker, database=srv.database)
        machine["load average at start"] = load_average()
        print(f"bench: pipeline, N={params.events}, {params.repeat} repetitions", file=sys.stderr)
        pipeline = run_pipeline(srv, root, params)
        profiles = []
        if args.profile_events:
            print("bench: profiled run", file=sys.stderr)
            profiles = profile_stages(srv, root, min(args.profile_events, args.events), args.batch)
        machine["load average at end"] = load_average()
    machine["code"] = code_line(measured)
    write_sections(args.out, {
        "pipeline": pipeline_section(pipeline, ceiling, profiles, machine),
        "ed25519-ceiling": ceiling_section(ceiling, machine),
    })
    e2e = pipeline.rates[e2e_label(params.batch)].median
    ceil = ceiling.rates[RAW_1].median
    print(f"pipeline: end-to-end {fmt(e2e)} events/s (median), 1-core Ed25519 verify {fmt(ceil)}/s,"
          f" ratio {e2e / ceil:.3f}; written to {args.out}")
    print(f"bench: pipeline benchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)


def ledger_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> None:
    """The transparency-log benchmark on servers of its own (fresh PostgreSQL data, empty broker)."""
    began = time.monotonic()
    params = LedgerParams(entries=args.ledger_entries, batch=args.ledger_batch,
                          capacity_events=args.ledger_capacity_events, profile_events=args.ledger_profile_events,
                          inclusion_proofs=args.ledger_proofs, consistency_proofs=args.ledger_proofs,
                          ceiling_seconds=args.verify_seconds, ceiling_repeat=args.repeat)
    with own_servers(root / "ledger") as srv:
        machine = describe(srv.database_url, broker=srv.broker, database=srv.database)
        machine["load average at start"] = load_average()
        result = run_ledger(srv, root, params)
        machine["load average at end"] = load_average()
    machine["code"] = code_line(measured)
    write_sections(args.out, {"ledger": ledger_section(result, machine)})
    ver = result.verifier
    print(
        f"ledger: ingest {fmt(result.ingest.rate)} events/s end to end (consumer alone {fmt(result.capacity.rate)});"
        f" proof p99 inclusion {result.proofs.http['inclusion'].p(99):.1f} ms, consistency"
        f" {result.proofs.http['consistency'].p(99):.1f} ms; verifier (default workers, fastest run)"
        f" {fmt(max(r.rate for r in ver.default_runs()))} entries/s = {ratios(result)['best']:.3f} x the fastest"
        f" 2-process Ed25519 ceiling sample (medians: {ratios(result)['median']:.3f}); written to {args.out}")
    print(f"bench: ledger benchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not is_frozen():
        return run_frozen([*argv, "--out", str(args.out.resolve())])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)  # its event-loop timing warnings are noise here
    # SIGTERM (e.g. from make or CI) must unwind through `finally`, so servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    try:
        measure_and_report(args)
    except (BenchError, CoreError) as e:  # CoreError includes StackError (servers would not start)
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    print(f"bench: done in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
