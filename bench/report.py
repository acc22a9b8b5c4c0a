"""BENCHMARKS.md: every benchmark's section as tables of the numbers it measured, and the writer
that replaces exactly those sections.

Each benchmark owns one section between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`;
a run replaces its own sections (or appends them the first time) and leaves every other byte of the
file as it was. A section holds the machine table, the parameters, and tables of medians with min and
max and, where there is one, the ratio to the baseline measured in the same run; goals are printed
next to the value they apply to with "met" or "not met". No prose is generated beyond what a table
needs to be read (how it was measured is in the benchmark's module docstring): what a run means is
written by people, under the section, outside the markers.
"""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

from .ceiling import RAW_1, RAW_2, CeilingResult
from .cpu import CpuUse
from .gateway import GatewayResult, ThroughputRun
from .ledger import WARMUP_REQUESTS, LedgerResult
from .panel import BELOW, REFERENCE, SLOW_SECONDS, OursResult, PanelParams, ReferenceResult, SizeResult
from .pipeline import BUSY, PipelineResult, e2e_label, ordered_labels, per_transaction
from .profiling import ProfileResult
from .stats import Latencies, Samples, fmt

HEADER = """# Benchmarks

Written by `make bench` (`python -m bench.run`). Performance is measured, not asserted: nothing
here is a test threshold. The sections between `<!-- bench:…:start/end -->` markers are rewritten
by each run and hold tables only; everything else in this file is left as it is: what a run means
is written by people under its section, dated, outside the markers.
"""
CORES = os.cpu_count() or 1
GOAL_INGEST = 5_000.0  # events/s end to end
GOAL_P99_MS = 20.0  # proof latency p99
GOAL_VERIFIER_RATIO = 0.75  # verifier entries/s over the 2-process Ed25519 verify ceiling
GOAL_TIME_RATIO = 1 / 3  # our panel time over the reference's
GOAL_MIN_SLACK = 1e-3  # our minimum probability may be at most this far below the reference's
GOAL_G1000_SECONDS = 300.0  # ours at G1000 scale
G1000 = (4_000, 800)
BELOW_COARSE = 1e-4  # a shortfall up to this is the rounding to integer weights, not a worse optimum


# ---- the file and the generic table ------------------------------------------------------------


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    return (text if text.strip() else HEADER).rstrip("\n") + "\n\n" + block + "\n"


def write_sections(path: Path, sections: dict[str, str]) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for name, body in sections.items():
        text = replace_section(text, name, body)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def table(header: Sequence[str], rows: Iterable[Sequence[object]], intro: str = "") -> str:
    """A Markdown table: the header, then one line of cells per row (an empty cell stays empty)."""
    def line(cells: Sequence[object]) -> str:
        return "|" + "|".join(f" {cell} " if str(cell) else " " for cell in cells) + "|"

    lines = [line(header), "|" + "---|" * len(header), *map(line, rows)]
    return (f"{intro}\n\n" if intro else "") + "\n".join(lines)


def machine_table(machine: dict[str, str]) -> str:
    return table(("machine", ""), machine.items())


def spread(values: Samples, cell=fmt) -> list[str]:
    """Median (bold), min and max."""
    return [f"**{cell(values.median)}**", cell(values.low), cell(values.high)]


def ms(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + ms(abs(value))


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def quantiles(lat: Latencies) -> list[str]:
    return [ms(lat.p(q)) for q in (50, 90, 99, 100)]


def bullets(title: str, items: Iterable[str]) -> str:
    return "\n".join([title, *(f"- {item}" for item in items)])


def profile_text(prof: ProfileResult) -> str:
    what = "requests" if prof.cpu_clock else "events"
    clock = (" Timed with the thread's CPU clock, so waiting for the service or a commit is left out."
             if prof.cpu_clock else "")
    trips = "" if prof.round_trips_per_event is None else \
        f" PostgreSQL round trips (psycopg waits) per {what[:-1]}: {prof.round_trips_per_event:.1f}."
    top = ", ".join(f"`{name}` {sec:.2f} s" for name, sec in prof.top_functions[:6])
    intro = (f"**Profile of the {prof.stage}**: cProfile over {prof.events:,} {what}"
             f" ({fmt(prof.rate_under_profile)} {what}/s under the profiler).{clock} Own time per category;"
             " built-ins and generic helpers are charged to their callers; the profiler inflates"
             f" Python-heavy categories, so the shares are a map, not a measurement.{trips}")
    rows = [(name, f"{sec:.2f}", f"{100 * sec / prof.seconds:.0f} %") for name, sec in prof.categories]
    unit = "CPU seconds" if prof.cpu_clock else "seconds"
    return table(("category", unit, "share"), rows, intro) + f"\n\nLargest single functions (own time): {top}."


def durations_table(durations: dict[str, float], loads: dict[str, tuple[float, float]], total: str) -> str:
    rows = [(name, f"{sec:.0f}", f"{loads[name][0]:.2f} → {loads[name][1]:.2f}") for name, sec in durations.items()]
    rows.append((f"**{total}**", f"**{sum(durations.values()):.0f}**", ""))
    return table(("part", "seconds", "load average"), rows, "Durations of the parts of this run (wall clock) and"
                 " the machine's 1-minute load average at their start and end:")


# ---- pipeline and ceiling ------------------------------------------------------------------------


def pipeline_section(res: PipelineResult, ceiling: CeilingResult, profiles: list[ProfileResult],
                     machine: dict[str, str]) -> str:
    p, ceil = res.params, ceiling.rates[RAW_1].median
    e2e = res.rates[e2e_label(p.batch)].median
    rates = [(label, *spread(res.rates[label]), f"{res.rates[label].median / ceil:.3f}") for label in ordered_labels(p)]

    def cell(label: str):
        return (lambda v: f"{100 * v:.0f} %") if label == BUSY else (lambda v: f"{v:,.1f}")

    parts = [
        "## Pipeline throughput: append → outbox → broker → consumer",
        f"Events per second through the agenda's EventStore and OutboxRelay, the broker and the ledger's"
        f" EventConsumer (method: bench/pipeline.py). **Median of {p.repeat} repetitions**, each in fresh"
        " databases and topics, with min and max; the Ed25519 ceiling below is measured in the same run.",
        machine_table(machine),
        bullets("Parameters:", [
            f"N = {p.events:,} events per run ({p.single_events:,} for the 1-event-per-transaction runs),"
            f" {p.batch} events per append transaction, {p.repeat} repetitions;",
            f"workload: `agenda.topic.nominated`, one summit (one partition), {res.event_bytes} bytes per event"
            " on the wire; relay and consumer with the services' own batching (sizes seen: the table below)."]),
        table(("rate (events/s)", "median", "min", "max", "÷ 1-core Ed25519 verify ceiling"), rates),
        f"**Ratio:** the end-to-end pipeline ({per_transaction(p.batch)}) runs at **{fmt(e2e)} events/s ="
        f" {e2e / ceil:.3f} × the 1-core Ed25519 verify ceiling** of {fmt(ceil)} verifies/s measured in this"
        f" run ({100 * e2e / ceil:.0f} %).",
        table(("quantity", "median", "min", "max"),
              [(label, *spread(v, cell(label))) for label, v in res.shape.items()],
              "How the work was batched: relay publishes and consumer transactions counted by the distinct"
              " transaction timestamps their rows carry; the busy share from timing every `process` call."),
        *map(profile_text, profiles),
    ]
    return "\n\n".join(parts)


def ceiling_section(ceiling: CeilingResult, machine: dict[str, str]) -> str:
    return "\n\n".join([
        "## Ed25519 verify ceiling",
        f"The baseline for the pipeline (method: bench/ceiling.py): `cryptography`'s Ed25519 verify over"
        f" the {ceiling.message_bytes} signed bytes of a real event, key loaded once. **Median of"
        f" {ceiling.repeat} repetitions** of {ceiling.seconds:g} s each; the 2-process rate is the sum of two"
        " processes verifying at once; `verify_event` is the consumer's full check.",
        machine_table(machine),
        table(("rate (per second)", "median", "min", "max"),
              [(label, *spread(r)) for label, r in ceiling.rates.items()]),
    ])


# ---- transparency log ------------------------------------------------------------------------------


def ledger_section(res: LedgerResult, machine: dict[str, str]) -> str:
    ing, cap, ver, prf = res.ingest, res.capacity, res.verifier, res.proofs
    p = res.params
    parts = [
        f"## Transparency log: ingest, proofs and verifier on a log of {ing.events:,} events",
        f"One summit's log of {ing.events:,} agenda events (+ {ing.genesis} genesis entries), built end to end,"
        " asked for proofs over HTTP and exported for `g1000-verify` (method: bench/ledger.py). **One run"
        " each**; the spread is shown inside the run (percentiles, the rate per tenth of the log, CPU by"
        " process and other tenants', the load average). Nothing here is a test threshold.",
        machine_table(machine),
        bullets("Parameters:", [
            f"`agenda.topic.nominated`, {res.event_bytes} bytes per signed event, one summit; {p.batch} events"
            f" per append transaction; ingest: {ing.timed_events:,} events timed after one warm-up event;"
            f" stages alone: {cap.events:,} events over a pre-filled topic;",
            f"proofs: the ledger under gunicorn, one keep-alive client; {len(prf.http['inclusion'].millis):,}"
            f" inclusion proofs (tree_size = the checkpoint, {prf.tree_size:,}) and"
            f" {len(prf.http['consistency'].millis):,} consistency proofs after {WARMUP_REQUESTS} untimed of each;",
            f"verifier: `g1000-verify bundle FILE --json --log-key VKEY`, {len(ver.default_runs())} runs with the"
            f" default workers ({CORES}) and one with `--workers 1`; ceiling: {ver.ceiling.repeat} samples of"
            f" {p.ceiling_seconds:g} s, half before and half after the runs."]),
        "### 1. Ingest",
        ingest_table(res),
        f"The appender had committed all events after {ing.append_seconds:.0f} s"
        f" ({fmt(ing.timed_events / ing.append_seconds)} events/s while everything ran at once); the relay"
        f" published {ing.relay_batch:.0f} events per batch and the consumer applied {ing.consumer_batch:.0f}"
        f" per transaction (means); {ing.checkpoints:,} checkpoints. 1-minute load average: min"
        f" {min(ing.load or [0.0]):.2f}, max {max(ing.load or [0.0]):.2f}. Storage after the run: "
        + "; ".join(f"{name} {mib(n)}" for name, n in ing.sizes.items()) + ".",
        growth_table(res),
        f"The ledger consumer alone, per tenth of its {cap.events:,} events: "
        + ", ".join(fmt(r) for r in cap.tenths) + f" events/s; {100 * cap.busy:.0f} % of its time inside"
        " `process` (the transaction and the checks), the rest in Kafka polls and offset commits.",
        "### 2. Proof latency",
        proof_table(res),
        f"Proofs carry {prf.hashes_per_proof['inclusion']:.1f} (inclusion) and"
        f" {prf.hashes_per_proof['consistency']:.1f} (consistency) hashes on average. Correctness: all"
        f" {prf.equal_to_in_process:,} HTTP proofs equal the in-process ones; {prf.verified['inclusion']}"
        " inclusion proofs verify with `g1000_proofs.merkle` against the signed checkpoint's root, and"
        f" {prf.verified['consistency']} consistency proofs against roots rebuilt from the stored nodes.",
        "### 3. Export and verifier",
        verifier_tables(res),
        f"Before the first ceiling sample the harness waited {ver.quiet_wait:.0f} s for its own processes to go"
        " idle. \"cores busy\" is the verifier's CPU time (its workers included) over its wall time."
        + "".join(f" The verifier ({run.label}) exited {run.exit_code}: {run.stderr or run.report}."
                  for run in ver.runs if run.exit_code != 0),
        *(profile_text(prof) for prof in (cap.profile, ver.profile) if prof is not None),
        "### Durations",
        durations_table(res.durations, res.loads, "ledger benchmark total"),
    ]
    return "\n\n".join(parts)


def cpu_cell(use: CpuUse, events: int) -> str:
    per = use.per_event(events)
    parts = ", ".join(f"{name} {1000 * value:.2f}" for name, value in per.items() if value >= 0.000005)
    return f"{1000 * use.ours / events:.2f} ms ({parts})"


def cores(use: CpuUse) -> str:
    steal = f" (steal {use.steal_cores:.2f})" if use.steal_cores >= 0.005 else ""
    return f"{use.cores():.2f} + {use.other_cores:.2f}{steal}"


def ingest_table(res: LedgerResult) -> str:
    ing, cap = res.ingest, res.capacity
    per_event = sum(cap.cpu_per_event(stage) for stage in ("append", "relay", "consume"))
    bound = CORES / per_event  # the most end to end could reach here, with perfect overlap
    wal = (ing.growth[-1].wal_bytes - ing.growth[0].wal_bytes) / ing.timed_events / 1024
    rows = [("**ingest end to end** (append → outbox → relay → broker → ledger consumer → log)",
             f"**{fmt(ing.rate)}** ({ing.timed_events:,} in {ing.seconds:.0f} s)", cpu_cell(ing.cpu, ing.timed_events),
             cores(ing.cpu), f"{wal:.1f} KiB", "≥ 5,000 events/s", verdict(ing.rate >= GOAL_INGEST))]
    for stage, label, value in (
            ("consume", f"**ledger consumer alone** over a pre-filled topic ({cap.events:,} events; its own"
                        " ingest capacity)", cap.rate),
            ("append", f"append alone (agenda `EventStore.append`, {res.params.batch} per transaction)",
             cap.append_rate),
            ("relay", "relay alone (outbox → broker, acks=all)", cap.relay_rate)):
        use, events = cap.cpu[stage]
        goal = ("(bounds the line above)", f"{verdict(value >= GOAL_INGEST)} as capacity") if stage == "consume" \
            else ("", "")
        rows.append((label, f"**{fmt(value)}**", cpu_cell(use, events), cores(use),
                     f"{cap.wal_per_event[stage] / 1024:.1f} KiB", *goal))
    rows.append(("CPU budget: the three stages' CPU per event, summed",
                 f"at most **{fmt(bound)}** on {CORES} cores with perfect overlap", f"{1000 * per_event:.2f} ms",
                 "", "",
                 f"≤ {1000 * CORES / GOAL_INGEST:.2f} ms per event would be needed for 5,000/s",
                 verdict(bound >= GOAL_INGEST)))
    return table(("measure", "events/s", "CPU per event (ms: total, by process)", "cores busy: ours + other",
                  "WAL per event", "goal", ""), rows)


def growth_table(res: LedgerResult) -> str:
    ing, rows = res.ingest, []
    for prev, pt in zip(ing.growth, ing.growth[1:]):
        span, logged = pt.seconds - prev.seconds, pt.log_events - prev.log_events
        appending = "yes" if pt.appended < ing.events else "no" if prev.appended >= ing.events else "until here"
        rows.append((f"{pt.log_events:,}", f"{pt.seconds:.0f}", f"{pt.appended:,}", appending,
                     f"**{fmt(logged / span)}**",
                     fmt((pt.appended - prev.appended) / span),
                     f"{(pt.wal_bytes - prev.wal_bytes) / max(1, logged) / 1024:.1f}"))
    return table(("agenda events in the log", "seconds", "events appended by then", "appender running",
                  "log growth in the segment (events/s)", "appends in the segment (events/s)",
                  "WAL per event logged (KiB)"), rows,
                 "How the log grew (sampled every second; a row at each tenth of the events); WAL per event logged"
                 " counts all of PostgreSQL's WAL in the segment.")


def proof_table(res: LedgerResult) -> str:
    prf = res.proofs
    rows = [(lat.label, f"{len(lat.millis):,}", *quantiles(lat), "< 20 ms", verdict(lat.p(99) < GOAL_P99_MS))
            for lat in prf.http.values()]
    rows += [(lat.label, f"{len(lat.millis):,}", *quantiles(lat), "", "")
             for lat in (*prf.in_process.values(), prf.baseline)]
    return table(("request", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "goal for p99", ""), rows)


def ratios(res: LedgerResult) -> dict[str, float]:
    """Verifier (default workers) ÷ 2-process ceiling: best ÷ best, median ÷ median, and the cap.

    Noise on a shared machine only ever slows a measurement down, so the fastest of several samples
    is the best estimate of what the machine can do; both sides get the same treatment. The cap does
    not depend on when the noise struck: the entries/s the machine's cores give the verifier's CPU
    time per entry (its workers included), over the fastest ceiling sample.
    """
    runs, c2 = res.verifier.default_runs(), res.verifier.ceiling.rates[RAW_2]
    return {"best": max(r.rate for r in runs) / c2.high,
            "median": statistics.median(r.rate for r in runs) / c2.median,
            "cap": CORES / min(r.cpu_seconds / r.entries for r in runs) / c2.high}


def verifier_tables(res: LedgerResult) -> str:
    ver = res.verifier
    c1, c2 = ver.ceiling.rates[RAW_1], ver.ceiling.rates[RAW_2]
    r = ratios(res)
    rows = []
    for run in ver.runs:
        status = "exit 0" if run.exit_code == 0 else f"**exit {run.exit_code}**: {run.report.get('failure')}"
        main = "" if run.main_cpu_seconds is None else f"; main process {run.main_cpu_seconds / run.seconds:.2f}"
        rows.append((f"`g1000-verify bundle`, {run.label}", f"**{fmt(run.rate)}**",
                     f"{run.entries:,} in {run.seconds:.0f} s, {status}", f"{run.cpu_seconds / run.seconds:.2f}{main}",
                     f"{run.rate / c2.high:.3f}"))
    rows += [
        ("export `GET /v1/logs/{id}/export` (gunicorn → file)", fmt(ver.bundle_entries / ver.export_seconds),
         f"{ver.export_seconds:.0f} s, {mib(ver.bundle_bytes)}", "", ""),
        (f"Ed25519 verify ceiling, 2 processes (sum), {len(c2.samples)} samples", f"median {fmt(c2.median)}",
         f"fastest {fmt(c2.high)}, slowest {fmt(c2.low)}", "2", "1"),
        (f"Ed25519 verify ceiling, 1 core, {len(c1.samples)} samples", f"median {fmt(c1.median)}",
         f"fastest {fmt(c1.high)}, slowest {fmt(c1.low)}", "1", f"{c1.high / c2.high:.3f}"),
    ]
    others = " and ".join(f"{c:.2f}" for c in ver.ceiling_other_cores)
    goals = [
        ("**fastest run ÷ fastest ceiling sample** (like for like: noise only slows a sample down)",
         f"**{r['best']:.3f}**", "≥ 0.75", verdict(r["best"] >= GOAL_VERIFIER_RATIO)),
        (f"cap on this machine: {CORES} cores ÷ the verifier's CPU time per entry, ÷ fastest ceiling sample"
         " (independent of when the noise struck)", f"{r['cap']:.3f}", "≥ 0.75",
         verdict(r["cap"] >= GOAL_VERIFIER_RATIO)),
        (f"median run ÷ median ceiling sample (for reference: other tenants used {others} cores during the ceiling"
         f" measurements, {', '.join(f'{run.other_cores:.2f}' for run in ver.runs)} during the verifier runs)",
         f"{r['median']:.3f}", "", ""),
    ]
    return (table(("measure", "entries/s", "", "cores busy", "÷ fastest 2-process ceiling sample"), rows) + "\n\n"
            + table(("ratio the issue asks for: `g1000-verify` (default workers) entries/s ÷ 2-process Ed25519"
                     " verify ceiling", "value", "goal", ""), goals))


# ---- gateway --------------------------------------------------------------------------------------


def gateway_section(res: GatewayResult, machine: dict[str, str]) -> str:
    p, buckets = res.params, [r.buckets for r in res.throughput if r.buckets is not None]
    parts = [
        "## Gateway overhead: through the gateway vs straight to the service",
        "What a request pays for passing the gateway instead of going straight to the service that answers"
        " it, measured **in the same run, interleaved**, and requests/s of a public read with the direct rate"
        " as the baseline (method: bench/gateway.py). Latencies are percentiles of every timed request (one"
        " run); rates are the median of the runs in ABBA order, with min and max. Nothing here is a test"
        " threshold.",
        machine_table(machine),
        bullets("Parameters:", [
            f"stack: the four services and the gateway, each `gunicorn {res.web_settings}`; rate limits"
            " 1,000,000 per minute (count, never refuse);",
            f"log: {p.log_entries:,} agenda events appended in batches of {p.log_batch:,} (log size {res.log_size:,},"
            f" checkpoint {res.checkpoint_size:,}); no relay or consumer runs while requests are timed;",
            f"latency: one client thread, {p.warmup:,} untimed then {p.requests:,} timed requests of each kind on each"
            " path, alternating direct / gateway;",
            f"requests/s: `GET /v1/summits/{{id}}` with {', '.join(map(str, p.concurrency))} client threads (one"
            f" loopback address each), {p.throughput_seconds:g} s windows after {p.throughput_warmup:g} s of warm-up,"
            f" {p.throughput_repeat} runs per target and concurrency;",
            f"the gateway's own steps: {p.step_samples:,} timings each, in process; profiles: {p.profile_requests:,}"
            " requests per profiled kind, in process (Flask's test client)."]),
        "### 1. Latency, one client",
        latency_table(res),
        "### 2. Requests/s of a public read",
        throughput_table(res),
        "Latency percentiles here are over every request completed in the windows of that row, measured by the"
        " client, so they include waiting for a turn on a busy machine."
        + (f" The gateway held {max(buckets)} address counters at the end (one per client address)."
           if buckets else ""),
        "### 3. CPU: where a request's cost goes",
        cpu_table(res),
    ]
    steps = [lat for lat in res.steps.values() if lat.millis]
    if steps:
        parts.append(table(("step", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"),
                           [(lat.label, f"{len(lat.millis):,}", *quantiles(lat)) for lat in steps],
                           "The gateway's own steps, each called alone in the benchmark's process on the gateway's"
                           " database (round robin, so noise hits them alike, after the latency runs):"))
    parts += [*map(profile_text, res.profiles), "### Durations",
              durations_table(res.durations, res.loads, "gateway benchmark total")]
    return "\n\n".join(parts)


def latency_table(res: GatewayResult) -> str:
    rows = []
    for pair in res.pairs:
        d, g, kind = pair.direct, pair.gateway, pair.kind
        cpu = ms(1000 * pair.usage.trees.get("gateway", 0.0) / len(g.millis))
        if kind.forwarded:
            rows.append((f"{kind.label}: direct to the {kind.service}", f"{len(d.millis):,}", *quantiles(d), *[""] * 5))
            rows.append(("through the gateway", f"{len(g.millis):,}", *quantiles(g), f"**{signed(g.p(50) - d.p(50))}**",
                         signed(g.p(99) - d.p(99)), f"**{g.p(50) / d.p(50):.2f}**", f"{g.p(99) / d.p(99):.2f}", cpu))
        else:
            rows.append((f"`GET /healthz` of the {kind.service} (no forwarding, no database)", f"{len(d.millis):,}",
                         *quantiles(d), *[""] * 5))
            rows.append(("`GET /healthz` of the gateway (no forwarding, no database)", f"{len(g.millis):,}",
                         *quantiles(g), *[""] * 4, cpu))
    return table(("request", "n", "p50 ms", "p90 ms", "p99 ms", "max ms", "overhead p50 ms", "overhead p99 ms",
                  "ratio p50", "ratio p99", "gateway CPU per request ms"), rows)


TARGETS = {"direct": "direct to the ledger", "gateway": "through the gateway (one address per client)",
           "gateway, one address": "through the gateway, every client on one address"}


def groups(res: GatewayResult) -> list[tuple[int, str, list[ThroughputRun]]]:
    """The throughput runs by (client threads, target), in the report's order."""
    out = []
    for c in res.params.concurrency:
        for target in TARGETS:
            runs = [r for r in res.throughput if r.concurrency == c and r.target == target]
            if runs:
                out.append((c, target, runs))
    return out


def pooled(runs: list[ThroughputRun]) -> tuple[dict[str, float], str]:
    """CPU seconds per request over all runs: the client (this process), each gunicorn tree,
    PostgreSQL and the rest of ours (idle workers, the broker); and the cores busy: ours + other
    tenants' (+ steal when the hypervisor took any) over the runs' windows."""
    total, seconds, per = sum(r.requests for r in runs), sum(r.usage.seconds for r in runs), {}
    for use in (r.usage for r in runs):
        rest = use.groups["workers"] - sum(use.trees.values()) + use.groups["broker"]
        for name, value in {"client": use.groups["harness"], **use.trees, "postgres": use.groups["postgres"],
                            "rest": max(0.0, rest)}.items():
            per[name] = per.get(name, 0.0) + value / total
    ours = sum(r.usage.ours for r in runs) / seconds
    other = sum(r.usage.other_cores * r.usage.seconds for r in runs) / seconds
    steal = sum(r.usage.steal for r in runs) / seconds
    return per, f"{ours:.2f} + {other:.2f}" + (f" (steal {steal:.2f})" if steal >= 0.005 else "")


def throughput_table(res: GatewayResult) -> str:
    rows = []
    for c, target, runs in groups(res):
        direct = [r.rate for r in res.throughput if r.concurrency == c and r.target == "direct"]
        rate = statistics.median(r.rate for r in runs)
        lat = Latencies(target, [m for r in runs for m in r.latency.millis])
        ratio = f"**{rate / statistics.median(direct):.2f}**" if direct and target != "direct" else ""
        rows.append((c, TARGETS[target], f"**{fmt(rate)}**", fmt(min(r.rate for r in runs)),
                     fmt(max(r.rate for r in runs)),
                     ratio, ms(lat.p(50)), ms(lat.p(99)), pooled(runs)[1], sum(r.errors for r in runs)))
    return table(("client threads", "path", "requests/s (median)", "min", "max", "÷ direct", "p50 ms", "p99 ms",
                  "cores busy: ours + other", "non-200"), rows)


def cpu_table(res: GatewayResult) -> str:
    columns, rows = ("client", "gateway", "ledger", "postgres"), []
    for c, target, runs in groups(res):
        per, busy = pooled(runs)
        rest = sum(v for k, v in per.items() if k not in columns)
        rows.append((c, TARGETS[target], f"{sum(r.requests for r in runs):,}", f"**{ms(1000 * sum(per.values()))}**",
                     *(ms(1000 * per.get(k, 0.0)) for k in columns), ms(1000 * rest), busy))
    return table(("client threads", "path", "requests", "total", "client", "gateway", "ledger", "PostgreSQL",
                  "other services, broker", "cores busy: ours + other"), rows,
                 "CPU per request during the throughput runs (all runs of a row pooled), ms of user + system time:")


# ---- panel selection --------------------------------------------------------------------------------


def secs(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s" if value >= 1 else f"{value:.3f} s"


def prob(value: float) -> str:
    return f"{value:.5f}"


def tightest_quota(pool) -> tuple[float, str]:
    """The smallest max/count over the quota values: nobody's minimum can exceed it."""
    counts = pool.counts()
    return min((high / counts[f][v], f"{f}={v} ({high} of {counts[f][v]})")
               for f, values in pool.quotas.items() for v, (_, high) in values.items() if counts[f][v])


def ratio(ours: OursResult, ref: ReferenceResult | None) -> tuple[str, str]:
    """Our median time over the reference's, and the goal; a bound when the reference timed out."""
    if ref is None or ref.status == "failed":
        return "–", "–"
    if ref.status == "timeout":
        bound = ours.seconds.median / ref.timeout
        return f"< {bound:.3f}", verdict(bound <= GOAL_TIME_RATIO)
    value = ours.seconds.median / ref.seconds
    cpu = f"; CPU {ours.cpu_seconds.median / ref.cpu_seconds:.3f}" if ref.cpu_seconds else ""
    return (f"{value:.3f} (1/{1 / value:.1f}){cpu}" if value > 0 else "0"), verdict(value <= GOAL_TIME_RATIO)


def time_row(r: SizeResult) -> tuple:
    ref = r.reference
    if ref is None:
        ref_cells = ("not run", "–")
    elif ref.status == "finished":
        ref_cells = (f"**{secs(ref.seconds)}** (CPU {secs(ref.cpu_seconds)})", secs(ref.process_seconds))
    elif ref.status == "timeout":
        ref_cells = (f"**did not finish in {ref.timeout:g} s** (killed)", secs(ref.process_seconds))
    else:
        ref_cells = (f"**failed**: {ref.error}", secs(ref.process_seconds))
    if isinstance(r.ours, Exception):
        return (r.pool.label, f"**failed**: {type(r.ours).__name__}: {r.ours}", "–", *ref_cells, "–", "–")
    s = r.ours.seconds
    runs = f" ({secs(s.low)}–{secs(s.high)}), {len(s.samples)} runs" if len(s.samples) > 1 else ", 1 run"
    return (r.pool.label, f"**{secs(s.median)}**{runs}", secs(r.ours.cpu_seconds.median), *ref_cells,
            *ratio(r.ours, ref))


def fairness_rows(r: SizeResult) -> list[tuple]:
    ref = r.reference if r.reference is not None and r.reference.fairness is not None else None
    entries = [] if isinstance(r.ours, Exception) else \
        [("ours", r.ours.fairness, prob(r.ours.lp_minimum), r.ours.panels)]
    if ref:
        entries.append((f"reference ({ref.meta.get('algorithm_ran', '?')})", ref.fairness, "–", ref.panels))
    rows = []
    for who, fair, lp_min, panels in entries:
        below = "–" if ref is None else (f"{100 * fair.share_below(ref.fairness.minimum):.1f} %"
                                         f" ({100 * fair.share_below(ref.fairness.minimum, BELOW_COARSE):.1f} %)")
        rows.append((r.pool.label, who, f"**{prob(fair.minimum)}**", lp_min, f"{panels:,}", prob(fair.percentile(10)),
                     prob(fair.percentile(50)), f"{fair.gini:.4f}", prob(fair.geometric_mean), below))
    return rows


def goals(r: SizeResult) -> str:
    if isinstance(r.ours, Exception):
        return f"{r.pool.label}: ours failed ({type(r.ours).__name__}: {r.ours}), no goal can be met."
    parts, ours_min, ref = [], float(r.ours.exact_minimum), r.reference
    if (speed := ratio(r.ours, ref)[1]) != "–":
        parts.append(f"time ≤ 1/3 of the reference's: {speed}")
    if ref is not None and ref.fairness is not None:
        parts.append(f"minimum probability {prob(ours_min)} ≥ reference's {prob(ref.fairness.minimum)} − 0.001:"
                     f" {verdict(ours_min >= ref.fairness.minimum - GOAL_MIN_SLACK)}")
    else:  # no minimum from the reference: no algorithm's minimum exceeds the tightest quota's bound
        bound, where = tightest_quota(r.pool)
        parts.append(f"minimum probability {prob(ours_min)} ≥ {prob(bound)} − 0.001, the bound no algorithm's"
                     f" minimum can exceed ({where}): {verdict(ours_min >= bound - GOAL_MIN_SLACK)}")
    if (len(r.pool.people), r.pool.panel_size) == G1000:
        parts.append(f"G1000 scale under {GOAL_G1000_SECONDS / 60:g} minutes ({secs(r.ours.seconds.median)}):"
                     f" {verdict(r.ours.seconds.median < GOAL_G1000_SECONDS)}")
    return f"{r.pool.label}: " + "; ".join(parts) + "."


def checks(r: SizeResult) -> list[str]:
    k, lines = r.pool.panel_size, []
    if not isinstance(r.ours, Exception):
        o = r.ours
        text = ("**verification failed**: " + "; ".join(o.problems)) if o.problems else (
            f"all {o.panels:,} panels have {k} distinct pool members and meet every quota and the household rule;"
            f" the weights are positive integers; the probabilities recomputed from them are exact fractions"
            f" summing to {k} and equal the reported ones")
        if len(o.seconds.samples) > 1:
            text += "; identical distribution in every run" if o.same_every_run else \
                "; **the distribution differed between runs**"
        lines.append(f"{r.pool.label}, ours: {text}.")
    ref = r.reference
    if ref is not None and ref.status == "finished":
        text = ("**verification failed**: " + "; ".join(ref.problems)) if ref.problems else (
            f"all {ref.panels:,} committees have {k} distinct pool members and meet every quota and the household"
            f" rule; probabilities sum to 1 and per person to {k} (within 1e-6)")
        lines.append(f"{r.pool.label}, reference: {text}.")
    return lines


def panel_section(results: list[SizeResult], params: PanelParams, machine_rows: dict[str, str],
                  pending: Sequence[tuple[int, int]] = ()) -> str:
    ran = sorted({f"{r.reference.meta.get('algorithm_ran')} ({r.reference.meta.get('solver')})"
                  for r in results if r.reference is not None and r.reference.meta})
    pools = []
    for r in results:
        bound, where = tightest_quota(r.pool)
        pools.append((r.pool.label, f"{len(r.pool.people):,}", f"{r.pool.panel_size:,}", f"{r.pool.distinct_types():,}",
                      r.pool.shared_households(), f"{prob(bound)}: {where}", "; ".join(r.pool.widened) or "none"))
    parts = [
        "## Panel selection: our fair distribution against `sortition-algorithms`",
        "Time to compute the distribution over panels, and every respondent's selection probability, for ours"
        f" and for `{REFERENCE}` (the baseline, measured in the same run; method: bench/panel.py). Nothing here"
        " is a test threshold.",
        machine_table(machine_rows),
        bullets("Parameters:", [
            "pools: " + ", ".join(f"{n:,} → {k:,}" for n, k in params.sizes) + " (bench/panel_pool.py);",
            f"ours: `find_distribution`, up to {params.repeat} runs per pool in this process (a run over"
            f" {SLOW_SECONDS:g} s is not repeated);",
            f"reference `{REFERENCE}`: one run per pool in its own process, killed after"
            f" {params.reference_timeout:g} s, backend `{params.reference_backend}`; asked for LEXIMIN, ran:"
            f" {', '.join(ran) or 'not reported'}."]),
    ]
    if pending:
        parts.append("**Incomplete run**: not measured (the run stopped or is still going): "
                     + ", ".join(f"{n:,} → {k:,}" for n, k in pending) + ".")
    parts += [
        table(("pool", "respondents", "seats", "distinct feature vectors", "respondents sharing a household",
               "upper bound on anyone's minimum (tightest max quota)", "quotas widened for feasibility"), pools),
        "### Time",
        table(("pool", "ours: `find_distribution` (median, min–max)", "ours: CPU", "reference: algorithm call",
               "reference: whole process", "ratio ours / reference (wall; CPU)", "goal ≤ 1/3 (wall)"),
              map(time_row, results)),
        "### Fairness",
        table(("pool", "distribution", "minimum probability", "LP minimum", "panels", "10th percentile", "median",
               "Gini", "geometric mean", f"share below the reference's minimum by > {BELOW:g} (by > {BELOW_COARSE:g})"),
              [row for r in results for row in fairness_rows(r)],
              "Ours after rounding the weights to integers (exact); LP minimum = before rounding; respondents in"
              " no panel count with 0."),
        bullets("Goals:", map(goals, results)),
        bullets("Verification (done here, trusting neither implementation):", [c for r in results for c in checks(r)]),
    ]
    return "\n\n".join(parts)
