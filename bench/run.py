"""`python -m bench.run` (what `make bench` runs): measure, then write BENCHMARKS.md.

The run executes a frozen copy of the code (bench/snapshot.py), so all repetitions time the
same version even while the repository is being edited. Four benchmarks, all by default
(`--only pipeline|ledger|gateway|panel` runs one): the pipeline (bench/pipeline.py), the
transparency log (bench/ledger.py, a log of `--ledger-entries` entries), the gateway's overhead
against calling the services directly (bench/gateway.py) and the panel selection against the
`sortition-algorithms` reference (bench/panel.py, pools of `--panel-sizes`; no servers). Order: the
Ed25519 ceiling first (pure CPU, before any server or thread exists), then the servers (embedded
unless G1000_DATABASE_URL / G1000_KAFKA_BOOTSTRAP are set), the pipeline repetitions and one
profiled run; then the ledger benchmark on servers of its own (fresh data directory, empty
broker); then the gateway on servers of its own; then the panel selection, whose reference runs in a process group of its own that is
killed by pid after `--panel-reference-timeout` seconds. The servers are stopped by pid in
`finally`, also on Ctrl-C or SIGTERM, and their data removed. Each benchmark writes its own
sections of the report as soon as it has finished (the panel benchmark after every pool), so one
failing does not lose the others'.
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
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from services.core.errors import CoreError

from .ceiling import RAW_1, run_ceiling
from .gateway import GatewayParams, run_gateway
from .infra import BenchError, Servers, servers, workdir
from .ledger import LedgerParams, run_ledger
from .machine import changed_files, code_version, describe, snapshot_digest, source_snapshot
from .panel import PanelParams, run_panel
from .panel import machine as panel_machine
from .panel_reference import BACKEND_SOLVERS
from .pipeline import PipelineParams, e2e_label, run_pipeline
from .profiling import profile_stages
from .report import (ceiling_section, gateway_section, gateway_summary, ledger_section, panel_section,
                     panel_summary, pipeline_section, ratios, write_sections)
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
    parser.add_argument("--only", choices=("pipeline", "ledger", "panel", "gateway"), default=None,
                        help="run one benchmark (default: all)")
    parser.add_argument("--ledger-entries", type=int, default=1_000_000,
                        help="agenda events in the benchmark's summit log (plus its genesis entries)")
    parser.add_argument("--ledger-batch", type=int, default=500, help="events per append transaction (ledger)")
    parser.add_argument("--ledger-capacity-events", type=int, default=200_000,
                        help="events of the ledger-consumer-alone run over a pre-filled topic")
    parser.add_argument("--ledger-profile-events", type=int, default=20_000,
                        help="events of the profiled ledger consumer run (0: no profile)")
    parser.add_argument("--ledger-proofs", type=int, default=2_000,
                        help="inclusion proofs and consistency proofs timed (each)")
    parser.add_argument("--panel-sizes", type=panel_sizes, default=PanelParams().sizes,
                        help="pools as RESPONDENTS:SEATS,... (default 1000:100,3000:150,4000:800)")
    parser.add_argument("--panel-repeat", type=int, default=3,
                        help="runs of ours per pool; the report shows the median (a slow run is not repeated)")
    parser.add_argument("--panel-reference-timeout", type=float, default=3600.0,
                        help="seconds after which the reference is killed, per pool")
    parser.add_argument("--panel-reference-sizes", type=panel_sizes, default=None,
                        help="pools the reference runs on, as RESPONDENTS:SEATS,... (default: every pool)")
    parser.add_argument("--panel-reference-backend", choices=sorted(BACKEND_SOLVERS), default="mip",
                        help="the reference's solver backend (mip = CBC, its fastest for maximin here)")
    parser.add_argument("--panel-no-reference", action="store_true",
                        help="run only ours (the report then has no reference figures)")
    parser.add_argument("--gateway-requests", type=int, default=2_000,
                        help="timed requests of each kind on each path, direct and through the gateway")
    parser.add_argument("--gateway-seconds", type=float, default=10.0,
                        help="window of each requests/s run of the gateway benchmark")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="report to update")
    args = parser.parse_args(argv)
    if args.events < 1 or args.repeat < 1 or args.batch < 1:
        parser.error("--events, --repeat and --batch must be at least 1")
    if args.ledger_entries < 2 or args.ledger_batch < 1 or args.ledger_capacity_events < 1 \
            or args.ledger_proofs < 1 or args.ledger_profile_events < 0:
        parser.error("--ledger-entries must be at least 2, --ledger-batch, --ledger-capacity-events and"
                     " --ledger-proofs at least 1")
    if args.panel_repeat < 1 or args.panel_reference_timeout <= 0:
        parser.error("--panel-repeat must be at least 1 and --panel-reference-timeout positive")
    if args.gateway_requests < 1 or args.gateway_seconds <= 0:
        parser.error("--gateway-requests must be at least 1 and --gateway-seconds positive")
    if args.single_events is None:
        args.single_events = max(1, args.events // 10)
    return args


def panel_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """`1000:100,4000:800` -> ((1000, 100), (4000, 800))."""
    try:
        sizes = tuple((int(n), int(k)) for n, k in (item.split(":") for item in text.split(",")))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not RESPONDENTS:SEATS[,...]") from None
    if not sizes or any(not 0 < k <= n for n, k in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: every pool needs 0 < SEATS <= RESPONDENTS")
    return sizes


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
        if args.only in (None, "gateway"):
            gateway_run(args, root, measured)
        if args.only in (None, "panel"):
            panel_run(args, root, measured)


@contextlib.contextmanager
def own_servers(place: Path) -> Iterator[Servers]:
    """Servers whose data lives in `place`, removed when they stop (a 1M log is gigabytes)."""
    place.mkdir()
    try:
        with servers(place) as srv:
            yield srv
    finally:
        shutil.rmtree(place, ignore_errors=True)


@contextlib.contextmanager
def measured_servers(place: Path, measured: dict[str, str]) -> Iterator[tuple[Servers, dict[str, str]]]:
    """Own servers and the machine table of the section measured on them: the load average when
    the block starts and ends, then the code line."""
    with own_servers(place) as srv:
        machine = describe(srv.database_url, broker=srv.broker, database=srv.database)
        machine["load average at start"] = load_average()
        yield srv, machine
        machine["load average at end"] = load_average()
    machine["code"] = code_line(measured)


def pipeline_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> None:
    began = time.monotonic()
    print("bench: Ed25519 ceiling", file=sys.stderr)
    ceiling = run_ceiling(seconds=args.verify_seconds, repeat=args.repeat)
    params = PipelineParams(args.events, args.single_events, args.batch, args.repeat)
    with measured_servers(root / "pipeline", measured) as (srv, machine):
        print(f"bench: pipeline, N={params.events}, {params.repeat} repetitions", file=sys.stderr)
        pipeline = run_pipeline(srv, root, params)
        profiles = []
        if args.profile_events:
            print("bench: profiled run", file=sys.stderr)
            profiles = profile_stages(srv, root, min(args.profile_events, args.events), args.batch)
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
    with measured_servers(root / "ledger", measured) as (srv, machine):
        result = run_ledger(srv, root, params)
    write_sections(args.out, {"ledger": ledger_section(result, machine)})
    ver = result.verifier
    print(
        f"ledger: ingest {fmt(result.ingest.rate)} events/s end to end (consumer alone {fmt(result.capacity.rate)});"
        f" proof p99 inclusion {result.proofs.http['inclusion'].p(99):.1f} ms, consistency"
        f" {result.proofs.http['consistency'].p(99):.1f} ms; verifier (default workers, fastest run)"
        f" {fmt(max(r.rate for r in ver.default_runs()))} entries/s = {ratios(result)['best']:.3f} x the fastest"
        f" 2-process Ed25519 ceiling sample (medians: {ratios(result)['median']:.3f}); written to {args.out}")
    print(f"bench: ledger benchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)


def gateway_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> None:
    """The gateway's overhead against calling the services directly, on servers of its own."""
    began = time.monotonic()
    params = GatewayParams(requests=args.gateway_requests, throughput_seconds=args.gateway_seconds)
    with measured_servers(root / "gateway", measured) as (srv, machine):
        result = run_gateway(srv, root, params)
    write_sections(args.out, {"gateway": gateway_section(result, machine)})
    print(f"{gateway_summary(result)}; written to {args.out}")
    print(f"bench: gateway benchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)


def panel_run(args: argparse.Namespace, root: Path, measured: dict[str, str]) -> None:
    """Ours and the reference per pool; the section is rewritten after every pool."""
    began = time.monotonic()
    params = PanelParams(sizes=args.panel_sizes, repeat=args.panel_repeat, reference=not args.panel_no_reference,
                         reference_timeout=args.panel_reference_timeout, reference_sizes=args.panel_reference_sizes,
                         reference_backend=args.panel_reference_backend)
    work = root / "panel"
    work.mkdir()
    started, load_start = datetime.now(timezone.utc), load_average()

    def progress(results: list) -> None:
        rows = panel_machine(started, load_start, load_average(), code_line(measured))
        pending = params.sizes[len(results):]
        write_sections(args.out, {"panel": panel_section(results, params, rows, pending)})

    results = run_panel(params, work, progress)
    print(f"{panel_summary(results)}\npanel: written to {args.out}")
    print(f"bench: panel benchmark took {time.monotonic() - began:.0f} s", file=sys.stderr)


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
