"""`python -m bench.run` (what `make bench` runs): measure, then write BENCHMARKS.md.

The run executes a frozen copy of the code (bench/machine.py), so all repetitions time the same
version even while the repository is being edited. Six benchmarks, all by default (`--only` runs
one): the pipeline with the Ed25519 ceiling (bench/pipeline.py, bench/ceiling.py; the ceiling
first, pure CPU, before any server or thread exists), the transparency log (bench/ledger.py), the
gateway's overhead against calling the services directly (bench/gateway.py), the panel
selection against `sortition-algorithms` (bench/panel.py, no servers), the mixed tables'
assignment against a greedy and a shuffle-and-swap baseline (bench/tables.py, no servers), and the
ballot's burst of voters through the gateway with its tally and `g1000-verify tally`
(bench/ballot.py). Each server benchmark runs on servers of its own (embedded unless
G1000_DATABASE_URL / G1000_KAFKA_BOOTSTRAP are set), stopped by
pid in `finally` (also on Ctrl-C or SIGTERM) with their data removed. Each benchmark writes its own
sections as soon as it has finished (the panel benchmark after every pool), so one failing does not
lose the others'. Exit 0 with the report written; 1 with one line on stderr if it could not measure.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from services.core.errors import CoreError

from .ballot import BallotParams, ballot_section, run_ballot
from .ceiling import RAW_1, run_ceiling
from .gateway import GatewayParams, run_gateway
from .infra import BenchError, Servers, servers, workdir
from .ledger import LedgerParams, run_ledger
from .machine import code_line, describe, is_frozen, load_average, run_frozen, source_snapshot
from .panel import PanelParams, run_panel
from .panel import machine as panel_machine
from .panel_reference import BACKENDS
from .pipeline import PipelineParams, e2e_label, run_pipeline
from .profiling import profile_stages
from .report import (ceiling_section, gateway_section, ledger_section, panel_section, pipeline_section, secs,
                     write_sections)
from .stats import fmt
from .tables import run_tables, tables_section


def pools(text: str) -> tuple[tuple[int, int], ...]:
    """`1000:100,4000:800` -> ((1000, 100), (4000, 800))."""
    try:
        sizes = tuple((int(n), int(k)) for n, k in (item.split(":") for item in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not RESPONDENTS:SEATS[,...]") from None
    if not sizes or any(not 0 < k <= n for n, k in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every pool needs 0 < SEATS <= RESPONDENTS")
    return sizes


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not positive")
        return value
    return parse


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--only", choices=("pipeline", "ledger", "gateway", "panel", "tables", "ballot"),
        help="run one benchmark (default: all)")
    add("--events", type=positive(int), default=20_000, help="events per pipeline run (N; N/10 for 1 per transaction)")
    add("--repeat", type=positive(int), default=3, help="pipeline and ceiling repetitions; the report shows medians")
    add("--verify-seconds", type=positive(float), default=2.0, help="duration of each Ed25519 measurement")
    add("--profile-events", type=int, default=5_000, help="events in the profiled pipeline run (0: no profile)")
    add("--ledger-entries", type=positive(int), default=1_000_000,
        help="agenda events in the ledger benchmark's log (its stages-alone runs use a fifth, at most 200,000)")
    add("--gateway-requests", type=positive(int), default=2_000, help="timed requests of each kind on each path")
    add("--gateway-seconds", type=positive(float), default=10.0, help="window of each requests/s run")
    add("--panel-sizes", type=pools, default=PanelParams().sizes, help="pools as RESPONDENTS:SEATS,...")
    add("--panel-repeat", type=positive(int), default=3, help="runs of ours per pool (a slow run is not repeated)")
    add("--panel-reference-sizes", type=pools, default=None, help="pools the reference runs on (default: all)")
    add("--panel-reference-timeout", type=positive(float), default=3600.0,
        help="seconds after which the reference is killed, per pool")
    add("--panel-reference-backend", choices=sorted(BACKENDS), default="mip",
        help="the reference's solver backend (mip = CBC, its fastest for maximin here)")
    add("--ballot-voters", type=positive(int), default=1_000, help="voters in the ballot's burst")
    add("--ballot-concurrency", type=positive(int), default=32, help="voters at a time in the burst")
    add("--out", type=Path, default=Path("BENCHMARKS.md"), help="report to update")
    return parser.parse_args(argv)


@contextlib.contextmanager
def measured_servers(root: Path, name: str, measured: dict[str, str]) -> Iterator[tuple[Servers, dict[str, str]]]:
    """Servers whose data lives in a directory of their own, removed when they stop (a 1M log is
    gigabytes), and the machine table of the section measured on them: the load average when the
    block starts and ends, then the code line."""
    place = root / name
    place.mkdir()
    try:
        with servers(place) as srv:
            machine = describe(srv.database_url, broker=srv.broker, database=srv.database)
            machine["load average at start"] = load_average()
            yield srv, machine
            machine["load average at end"] = load_average()
    finally:
        shutil.rmtree(place, ignore_errors=True)
    machine["code"] = code_line(measured)


def pipeline_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> str:
    print("bench: Ed25519 ceiling", file=sys.stderr)
    ceiling = run_ceiling(seconds=args.verify_seconds, repeat=args.repeat)
    params = PipelineParams(args.events, max(1, args.events // 10), 100, args.repeat)
    with measured_servers(root, "pipeline", measured) as (srv, machine):
        print(f"bench: pipeline, N={params.events}, {params.repeat} repetitions", file=sys.stderr)
        pipeline = run_pipeline(srv, root, params)
        profiles = profile_stages(srv, root, min(args.profile_events, args.events)) if args.profile_events else []
    write_sections(args.out, {"pipeline": pipeline_section(pipeline, ceiling, profiles, machine),
                              "ed25519-ceiling": ceiling_section(ceiling, machine)})
    e2e, ceil = pipeline.rates[e2e_label(params.batch)].median, ceiling.rates[RAW_1].median
    return (f"pipeline: end-to-end {fmt(e2e)} events/s (median), 1-core Ed25519 verify {fmt(ceil)}/s,"
            f" ratio {e2e / ceil:.3f}")


def ledger_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> str:
    capacity = min(200_000, max(1, args.ledger_entries // 5))
    params = LedgerParams(entries=args.ledger_entries, capacity_events=capacity, profile_events=min(20_000, capacity),
                          ceiling_seconds=args.verify_seconds, ceiling_repeat=args.repeat)
    with measured_servers(root, "ledger", measured) as (srv, machine):
        result = run_ledger(srv, root, params)
    write_sections(args.out, {"ledger": ledger_section(result, machine)})
    return f"ledger: ingest {fmt(result.ingest.rate)} events/s end to end"


def gateway_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> str:
    params = GatewayParams(requests=args.gateway_requests, throughput_seconds=args.gateway_seconds)
    with measured_servers(root, "gateway", measured) as (srv, machine):
        result = run_gateway(srv, root, params)
    write_sections(args.out, {"gateway": gateway_section(result, machine)})
    read = next(pair for pair in result.pairs if pair.kind.key == "read")
    return f"gateway: public read p50 {read.direct.p(50):.2f} ms direct, {read.gateway.p(50):.2f} ms through it"


def panel_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> str:
    """Ours and the reference per pool; the section is rewritten after every pool."""
    params = PanelParams(sizes=args.panel_sizes, repeat=args.panel_repeat,
                         reference_timeout=args.panel_reference_timeout, reference_sizes=args.panel_reference_sizes,
                         reference_backend=args.panel_reference_backend)
    (root / "panel").mkdir()
    started, load_start = datetime.now(timezone.utc), load_average()

    def progress(results: list) -> None:
        rows = panel_machine(started, load_start, load_average(), code_line(measured))
        write_sections(args.out, {"panel": panel_section(results, params, rows, params.sizes[len(results):])})

    results = run_panel(params, root / "panel", progress)
    return "panel: " + ", ".join(f"{r.pool.label} ours {secs(r.ours.seconds.median)}" for r in results
                                 if not isinstance(r.ours, Exception))


def tables_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> str:
    """Ours, greedy and shuffle-and-swap over the same rounds, no servers."""
    started, load_start = datetime.now(timezone.utc), load_average()
    result = run_tables()
    write_sections(args.out, {"tables": tables_section(result, started, load_start, load_average(),
                                                       code_line(measured))})
    worst = max(r.seconds for r in result.rounds if r.method.startswith("ours"))
    return f"tables: ours at most {worst:.1f} s per round"


def ballot_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> str:
    params = BallotParams(voters=args.ballot_voters, concurrency=args.ballot_concurrency,
                          baseline_seconds=args.verify_seconds)
    with measured_servers(root, "ballot", measured) as (srv, machine):
        result = run_ballot(srv, root, params)
    write_sections(args.out, {"ballot": ballot_section(result, machine)})
    return (f"ballot: {len(result.voter_millis)} of {params.voters} voters in {result.burst_seconds:.2f} s,"
            f" {len(result.errors)} errors, tally {result.tally_seconds:.2f} s, verify {result.verify_seconds:.2f} s")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not is_frozen():
        return run_frozen([*argv, "--out", str(args.out.resolve())])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)  # its event-loop timing warnings are noise here
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind through `finally`: servers stop
    measured = source_snapshot(Path(__file__).resolve().parent.parent)
    try:
        with workdir() as root:
            for name, run in (("pipeline", pipeline_run), ("ledger", ledger_run), ("gateway", gateway_run),
                              ("panel", panel_run), ("tables", tables_run), ("ballot", ballot_run)):
                if args.only in (None, name):
                    began = time.monotonic()
                    print(f"{run(args, root, measured)}; written to {args.out}")
                    print(f"bench: {name} benchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)
    except (BenchError, CoreError) as e:  # CoreError includes StackError (servers would not start)
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
