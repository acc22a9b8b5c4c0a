"""The transparency-log benchmark: one summit log of N entries (default 1,000,000), built end to
end, then asked for proofs over HTTP and exported for the auditor's verifier.

Why it exists: the ledger promises that a summit's whole day fits in one log that stays cheap to
append to, cheap to prove against and cheap to audit. Those are three numbers on a log of realistic
size, not on the 20,000 events of the pipeline benchmark:

1. Ingest. The summit is chartered through the ledger's REST API; the agenda's EventStore appends N
   `agenda.topic.nominated` events in transactions of `batch` while the agenda's outbox relay and
   the ledger's consumer run as `g1000 worker` processes with the settings `g1000 up` gives them
   (the consumer process runs the checkpointer and the gap filler beside it). The first event is a
   warm-up (the consumer joins its group on it); the clock runs from the first append after it
   until the log holds N + genesis entries. The log's size is sampled every second to show whether
   the rate changes as the log grows. Separately, on fresh sandboxes: the ledger consumer alone over
   a pre-filled topic (its own ingest capacity, timed per batch) and a cProfile of it on a slice.
2. Proofs. The ledger app is served by gunicorn exactly as `g1000 up` starts it (2 gthread workers,
   see g1000/stack.py) and one client thread with a keep-alive session asks for random inclusion
   proofs (tree_size = latest checkpoint) and consistency proofs. The same proofs are computed in
   process (the view's database reads and proof math, no HTTP, no Flask) to show the HTTP share.
   Every HTTP proof must equal the in-process one; a sample is verified with g1000_proofs.merkle
   against the signed checkpoint root (correctness, not timing).
3. Verifier. The log is exported through `/v1/logs/{id}/export` (timed) and `g1000-verify bundle
   FILE --json` runs as a subprocess, with its default workers and with `--workers 1`; entries/s
   are compared with the 2-process Ed25519 verify ceiling (bench/ceiling.py) measured just before,
   in the same run. A cProfile of the verifier over a slice of the bundle shows where its time goes.

Everything started here is stopped by pid in `finally`; every sandbox drops its databases and the
bundle files are deleted as soon as they are no longer needed (a 1M log is a few GB).
"""

from __future__ import annotations

import contextlib
import cProfile
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psycopg
import requests

from g1000.procs import stop_process
from g1000.services import SERVICE_MODULES
from g1000.stack import Stack
from g1000_proofs.checkpoint import open_checkpoint
from g1000_proofs.merkle import (consistency_proof, inclusion_proof, root_hash, verify_consistency,
                                 verify_inclusion)
from g1000_proofs.tree_shape import consistency_proof_nodes, inclusion_proof_nodes

from .ceiling import CeilingResult, run_ceiling
from .cpu import CpuUse, process_cpu, snapshot, wait_until_quiet
from .harness import consumer_thread, worker
from .infra import BenchError, Sandbox, Servers, sandbox, say, start_web, wait_ready
from .pipeline import mean_batches, measure_relay
from .profiling import ProfileResult, summarise
from .stats import Samples, percentile, rate
from .workload import nominations

APPEND_CHUNK = 10_000  # events generated at a time (signed by the store when appended)
SAMPLE_SECONDS = 1.0  # how often the log's size is sampled during the ingest run
STALL_SECONDS = 120.0  # no growth of the log for this long: the run has failed
WARMUP_REQUESTS = 100  # untimed requests of each kind before the timed ones
BYTES_PER_ENTRY = 10_000  # generous disk estimate per log entry (both databases, WAL, bundle)
# the settings `g1000 up` gives its children (g1000/stack.py), taken from there so they stay equal
STACK_SETTINGS = ("G1000_MAX_POLL_INTERVAL_MS", "G1000_CHECKPOINT_SECONDS", "PYTHONUNBUFFERED")

# Where the verifier's time goes (bench/profiling.py rules: first match wins; built-ins unclaimed
# here are charged to their caller's category).
VERIFIER_CATEGORIES = (
    ("Ed25519 verify (cryptography)", ("ed25519",)),
    ("RFC 8785 canonical JSON (g1000_proofs/jcs.py)", ("g1000_proofs/jcs.py",)),
    ("JSON parsing of bundle lines (json)", ("/json/",)),
    ("leaf hash, chain, Merkle, base64 (hashlib, merkle.py, binascii)",
     ("g1000_proofs/merkle.py", "_hashlib", "sha256", "binascii")),
    ("entry checks: envelope, keys, seq (checks.py, re)", ("g1000_verify/checks.py", "re.pattern", "/re/")),
    ("reading the bundle (sources.py)", ("g1000_verify/sources.py",)),
)


@dataclass(frozen=True)
class LedgerParams:
    entries: int = 1_000_000  # agenda events in the log (the log has genesis entries on top)
    batch: int = 500  # events per append transaction
    capacity_events: int = 200_000  # the consumer-alone run over a pre-filled topic
    profile_events: int = 20_000  # the profiled consumer run (0: none)
    inclusion_proofs: int = 2_000
    consistency_proofs: int = 2_000
    verify_sample: int = 200  # proofs of each kind checked with g1000_proofs.merkle
    verifier_profile_entries: int = 20_000  # slice of the bundle the verifier is profiled on (0: none)
    ceiling_seconds: float = 2.0
    ceiling_repeat: int = 3  # before the verifier runs, and as many again after them
    verifier_default_runs: int = 2  # runs with the default workers (1 with --workers 1)
    seed: int = 9162


@dataclass(frozen=True)
class GrowthPoint:
    seconds: float  # since the clock started
    log_events: int  # agenda events in the log (log size minus genesis)
    appended: int  # agenda events appended by then
    wal_bytes: int  # PostgreSQL's WAL written so far (pg_stat_wal, the whole server)


@dataclass
class IngestResult:
    events: int
    genesis: int
    timed_events: int  # events after the warm-up one
    seconds: float
    append_seconds: float  # until the appender had committed its last transaction
    rate: float
    growth: list[GrowthPoint]
    relay_batch: float  # mean events per relay publish
    consumer_batch: float  # mean events per consumer transaction
    checkpoints: int
    sizes: dict[str, int]  # database and relation sizes, bytes
    load: list[float]  # 1-minute load average, sampled
    cpu: CpuUse  # over the timed window


@dataclass
class CapacityResult:
    """The stages alone on a fresh log: append, relay, then the ledger consumer over the topic."""

    events: int
    rate: float  # the ledger consumer alone
    busy: float  # share of the consumer's window inside `process`
    tenths: list[float]  # consumer rate over each tenth of the events
    append_rate: float
    relay_rate: float
    cpu: dict[str, tuple[CpuUse, int]]  # stage -> CPU while it ran alone, and the events it handled
    wal_per_event: dict[str, float]  # stage -> WAL bytes per event
    profile: ProfileResult | None = None

    def cpu_per_event(self, stage: str) -> float:
        use, events = self.cpu[stage]
        return use.ours / events


@dataclass
class Latencies:
    label: str
    millis: list[float]

    def p(self, q: float) -> float:
        return percentile(self.millis, q)


@dataclass
class ProofResult:
    tree_size: int
    http: dict[str, Latencies]
    in_process: dict[str, Latencies]
    baseline: Latencies  # GET /healthz over the same session
    hashes_per_proof: dict[str, float]
    equal_to_in_process: int
    verified: dict[str, int]


@dataclass
class VerifierRun:
    label: str
    workers: int | None
    seconds: float
    exit_code: int
    report: dict
    cpu_seconds: float  # the verifier and its worker processes
    main_cpu_seconds: float | None  # the verifier's main process alone (None: not seen)
    stderr: str
    other_cores: float = 0.0  # other tenants' CPU use meanwhile

    @property
    def entries(self) -> int:
        return int(self.report.get("checked", {}).get("entries", 0))

    @property
    def rate(self) -> float:
        return rate(self.entries, self.seconds) if self.entries else 0.0


@dataclass
class VerifierResult:
    export_seconds: float
    bundle_bytes: int
    bundle_entries: int
    ceiling: CeilingResult  # samples taken before and after the verifier runs, pooled
    runs: list[VerifierRun]  # the default-workers runs first, then --workers 1
    quiet_wait: float  # seconds waited for our processes to go idle before measuring
    ceiling_other_cores: list[float]  # other tenants' CPU use during the ceiling measurements
    profile: ProfileResult | None = None

    def default_runs(self) -> list[VerifierRun]:
        return [r for r in self.runs if r.workers is None]

    def single_run(self) -> VerifierRun:
        return next(r for r in self.runs if r.workers == 1)


@dataclass
class LedgerResult:
    params: LedgerParams
    event_bytes: int = 0
    ingest: IngestResult | None = None
    capacity: CapacityResult | None = None
    proofs: ProofResult | None = None
    verifier: VerifierResult | None = None
    durations: dict[str, float] = field(default_factory=dict)
    loads: dict[str, tuple[float, float]] = field(default_factory=dict)  # 1-min load at start, end


# ---- the settings `g1000 up` runs with ----------------------------------------------------------


def stack_settings(box: Sandbox) -> dict[str, str]:
    """The tuning `g1000 up` gives its children (poll interval, checkpoint period, unbuffered)."""
    env = Stack(box.data_dir, env={}).child_env(box.servers.database_url, box.servers.bootstrap)
    return {name: env[name] for name in STACK_SETTINGS if name in env}


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for code of this process that reads them (ledger settings)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---- watching the log (cheap queries only: count(*) over a 1M log is not) -----------------------


class LogProbe:
    """Reads one summit's log head, checkpoints and the quarantine on its own connection."""

    def __init__(self, box: Sandbox, summit_id: str):
        self.summit_id = summit_id
        self.conn = psycopg.connect(box.runtime("ledger").db.url, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def size(self) -> int:
        return self.conn.execute("SELECT size FROM log_heads WHERE summit_id = %s",
                                 (self.summit_id,)).fetchone()[0]

    def wal_bytes(self) -> int:
        return int(self.conn.execute("SELECT wal_bytes FROM pg_stat_wal").fetchone()[0])

    def latest_checkpoint(self) -> int:
        return self.conn.execute("SELECT coalesce(max(tree_size), 0) FROM log_checkpoints WHERE summit_id = %s",
                                 (self.summit_id,)).fetchone()[0]

    def check_nothing_quarantined(self) -> None:
        row = self.conn.execute("SELECT count(*), min(reason) FROM quarantine").fetchone()
        if row[0]:
            raise BenchError(f"the ledger quarantined {row[0]} events, e.g.: {row[1]}")

    def wait_for_size(self, target: int, alive: Callable[[], None], poll: float = 0.05) -> float:
        """Block until the log holds `target` entries; returns perf_counter then."""
        last, last_change = -1, time.monotonic()
        while True:
            seen = self.size()
            now = time.perf_counter()
            if seen >= target:
                return now
            if seen != last:
                last, last_change = seen, time.monotonic()
            elif time.monotonic() - last_change > STALL_SECONDS:
                self.check_nothing_quarantined()
                raise BenchError(f"the log stalled at {seen}/{target} entries for {STALL_SECONDS:.0f} s")
            alive()
            time.sleep(poll)

    def wait_for_checkpoint(self, size: int, alive: Callable[[], None], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.latest_checkpoint() < size:
            alive()
            if time.monotonic() > deadline:
                raise BenchError(f"no checkpoint at size {size} after {timeout:.0f} s")
            time.sleep(0.2)


@contextlib.contextmanager
def log_probe(box: Sandbox, summit_id: str) -> Iterator[LogProbe]:
    probe = LogProbe(box, summit_id)
    try:
        yield probe
    finally:
        probe.close()


@contextlib.contextmanager
def log_workers(box: Sandbox) -> Iterator[Callable[[], None]]:
    """The agenda's relay and the ledger's consume worker (`g1000 worker` child processes, with
    the settings `g1000 up` gives them), carrying agenda events into the log; yields a check that
    raises if either has died, for the waits in between."""
    env = stack_settings(box)
    with worker(box, "relay", "agenda", env) as relay, worker(box, "consume", "ledger", env) as consumer:
        def alive() -> None:
            relay.ensure_alive()
            consumer.ensure_alive()

        yield alive


class Sampler:
    """Samples the log's size (and the appender's progress and the load) every SAMPLE_SECONDS."""

    def __init__(self, box: Sandbox, summit_id: str, genesis: int, began: float):
        self.probe = LogProbe(box, summit_id)
        self.genesis, self.began = genesis, began
        self.appended = 0  # written by the appender thread
        self.points: list[GrowthPoint] = []
        self.load: list[float] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(SAMPLE_SECONDS):
            size, wal = self.probe.size(), self.probe.wal_bytes()
            self.points.append(GrowthPoint(time.perf_counter() - self.began, size - self.genesis, self.appended,
                                           wal))
            self.load.append(os.getloadavg()[0])

    def __enter__(self) -> "Sampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        self.probe.close()


def milestones(points: list[GrowthPoint], final: GrowthPoint, total: int, parts: int = 10) -> list[GrowthPoint]:
    """The first sample at or past each 1/parts of `total` events, ending with the exact final point."""
    chosen: list[GrowthPoint] = []
    for k in range(1, parts):
        goal = total * k // parts
        hit = next((pt for pt in points if pt.log_events >= goal), None)
        if hit is not None and (not chosen or hit.log_events > chosen[-1].log_events):
            chosen.append(hit)
    chosen.append(final)
    return chosen


# ---- 1. ingest ------------------------------------------------------------------------------------


def append_all(box: Sandbox, summit_id: str, count: int, batch: int, progress: Callable[[int], None],
               every: Callable[[], None] = lambda: None) -> None:
    """Append `count` nominations in transactions of `batch`, generated APPEND_CHUNK at a time."""
    store = box.runtime("agenda").store
    done = 0
    while done < count:
        events = nominations(summit_id, min(APPEND_CHUNK, count - done))
        for start in range(0, len(events), batch):
            part = events[start:start + batch]
            store.append(summit_id, part)
            done += len(part)
            progress(done)
        every()


def relation_sizes(box: Sandbox) -> dict[str, int]:
    sizes = {}
    with box.runtime("ledger").db.transaction() as conn:
        sizes["ledger database"] = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        for table in ("log_entries", "log_nodes", "processed_events", "log_checkpoints"):
            sizes[f"ledger {table} (with indexes)"] = conn.execute(
                "SELECT pg_total_relation_size(%s::regclass)", (table,)).fetchone()[0]
    with box.runtime("agenda").db.transaction() as conn:
        sizes["agenda database (event store + outbox)"] = conn.execute(
            "SELECT pg_database_size(current_database())").fetchone()[0]
    return sizes


def measure_ingest(box: Sandbox, summit_id: str, p: LedgerParams) -> IngestResult:
    """Build the log end to end; the sandbox (and the log) stay for the proofs and the export."""
    agenda = box.runtime("agenda")
    with log_probe(box, summit_id) as probe:
        genesis = probe.size()
        with log_workers(box) as alive:
            agenda.store.append(summit_id, nominations(summit_id, 1))  # warm-up: event 1 of N
            probe.wait_for_size(genesis + 1, alive)
            began, cpu_began, wal_began = time.perf_counter(), snapshot(), probe.wal_bytes()
            with Sampler(box, summit_id, genesis, began) as sampler:
                sampler.appended = 1
                tenth = max(1, (p.entries - 1) // 10)

                def progress(done: int) -> None:
                    sampler.appended = 1 + done
                    if done % tenth < p.batch:
                        say("ledger", f"appended {1 + done:,}/{p.entries:,}, log at {probe_size(sampler):,}")

                append_all(box, summit_id, p.entries - 1, p.batch, progress, every=alive)
                appended_at = time.perf_counter()
                say("ledger", f"appender done after {appended_at - began:.0f} s; waiting for the consumer")
                done = probe.wait_for_size(genesis + p.entries, alive, poll=0.02)
                cpu = snapshot().since(cpu_began)
                wal_done = probe.wal_bytes()
            say("ledger", f"log complete ({genesis + p.entries:,} entries) after {done - began:.0f} s")
            probe.check_nothing_quarantined()
            probe.wait_for_checkpoint(genesis + p.entries, alive)
        checkpoints = probe.conn.execute("SELECT count(*) FROM log_checkpoints WHERE summit_id = %s",
                                         (summit_id,)).fetchone()[0]
    timed = p.entries - 1
    final = GrowthPoint(done - began, p.entries, p.entries, wal_done)
    relay_batch, consumer_batch = mean_batches(box, summit_id)
    return IngestResult(p.entries, genesis, timed, done - began, appended_at - began, rate(timed, done - began),
                        [GrowthPoint(0.0, 0, 1, wal_began), *milestones(sampler.points, final, p.entries)],
                        relay_batch, consumer_batch, checkpoints, relation_sizes(box), sampler.load, cpu)


def probe_size(sampler: Sampler) -> int:
    return sampler.points[-1].log_events if sampler.points else 0


@dataclass
class Prefilled:
    summit_id: str
    genesis: int
    append_rate: float
    relay_rate: float
    cpu: dict[str, tuple[CpuUse, int]]
    wal_per_event: dict[str, float]


def prefill(box: Sandbox, count: int, batch: int) -> Prefilled:
    """A chartered summit whose `count` agenda events sit in the topic, not yet in the log; the
    append and the relay are timed (each alone), with their CPU and WAL."""
    summit_id = box.open_summit()
    with log_probe(box, summit_id) as probe:
        genesis = probe.size()
        cpu, wal, began = snapshot(), probe.wal_bytes(), time.perf_counter()
        append_all(box, summit_id, count, batch, progress=lambda _: None)
        append_rate = rate(count, time.perf_counter() - began)
        cpu_append, wal_append = snapshot().since(cpu), (probe.wal_bytes() - wal) / count
        cpu, wal = snapshot(), probe.wal_bytes()
        relay_rate = measure_relay(box, count)
        cpu_relay, wal_relay = snapshot().since(cpu), (probe.wal_bytes() - wal) / count
    return Prefilled(summit_id, genesis, append_rate, relay_rate,
                     {"append": (cpu_append, count), "relay": (cpu_relay, count)},
                     {"append": wal_append, "relay": wal_relay})


def consume_prefilled(box: Sandbox, filled: Prefilled, count: int, wrap=None):
    """The ledger consumer (and its background loops, with `g1000 up`'s settings) in a thread of
    this process over the pre-filled topic; returns its BatchClock, its CPU (from the first
    batch's commit on, with the events handled since) and WAL bytes per event."""
    ledger = box.runtime("ledger")
    with environ(stack_settings(box)), log_probe(box, filled.summit_id) as probe:
        with consumer_thread(ledger, wrap=wrap) as run:
            probe.wait_for_size(filled.genesis + 1, run.ensure_alive, poll=0.01)  # group joined
            cpu, wal, start = snapshot(), probe.wal_bytes(), probe.size()
            probe.wait_for_size(filled.genesis + count, run.ensure_alive, poll=0.1)
            run.wait_until_applied(count)
            used, wal = snapshot().since(cpu), probe.wal_bytes() - wal
        probe.check_nothing_quarantined()
    handled = max(1, filled.genesis + count - start)
    return run.clock, (used, handled), wal / handled


def measure_capacity(servers: Servers, root: Path, p: LedgerParams) -> CapacityResult:
    with sandbox(servers, root) as box:
        filled = prefill(box, p.capacity_events, p.batch)
        say("ledger", f"topic pre-filled with {p.capacity_events:,} events; consuming")
        clock, cpu_consume, wal_consume = consume_prefilled(box, filled, p.capacity_events)
    return CapacityResult(p.capacity_events, rate(p.capacity_events, clock.window()),
                          clock.busy() / clock.window(), tenth_rates(clock.spans, p.capacity_events),
                          filled.append_rate, filled.relay_rate, {**filled.cpu, "consume": cpu_consume},
                          {**filled.wal_per_event, "consume": wal_consume})


def tenth_rates(spans: list[tuple[float, float, int]], total: int) -> list[float]:
    """Rate over each tenth of the events, from the consumer's per-batch clock (batch ends)."""
    rates, applied = [], 0
    last_count, last_time = 0, spans[0][0]
    for _, end, count in spans:
        applied += count
        if applied >= total * (len(rates) + 1) / 10 and end > last_time:
            rates.append(rate(applied - last_count, end - last_time))
            last_count, last_time = applied, end
    return rates


def profile_consumer(servers: Servers, root: Path, p: LedgerParams) -> ProfileResult:
    """cProfile of `EventConsumer.process` over a pre-filled topic. cProfile sees one thread only,
    so for this run the consumer verifies inline instead of on its 2 verify threads (its own
    threshold, raised for the run): the profile then shows the verification's parts too."""
    from services.core import consumer as consumer_module

    profiler = cProfile.Profile()
    with sandbox(servers, root) as box:
        filled = prefill(box, p.profile_events, p.batch)
        saved = consumer_module.PARALLEL_VERIFY_MIN
        consumer_module.PARALLEL_VERIFY_MIN = sys.maxsize
        try:
            clock, _, _ = consume_prefilled(box, filled, p.profile_events, wrap=profiler.runcall)
        finally:
            consumer_module.PARALLEL_VERIFY_MIN = saved
    return summarise("ledger consumer (`EventConsumer.process`, pre-filled topic, verification inline)",
                     profiler, p.profile_events, rate(p.profile_events, clock.window()))


# ---- 2. proofs over HTTP ---------------------------------------------------------------------


@contextlib.contextmanager
def ledger_web(box: Sandbox) -> Iterator[str]:
    """The ledger app under gunicorn as `g1000 up` starts it; yields its base URL."""
    env = {**os.environ, **box.env, **stack_settings(box)}
    env.pop("G1000_FAILPOINTS", None)
    web = start_web(Stack(box.data_dir, env={}, web_workers=2), "ledger",
                    f"{SERVICE_MODULES['ledger']}:create_app()", env)
    try:
        wait_ready(web, timeout=60)
        yield web.base
    finally:
        stop_process(web.child.process, signal.SIGTERM, timeout=15)


def timed_get(session: requests.Session, url: str) -> tuple[float, bytes]:
    """One request: milliseconds until the whole body is read, and the body."""
    began = time.perf_counter()
    response = session.get(url, timeout=30)
    body = response.content
    millis = 1000 * (time.perf_counter() - began)
    if response.status_code != 200:
        raise BenchError(f"GET {url} answered {response.status_code}: {body[:200]!r}")
    return millis, body


def proof_pairs(rng: random.Random, size: int, p: LedgerParams) -> dict[str, list[tuple[int, int]]]:
    inclusion = [(rng.randrange(size), size) for _ in range(p.inclusion_proofs)]
    consistency = []
    for _ in range(p.consistency_proofs):
        second = rng.randint(2, size)
        consistency.append((rng.randint(1, second - 1), second))
    return {"inclusion": inclusion, "consistency": consistency}


def proof_path(kind: str, a: int, b: int) -> str:
    if kind == "inclusion":
        return f"/proofs/inclusion?index={a}&tree_size={b}"
    return f"/proofs/consistency?first={a}&second={b}"


def in_process_proof(db, summit_id: str, kind: str, a: int, b: int) -> list[bytes]:
    """What the view does for one proof, without HTTP and Flask: the log size, one read of the
    nodes the proof needs (`node_reader`, as the view reads them), the proof math."""
    from services.ledger.log import node_reader

    with db.transaction() as conn:
        conn.execute("SELECT size FROM log_heads WHERE summit_id = %s", (summit_id,)).fetchone()
        if kind == "inclusion":
            get = node_reader(conn, summit_id, inclusion_proof_nodes(a, b))
            return inclusion_proof(a, b, get)
        get = node_reader(conn, summit_id, consistency_proof_nodes(a, b))
        return consistency_proof(a, b, get)


def measure_proofs(box: Sandbox, summit_id: str, base: str, p: LedgerParams) -> tuple[ProofResult, str]:
    """Proof latencies over HTTP and in process; returns them and the log's verifier key."""
    import base64

    log_url = f"{base}/v1/logs/{summit_id}"
    ledger = box.runtime("ledger")
    with requests.Session() as session:
        vkey = session.get(f"{log_url}/key", timeout=30).text.strip()
        checkpoint = open_checkpoint(session.get(f"{log_url}/checkpoint", timeout=30).text, vkey)
        size = checkpoint.size
        rng = random.Random(p.seed)
        pairs = proof_pairs(rng, size, p)
        warm = proof_pairs(random.Random(p.seed + 1), size,
                           LedgerParams(inclusion_proofs=WARMUP_REQUESTS, consistency_proofs=WARMUP_REQUESTS))
        for kind, todo in warm.items():
            for a, b in todo:
                timed_get(session, log_url + proof_path(kind, a, b))
        http: dict[str, Latencies] = {}
        answers: dict[str, list[list[bytes]]] = {}
        for kind, todo in pairs.items():
            say("ledger", f"{len(todo):,} {kind} proofs over HTTP")
            millis, got = [], []
            for a, b in todo:
                ms, body = timed_get(session, log_url + proof_path(kind, a, b))
                millis.append(ms)
                got.append(body)
            http[kind] = Latencies(f"{kind} proof, HTTP (gunicorn, keep-alive)", millis)
            answers[kind] = [[base64.b64decode(h) for h in json.loads(body)["hashes"]] for body in got]
        baseline = Latencies("GET /healthz, HTTP (same session)",
                             [timed_get(session, f"{base}/healthz")[0] for _ in range(500)])
    in_process: dict[str, Latencies] = {}
    equal = 0
    for kind, todo in pairs.items():
        millis = []
        for (a, b), served in zip(todo, answers[kind]):
            began = time.perf_counter()
            proof = in_process_proof(ledger.db, summit_id, kind, a, b)
            millis.append(1000 * (time.perf_counter() - began))
            if proof != served:
                raise BenchError(f"the {kind} proof for ({a}, {b}) over HTTP differs from the in-process one")
            equal += 1
        in_process[kind] = Latencies(f"{kind} proof, in process (database reads + math)", millis)
    verified = verify_sample(ledger, summit_id, checkpoint, pairs, answers, p.verify_sample)
    hashes = {kind: sum(map(len, got)) / len(got) for kind, got in answers.items()}
    return ProofResult(size, http, in_process, baseline, hashes, equal, verified), vkey


def verify_sample(ledger, summit_id: str, checkpoint, pairs, answers, count: int) -> dict[str, int]:
    """Check proofs with g1000_proofs.merkle: inclusion against the signed checkpoint root (leaves
    read from the log); consistency against roots rebuilt from the stored nodes, whose root at the
    checkpoint's size must itself equal the signed one."""
    from services.ledger.log import node_at

    size = checkpoint.size
    with ledger.db.transaction() as conn:
        def root(k: int) -> bytes:
            return root_hash(k, lambda level, index: node_at(conn, summit_id, level, index))

        if root(size) != checkpoint.root_hash:
            raise BenchError("the root rebuilt from the stored nodes differs from the signed checkpoint")
        sample = list(zip(pairs["inclusion"], answers["inclusion"]))[:count]
        leaves = dict(conn.execute("SELECT idx, leaf_hash FROM log_entries WHERE summit_id = %s AND idx = ANY(%s)",
                                   (summit_id, [a for (a, _), _ in sample])).fetchall())
        for (index, tree_size), proof in sample:
            verify_inclusion(bytes(leaves[index]), index, tree_size, proof, checkpoint.root_hash)
        checked = list(zip(pairs["consistency"], answers["consistency"]))[:count]
        for (first, second), proof in checked:
            verify_consistency(first, second, proof, root(first), root(second))
    return {"inclusion": len(sample), "consistency": len(checked)}


# ---- 3. export and the verifier ---------------------------------------------------------------


def export_bundle(base: str, summit_id: str, path: Path) -> float:
    """GET /export into `path`; returns the seconds it took."""
    began = time.perf_counter()
    with requests.get(f"{base}/v1/logs/{summit_id}/export", stream=True, timeout=300) as response:
        if response.status_code != 200:
            raise BenchError(f"the export answered {response.status_code}")
        with open(path, "wb") as out:
            for chunk in response.iter_content(1 << 20):
                out.write(chunk)
    return time.perf_counter() - began


def run_verifier(bundle: Path, vkey: str, workers: int | None, scratch: Path) -> VerifierRun:
    """`g1000-verify bundle FILE --json` (run as `python -m g1000_verify`, so the frozen copy is what
    runs); wall time, exit code, its JSON report and its CPU time (its pool's included)."""
    args = [sys.executable, "-m", "g1000_verify", "bundle", str(bundle), "--json", "--log-key", vkey]
    label = "default workers (2 on this machine)" if workers is None else f"--workers {workers}"
    if workers is not None:
        args += ["--workers", str(workers)]
    out_path, err_path = scratch / "verify.out", scratch / "verify.err"
    cpu = snapshot()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL, process_group=0)
    main_cpu = None
    try:
        while True:  # poll, reading the main process's own CPU until it exits
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            main_cpu = process_cpu(proc.pid) or main_cpu
            time.sleep(0.1)
        seconds = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        other = snapshot().since(cpu).other_cores
    finally:
        if proc.returncode is None:  # interrupted: stop it and its pool (its own process group)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    try:
        report = json.loads(stdout)
    except ValueError:
        report = {}
    return VerifierRun(label, workers, seconds, proc.returncode, report, usage.ru_utime + usage.ru_stime,
                       main_cpu, stderr.strip()[-500:], other)


def slice_bundle(bundle: Path, dest: Path, wanted: int) -> int:
    """A valid smaller bundle (the first S entries, S = the largest checkpoint size <= `wanted`),
    for profiling the verifier in process; returns S."""
    entry_lines, tail = [], []
    with open(bundle, "rb") as src:
        header = json.loads(src.readline())
        for raw in src:
            if raw.startswith(b'{"kind":"entry"'):
                if len(entry_lines) < wanted:
                    entry_lines.append(raw)
            else:
                tail.append(json.loads(raw))
    sizes = [t["tree_size"] for t in tail if t.get("kind") == "checkpoint" and t["tree_size"] <= len(entry_lines)]
    if not sizes:
        raise BenchError(f"the bundle has no checkpoint at or below {wanted} entries")
    size = max(sizes)
    header["tree_size"] = size
    kept = [t for t in tail if (t.get("kind") == "checkpoint" and t["tree_size"] <= size)
            or (t.get("kind") == "key" and t["index"] < size)]
    with open(dest, "wb") as out:
        out.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
        out.writelines(entry_lines[:size])
        for item in kept:
            out.write(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return size


def profile_verifier(slice_path: Path, size: int, vkey: str) -> ProfileResult:
    from g1000_proofs.note import parse_verifier_key
    from g1000_verify.checks import Options, run_checks
    from g1000_verify.sources import open_bundle

    profiler = cProfile.Profile()
    began = time.perf_counter()
    result = profiler.runcall(run_checks, open_bundle(str(slice_path)),
                              Options(log_key=parse_verifier_key(vkey), workers=1))
    seconds = time.perf_counter() - began
    if not result.ok:
        raise BenchError(f"the verifier failed on the bundle slice: {result.failure.describe()}")
    return summarise("verifier (`run_checks` on a bundle slice, --workers 1)", profiler, size, rate(size, seconds),
                     categories=VERIFIER_CATEGORIES)


def pooled(first: CeilingResult, second: CeilingResult) -> CeilingResult:
    """One ceiling from the samples taken before and after the verifier runs."""
    rates = {label: Samples(first.rates[label].samples + second.rates[label].samples) for label in first.rates}
    return CeilingResult(first.seconds, first.repeat + second.repeat, first.message_bytes, rates)


def measure_verifier(bundle: Path, entries: int, vkey: str, export_seconds: float, p: LedgerParams,
                     slice_size: int, slice_path: Path | None) -> VerifierResult:
    """The Ed25519 ceiling before and after the verifier runs (pooled: the machine's other load
    comes and goes), the default-workers runs, one `--workers 1` run, then the profile."""
    waited = wait_until_quiet()
    say("ledger", f"Ed25519 ceiling before the verifier (waited {waited:.0f} s for our processes to go idle)")
    cpu = snapshot()
    before = run_ceiling(seconds=p.ceiling_seconds, repeat=p.ceiling_repeat)
    others = [snapshot().since(cpu).other_cores]
    runs = []
    for workers in [None] * p.verifier_default_runs + [1]:
        say("ledger", f"g1000-verify bundle, {'default workers' if workers is None else f'--workers {workers}'}")
        run = run_verifier(bundle, vkey, workers, bundle.parent)
        say("ledger", f"  exit {run.exit_code}, {run.entries:,} entries in {run.seconds:.0f} s")
        runs.append(run)
    say("ledger", "Ed25519 ceiling after the verifier")
    cpu = snapshot()
    ceiling = pooled(before, run_ceiling(seconds=p.ceiling_seconds, repeat=p.ceiling_repeat))
    others.append(snapshot().since(cpu).other_cores)
    profile = None
    if slice_path is not None:
        say("ledger", f"profiled verifier on the first {slice_size:,} entries")
        profile = profile_verifier(slice_path, slice_size, vkey)
    return VerifierResult(export_seconds, bundle.stat().st_size, entries, ceiling, runs, waited, others, profile)


# ---- the whole benchmark -------------------------------------------------------------------------


def check_disk(root: Path, p: LedgerParams) -> None:
    free = shutil.disk_usage(root).free
    needed = BYTES_PER_ENTRY * (p.entries + p.capacity_events)
    if free < needed:
        raise BenchError(f"{free / 2**30:.1f} GiB free under {root}; a log of {p.entries:,} entries needs"
                         f" about {needed / 2**30:.1f} GiB (databases, WAL, bundle)")


def run_ledger(servers: Servers, root: Path, p: LedgerParams) -> LedgerResult:
    check_disk(root, p)
    result = LedgerResult(p)

    @contextlib.contextmanager
    def part(name: str) -> Iterator[None]:
        began, load = time.monotonic(), os.getloadavg()[0]
        try:
            yield
        finally:
            result.durations[name] = time.monotonic() - began
            result.loads[name] = (load, os.getloadavg()[0])

    with part("ledger consumer alone, pre-filled topic"):
        say("ledger", f"consumer capacity over {p.capacity_events:,} pre-filled events")
        result.capacity = measure_capacity(servers, root, p)
    if p.profile_events:
        with part("profiled consumer run"):
            say("ledger", f"profiled consumer run, {p.profile_events:,} events")
            result.capacity.profile = profile_consumer(servers, root, p)
    bundle = root / "ledger-bundle.jsonl"
    slice_path = root / "ledger-bundle-slice.jsonl"
    try:
        with sandbox(servers, root) as box:
            with part("charter + ingest end to end"):
                summit_id = box.open_summit()
                result.event_bytes = event_bytes()
                say("ledger", f"ingest end to end, {p.entries:,} events into one log")
                result.ingest = measure_ingest(box, summit_id, p)
            with ledger_web(box) as base:
                with part("proofs (HTTP and in process)"):
                    result.proofs, vkey = measure_proofs(box, summit_id, base, p)
                with part("export bundle"):
                    say("ledger", "export")
                    export_seconds = export_bundle(base, summit_id, bundle)
        slice_size = 0
        if p.verifier_profile_entries:
            slice_size = slice_bundle(bundle, slice_path, p.verifier_profile_entries)
        with part("verifier (ceiling, 2 runs, profile)"):
            entries = result.ingest.genesis + p.entries
            result.verifier = measure_verifier(bundle, entries, vkey, export_seconds, p, slice_size,
                                               slice_path if slice_size else None)
    finally:
        bundle.unlink(missing_ok=True)
        slice_path.unlink(missing_ok=True)
    return result


def event_bytes() -> int:
    """Bytes of one workload event as the log stores it (signed, canonical JSON)."""
    from .ceiling import sample_event

    return len(sample_event().event.body)
