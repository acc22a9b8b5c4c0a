"""BENCHMARKS.md: every benchmark's section as tables of the numbers it measured, and the writer
that replaces exactly those sections.

Each benchmark owns one section between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`;
a run replaces its own sections (or appends them the first time) and leaves every other byte of the
file as it was. A section holds the machine table, the parameters, and tables of medians with min and
max and, where there is one, the ratio to the baseline measured in the same run; goals are printed
next to the value they apply to with "met" or "not met". No prose is generated: what a run means is
written by people, under the section, outside the markers.
"""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Sequence
from pathlib import Path

from .ceiling import RAW_1, RAW_2, CeilingResult
from .cpu import CpuUse
from .gateway import GatewayResult, Pair, ThroughputRun
from .ledger import WARMUP_REQUESTS, Latencies, LedgerResult, VerifierRun
from .panel import BELOW, REFERENCE, SLOW_SECONDS, OursResult, PanelParams, ReferenceResult, SizeResult
from .panel_pool import PanelPool
from .pipeline import BUSY, PipelineResult, e2e_label, ordered_labels, per_transaction
from .profiling import ProfileResult
from .stats import Samples, fmt

HEADER = """# Benchmarks

Written by `make bench` (`python -m bench.run`). Performance is measured, not asserted: nothing
here is a test threshold. The sections between `<!-- bench:…:start/end -->` markers are rewritten
by each run and hold tables only; everything else in this file is left as it is: what a run means
is written by people under its section, dated, outside the markers.
"""
CORES = os.cpu_count() or 1
QUANTILES = (50, 90, 99, 100)
GOAL_INGEST = 5_000.0  # events/s end to end
GOAL_P99_MS = 20.0  # proof latency p99
GOAL_VERIFIER_RATIO = 0.75  # verifier entries/s over the 2-process Ed25519 verify ceiling
GOAL_TIME_RATIO = 1 / 3  # our panel time over the reference's
GOAL_MIN_SLACK = 1e-3  # our minimum probability may be at most this far below the reference's
GOAL_G1000_SECONDS = 300.0  # ours at G1000 scale
G1000 = (4_000, 800)
BELOW_COARSE = 1e-4  # a shortfall up to this is the rounding to integer weights, not a worse optimum


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    if not text.strip():
        text = HEADER
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_sections(path: Path, sections: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for name, body in sections.items():
        text = replace_section(text, name, body)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def machine_table(machine: dict[str, str]) -> str:
    rows = "\n".join(f"| {label} | {value} |" for label, value in machine.items())
    return "| machine | |\n|---|---|\n" + rows


def _rate_row(label: str, r: Samples, ceiling: float | None = None) -> str:
    ratio = f" | {r.median / ceiling:.3f}" if ceiling else ""
    return f"| {label} | **{fmt(r.median)}** | {fmt(r.low)} | {fmt(r.high)}{ratio} |"


def pipeline_section(res: PipelineResult, ceiling: CeilingResult, profiles: list[ProfileResult],
                     machine: dict[str, str]) -> str:
    p = res.params
    ceil = ceiling.rates[RAW_1].median
    rows = "\n".join(_rate_row(label, res.rates[label], ceil) for label in ordered_labels(p))
    e2e = res.rates[e2e_label(p.batch)].median
    parts = [
        "## Pipeline throughput: append → outbox → broker → consumer",
        f"Events per second through the agenda's EventStore, the agenda's OutboxRelay, the broker and "
        f"the ledger's EventConsumer (verify signature + schema, dedupe, record). **Median of "
        f"{p.repeat} repetitions**, each in fresh databases and topics; min and max show the spread "
        f"on this shared, noisy machine. Measured in the same run as the Ed25519 ceiling below.",
        machine_table(machine),
        _parameters(res),
        "| rate (events/s) | median | min | max | ÷ 1-core Ed25519 verify ceiling |\n"
        "|---|---|---|---|---|\n" + rows,
        f"**Ratio:** the end-to-end pipeline ({per_transaction(p.batch)}) runs at **{fmt(e2e)} "
        f"events/s = {e2e / ceil:.3f} × the 1-core Ed25519 verify ceiling** of {fmt(ceil)} "
        f"verifies/s measured in this run ({100 * e2e / ceil:.0f} %).",
        shape_table(res),
    ]
    parts += [profile_text(prof) for prof in profiles]
    return "\n\n".join(parts)


def _parameters(res: PipelineResult) -> str:
    p = res.params
    return "\n".join([
        "Parameters:",
        f"- N = {p.events:,} events per run ({p.single_events:,} for the 1-event-per-transaction runs),"
        f" {p.batch} events per append transaction, {p.repeat} repetitions;",
        f"- workload: `agenda.topic.nominated`, one summit (one message key, so one partition of 3),"
        f" {res.event_bytes} bytes per event on the wire;",
        f"- the services' own settings: the relay sends up to {_relay_batch_size()} events per batch"
        " and waits for the broker's acknowledgement (acks=all); the consumer applies each polled"
        " batch in one database transaction (sizes seen: the batching table below);",
        "- end-to-end: relay and consumer run as `g1000 worker` processes (as `g1000 up` runs them),"
        " the appender in the harness; the clock runs from the first append until the ledger has"
        " recorded all N (after one warm-up event, so the consumer-group join is not counted);",
        "- stages: each component alone, in order on one sandbox (append fills the outbox the relay"
        " publishes, which fills the topic the consumer reads); the consume rate is timed from the"
        " start of the consumer's first batch to the end of its last.",
    ])


def _relay_batch_size() -> int:
    from inspect import signature

    from services.core.outbox import OutboxRelay

    return signature(OutboxRelay).parameters["batch_size"].default


def shape_table(res: PipelineResult) -> str:
    """How the work was batched: from the tables' transaction timestamps, and the consumer's clock."""
    def cell(label: str, value: float) -> str:
        return f"{100 * value:.0f} %" if label == BUSY else f"{value:,.1f}"

    rows = "\n".join(f"| {label} | **{cell(label, v.median)}** | {cell(label, v.low)} | {cell(label, v.high)} |"
                     for label, v in res.shape.items())
    return ("How the work was batched: relay publishes and consumer transactions are counted by the"
            " distinct transaction timestamps their rows carry; the busy share comes from timing every"
            " `process` call of the consume stage.\n\n"
            "| quantity | median | min | max |\n|---|---|---|---|\n" + rows)


def profile_text(prof: ProfileResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.2f} | {100 * sec / prof.seconds:.0f} % |"
                     for name, sec in prof.categories)
    top = ", ".join(f"`{name}` {sec:.2f} s" for name, sec in prof.top_functions[:6])
    trips = ("" if prof.round_trips_per_event is None else
             f" PostgreSQL round trips per event: {prof.round_trips_per_event:.1f}.")
    intro = (
        f"**Profile of the {prof.stage}**: cProfile over {prof.events:,} events in one extra run"
        f" ({fmt(prof.rate_under_profile)} events/s under the profiler). Own time per category; C"
        f" functions are charged to their Python caller; the profiler inflates Python-heavy"
        f" categories.{trips}"
    )
    table = f"| category | seconds | share |\n|---|---|---|\n{rows}"
    return f"{intro}\n\n{table}\n\nLargest single functions (own time): {top}."


def ceiling_section(ceiling: CeilingResult, machine: dict[str, str]) -> str:
    rows = "\n".join(_rate_row(label, r) for label, r in ceiling.rates.items())
    return "\n\n".join([
        "## Ed25519 verify ceiling",
        f"The baseline for the pipeline: `cryptography`'s Ed25519 verify over the signed bytes of a"
        f" real `agenda.topic.nominated` event ({ceiling.message_bytes} bytes of canonical JSON),"
        f" key loaded once, measured in the same run. **Median of {ceiling.repeat} repetitions** of"
        f" {ceiling.seconds:g} s each; the 2-process rate is the sum of two processes verifying at the"
        f" same time (for reference on this 2-core machine); `verify_event` is the consumer's full"
        f" check (parse, canonical form, envelope, key lookup, payload schema, signature).",
        machine_table(machine),
        "| rate (per second) | median | min | max |\n|---|---|---|---|\n" + rows,
    ])


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"



def ledger_section(res: LedgerResult, machine: dict[str, str]) -> str:
    ing, cap, ver = res.ingest, res.capacity, res.verifier
    parts = [
        f"## Transparency log: ingest, proofs and verifier on a log of {ing.events:,} events",
        f"One summit's log of {ing.events:,} agenda events (+ {ing.genesis} genesis entries ="
        f" {ing.genesis + ing.events:,} entries), built end to end, then asked for proofs over HTTP and"
        " exported for `g1000-verify`. Building the log takes about ten minutes, so the 1M measurements"
        " are **one run each** and the spread is shown inside the run: latency percentiles, the rate per"
        " tenth of the log, CPU by process (ours and other tenants'), the load average. The Ed25519"
        f" ceiling pools {ver.ceiling.repeat} repetitions taken just before and just after the verifier"
        " runs. Nothing here is a test threshold.",
        machine_table(machine),
        ledger_parameters(res),
        "### 1. Ingest",
        ingest_table(res),
        ingest_notes(res),
        growth_table(res),
        capacity_text(res),
        "### 2. Proof latency",
        proof_table(res),
        proof_notes(res),
        "### 3. Export and verifier",
        verifier_table(res),
        verifier_notes(res),
    ]
    if cap.profile is not None:
        parts.append(profile_text(cap.profile))
    if ver.profile is not None:
        parts.append(profile_text(ver.profile))
    parts += ["### Durations", ledger_durations(res)]
    return "\n\n".join(parts)


def ledger_parameters(res: LedgerResult) -> str:
    """The run's parameters; how each is used is in bench/ledger.py's docstring."""
    p, ing, prf, ver = res.params, res.ingest, res.proofs, res.verifier
    return "\n".join([
        "Parameters (method: bench/ledger.py):",
        f"- workload: `agenda.topic.nominated`, {res.event_bytes} bytes per signed event, one summit (one"
        f" partition); {p.batch} events per append transaction;",
        f"- ingest end to end: {ing.events:,} events (the first a warm-up, {ing.timed_events:,} timed) through"
        " the relay and the ledger consumer as `g1000 worker` processes with `g1000 up`'s settings;",
        f"- ledger consumer alone: {res.capacity.events:,} events over a pre-filled topic;",
        f"- proofs: the ledger under gunicorn (2 gthread workers, 4 threads), one keep-alive client;"
        f" {len(prf.http['inclusion'].millis):,} inclusion proofs (tree_size = the checkpoint, {prf.tree_size:,})"
        f" and {len(prf.http['consistency'].millis):,} consistency proofs after {WARMUP_REQUESTS} untimed of each;"
        f" {p.verify_sample} of each checked with `g1000_proofs.merkle`;",
        f"- verifier: `g1000-verify bundle FILE --json --log-key VKEY`, {len(ver.default_runs())} runs with the"
        f" default workers ({CORES}) and one with `--workers 1`; ceiling: {ver.ceiling.repeat} samples of"
        f" {p.ceiling_seconds:g} s before and as many after ({ver.ceiling.message_bytes} signed bytes).",
    ])


def _cpu_cell(use: CpuUse, events: int) -> str:
    per = use.per_event(events)
    parts = ", ".join(f"{name} {1000 * per[name]:.2f}" for name in ("harness", "workers", "postgres", "broker")
                      if per[name] >= 0.000005)
    return f"{1000 * use.ours / events:.2f} ms ({parts})"


def _cores(use: CpuUse) -> str:
    steal = f" (steal {use.steal_cores:.2f})" if use.steal_cores >= 0.005 else ""
    return f"{use.cores():.2f} + {use.other_cores:.2f}{steal}"


def cpu_bound(res: LedgerResult) -> tuple[float, float]:
    """CPU seconds per event over the whole path (each stage measured alone), and the rate that
    allows on this machine's cores with perfect overlap: the most end to end could reach here."""
    cap = res.capacity
    per_event = sum(cap.cpu_per_event(stage) for stage in ("append", "relay", "consume"))
    return per_event, CORES / per_event


def ingest_table(res: LedgerResult) -> str:
    ing, cap = res.ingest, res.capacity
    per_event, bound = cpu_bound(res)
    rows = [
        "| measure | events/s | CPU per event (ms: total, by process) | cores busy: ours + other | WAL per event |"
        " goal | |",
        "|---|---|---|---|---|---|---|",
        f"| **ingest end to end** (append → outbox → relay → broker → ledger consumer → log) |"
        f" **{fmt(ing.rate)}** ({ing.timed_events:,} in {ing.seconds:.0f} s) | {_cpu_cell(ing.cpu, ing.timed_events)} |"
        f" {_cores(ing.cpu)} |"
        f" {(ing.growth[-1].wal_bytes - ing.growth[0].wal_bytes) / ing.timed_events / 1024:.1f} KiB |"
        f" ≥ 5,000 events/s | {verdict(ing.rate >= GOAL_INGEST)} |",
    ]
    for stage, label, value in (
            ("consume", f"**ledger consumer alone** over a pre-filled topic ({cap.events:,} events; its own"
                        " ingest capacity)", cap.rate),
            ("append", f"append alone (agenda `EventStore.append`, {res.params.batch} per transaction)",
             cap.append_rate),
            ("relay", "relay alone (outbox → broker, acks=all)", cap.relay_rate)):
        use, events = cap.cpu[stage]
        goal = f"(bounds the line above) | {verdict(value >= GOAL_INGEST)} as capacity" if stage == "consume" else "|"
        rows.append(f"| {label} | **{fmt(value)}** | {_cpu_cell(use, events)} | {_cores(use)} |"
                    f" {cap.wal_per_event[stage] / 1024:.1f} KiB | {goal} |")
    rows.append(f"| CPU budget: the three stages' CPU per event, summed | at most **{fmt(bound)}** on {CORES}"
                f" cores with perfect overlap | {1000 * per_event:.2f} ms | | | ≤ {1000 * CORES / GOAL_INGEST:.2f} ms"
                f" per event would be needed for 5,000/s | {verdict(bound >= GOAL_INGEST)} |")
    return "\n".join(rows)


def ingest_notes(res: LedgerResult) -> str:
    ing = res.ingest
    sizes = "; ".join(f"{name} {mib(n)}" for name, n in ing.sizes.items())
    load = ing.load or [0.0]
    return (f"In the end-to-end run the appender had committed all events after {ing.append_seconds:.0f} s"
            f" ({fmt(ing.timed_events / ing.append_seconds)} events/s while everything ran at once); the relay"
            f" published {ing.relay_batch:.0f} events per batch and the consumer applied {ing.consumer_batch:.0f}"
            f" per transaction (means); the checkpointer cut {ing.checkpoints:,} checkpoints. 1-minute load"
            f" average during the run: min {min(load):.2f}, max {max(load):.2f}. Storage after the run: {sizes}.")


def growth_table(res: LedgerResult) -> str:
    ing = res.ingest
    rows = []
    for prev, pt in zip(ing.growth, ing.growth[1:]):
        span = pt.seconds - prev.seconds
        logged = pt.log_events - prev.log_events
        appending = "yes" if pt.appended < ing.events else "no" if prev.appended >= ing.events else "until here"
        wal = (pt.wal_bytes - prev.wal_bytes) / max(1, logged) / 1024
        rows.append(f"| {pt.log_events:,} | {pt.seconds:.0f} | {pt.appended:,} | {appending} |"
                    f" **{fmt(logged / span)}** | {fmt((pt.appended - prev.appended) / span)} | {wal:.1f} |")
    return ("How the log grew (sampled every second; a row at each tenth of the events): the rate of each"
            " segment shows whether appends slow down as the log grows. WAL per event logged counts all"
            " of PostgreSQL's WAL in the segment (the appender's and the relay's too while they run).\n\n"
            "| agenda events in the log | seconds | events appended by then | appender running |"
            " log growth in the segment (events/s) | appends in the segment (events/s) |"
            " WAL per event logged (KiB) |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def capacity_text(res: LedgerResult) -> str:
    cap = res.capacity
    tenths = ", ".join(fmt(r) for r in cap.tenths)
    return (f"The ledger consumer alone, per tenth of its {cap.events:,} events (its log growing from empty"
            f" to {cap.events:,} entries): {tenths} events/s; it spent {100 * cap.busy:.0f} % of its time"
            " inside `process` (the database transaction and the checks), the rest in Kafka polls and"
            " offset commits.")


def _lat_row(lat: Latencies, goal: bool) -> str:
    cells = " | ".join(ms(lat.p(q)) for q in (50, 90, 99, 100))
    tail = f"< 20 ms | {verdict(lat.p(99) < GOAL_P99_MS)}" if goal else " | "
    return f"| {lat.label} | {len(lat.millis):,} | {cells} | {tail} |"


def proof_table(res: LedgerResult) -> str:
    prf = res.proofs
    rows = [_lat_row(prf.http[k], True) for k in ("inclusion", "consistency")]
    rows += [_lat_row(prf.in_process[k], False) for k in ("inclusion", "consistency")]
    rows.append(_lat_row(prf.baseline, False))
    return ("| request | n | p50 ms | p90 ms | p99 ms | max ms | goal for p99 | |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def proof_notes(res: LedgerResult) -> str:
    prf = res.proofs
    return (f"Proofs carry {prf.hashes_per_proof['inclusion']:.1f} (inclusion) and"
            f" {prf.hashes_per_proof['consistency']:.1f} (consistency) hashes on average. \"In process\" is"
            " what the view does without HTTP and Flask: one transaction reading the log's size and, in one"
            " query, the stored nodes the proof needs, then the proof math. Correctness: all"
            f" {prf.equal_to_in_process:,} HTTP proofs equal the in-process ones; {prf.verified['inclusion']}"
            " inclusion proofs verify with `g1000_proofs.merkle.verify_inclusion` against the root of the"
            " signed checkpoint (its note signature checked with the log's key), and"
            f" {prf.verified['consistency']} consistency proofs with `verify_consistency` against roots"
            f" rebuilt from the stored nodes (whose root at {prf.tree_size:,} equals the signed one).")


def ratios(res: LedgerResult) -> dict[str, float]:
    """Verifier (default workers) ÷ 2-process ceiling: best ÷ best, median ÷ median, and the cap.

    Noise on a shared machine only ever slows a measurement down, so the fastest of several samples
    is the best estimate of what the machine can do; both sides get the same treatment. The cap
    does not depend on when the noise struck: the most entries/s the machine's cores can give the
    verifier's CPU time per entry (its workers included), over the fastest ceiling sample.
    """
    ver = res.verifier
    runs = ver.default_runs()
    c2 = ver.ceiling.rates[RAW_2]
    cpu_per_entry = min(r.cpu_seconds / r.entries for r in runs)
    return {"best": max(r.rate for r in runs) / c2.high,
            "median": statistics.median(r.rate for r in runs) / c2.median,
            "cap": CORES / cpu_per_entry / c2.high}


def _run_row(run: VerifierRun, c2_best: float) -> str:
    status = "exit 0" if run.exit_code == 0 else f"**exit {run.exit_code}**: {run.report.get('failure')}"
    main = (f"; main process {run.main_cpu_seconds / run.seconds:.2f}" if run.main_cpu_seconds is not None
            else "")
    return (f"| `g1000-verify bundle`, {run.label} | **{fmt(run.rate)}** | {run.entries:,} in {run.seconds:.0f} s,"
            f" {status} | {run.cpu_seconds / run.seconds:.2f}{main} | {run.rate / c2_best:.3f} |")


def verifier_table(res: LedgerResult) -> str:
    ver = res.verifier
    c1, c2 = ver.ceiling.rates[RAW_1], ver.ceiling.rates[RAW_2]
    r = ratios(res)
    rows = ["| measure | entries/s | | cores busy | ÷ fastest 2-process ceiling sample |", "|---|---|---|---|---|"]
    rows += [_run_row(run, c2.high) for run in ver.runs]
    rows += [
        f"| export `GET /v1/logs/{{id}}/export` (gunicorn → file) | {fmt(ver.bundle_entries / ver.export_seconds)}"
        f" | {ver.export_seconds:.0f} s, {mib(ver.bundle_bytes)} | | |",
        f"| Ed25519 verify ceiling, 2 processes (sum), {len(c2.samples)} samples | median {fmt(c2.median)}"
        f" | fastest {fmt(c2.high)}, slowest {fmt(c2.low)} | 2 | 1 |",
        f"| Ed25519 verify ceiling, 1 core, {len(c1.samples)} samples | median {fmt(c1.median)} | fastest"
        f" {fmt(c1.high)}, slowest {fmt(c1.low)} | 1 | {c1.high / c2.high:.3f} |",
    ]
    goal_rows = [
        "| ratio the issue asks for: `g1000-verify` (default workers) entries/s ÷ 2-process Ed25519 verify"
        " ceiling | value | goal | |",
        "|---|---|---|---|",
        f"| **fastest run ÷ fastest ceiling sample** (like for like: noise only slows a sample down) |"
        f" **{r['best']:.3f}** | ≥ 0.75 | {verdict(r['best'] >= GOAL_VERIFIER_RATIO)} |",
        f"| cap on this machine: {CORES} cores ÷ the verifier's CPU time per entry, ÷ fastest ceiling sample"
        f" (independent of when the noise struck) | {r['cap']:.3f} | ≥ 0.75 | {verdict(r['cap'] >= GOAL_VERIFIER_RATIO)} |",
        f"| median run ÷ median ceiling sample (for reference: other tenants used"
        f" {' and '.join(f'{c:.2f}' for c in ver.ceiling_other_cores)} cores during the ceiling measurements"
        f" before and after, {', '.join(f'{run.other_cores:.2f}' for run in ver.runs)} during the verifier runs) |"
        f" {r['median']:.3f} | | |",
    ]
    return "\n".join(rows) + "\n\n" + "\n".join(goal_rows)


def verifier_notes(res: LedgerResult) -> str:
    ver = res.verifier
    notes = [f"Before the first ceiling sample the harness waited {ver.quiet_wait:.0f} s for its own processes"
             " (PostgreSQL after dropping the 1M databases) to go idle. \"cores busy\" is the verifier's CPU"
             " time (its worker processes included) over its wall time; \"main process\" is the part spent in"
             " its main process (reading, parsing, canonical bytes, hashing, checks, handing signatures to"
             " the workers)."]
    for run in ver.runs:
        if run.exit_code != 0:
            notes.append(f"The verifier ({run.label}) exited {run.exit_code}: {run.stderr or run.report}")
    return " ".join(notes)


def ledger_durations(res: LedgerResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.0f} | {res.loads[name][0]:.2f} → {res.loads[name][1]:.2f} |"
                     for name, sec in res.durations.items())
    total = sum(res.durations.values())
    return ("Durations of the parts of this run (wall clock) and the machine's 1-minute load average at their"
            " start and end:\n\n| part | seconds | load average |\n|---|---|---|\n"
            f"{rows}\n| **ledger benchmark total** | **{total:.0f}** | |")


def ms(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + ms(abs(value))


def gateway_section(res: GatewayResult, machine: dict[str, str]) -> str:
    parts = [
        "## Gateway overhead: through the gateway vs straight to the service",
        "What a request pays for passing the gateway (access matrix, bearer token and its record, rate"
        " limit, Idempotency-Key, a second HTTP hop) instead of going straight to the service that answers"
        " it, measured **in the same run, interleaved**, and requests/s of a public read through the"
        " gateway with the direct rate as the baseline. The services and the gateway run under gunicorn"
        " as `g1000 up` starts them. Latencies are percentiles of every timed request (one run; the"
        " spread is inside it); rates are the median of the runs in ABBA order, with min and max."
        " Nothing here is a test threshold.",
        machine_table(machine),
        gateway_parameters(res),
        "### 1. Latency, one client",
        latency_table(res),
        "### 2. Requests/s of a public read",
        throughput_table(res),
        throughput_notes(res),
        "### 3. CPU: where a request's cost goes",
        cpu_table(res),
        steps_table(res),
    ]
    parts += [profile_block(prof) for prof in res.profiles]
    parts += ["### Durations", gateway_durations(res)]
    return "\n\n".join(parts)


def gateway_parameters(res: GatewayResult) -> str:
    """The run's parameters; how each is used is in bench/gateway.py's docstring."""
    p = res.params
    served = "; ".join(f"{name}: {how}" for name, how in res.served.items())
    return "\n".join([
        "Parameters (method: bench/gateway.py):",
        f"- stack: ledger, lottery, agenda, ballot and the gateway, each `gunicorn {res.web_settings}`"
        f" (g1000/stack.py `spawn_web`); {served}; rate limits 1,000,000 per minute (count, never refuse);",
        f"- log: {p.log_entries:,} agenda events appended in batches of {p.log_batch:,} (log size {res.log_size:,},"
        f" checkpoint {res.checkpoint_size:,}); no relay or consumer runs while requests are timed;",
        f"- latency: one client thread, {p.warmup:,} untimed then {p.requests:,} timed requests of each kind on"
        " each path, alternating direct / gateway, the order swapped every pair;",
        f"- requests/s: `GET /v1/summits/{{id}}` with {', '.join(str(c) for c in p.concurrency)} client threads"
        f" (one loopback address each), {p.throughput_seconds:g} s windows after {p.throughput_warmup:g} s of"
        f" warm-up, {p.throughput_repeat} runs per target and concurrency in ABBA order; the client shares the"
        " cores with the servers;",
        f"- the gateway's own steps: {p.step_samples:,} timings each, in process; profiles:"
        f" {p.profile_requests:,} requests per profiled kind, in process (Flask's test client);",
        f"- code: {res.gateway_code}.",
    ])


def _lat_cells(lat: Latencies) -> str:
    return " | ".join(ms(lat.p(q)) for q in QUANTILES)


def gateway_cpu_per_request(pair: Pair) -> float:
    """CPU seconds of the gateway's processes per request it answered in the latency run."""
    return pair.usage.webs.get("gateway", 0.0) / len(pair.gateway.millis)


def latency_table(res: GatewayResult) -> str:
    rows = []
    for pair in res.pairs:
        d, g = pair.direct, pair.gateway
        cpu = ms(1000 * gateway_cpu_per_request(pair))
        if pair.kind.forwarded:
            rows.append(f"| {pair.kind.label}: direct to the {pair.kind.service} | {len(d.millis):,} | {_lat_cells(d)}"
                        " | | | | | |")
            rows.append(f"| through the gateway | {len(g.millis):,} | {_lat_cells(g)}"
                        f" | **{signed(g.p(50) - d.p(50))}** | {signed(g.p(99) - d.p(99))}"
                        f" | **{g.p(50) / d.p(50):.2f}** | {g.p(99) / d.p(99):.2f} | {cpu} |")
        else:
            rows.append(f"| `GET /healthz` of the {pair.kind.service} (no forwarding, no database)"
                        f" | {len(d.millis):,} | {_lat_cells(d)} | | | | | |")
            rows.append(f"| `GET /healthz` of the gateway (no forwarding, no database) | {len(g.millis):,} |"
                        f" {_lat_cells(g)} | | | | | {cpu} |")
    return ("| request | n | p50 ms | p90 ms | p99 ms | max ms | overhead p50 ms | overhead p99 ms | ratio p50 |"
            " ratio p99 | gateway CPU per request ms |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def runs_of(res: GatewayResult, concurrency: int, target: str) -> list[ThroughputRun]:
    return [r for r in res.throughput if r.concurrency == concurrency and r.target == target]


def targets(res: GatewayResult) -> list[str]:
    seen: list[str] = []
    for r in res.throughput:
        if r.target not in seen:
            seen.append(r.target)
    return seen


def median_rate(runs: list[ThroughputRun]) -> float:
    return statistics.median(r.rate for r in runs)


def cores_cell(runs: list[ThroughputRun]) -> str:
    """Cores busy: ours + other tenants' (+ steal when the hypervisor took any), over the runs' windows."""
    _, ours, other, _ = pooled_usage(runs)
    steal = sum(r.usage.cpu.steal for r in runs) / sum(r.usage.seconds for r in runs)
    return f"{ours:.2f} + {other:.2f}" + (f" (steal {steal:.2f})" if steal >= 0.005 else "")


def pooled_usage(runs: list[ThroughputRun]) -> tuple[dict[str, float], float, float, int]:
    """CPU seconds per request by process over all runs, cores busy (ours, other tenants), requests."""
    total = sum(r.requests for r in runs)
    per: dict[str, float] = {}
    for r in runs:
        for name, value in r.usage.per_request(1).items():
            per[name] = per.get(name, 0.0) + value
    seconds = sum(r.usage.seconds for r in runs)
    ours = sum(r.usage.cpu.ours for r in runs) / seconds
    other = sum(r.usage.cpu.other_cores * r.usage.seconds for r in runs) / seconds
    return {name: value / total for name, value in per.items()}, ours, other, total


def _label(target: str) -> str:
    if target == "direct":
        return "direct to the ledger"
    if target == "gateway":
        return "through the gateway (one address per client)"
    return "through the gateway, every client on one address"


def throughput_table(res: GatewayResult) -> str:
    rows = []
    for c in res.params.concurrency:
        direct = runs_of(res, c, "direct")
        base = median_rate(direct) if direct else None
        for target in targets(res):
            runs = runs_of(res, c, target)
            if not runs:
                continue
            rate = median_rate(runs)
            lat = Latencies(target, [m for r in runs for m in r.latency.millis])
            ratio = f"**{rate / base:.2f}**" if base and target != "direct" else ""
            errors = sum(r.errors for r in runs)
            rows.append(f"| {c} | {_label(target)} | **{fmt(rate)}** | {fmt(min(r.rate for r in runs))}"
                        f" | {fmt(max(r.rate for r in runs))} | {ratio} | {ms(lat.p(50))} | {ms(lat.p(99))} |"
                        f" {cores_cell(runs)} | {errors} |")
    return ("| client threads | path | requests/s (median) | min | max | ÷ direct | p50 ms | p99 ms |"
            " cores busy: ours + other | non-200 |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def throughput_notes(res: GatewayResult) -> str:
    buckets = [r.buckets for r in res.throughput if r.buckets is not None]
    text = ("Latency percentiles here are over every request completed in the windows of that row (all its"
            " runs), measured by the client, so they include waiting for a turn on a busy machine.")
    if buckets:
        text += (f" The gateway held {max(buckets)} address counters at the end (the latency client's address"
                 " and one per client thread), so the per-address runs did spread over distinct counters.")
    return text


CPU_COLUMNS = ("client", "gateway", "ledger", "postgres")


def cpu_table(res: GatewayResult) -> str:
    rows = []
    for c in res.params.concurrency:
        for target in targets(res):
            runs = runs_of(res, c, target)
            if not runs:
                continue
            per, _, _, total = pooled_usage(runs)
            rest = sum(v for k, v in per.items() if k not in CPU_COLUMNS)
            cells = " | ".join(ms(1000 * per.get(k, 0.0)) for k in CPU_COLUMNS)
            rows.append(f"| {c} | {_label(target)} | {total:,} | **{ms(1000 * sum(per.values()))}** | {cells} |"
                        f" {ms(1000 * rest)} | {cores_cell(runs)} |")
    return ("CPU per request during the throughput runs (all runs of a row pooled), ms of user + system time:\n\n"
            "| client threads | path | requests | total | client | gateway | ledger | PostgreSQL | other services,"
            " broker | cores busy: ours + other |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def steps_table(res: GatewayResult) -> str:
    steps = [lat for lat in res.steps.values() if lat.millis]
    if not steps:
        return ""
    rows = "\n".join(f"| {lat.label} | {len(lat.millis):,} | {_lat_cells(lat)} |" for lat in steps)
    return ("The gateway's own steps, each called alone in the benchmark's process on the gateway's database"
            " (round robin, so noise hits them alike; half of them just before the latency runs, half just"
            " after):\n\n| step | n | p50 ms | p90 ms | p99 ms | max ms |\n"
            "|---|---|---|---|---|---|\n" + rows)


def profile_block(prof: ProfileResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.2f} | {100 * sec / prof.seconds:.0f} % |" for name, sec in prof.categories)
    top = ", ".join(f"`{name}` {sec:.2f} s" for name, sec in prof.top_functions[:6])
    trips = ("" if prof.round_trips_per_event is None else
             f" PostgreSQL round trips (psycopg waits) per request: {prof.round_trips_per_event:.1f}.")
    return (f"**Profile of the {prof.stage}**: cProfile of the gateway app in the benchmark's process over"
            f" {prof.events:,} requests ({fmt(prof.rate_under_profile)} requests/s under the profiler), timed with"
            " the thread's CPU clock, so waiting for the service or a commit is left out: the shares are of the"
            " gateway's own CPU. Own time per category; built-ins and generic helpers are charged to their"
            " callers; the profiler inflates Python-heavy categories, so the shares are a map, not a"
            f" measurement.{trips}\n\n| category | CPU seconds | share |\n|---|---|---|\n{rows}\n\n"
            f"Largest single functions (own time): {top}.")


def _pair(res: GatewayResult, key: str) -> Pair | None:
    return next((p for p in res.pairs if p.kind.key == key), None)


def gateway_durations(res: GatewayResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.0f} | {res.loads[name][0]:.2f} → {res.loads[name][1]:.2f} |"
                     for name, sec in res.durations.items())
    total = sum(res.durations.values())
    return ("Durations of the parts of this run (wall clock) and the machine's 1-minute load average at their"
            " start and end:\n\n| part | seconds | load average |\n|---|---|---|\n"
            f"{rows}\n| **gateway benchmark total** | **{total:.0f}** | |")


def gateway_summary(res: GatewayResult) -> str:
    """One line for the terminal: the public read's overhead and the requests/s at the highest concurrency."""
    read = _pair(res, "read")
    top = max(res.params.concurrency)
    direct, gateway = runs_of(res, top, "direct"), runs_of(res, top, "gateway")
    text = "gateway:"
    if read:
        text += (f" public read p50 {ms(read.direct.p(50))} ms direct, {ms(read.gateway.p(50))} ms through the"
                 f" gateway ({read.gateway.p(50) / read.direct.p(50):.2f} x; p99 {ms(read.direct.p(99))} vs"
                 f" {ms(read.gateway.p(99))} ms);")
    if direct and gateway:
        text += (f" {top} clients: {fmt(median_rate(direct))} reads/s direct, {fmt(median_rate(gateway))} through"
                 f" the gateway ({median_rate(gateway) / median_rate(direct):.2f} x)")
    return text


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def secs(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s" if value >= 1 else f"{value:.3f} s"


def prob(value: float) -> str:
    return f"{value:.5f}"


def tightest_quota(pool: PanelPool) -> tuple[float, str]:
    """The smallest max/count over the quota values: nobody's minimum can exceed it."""
    counts = pool.counts()
    bound, where = min((high / counts[f][v], f"{f}={v} ({high} of {counts[f][v]})")
                       for f, values in pool.quotas.items() for v, (_, high) in values.items() if counts[f][v])
    return bound, where


def pools_table(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        pool = r.pool
        bound, where = tightest_quota(pool)
        widened = "; ".join(pool.widened) or "none"
        rows.append(f"| {pool.label} | {len(pool.people):,} | {pool.panel_size:,} | {pool.distinct_types():,} |"
                    f" {pool.shared_households()} | {prob(bound)}: {where} | {widened} |")
    return ("| pool | respondents | seats | distinct feature vectors | respondents sharing a household |"
            " upper bound on anyone's minimum (tightest max quota) | quotas widened for feasibility |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def _ours_time(ours: OursResult) -> str:
    s = ours.seconds
    spread = f" ({secs(s.low)}–{secs(s.high)})" if len(s.samples) > 1 else ""
    return f"**{secs(s.median)}**{spread}, {len(s.samples)} run{'s' if len(s.samples) > 1 else ''}"


def _reference_time(ref: ReferenceResult | None) -> tuple[str, str]:
    if ref is None:
        return "not run", "–"
    if ref.status == "finished":
        return f"**{secs(ref.seconds)}** (CPU {secs(ref.cpu_seconds)})", secs(ref.process_seconds)
    if ref.status == "timeout":
        return f"**did not finish in {ref.timeout:g} s** (killed)", secs(ref.process_seconds)
    return f"**failed**: {ref.error}", secs(ref.process_seconds)


def ratio(ours: OursResult, ref: ReferenceResult | None) -> tuple[str, str]:
    """Our median time over the reference's; a bound when the reference did not finish."""
    if ref is None or ref.status == "failed":
        return "–", "–"
    if ref.status == "timeout":
        bound = ours.seconds.median / ref.timeout
        return f"< {bound:.3f}", verdict(bound <= GOAL_TIME_RATIO)
    value = ours.seconds.median / ref.seconds
    cpu = f"; CPU {ours.cpu_seconds.median / ref.cpu_seconds:.3f}" if ref.cpu_seconds else ""
    text = f"{value:.3f} (1/{1 / value:.1f}){cpu}" if value > 0 else "0"
    return text, verdict(value <= GOAL_TIME_RATIO)


def time_table(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        ref_time, ref_process = _reference_time(r.reference)
        if isinstance(r.ours, Exception):
            rows.append(f"| {r.pool.label} | **failed**: {type(r.ours).__name__}: {r.ours} | – | {ref_time} |"
                        f" {ref_process} | – | – |")
            continue
        value, goal = ratio(r.ours, r.reference)
        rows.append(f"| {r.pool.label} | {_ours_time(r.ours)} | {secs(r.ours.cpu_seconds.median)} | {ref_time} |"
                    f" {ref_process} | {value} | {goal} |")
    return ("| pool | ours: `find_distribution` (median, min–max) | ours: CPU | reference: algorithm call |"
            " reference: whole process | ratio ours / reference (wall; CPU) | goal ≤ 1/3 (wall) |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def fairness_table(results: list[SizeResult]) -> str:
    rows = []
    for r in results:
        ref = r.reference if r.reference is not None and r.reference.fairness is not None else None
        ref_min = ref.fairness.minimum if ref else None
        entries = []
        if not isinstance(r.ours, Exception):
            entries.append(("ours", r.ours.fairness, f"{prob(r.ours.lp_minimum)}", r.ours.panels))
        if ref:
            entries.append((f"reference ({ref.meta.get('algorithm_ran', '?')})", ref.fairness, "–", ref.panels))
        for who, fair, lp_min, panels in entries:
            below = "–" if ref_min is None else (f"{100 * fair.share_below(ref_min):.1f} %"
                                                  f" ({100 * fair.share_below(ref_min, BELOW_COARSE):.1f} %)")
            rows.append(f"| {r.pool.label} | {who} | **{prob(fair.minimum)}** | {lp_min} | {panels:,} |"
                        f" {prob(fair.percentile(10))} | {prob(fair.percentile(50))} | {fair.gini:.4f} |"
                        f" {prob(fair.geometric_mean)} | {below} |")
    return ("| pool | distribution | minimum probability | LP minimum | panels | 10th percentile | median |"
            f" Gini | geometric mean | share below the reference's minimum by > {BELOW:g} (by > {BELOW_COARSE:g}) |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def goals(results: list[SizeResult]) -> str:
    lines = []
    for r in results:
        if isinstance(r.ours, Exception):
            lines.append(f"- {r.pool.label}: ours failed ({type(r.ours).__name__}: {r.ours}), no goal can be met.")
            continue
        parts = []
        _, speed = ratio(r.ours, r.reference)
        if speed != "–":
            parts.append(f"time ≤ 1/3 of the reference's: {speed}")
        ref = r.reference
        if ref is not None and ref.fairness is not None:
            ours_min, ref_min = float(r.ours.exact_minimum), ref.fairness.minimum
            parts.append(f"minimum probability {prob(ours_min)} ≥ reference's {prob(ref_min)} − 0.001:"
                         f" {verdict(ours_min >= ref_min - GOAL_MIN_SLACK)}")
        else:  # no minimum from the reference: no algorithm's minimum exceeds the tightest quota's bound
            ours_min, (bound, where) = float(r.ours.exact_minimum), tightest_quota(r.pool)
            parts.append(f"minimum probability {prob(ours_min)} ≥ {prob(bound)} − 0.001, the bound no"
                         f" algorithm's minimum can exceed ({where}), so within 0.001 of whatever the"
                         f" reference could reach: {verdict(ours_min >= bound - GOAL_MIN_SLACK)}")
        if (len(r.pool.people), r.pool.panel_size) == G1000:
            parts.append(f"G1000 scale under {GOAL_G1000_SECONDS / 60:g} minutes ({secs(r.ours.seconds.median)}):"
                         f" {verdict(r.ours.seconds.median < GOAL_G1000_SECONDS)}")
        lines.append(f"- {r.pool.label}: " + ("; ".join(parts) if parts else "no goal measured") + ".")
    return "Goals:\n" + "\n".join(lines)


def verification(results: list[SizeResult]) -> str:
    lines = []
    for r in results:
        k = r.pool.panel_size
        if not isinstance(r.ours, Exception):
            o = r.ours
            if o.problems:
                text = "**verification failed**: " + "; ".join(o.problems)
            else:
                text = (f"all {o.panels:,} panels have {k} distinct pool members and meet every quota and the"
                        f" household rule; the weights are positive integers; the probabilities recomputed from"
                        f" them are exact fractions summing to {k} and equal the reported ones")
            determinism = "" if len(o.seconds.samples) < 2 else (
                "; identical distribution in every run" if o.same_every_run else "; **the distribution differed"
                " between runs**")
            lines.append(f"- {r.pool.label}, ours: {text}{determinism}.")
        ref = r.reference
        if ref is not None and ref.status == "finished":
            text = ("**verification failed**: " + "; ".join(ref.problems)) if ref.problems else (
                f"all {ref.panels:,} committees have {k} distinct pool members and meet every quota and the"
                f" household rule; probabilities sum to 1 and per person to {k} (within 1e-6)")
            lines.append(f"- {r.pool.label}, reference: {text}.")
    return "Verification (done here, trusting neither implementation):\n" + "\n".join(lines)


def panel_parameters(results: list[SizeResult], params: PanelParams) -> str:
    ran = sorted({f"{r.reference.meta.get('algorithm_ran')} ({r.reference.meta.get('solver')})"
                  for r in results if r.reference is not None and r.reference.meta})
    reference = (f"one run per pool in its own process, killed after {params.reference_timeout:g} s; backend"
                 f" `{params.reference_backend}`, seed {params.reference_seed}; asked for LEXIMIN, ran:"
                 f" {', '.join(ran) or 'not reported'}") if params.reference else "not run (`--panel-no-reference`)"
    return "\n".join([
        "Parameters:",
        "- pools: " + ", ".join(f"{n:,} → {k:,}" for n, k in params.sizes) + " (bench/panel_pool.py);",
        f"- ours: `find_distribution`, up to {params.repeat} runs per pool in this process (a run over"
        f" {SLOW_SECONDS:g} s is not repeated);",
        f"- reference `{REFERENCE}`: {reference}.",
    ])


def panel_section(results: list[SizeResult], params: PanelParams, machine_rows: dict[str, str],
                  pending: Sequence[tuple[int, int]] = ()) -> str:
    parts = [
        "## Panel selection: our fair distribution against `sortition-algorithms`",
        "Time to compute the distribution over panels, and every respondent's selection probability, for"
        f" ours and for `{REFERENCE}` (the baseline, measured in the same run). Nothing here is a test threshold.",
        machine_table(machine_rows),
        panel_parameters(results, params),
    ]
    if pending:
        parts.append("**Incomplete run**: not measured (the run stopped or is still going): "
                     + ", ".join(f"{n:,} → {k:,}" for n, k in pending) + ".")
    parts += [
        pools_table(results),
        "### Time",
        time_table(results),
        "### Fairness",
        "Ours after rounding the weights to integers (exact); LP minimum = before rounding; respondents in no"
        " panel count with 0.",
        fairness_table(results),
        goals(results),
        verification(results),
    ]
    return "\n\n".join(p for p in parts if p)


def panel_summary(results: list[SizeResult]) -> str:
    """One line per pool for the terminal."""
    lines = []
    for r in results:
        if isinstance(r.ours, Exception):
            lines.append(f"panel {r.pool.label}: ours failed: {r.ours}")
            continue
        line = (f"panel {r.pool.label}: ours {secs(r.ours.seconds.median)}, min {prob(float(r.ours.exact_minimum))},"
                f" {r.ours.panels} panels")
        ref = r.reference
        if ref is not None and ref.status == "finished":
            line += (f"; reference {ref.meta.get('algorithm_ran')} {secs(ref.seconds)}, min"
                     f" {prob(ref.fairness.minimum)}, {ref.panels} panels; ratio {ratio(r.ours, ref)[0]}")
        elif ref is not None:
            line += f"; reference {ref.status}: {ref.error}"
        if r.ours.problems or (ref is not None and ref.problems):
            line += " [VERIFICATION PROBLEMS, see the report]"
        lines.append(line)
    return "\n".join(lines)
